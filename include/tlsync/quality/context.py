"""What a batch is checked against (:class:`QualityContext`): its own module so that the gate (``gate.py``) and the
Great Expectations suites (``suites.py``) both depend on it without depending on each other."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass
class QualityContext:
    """What a batch is checked against; built by the caller once per run (and entity, for ``line_sums``)."""
    known_currencies: frozenset[str]
    date_min: date
    date_max: date
    line_sums: Mapping[str, Decimal] | None = None   # invoice natural key -> sum of its lines' net amount
    lines_complete: bool = True     # False: an invoice absent from line_sums was read without its lines; skip it
    parents: frozenset[str] | None = None   # keys of the parent entity (rules.ORPHAN_PARENTS) staged or read now
    tolerance: Decimal = Decimal("0.01")
