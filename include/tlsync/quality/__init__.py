"""The data-quality gate between extraction and staging (Great Expectations 1.x + plain-Python row rules).

    from tlsync.quality import QualityContext, check_batch, HardQualityFailure
    result = check_batch(spec, records, QualityContext(known_currencies=..., date_min=..., date_max=...),
                         reported_count=n)
    # stage result.good; write result.quarantined to the quarantine table; log result.warnings

Importing this package is cheap: pandas and great_expectations are imported on the first non-empty batch.
See ``gate.py`` for the decisions (counting, duplicates, several problems per row) and ``rules.py`` for rule ids.
"""

from __future__ import annotations

from tlsync.quality.gate import (
    HardQualityFailure,
    QualityContext,
    QualityResult,
    QualityWarning,
    QuarantinedRecord,
    check_batch,
)

__all__ = [
    "HardQualityFailure",
    "QualityContext",
    "QualityResult",
    "QualityWarning",
    "QuarantinedRecord",
    "check_batch",
]
