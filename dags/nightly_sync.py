"""tlsync nightly sync — TimeLog PSA ⇄ Uniconta ERP staging (issues 3 and 4).

Daily at 02:00 Europe/Copenhagen, no catch-up. Reads both systems, validates every batch (quality gate with
quarantine) and stages it; each staged entity is an Airflow Asset, so the customer, invoice and reconciliation
DAGs run on data, not on the clock. The Asset events mean "this changed": ``finish`` emits them once, after every
legal entity was staged, only for the entities that staged or removed rows, with the counts per tenant in the
extra (``tlsync.nightly.changes``; ``tlsync_airflow.assets``) — one downstream run per night, none on a night without
change.

    begin ─┬─ timelog_site: extract → validate_and_stage        (customers, projects, expenses, reference data)
           └─ per legal entity ↔ Uniconta company (rule S2), mapped:
                 extract_timelog ─┐
                 extract_uniconta ┴─ validate_and_stage                     (invoices, lines, Uniconta entities)
    finish: API calls summed, watermarks advanced (only now), summary logged, asset events of what changed
    record_failure: when any task failed, finish included — the run is marked failed with the first failing task's
                    reason (idempotent), the DAG run fails naming it

This file only wires; the work is in ``tlsync.nightly`` (include/) and the hooks (plugins/). No I/O at import.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task, task_group

from tlsync import config
from tlsync_airflow.assets import STAGED_CHANGES
from tlsync_airflow.callbacks import note_sync_failure

TIMELOG_CONN = "timelog_default"
UNICONTA_CONN = "uniconta_default"

DEFAULT_ARGS = {
    "owner": "tlsync",
    "retries": config.value("TLSYNC_TASK_RETRIES"),  # the demo run sets 0 to fail fast
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=15),
    "on_failure_callback": note_sync_failure,   # the run's reason: the first task that gave up
}


@dag(
    dag_id="tlsync_nightly_sync",
    schedule="0 2 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/Copenhagen"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["tlsync", "staging"],
    doc_md=__doc__,
)
def tlsync_nightly_sync():
    @task
    def begin() -> str:
        from airflow.sdk import get_current_context

        from tlsync.nightly import pipeline
        return pipeline.begin(get_current_context()["run_id"])

    @task
    def entity_pairs() -> list[dict]:
        from airflow.sdk import Variable

        from tlsync.nightly import pipeline
        return pipeline.entity_pairs(Variable.get("tlsync_entity_pairs", default=None))

    @task_group
    def timelog_site(sync_run: str):
        @task(pool="timelog_api")
        def extract(sync_run: str) -> dict:
            from tlsync.nightly import pipeline, sources
            from tlsync_airflow.hooks import TimeLogHook

            with sources.TimeLogSource(TimeLogHook(TIMELOG_CONN).get_conn()) as timelog:
                return pipeline.extract_timelog_site(timelog, sync_run)

        @task
        def validate_and_stage(extracted: dict) -> dict:
            from tlsync.nightly import pipeline
            return pipeline.validate_and_stage_all(extracted)

        return validate_and_stage(extract(sync_run))

    @task_group
    def legal_entity(sync_run: str, pair: dict):
        @task(pool="timelog_api")
        def extract_timelog(sync_run: str, pair: dict) -> dict:
            from tlsync.nightly import pipeline, sources
            from tlsync_airflow.hooks import TimeLogHook

            with sources.TimeLogSource(TimeLogHook(TIMELOG_CONN).get_conn()) as timelog:
                return pipeline.extract_timelog_legal_entity(timelog, sync_run, pair)

        @task(pool="uniconta_api")
        def extract_uniconta(sync_run: str, pair: dict) -> dict:
            from tlsync.nightly import pipeline, sources
            from tlsync_airflow.hooks import UnicontaHook

            clients = UnicontaHook(UNICONTA_CONN).get_conn(company_id=pair["company_id"])
            with sources.UnicontaSource.of(clients) as uniconta:
                return pipeline.extract_uniconta_company(uniconta, sync_run, pair)

        @task
        def validate_and_stage(timelog: dict, uniconta: dict) -> dict:
            from tlsync.nightly import pipeline
            return pipeline.validate_and_stage_all(timelog, uniconta)

        return validate_and_stage(extract_timelog(sync_run, pair), extract_uniconta(sync_run, pair))

    @task(outlets=[STAGED_CHANGES])
    def finish(sync_run: str, site: dict, pairs: list[dict]) -> str:
        from airflow.sdk import get_current_context

        from tlsync.nightly import changes, pipeline
        from tlsync.staging.engine import staging_engine
        from tlsync_airflow.assets import emit_changes

        summary = pipeline.finish(sync_run, [site, *pairs])
        emit_changes(get_current_context()["outlet_events"], changes.night_changes(staging_engine(), sync_run))
        return summary

    @task(trigger_rule="one_failed", retries=0)
    def record_failure() -> None:
        """Only when a task failed (``finish`` too): the run is marked failed, then this task fails the DAG run."""
        from airflow.sdk import get_current_context
        from airflow.sdk.exceptions import AirflowFailException

        from tlsync.nightly import pipeline
        run_id = get_current_context()["run_id"]
        reason = pipeline.fail(run_id) or "see the failed task's log"
        raise AirflowFailException(f"nightly sync {run_id} failed — {reason}. The sync run is marked failed and "
                                   "announces nothing; the next night announces its changes")

    sync_run = begin()
    site = timelog_site(sync_run)
    pairs = legal_entity.partial(sync_run=sync_run).expand(pair=entity_pairs())
    finished = finish(sync_run, site, pairs)
    [site, pairs, finished] >> record_failure()


tlsync_nightly_sync()
