"""Where an incremental Uniconta read resumes: the highest ``RowId`` staged for the company (docs/staging-cursors.md).

Uniconta gives every stored row an integer ``RowId`` when it is inserted (the .NET API pages with
``GenereteOrderByElement("RowId", …)``, webhooks name the changed ``RowId``; reference ``uniconta-api.md`` §4). A
posted invoice, its lines and the GL postings of a journal are *inserted* when they are posted, so a record
posted after the last read has a higher ``RowId`` than everything read before — whatever its ``Date``. Reading
``$filter=RowId gt <highest staged>`` therefore finds an invoice posted today and dated months ago (rule U3's
"still a draft" would otherwise be wrong) and a backdated supplier posting (rules U4/S6), and a night without
postings reads nothing.

The cursor is taken from staging itself (typed column ``row_id``), not from the run's date watermark: what is
staged is exactly what no later read needs again, so a failed run loses nothing, and there is no second place to
keep in step.
"""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from tlsync import config

from .entities import EntitySpec

OVERLAP_ENV = "TLSYNC_UNICONTA_ROWID_OVERLAP"
FULL_READ_ENV = "TLSYNC_UNICONTA_FULL_READ_EVERY_DAYS"


def overlap() -> int:
    """How many ``RowId`` s below the highest staged one are read again (default 0). A safety margin for a posting
    whose transaction committed after a later one had become visible; re-read rows are unchanged and not
    restaged (content hash)."""
    return int(config.value(OVERLAP_ENV))


def full_read_every_days() -> int:
    """Every how many days the posted classes are read in full from the history start (0 = never, the default):
    picks up a row the quality gate refused earlier and has since been allowed (e.g. a newly known currency)."""
    return int(config.value(FULL_READ_ENV))


def high_water(engine: Engine, spec: EntitySpec, tenant: str) -> int | None:
    """The highest ``RowId`` staged for ``(spec, tenant)``; ``None`` before anything was staged (a first load)."""
    from .tables import STAGING

    table = STAGING[spec.qualified]
    with engine.connect() as conn:
        value = conn.execute(select(func.max(table.c.row_id)).where(table.c.tenant == tenant)).scalar_one_or_none()
    return None if value is None else int(value)
