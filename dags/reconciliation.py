"""tlsync invoice reconciliation (rule U3; issue 7) — the finance report, per legal entity ↔ Uniconta company.

Two DAGs, wiring only (``tlsync.reconcile.flow`` decides):

    tlsync_reconciliation          staged invoices / drafts changed (nightly sync's Assets) ──► pairs ──► report[pair]
                                   period: the previous month and the current one up to the night's day — the
                                   time of the newest triggering asset event (a manual run: its logical date)
    tlsync_reconciliation_monthly  06:00 Copenhagen time on the 2nd of each month ──► pairs ──► report[pair] ──► deliver
                                   period: the closed month before the run's data interval (its logical date)

Periods never come from the clock when the task runs (``tlsync.reconcile.flow.run_day``).

Reports go to ``<TLSYNC_OUT_DIR>/reports`` (HTML, PDF, Excel, CSV); each task's return value holds the headline
numbers, the amount bridge and the paths. The monthly report is then e-mailed (``deliver``: PDF and workbook
attached, the bridge in the body) through the Airflow SMTP connection ``tlsync_smtp`` to the addresses in the
Variable ``tlsync_report_recipients`` — nothing is sent when it is empty.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from tlsync_airflow.assets import staged

START = pendulum.datetime(2026, 1, 1, tz="Europe/Copenhagen")
STAGED_INVOICES = (staged("timelog.invoices") | staged("uniconta.invoices") | staged("uniconta.orders"))


@task
def entity_pairs() -> list[dict]:
    from airflow.sdk import Variable

    from tlsync.nightly import pipeline
    return pipeline.entity_pairs(Variable.get("tlsync_entity_pairs", default=None))


@task
def report_nightly(pair: dict, data_interval_end=None, logical_date=None, dag_run=None) -> dict:
    from airflow.sdk import get_current_context

    from tlsync.reconcile import flow
    from tlsync_airflow.assets import triggering_changes

    night = max((e["timestamp"] for e in triggering_changes(get_current_context())), default=None)
    start, end = flow.nightly_period(flow.run_day(night, data_interval_end, logical_date, dag_run.run_after))
    return flow.run_report(pair["legal_entity_id"], pair["company_id"], start, end)


@task
def report_closed_month(pair: dict, data_interval_end=None, logical_date=None, dag_run=None) -> dict:
    from tlsync.reconcile import flow

    start, end = flow.closed_month(flow.run_day(data_interval_end, logical_date, dag_run.run_after))
    return flow.run_report(pair["legal_entity_id"], pair["company_id"], start, end)


@task
def deliver(report: dict) -> dict:
    from airflow.sdk import Variable

    from tlsync.reconcile.report.mail import RECIPIENTS_VARIABLE
    from tlsync_airflow.mail import send_report

    return send_report(report, Variable.get(RECIPIENTS_VARIABLE, default=None))


@dag(
    dag_id="tlsync_reconciliation",
    schedule=STAGED_INVOICES,
    start_date=START,
    catchup=False,
    max_active_runs=1,
    tags=["tlsync", "reconciliation"],
    doc_md=__doc__,
)
def tlsync_reconciliation():
    report_nightly.expand(pair=entity_pairs())


@dag(
    dag_id="tlsync_reconciliation_monthly",
    schedule="0 6 2 * *",
    start_date=START,
    catchup=False,
    max_active_runs=1,
    tags=["tlsync", "reconciliation"],
    doc_md=__doc__,
)
def tlsync_reconciliation_monthly():
    deliver.expand(report=report_closed_month.expand(pair=entity_pairs()))


tlsync_reconciliation()
tlsync_reconciliation_monthly()
