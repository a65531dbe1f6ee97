"""tlsync invoice backfill — transfer historical invoices month by month (rule T2; issue 6).

Each run covers one month (``@monthly`` data interval) and transfers the booked invoices and credit notes dated
in it, for every configured legal entity, through the same code as the nightly transfer
(``tlsync.invoicing.transfer_invoices``): idempotent, exactly once, within Uniconta's daily quota. Drive it with

    airflow backfill create --dag-id tlsync_invoice_backfill --from-date 2021-01-01 --to-date 2025-12-31

and the param ``dry_run`` (true: list the writes, write nothing) / ``legal_entities`` (ids; empty = all).
A run fails when a legal entity is refused (activation gate S8) or the quota stopped it — rerun it later; single
bad invoices do not fail it (they wait as ``failed`` in ``python -m tlsync.invoicing list``).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task
from airflow.timetables.interval import CronDataIntervalTimetable

UNICONTA_POOL = "uniconta_api"


@dag(
    dag_id="tlsync_invoice_backfill",
    # a real monthly *data interval* (Airflow 3's plain "@monthly" is a trigger without an interval)
    schedule=CronDataIntervalTimetable("@monthly", timezone="UTC"),
    start_date=pendulum.datetime(2021, 1, 1, tz="UTC"),
    catchup=False,                 # history is done with `airflow backfill create`, never by surprise
    max_active_runs=1,             # months one after the other: one quota, one ledger writer
    params={
        "dry_run": Param(False, type="boolean", description="list the writes it would make; write nothing"),
        "legal_entities": Param([], type="array", description="TimeLog legal entity ids; empty = all"),
    },
    tags=["tlsync", "invoices", "backfill"],
    doc_md=__doc__,
)
def tlsync_invoice_backfill():
    @task(pool=UNICONTA_POOL, retries=0)
    def transfer_month(params: dict | None = None, data_interval_start=None, data_interval_end=None,
                       run_id: str | None = None) -> dict:
        from datetime import timedelta

        from tlsync.invoicing.runner import problems, transfer_period
        from tlsync_airflow.hooks import TimeLogHook, UnicontaHook

        period = (data_interval_start.date(), (data_interval_end - timedelta(days=1)).date())
        summary = transfer_period(
            period, dry_run=bool(params["dry_run"]), legal_entity_ids=params["legal_entities"] or None,
            timelog_fields=lambda cid: TimeLogHook(cid).connection_fields(),
            uniconta_fields=lambda cid: UnicontaHook(cid).connection_fields(), run_id=run_id)
        issues = problems(summary)
        if issues:
            raise RuntimeError("; ".join(issues))
        return summary

    transfer_month()


tlsync_invoice_backfill()
