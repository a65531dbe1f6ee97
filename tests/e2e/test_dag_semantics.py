"""DAG semantics under Airflow (issue 11 items 1, 7, 8), through ``airflow dags test`` on a migrated SQLite metadata
DB and both simulators: asset events that mean "this changed" (one per changed entity per night, counts in the
extra, none on a night without change), exactly one queued trigger per downstream DAG per night, a failing
``finish`` marks the sync run failed, and the reconciliation's period comes from the run, not the clock. The
backfill DAG's conf-only writes: tests/invoicing/test_backfill_dag.py."""

from __future__ import annotations

import importlib.util
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from conftest import PAIRS  # tests/e2e/conftest.py
from sqlalchemy import create_engine, select, text

from tlsync.nightly import changes, runs
from tlsync.staging.tables import run_entity_counts, sync_runs

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("tlsync_run_demo", ROOT / "scripts" / "run_demo.py")
demo = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(demo)

DOWNSTREAM = {  # DAG → the staged entities it is scheduled on (dags/*.py)
    "tlsync_customer_linking": {"uniconta.debtors", "timelog.customers"},
    "tlsync_transfer": {"timelog.invoices", "uniconta.debtors"},
    "tlsync_reconciliation": {"timelog.invoices", "uniconta.invoices", "uniconta.orders"},
}


@pytest.fixture
def airflow(sims, staging, tmp_path):
    """A throw-away Airflow home (SQLite metadata DB, migrated, pools, every DAG serialized, the downstream DAGs
    unpaused so that events queue runs for them), pointed at the simulators and the test's staging DB."""
    home, log = tmp_path / "airflow", tmp_path / "airflow.log"
    env = demo.airflow_env(sims["timelog_url"], sims["uniconta_url"], tmp_path / "out")
    env.update({"AIRFLOW_HOME": str(home), "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
                "TLSYNC_STAGING_URL": staging.url.render_as_string(hide_password=False),
                "TLSYNC_SETTINGS": str(tmp_path / "no-settings.yaml"),     # pairs from the Variable
                "AIRFLOW_VAR_TLSYNC_ENTITY_PAIRS": json.dumps(PAIRS)})
    env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)
    demo.airflow(env, "db", "migrate", log=log)
    demo.airflow(env, "pools", "import", str(demo.pools_file(home)), log=log)
    demo.airflow(env, "dags", "reserialize", log=log)
    demo.airflow(env, "dags", "unpause", "--treat-dag-id-as-regex", "--yes", f"^({'|'.join(DOWNSTREAM)})$", log=log)
    meta = create_engine(f"sqlite:///{home / 'airflow.db'}")
    yield {"env": env, "log": log, "meta": meta}
    meta.dispose()


def _events(meta) -> list[dict]:
    with meta.connect() as conn:
        rows = conn.execute(text(
            "SELECT a.name, e.extra, e.source_dag_id, e.source_task_id, e.source_run_id FROM asset_event e "
            "JOIN asset a ON a.id = e.asset_id ORDER BY e.id")).mappings().all()
    return [{**r, "extra": json.loads(r["extra"]) if isinstance(r["extra"], str) else r["extra"]} for r in rows]


def _queued(meta) -> dict[str, set[str]]:
    """The scheduler's asset-triggered run queue (asset_dag_run_queue): per DAG, the assets queued for it."""
    with meta.connect() as conn:
        rows = conn.execute(text("SELECT q.target_dag_id, a.name FROM asset_dag_run_queue q "
                                 "JOIN asset a ON a.id = q.asset_id")).all()
    out: dict[str, set[str]] = {}
    for dag_id, name in rows:
        out.setdefault(dag_id, set()).add(name.removeprefix("staging."))
    return out


def _clear_queue(meta) -> None:
    """What the scheduler does when it creates the one run that consumes the queued events."""
    with meta.begin() as conn:
        conn.execute(text("DELETE FROM asset_dag_run_queue"))


def _changed(engine, *run_ids: str) -> dict[str, dict[str, dict[str, int]]]:
    """From run_entity_counts: entity → tenant → staged/removed, for rows that staged or removed anything."""
    out: dict[str, dict[str, dict[str, int]]] = {}
    with engine.connect() as conn:
        for r in conn.execute(select(run_entity_counts).where(run_entity_counts.c.run_id.in_(run_ids))).mappings():
            if r["staged"] or r["removed"]:
                tenant = out.setdefault(r["entity"], {}).setdefault(r["tenant"], {"staged": 0, "removed": 0})
                tenant["staged"] += r["staged"]
                tenant["removed"] += r["removed"] or 0
    return out


def _status(engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(sync_runs.c.run_id, sync_runs.c.status).order_by(sync_runs.c.started_at)).all())


def _night(airflow: dict, engine, logical: datetime, **env) -> tuple[str, str]:
    """One ``airflow dags test tlsync_nightly_sync``: its run id (Airflow 3 names a test run after the wall clock,
    not the logical date) and the sync run's status."""
    before = set(_status(engine))
    try:
        demo.airflow({**airflow["env"], **env}, "dags", "test", "tlsync_nightly_sync", logical.isoformat(),
                     log=airflow["log"])
        failed = None
    except SystemExit as exc:
        failed = exc
    (run_id,) = set(_status(engine)) - before
    if failed is not None and "failed" not in str(failed):
        raise failed
    return run_id, _status(engine)[run_id] + (" (dags test failed)" if failed else "")


