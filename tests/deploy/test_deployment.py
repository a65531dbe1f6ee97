"""The production deployment, run for real (issue 11): Airflow 3 with the **CeleryExecutor** on this machine's Redis
and PostgreSQL, every component a separate process (api-server, scheduler, dag-processor, triggerer, Celery
worker), both simulators on loopback, set up with the README's Deploy steps (``config/deploy.env.example``,
``tlsync deploy init``) — no ``airflow dags test``, nothing in-process.

The story, as an installation lives it:

1. ``tlsync deploy init`` on empty databases: staging migrated, Airflow migrated, pools created, connections tested.
2. History: the installation has staged before (``python -m tlsync.nightly.local``, the DAG's steps without Airflow)
   and the administrator has set up legal entity 1 (linking decisions and the activation checklist, rule S8, with
   the ``tlsync linking`` commands); legal entity 2 stays unconfirmed.
3. The components start; every DAG but the nightly is unpaused — nothing is written by that (the backfill's
   scheduled run is a dry run) — then the nightly is unpaused: the scheduler's own run is **night A**. It stages
   what the set-up changed (debtors, customers); each downstream DAG scheduled on one of the changed entities
   (linking refresh, transfer) runs **exactly once**, after every legal entity was staged, the others not at all;
   the transfer posts legal entity 1's drafts to Uniconta, each invoice once.
4. **Night B** (triggered through the REST API) stages what night A's write-back changed (the drafts, TimeLog's
   references): the reconciliation (and whatever else those entities schedule) runs once; nothing is written.
5. **Night C** (REST API) stages nothing, writes nothing (both simulators' state and the ledger unchanged) and
   triggers no downstream run.

Every task of every run is checked to have gone through Celery (its Celery task id is in the result backend).
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from stack import COMPONENTS, deployment  # tests/deploy/stack.py

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(1500)]

ROOT = Path(__file__).resolve().parents[2]
NIGHTLY = "tlsync_nightly_sync"
DOWNSTREAM = ("tlsync_customer_linking", "tlsync_transfer", "tlsync_reconciliation")
SETUP_LE = 1
SETUP_COMPANY = 10001


def _setup_history(stack) -> None:
    """Step 2: a night staged without Airflow, then the administrator's set-up of legal entity 1."""
    night = stack.run("python", "-m", "tlsync.nightly.local", timeout=600)
    assert night.returncode == 0, night.stdout[-2000:] + night.stderr[-3000:]
    code = ("import sys; from pathlib import Path; sys.path.insert(0, 'scripts'); import run_demo; "
            f"run_demo.demo_setup(Path({str(stack.env['TLSYNC_SETTINGS'])!r}), {SETUP_LE})")
    setup = stack.run("python", "-c", code, timeout=600)
    assert setup.returncode == 0, setup.stdout[-2000:] + setup.stderr[-3000:]


def _runs(stack, dag_id: str) -> list[dict]:
    runs = stack.rest("GET", f"/dags/{dag_id}/dagRuns", params={"limit": 100}).json()["dag_runs"]
    return sorted(runs, key=lambda r: r["queued_at"] or "")


