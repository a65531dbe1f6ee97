"""What the reconciliation DAGs run (the DAG files only wire): periods, and one report per legal entity.

- **Nightly** (after the staging Assets were updated): the previous calendar month and the current one up to the
  run's day — late postings of a just-closed month keep showing until the month's own report has been produced.
- **Monthly**, for the closed month: the calendar month before the run's data interval (its logical date).

The day a run reports for comes from the run, never from the clock when the task happens to run (a queued or
retried task reports the same period; issue 11 item 8), in Copenhagen time (:func:`run_day`): an asset-triggered
run has no logical date or data interval in Airflow 3, so the nightly report takes the time of the newest
triggering asset event — when the night finished staging; a run started by hand takes its data interval's end /
logical date, else the time it was due to run (``run_after``).

Each task returns a small, JSON-safe summary (amounts as strings, paths) for XCom and the task log; the report
files themselves go to ``<TLSYNC_OUT_DIR>/reports``. The tolerance comes from ``TLSYNC_RECONCILE_TOLERANCE``.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tlsync import config

log = logging.getLogger(__name__)


COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def run_day(*candidates: datetime | None) -> date:
    """The Copenhagen date of the first given time (event time, data interval end, logical date, run_after…)."""
    for when in candidates:
        if when is not None:
            aware = when if when.tzinfo else when.replace(tzinfo=UTC)
            return aware.astimezone(COPENHAGEN).date()
    raise ValueError("the run has no event time, data interval, logical date or run_after to take its period from")


def nightly_period(today: date) -> tuple[date, date]:
    first = today.replace(day=1)
    previous = (first - timedelta(days=1)).replace(day=1)
    return previous, today


def closed_month(logical: date | datetime) -> tuple[date, date]:
    """The calendar month before ``logical`` (a monthly run on 2 November closes October)."""
    day = logical.date() if isinstance(logical, datetime) else logical
    end = day.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def tolerance() -> Decimal:
    """``TLSYNC_RECONCILE_TOLERANCE`` (default 0.01): the largest difference the DAGs still count as equal."""
    return Decimal(config.value("TLSYNC_RECONCILE_TOLERANCE"))


def run_report(legal_entity_id: int, company_id: int, start: date, end: date, *,
               out_dir: Path | str | None = None, as_of: date | None = None) -> dict[str, Any]:
    """Reconcile one legal entity ↔ company for ``start``…``end``, write the report, log and return the headline."""
    from tlsync.reconcile import reconcile
    from tlsync.reconcile.report import bridge_summary, format_headline, headline, write_report
    from tlsync.staging.engine import staging_engine

    engine = staging_engine()
    recon = reconcile(engine, legal_entity_id, start, end, company_id=company_id, as_of=as_of,
                      tolerance=tolerance())
    files = write_report(recon, Path(out_dir) if out_dir else config.out_dir() / "reports")
    log.info("%s", format_headline(recon, files))
    return {**_plain(headline(recon)), "start": start.isoformat(), "end": end.isoformat(),
            "language": files.language, "bridge": bridge_summary(recon), "html": str(files.html),
            "pdf": str(files.pdf) if files.pdf else None, "xlsx": str(files.xlsx),
            "csv": str(files.csv[0].parent), "excel_csv": str(files.excel_csv[0].parent)}


def demo_reports(pairs_variable: str | None, out_dir: Path | str, *, start: date | None = None,
                 end: date | None = None) -> str:
    """The run command's last step: one report per legal entity ↔ company over the staged history (``start``
    defaults to ``TLSYNC_HISTORY_START``, ``end`` to today); returns the headline lines to print."""
    from tlsync.nightly import pipeline
    from tlsync.reconcile import reconcile
    from tlsync.reconcile.report import format_headline, write_report
    from tlsync.staging.engine import staging_engine
    start = start or config.history_start()
    end = end or date.today()
    engine = staging_engine()
    texts = []
    for pair in pipeline.entity_pairs(pairs_variable):
        recon = reconcile(engine, pair["legal_entity_id"], start, end, company_id=pair["company_id"])
        texts.append(format_headline(recon, write_report(recon, out_dir)))
    return "\n\n".join(texts)
