"""A give-up leaves the run failed, with one line, never ``running`` (issue 17).

``python -m tlsync.sync.local`` against the simulators while TimeLog answers every call with 429: the client
gives up after its retries, the command prints one line naming the run and the system and exits 1 — no
traceback — and ``sync_runs`` says ``failed`` with that line as its reason. Real process, real simulators on loopback, real database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
from sqlalchemy import create_engine, select


def test_a_give_up_marks_the_run_failed_and_prints_one_line(sims, db_url, tmp_path):
    httpx.put(f"{sims['timelog_url']}/_sim/faults", json={"rate_429": 1.0, "retry_after": 0}).raise_for_status()
    conn = {k: v for k, v in sims["timelog"].items() if k != "conn_id"}
    uc = {k: v for k, v in sims["uniconta"].items() if k != "conn_id"}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "TLSYNC_STAGING_URL": db_url,
           "TLSYNC_OUT_DIR": str(tmp_path / "out"), "AIRFLOW_CONN_TIMELOG_DEFAULT": json.dumps(conn),
           "AIRFLOW_CONN_UNICONTA_DEFAULT": json.dumps(uc),
           "AIRFLOW_VAR_TLSYNC_ENTITY_PAIRS": json.dumps({"1": 10001})}
    env.pop("TLSYNC_DEBUG", None)
    done = subprocess.run([sys.executable, "-m", "tlsync.sync.local"], env=env, capture_output=True, text=True,
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
