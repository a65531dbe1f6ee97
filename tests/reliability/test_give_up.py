"""A give-up leaves the run failed, with one line, never ``running`` (issue 17).

``python -m tlsync.nightly.local`` against the simulators while TimeLog answers every call with 429: the client
gives up after its retries, the command prints one line naming the run and the system and exits 1 — no
traceback — and ``sync_runs`` says ``failed`` with that line as its reason. Real process, real simulators on loopback, real database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest
from sqlalchemy import create_engine, select

from tlsync.invoicing import MARKER_FIELD


def test_a_give_up_marks_the_run_failed_and_prints_one_line(sims, db_url, tmp_path):
    httpx.put(f"{sims['timelog_url']}/_sim/faults", json={"rate_429": 1.0, "retry_after": 0}).raise_for_status()
    conn = {k: v for k, v in sims["timelog"].items() if k != "conn_id"}
    uc = {k: v for k, v in sims["uniconta"].items() if k != "conn_id"}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "TLSYNC_STAGING_URL": db_url,
           "TLSYNC_OUT_DIR": str(tmp_path / "out"), "AIRFLOW_CONN_TIMELOG_DEFAULT": json.dumps(conn),
           "AIRFLOW_CONN_UNICONTA_DEFAULT": json.dumps(uc),
           "AIRFLOW_VAR_TLSYNC_ENTITY_PAIRS": json.dumps({"1": 10001})}
    env.pop("TLSYNC_DEBUG", None)
    done = subprocess.run([sys.executable, "-m", "tlsync.nightly.local"], env=env, capture_output=True, text=True,
                          timeout=300)
    httpx.put(f"{sims['timelog_url']}/_sim/faults", json={}).raise_for_status()
    assert done.returncode == 1, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("run local__") and " failed: TimeLog" in last and "gave up after" in last, last
    from tlsync.staging.tables import sync_runs

    eng = create_engine(db_url)
    try:
        with eng.connect() as c:
            rows = c.execute(select(sync_runs.c.run_id, sync_runs.c.status, sync_runs.c.reason)).all()
    finally:
        eng.dispose()
    assert [r.status for r in rows] == ["failed"] and last.startswith(f"run {rows[0].run_id} failed")
    assert last == f"run {rows[0].run_id} failed: {rows[0].reason}", "the run keeps the reason it printed"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_transfer_that_gives_up_prints_one_line_and_sends_nothing_twice(world, tmp_path):
    """``tlsync invoicing transfer`` while Uniconta answers every call with 429: one line on stderr naming
    Uniconta, exit 1, no traceback; the rerun after the fault is gone transfers each invoice once."""
    from tests.invoicing.conftest import sim_state
    from tlsync.settings import store
    from tlsync.settings.models import IntegrationSettings

    sims = world["sims"]
    path = tmp_path / "integration.yaml"
    store.save(IntegrationSettings(legal_entities={1: world["le"](1)}), path)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "TLSYNC_SETTINGS": str(path),
           "TLSYNC_STAGING_URL": world["engine"].url.render_as_string(hide_password=False)}
    for name, conn in (("timelog_default", sims["timelog"]), ("uniconta_default", sims["uniconta"])):
        env[f"AIRFLOW_CONN_{name.upper()}"] = json.dumps({k: v for k, v in conn.items() if k != "conn_id"})
    env.pop("TLSYNC_DEBUG", None)
    tlsync = [sys.executable, "-m", "tlsync", "invoicing", "transfer", "--legal-entity", "1"]
    before = len(sim_state(sims, 10001)["DebtorOrderClient"])

    httpx.put(f"{sims['uniconta_url']}/_sim/faults", json={"rate_429": 1.0, "retry_after": 0}).raise_for_status()
    try:
        done = subprocess.run(tlsync, env=env, capture_output=True, text=True, timeout=300)
    finally:
        httpx.put(f"{sims['uniconta_url']}/_sim/faults", json={}).raise_for_status()
    assert done.returncode == 1, (done.stdout[-2000:], done.stderr[-2000:])
    assert "Traceback" not in done.stderr + done.stdout
    *retries, line = done.stderr.strip().splitlines()       # the client's retry warnings, then the one line
    assert all(" failed (Uniconta: HTTP 429 " in r and "; retrying in " in r for r in retries), retries
    assert line.startswith("stopped: Uniconta: gave up after") and "not sent twice" in line, line
    assert len(sim_state(sims, 10001)["DebtorOrderClient"]) == before, "nothing was written"

    again = subprocess.run(tlsync, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode in (0, 1) and "Traceback" not in again.stderr, again.stderr[-2000:]
    marks: dict[str, int] = {}
    for order in sim_state(sims, 10001)["DebtorOrderClient"]:
        if order.get(MARKER_FIELD):
            marks[order[MARKER_FIELD]] = marks.get(order[MARKER_FIELD], 0) + 1
    assert marks and set(marks.values()) == {1}, "each invoice posted once"
