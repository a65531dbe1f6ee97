"""tlsync invoice backfill — transfer historical invoices month by month (rule T2; issue 6).

Each run covers one month (``@monthly`` data interval) and transfers the booked invoices and credit notes dated
in it, through the same code as the nightly transfer (``tlsync.invoicing.transfer_invoices``): idempotent,
exactly once, within Uniconta's daily quota.

**A run writes only when its conf asks for it** (issue 11 item 7): ``dag_run.conf`` must name the legal entities
and say ``"dry_run": false``. Every other run is a dry run (it lists the writes it would make, writes nothing) and
says so in one log line — the run the scheduler makes when the DAG is unpaused, a run from Airflow 3.3's backfill
form (which drops the conf it shows), a run whose conf has no ``legal_entities``. Start a real backfill with

    airflow backfill create --dag-id tlsync_invoice_backfill --from-date 2021-01-01 --to-date 2025-12-31 \\
        --dag-run-conf '{"legal_entities": [1], "dry_run": false}'

or the REST API (``POST /api/v2/backfills`` with ``"dag_run_conf": {…}``, or a single month with
``POST /api/v2/dags/tlsync_invoice_backfill/dagRuns`` and ``"conf": {…}``). The params below only document the
conf keys in the trigger form; their defaults are never read.

A writing run fails when a legal entity is refused (activation gate S8) or the quota stopped it — rerun it later; a
dry run only reports those in its log (unpausing the DAG must not leave a failed run behind); single bad invoices do
not fail it (they wait as ``failed`` in ``python -m tlsync.invoicing list``).
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
        "dry_run": Param(True, type="boolean", description="false (with legal_entities) to write; read from the "
                                                            "run's conf only — a run without conf is a dry run"),
        "legal_entities": Param([], type="array", description="TimeLog legal entity ids to write for; required to "
                                                               "write, empty = a dry run for all"),
    },
    tags=["tlsync", "invoices", "backfill"],
    doc_md=__doc__,
)
def tlsync_invoice_backfill():
    @task(pool=UNICONTA_POOL, retries=0)
    def transfer_month(dag_run=None, data_interval_start=None, data_interval_end=None,
                       run_id: str | None = None) -> dict:
        from datetime import timedelta

        from tlsync.invoicing.runner import backfill_request, check_outcome, transfer_period
        from tlsync_airflow.hooks import TimeLogHook, UnicontaHook

        request = backfill_request(dag_run.conf)
        print(f"tlsync_invoice_backfill {run_id}: {request.reason}")
        period = (data_interval_start.date(), (data_interval_end - timedelta(days=1)).date())
        summary = transfer_period(
            period, dry_run=request.dry_run, legal_entity_ids=request.legal_entity_ids,
            timelog_fields=lambda cid: TimeLogHook(cid).connection_fields(),
            uniconta_fields=lambda cid: UnicontaHook(cid).connection_fields(), run_id=run_id)
        for line in check_outcome(summary, dry_run=request.dry_run):
            print(f"tlsync_invoice_backfill {run_id}: {line}")
        return summary

    transfer_month()


tlsync_invoice_backfill()