@pytest.mark.slow
@pytest.mark.timeout(1500)   # eight Airflow CLI runs (about a minute each on a busy 2-core machine)
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_nights_announce_each_change_once_and_a_failing_finish_fails_the_run(sims, staging, airflow):
    log, meta = airflow["log"], airflow["meta"]
    night = datetime.now(UTC).replace(microsecond=0)

    # Night 1 stages everything: one event per staged entity that changed, from finish, with the counts per tenant.
    run1, status = _night(airflow, staging, night)
    assert status == "success"
    first = _events(meta)
    expected = _changed(staging, run1)
    assert {"timelog.invoices", "uniconta.debtors", "timelog.customers"} <= set(expected)
    assert [e["name"] for e in first] == sorted(f"staging.{entity}" for entity in expected), "one event per entity"
    for event in first:
        entity = event["name"].removeprefix("staging.")
        assert (event["source_dag_id"], event["source_task_id"], event["source_run_id"]) == (
            "tlsync_nightly_sync", "finish", run1), "emitted once, by finish, after every legal entity was staged"
        assert event["extra"]["tenants"] == expected[entity]
        assert event["extra"]["staged"] == sum(t["staged"] for t in expected[entity].values())
        assert event["extra"]["runs"] == [run1]
    assert set(expected["timelog.invoices"]) == {"SIMSITE:1", "SIMSITE:2"}
    assert set(expected["uniconta.debtors"]) == {"10001", "10002"}
    # One queued trigger per downstream DAG, holding every asset of the night it is scheduled on: the scheduler
    # makes one run of each from it (jobs/scheduler_job_runner.py: one DagRun per DAG consumes all queued events).
    assert _queued(meta) == {dag_id: assets & set(expected) for dag_id, assets in DOWNSTREAM.items()}
    _clear_queue(meta)

    # Night 2: nothing changed in either system — no event, nothing queued.
    assert _night(airflow, staging, night + timedelta(minutes=1))[1] == "success"
    assert _events(meta) == first and _queued(meta) == {}
    assert "nothing was staged or removed: no asset events, no downstream run" in log.read_text(errors="replace")

    # Night 3: a few debtors of company 10001 change, and finish fails (a bad setting it reads): the run is marked
    # failed by record_failure, the DAG run fails, and nothing is announced — the next successful night announces
    # these debtors (tests/nightly/test_changes.py: a failed night's changes are carried over, once).
    httpx.post(f"{sims['uniconta_url']}/_sim/touch",
               json={"company": 10001, "class": "DebtorClient", "count": 3, "seed": 5}).raise_for_status()
    run3, status = _night(airflow, staging, night + timedelta(minutes=2), TLSYNC_LANDING_KEEP_RUNS="not-a-number")
    assert status == "failed (dags test failed)", "a failing finish never leaves the sync run 'running'"
    reason = runs.failure_reason(staging, run3)      # recorded by the failing task's on_failure_callback
    assert reason and reason.startswith("finish: TLSYNC_LANDING_KEEP_RUNS must be a whole number"), reason
    assert f"nightly sync {run3} failed — {reason}. The sync run is marked failed and announces nothing" in \
        log.read_text(errors="replace")
    runs.start_run(staging, "the-next-night")           # what its finish would announce: night 3's debtors
    assert {e: c["tenants"] for e, c in changes.night_changes(staging, "the-next-night").items()} == {
        "uniconta.debtors": {"10001": {"staged": 3, "removed": 0}}}
    assert _events(meta) == first and _queued(meta) == {}

    # The reconciliation's period comes from the run, not the clock (today is long after these dates): the monthly
    # DAG closes the month before its data interval, the nightly one reports up to its run's day.
    demo.airflow(airflow["env"], "dags", "test", "tlsync_reconciliation_monthly", "2026-11-02T05:00:00+00:00", log=log)
    assert _report_period(meta, "tlsync_reconciliation_monthly", "report_closed_month") == ("2026-10-01", "2026-10-31")
    demo.airflow(airflow["env"], "dags", "test", "tlsync_reconciliation", "2026-11-15T10:00:00+00:00", log=log)
    assert _report_period(meta, "tlsync_reconciliation", "report_nightly") == ("2026-10-01", "2026-11-15")


def _report_period(meta, dag_id: str, task_id: str) -> tuple[str, str]:
    with meta.connect() as conn:
        value = conn.execute(text("SELECT value FROM xcom WHERE dag_id = :d AND task_id = :t AND map_index = 0 "
                                  "AND key = 'return_value' ORDER BY timestamp DESC LIMIT 1"),
                             {"d": dag_id, "t": task_id}).scalar_one()
    report = json.loads(value) if isinstance(value, (str, bytes)) else value
    return report["start"], report["end"]
