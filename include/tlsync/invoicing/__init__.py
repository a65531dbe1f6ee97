"""Invoice transfer (rule T2): booked TimeLog invoices and credit notes become Uniconta drafts, exactly once.

- :func:`transfer_invoices` — one legal entity, one run (the nightly DAG, the backfill DAG and the CLI call it);
- :mod:`.draft` — the official field mapping, the GUID marker, Decimal totals to the øre;
- :mod:`.recovery` — what a crashed run left ``in_flight`` is resolved by the marker, never written twice;
- Uniconta's daily calls: booked by every client in the one daily tally (:mod:`tlsync.quota`);
- :mod:`.backfill` — month by month over years, with a progress bar;
- CLI: ``python -m tlsync.invoicing --help`` (list / retry / ignore / unignore / transfer / backfill).

Administrators: ``docs/invoicing.md``.
"""

from __future__ import annotations

from .draft import MARKER_FIELD
from .run import DOMAIN, QUOTA_REASON, WRITEBACK_PENDING
from .transfer import transfer_invoices

__all__ = ["DOMAIN", "MARKER_FIELD", "QUOTA_REASON", "WRITEBACK_PENDING", "transfer_invoices"]
