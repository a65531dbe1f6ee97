"""tlsync transfer — write what the night's staging asks for, per legal entity (issues 5, 6, 7).

Asset-triggered: runs once after a night that staged or removed TimeLog invoices or Uniconta debtors (the nightly
sync announces them from its ``finish``, after every legal entity was staged), never on the clock and not after a
night without change. Unpausing it starts nothing: a paused DAG queues no asset events.

    settings → per legal entity ↔ Uniconta company (rule S2), mapped:
        customers (T1/U1) → items (U2) → projects (T3) → invoices (T2, behind the S8 gate) → expenses (U4)

Each step only writes what changed (sync ledger); a step that fails stops the later steps of that legal entity
for this run (an invoice should not go out while its customer's debtor update failed) and they catch up on the
next run. ``summary`` collects every step's counts into one table (its return value; ``make run`` prints it) and
fails when a step did not finish, so the run is marked failed. Settings: the file ``TLSYNC_SETTINGS`` (default
``config/integration.yaml``), else the Variable ``tlsync_integration_settings``. This file only wires; the work is
in ``tlsync.writeback`` and the packages it calls (``docs/transfer.md``).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task, task_group

from tlsync import config
from tlsync_airflow.assets import staged
from tlsync_airflow.callbacks import FAILURE_XCOM, note_step_failure

TIMELOG_CONN = "timelog_default"
UNICONTA_CONN = "uniconta_default"
SETTINGS_VARIABLE = "tlsync_integration_settings"   # tlsync.settings.DEFAULT_VARIABLE

DEFAULT_ARGS = {
    "owner": "tlsync",
    "retries": config.value("TLSYNC_TASK_RETRIES"),
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=15),
    "on_failure_callback": note_step_failure,   # why a step failed, for the summary
}


def _step(step: str, pair: dict) -> dict:
    from airflow.sdk import Variable, get_current_context

    from tlsync import writeback
    from tlsync_airflow.hooks import TimeLogHook, UnicontaHook

    settings = writeback.load_settings(Variable.get(SETTINGS_VARIABLE, default=None))
    result = writeback.run_step(step, pair["legal_entity_id"], run_id=get_current_context()["run_id"],
                                timelog_fields=TimeLogHook(TIMELOG_CONN).connection_fields(),
                                uniconta_fields=UnicontaHook(UNICONTA_CONN).connection_fields(), settings=settings)
    return result.to_json()


@dag(
    dag_id="tlsync_transfer",
    schedule=staged("timelog.invoices") | staged("uniconta.debtors"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/Copenhagen"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["tlsync", "transfer"],
    doc_md=__doc__,
)
def tlsync_transfer():
    @task
    def entity_pairs() -> list[dict]:
        from airflow.sdk import Variable

        from tlsync.nightly import pipeline
        return pipeline.entity_pairs(Variable.get("tlsync_entity_pairs", default=None))

    @task_group
    def legal_entity(pair: dict):
        @task(pool="uniconta_api")
        def customers(pair: dict) -> dict:
            return _step("customers", pair)

        @task(pool="timelog_api")
        def items(pair: dict) -> dict:
            return _step("items", pair)

        @task(pool="uniconta_api")
        def projects(pair: dict) -> dict:
            return _step("projects", pair)

        @task(pool="uniconta_api")
        def invoices(pair: dict) -> dict:
            return _step("invoices", pair)

        @task(pool="timelog_api")
        def expenses(pair: dict) -> dict:
            return _step("expenses", pair)

        customers(pair) >> items(pair) >> projects(pair) >> invoices(pair) >> expenses(pair)

    @task(trigger_rule="all_done", retries=0)
    def summary(pairs: list[dict]) -> str:
        from airflow.sdk import get_current_context

        from tlsync import writeback
        from tlsync.writeback.steps import StepResult

        if pairs is None:
            raise RuntimeError("entity_pairs failed (see its log): the legal entity ↔ company pairs are unknown, "
                               "nothing was written")
        context = get_current_context()
        ti = context["ti"]
        pulled = [(pair, {step: ti.xcom_pull(task_ids=f"legal_entity.{step}", map_indexes=i, default=None)
                          for step in writeback.STEPS}) for i, pair in enumerate(pairs)]
        results = [(pair, {step: None if data is None else StepResult.from_json(data) for step, data in steps.items()})
                   for pair, steps in pulled]
        failed = {(pair["legal_entity_id"], step): why for i, pair in enumerate(pairs) for step in writeback.STEPS
                  if (why := ti.xcom_pull(task_ids=f"legal_entity.{step}", map_indexes=i, key=FAILURE_XCOM,
                                          default=None))}
        text = writeback.format_summary(context["run_id"], results, failed=failed)
        print(text)
        unfinished = [f"legal entity {pair['legal_entity_id']} {step}" for pair, steps in results
                      for step, result in steps.items() if result is None]
        if unfinished:
            first = next(iter(failed.values()), "see the failed task's log")
            raise RuntimeError(f"write-back steps did not finish: {', '.join(unfinished)} — {first}")
        return text

    pairs = entity_pairs()
    legal_entity.expand(pair=pairs) >> summary(pairs)


tlsync_transfer()