def _wait_run(stack, dag_id: str, run_id: str, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stack.check_alive()
        run = stack.rest("GET", f"/dags/{dag_id}/dagRuns/{run_id}").json()
        if run["state"] in ("success", "failed"):
            return run
        time.sleep(3)
    raise AssertionError(f"{dag_id} {run_id} did not finish in {timeout:.0f} s:\n{stack.log('scheduler', 30)}")


def _wait_quiet(stack, settle: float = 40, timeout: float = 600, dags: tuple[str, ...] = (NIGHTLY, *DOWNSTREAM)) -> None:
    """Until no run of any tlsync DAG is queued or running, and none appeared for ``settle`` seconds (the
    scheduler had time to create the asset-triggered runs)."""
    deadline = time.monotonic() + timeout
    quiet_since, seen = None, None
    while time.monotonic() < deadline:
        stack.check_alive()
        runs = [(d, r["dag_run_id"], r["state"]) for d in dags for r in _runs(stack, d)]
        busy = [r for r in runs if r[2] in ("queued", "running")]
        if busy or runs != seen:
            quiet_since, seen = time.monotonic(), runs
        elif time.monotonic() - quiet_since >= settle:
            return
        time.sleep(3)
    raise AssertionError(f"the DAGs did not settle in {timeout:.0f} s: {seen}")


def _state(stack) -> dict:
    """Both simulators' data (their ``/_sim/state`` dumps) without the log-in sessions that every read opens."""
    timelog = httpx.get(f"{stack.timelog}/_sim/state", timeout=120).json()
    timelog["timelog"].pop("auth", None)
    return {"timelog": timelog, "uniconta": httpx.get(f"{stack.uniconta}/_sim/state", timeout=120).json()}


def _ledger_events(stack) -> int:
    engine = create_engine(stack.staging_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM ledger_events")).scalar_one()
    finally:
        engine.dispose()


def _done_invoices(stack) -> dict[str, str]:
    """TimeLog invoice → Uniconta order number, for legal entity 1's invoices the ledger says were transferred."""
    engine = create_engine(stack.staging_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT source_key, target_key FROM sync_ledger WHERE domain = 'invoice' "
                                     "AND legal_entity_id = :le AND state = 'done' AND target_key IS NOT NULL"),
                                {"le": SETUP_LE}).all()
    finally:
        engine.dispose()
    return {r[0]: r[1] for r in rows}


def _orders(state: dict, company: int) -> list[dict]:
    company_state = next(c for c in state["uniconta"]["uniconta"]["companies"] if c["CompanyId"] == company)
    return company_state.get("DebtorOrderClient", [])


def _assert_every_task_ran_on_celery(stack, dag_id: str, run_id: str) -> int:
    engine = create_engine(stack.metadata_url)
    try:
        with engine.connect() as conn:
            tis = conn.execute(text("SELECT task_id, map_index, state, external_executor_id FROM task_instance "
                                    "WHERE dag_id = :d AND run_id = :r"), {"d": dag_id, "r": run_id}).all()
            celery = {r[0]: r[1] for r in conn.execute(text("SELECT task_id, status FROM celery_taskmeta")).all()}
    finally:
        engine.dispose()
    ran = [ti for ti in tis if ti.state not in ("skipped", "removed", "upstream_failed", None)]
    assert ran, f"{dag_id} {run_id}: no task ran"
    for ti in ran:
        assert ti.external_executor_id, f"{ti.task_id}[{ti.map_index}] has no Celery task id"
        assert celery.get(ti.external_executor_id) == "SUCCESS", (
            f"{dag_id}.{ti.task_id}[{ti.map_index}] ({ti.state}) is not a successful Celery task in the result "
            f"backend: {celery.get(ti.external_executor_id)}")
    return len(ran)


def _staged_end(stack, run_id: str) -> datetime:
    """When the last legal entity's (and the site's) staging task of a night ended."""
    tis = stack.rest("GET", f"/dags/{NIGHTLY}/dagRuns/{run_id}/taskInstances", params={"limit": 100}).json()
    ends = [datetime.fromisoformat(ti["end_date"]) for ti in tis["task_instances"]
            if ti["task_id"].endswith("validate_and_stage")]
    assert len(ends) >= 3, "the site and both legal entities are staged"
    return max(ends)


def _changed(stack, run_id: str) -> set[str]:
    """The Asset names the night's ``finish`` announced as changed (one event each)."""
    events = stack.rest("GET", "/assets/events", params={"source_dag_id": NIGHTLY, "source_run_id": run_id,
                                                        "limit": 100}).json()["asset_events"]
    names = [e.get("asset", {}).get("name") or e.get("name") or e["uri"] for e in events]
    assert all(e["source_task_id"] == "finish" for e in events), "only finish announces changes"
    assert len(names) == len(set(names)), f"an entity was announced twice: {sorted(names)}"
    return set(names)


def _schedule_assets(stack, dag_id: str) -> set[str]:
    """The Asset names a DAG is scheduled on (its asset expression, read from the api-server)."""
    found: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, dict):
            if "asset" in node and isinstance(node["asset"], dict):
                found.add(node["asset"].get("name") or node["asset"]["uri"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(stack.rest("GET", f"/dags/{dag_id}/details").json().get("asset_expression"))
    assert found, f"{dag_id} is not scheduled on Assets"
    return found


def _expect_downstream(stack, run_id: str, downstream: dict[str, list[dict]], staged_end: datetime) -> set[str]:
    """Each downstream DAG ran exactly once if the night changed one of its Assets, else not at all; every run
    succeeded, went through Celery and was queued only after every legal entity was staged."""
    changed = _changed(stack, run_id)
    ran = set()
    for dag_id, runs in downstream.items():
        expected = 1 if _schedule_assets(stack, dag_id) & changed else 0
        assert len(runs) == expected, (f"{dag_id} ran {len(runs)} times for night {run_id} (expected {expected}; "
                                       f"changed: {sorted(changed)}): {[r['dag_run_id'] for r in runs]}")
        for run in runs:
            assert run["state"] == "success", f"{dag_id} {run['dag_run_id']} {run['state']}"
            assert datetime.fromisoformat(run["queued_at"]) >= staged_end, (
                f"{dag_id} was queued at {run['queued_at']}, before every legal entity was staged ({staged_end})")
            _assert_every_task_ran_on_celery(stack, dag_id, run["dag_run_id"])
            ran.add(dag_id)
    return ran


def _downstream_since(stack, since: datetime) -> dict[str, list[dict]]:
    return {d: [r for r in _runs(stack, d) if datetime.fromisoformat(r["queued_at"]) >= since] for d in DOWNSTREAM}


def _night(stack, *, trigger: bool) -> tuple[dict, dict[str, list[dict]]]:
    """One night: the scheduler's run (after unpausing) or one triggered through the REST API; waits for the
    whole chain and returns the nightly run and the downstream runs it caused."""
    before = datetime.now(timezone.utc)
    if trigger:
        run_id = stack.rest("POST", f"/dags/{NIGHTLY}/dagRuns", json={"logical_date": None}).json()["dag_run_id"]
    else:
        stack.rest("PATCH", f"/dags/{NIGHTLY}", json={"is_paused": False})
        deadline = time.monotonic() + 120
        while not (runs := _runs(stack, NIGHTLY)):
            assert time.monotonic() < deadline, "unpausing the nightly created no scheduled run"
            time.sleep(2)
        run_id = runs[-1]["dag_run_id"]
    run = _wait_run(stack, NIGHTLY, run_id)
    assert run["state"] == "success", f"night {run_id} failed:\n{stack.log('scheduler', 40)}"
    _wait_quiet(stack)
    return run, _downstream_since(stack, before)


def test_celery_deployment_runs_the_nightly_chain_once_per_night():
    started = time.monotonic()
    home = ROOT / "out" / "deploy-test"          # kept after the test: every component's log is in home/logs
    shutil.rmtree(home, ignore_errors=True)
    with deployment(home) as stack:
        # 1. the operator's set-up in one command
        init = stack.run("tlsync", "deploy", "init")
        assert init.returncode == 0, init.stdout + init.stderr[-3000:]
        for what in ("staging database", "Airflow metadata database", "Airflow pools", "TimeLog connection",
                     "Uniconta connection"):
            assert any(ln.startswith("ok") and what in ln for ln in init.stdout.splitlines()), (what, init.stdout)
        assert "uniconta-pw" not in init.stdout and "integration-pw" not in init.stdout, "no secret printed"

        # 2. history: staged before, legal entity 1 set up by the administrator
        _setup_history(stack)
        settings = (stack.home / "integration.yaml").read_text()
        assert "confirmed_by" in settings

        # 3. the components, as separate processes
        for component in COMPONENTS:
            stack.start(component)
        stack.wait_healthy()
        up = time.monotonic() - started

        # unpausing every DAG but the nightly writes nothing (the backfill's scheduled run is a dry run)
        quiet = _state(stack)
        events_before = _ledger_events(stack)
        dag_ids = [d["dag_id"] for d in stack.rest("GET", "/dags", params={"limit": 100}).json()["dags"]]
        for dag_id in dag_ids:
            if dag_id != NIGHTLY:
                stack.rest("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
        _wait_quiet(stack, settle=20, dags=tuple(d for d in dag_ids if d != NIGHTLY))
        for dag_id in dag_ids:
            for run in _runs(stack, dag_id) if dag_id != NIGHTLY else []:
                assert run["state"] == "success", f"{dag_id} {run['dag_run_id']} {run['state']}"
        assert _state(stack) == quiet, "unpausing the DAGs wrote to TimeLog or Uniconta"
        assert _ledger_events(stack) == events_before

        # night A: the scheduler's own run after unpausing the nightly
        run_a, downstream_a = _night(stack, trigger=False)
        staged_a = _staged_end(stack, run_a["dag_run_id"])
        _assert_every_task_ran_on_celery(stack, NIGHTLY, run_a["dag_run_id"])
        ran = _expect_downstream(stack, run_a["dag_run_id"], downstream_a, staged_a)
        after_a = _state(stack)
        done = _done_invoices(stack)
        assert done, "legal entity 1's invoices reached Uniconta as drafts"
        new_orders = [o for o in _orders(after_a, SETUP_COMPANY) if o not in _orders(quiet, SETUP_COMPANY)]
        markers = Counter(o.get("CustomsNo") for o in new_orders)
        assert len(new_orders) == len(done), (len(new_orders), len(done))
        assert max(markers.values()) == 1, f"an invoice was posted twice: {markers.most_common(3)}"
        assert _orders(after_a, 10002) == _orders(quiet, 10002), "legal entity 2 is not activated (rule S8)"

        # night B: stages what night A's write-back changed; the chain runs once and writes nothing
        run_b, downstream_b = _night(stack, trigger=True)
        ran |= _expect_downstream(stack, run_b["dag_run_id"], downstream_b, _staged_end(stack, run_b["dag_run_id"]))
        assert ran == set(DOWNSTREAM), f"nights A and B ran only {sorted(ran)}: the test lost its point"
        after_b = _state(stack)
        assert _orders(after_b, SETUP_COMPANY) == _orders(after_a, SETUP_COMPANY), "night B posted drafts again"
        assert _done_invoices(stack) == done

        # night C: nothing changed — nothing staged, nothing written, nothing triggered
        events_b = _ledger_events(stack)
        run_c, downstream_c = _night(stack, trigger=True)
        assert downstream_c == {d: [] for d in DOWNSTREAM}, downstream_c
        assert _changed(stack, run_c["dag_run_id"]) == set(), "a no-change night announces no change"
        assert _state(stack) == after_b, "a no-change night wrote to TimeLog or Uniconta"
        assert _ledger_events(stack) == events_b
        _assert_every_task_ran_on_celery(stack, NIGHTLY, run_c["dag_run_id"])
        staged_c = stack.run("python", "-c", (
            "import sys; from tlsync.nightly import runs; from tlsync.staging.engine import staging_engine; "
            f"print(sum(r['staged'] + r.get('removed', 0) for r in runs.summary_rows(staging_engine(), "
            f"{run_c['dag_run_id']!r})))"))
        assert staged_c.returncode == 0 and staged_c.stdout.strip().splitlines()[-1] == "0", staged_c

        print(f"\ndeployment: components healthy after {up:.0f} s; whole test {time.monotonic() - started:.0f} s")
