"""Random SIGKILLs of the nightly sync, then a rerun, equal an uninterrupted night (issue 17).

``python -m tlsync.nightly.local`` against the simulators is SIGKILLed after a random delay (mid-read, mid-gate or
mid-COPY), then run again to the end. A clean night into a second database reads the same simulator state. Every
staged table compared record by record — natural key and content hash: 0 duplicated, 0 missing, 0 differing —
and the killed runs are the only ones not ``success``. Three nightly runs take ~4 minutes on a shared CI box, so
this runs in the long mode only (``TLSYNC_RELIABILITY_LONG=1``, 5 kills); the write-back's kills run in CI.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import create_engine, select

from tests.reliability.conftest import LONG
from tlsync.staging.tables import STAGING, sync_runs

NIGHTLY_KILLS = 5 if LONG else 1


def _env(sims, url: str, out: str) -> dict:
    conn = {k: v for k, v in sims["timelog"].items() if k != "conn_id"}
    uc = {k: v for k, v in sims["uniconta"].items() if k != "conn_id"}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "TLSYNC_STAGING_URL": url, "TLSYNC_OUT_DIR": out,
           "AIRFLOW_CONN_TIMELOG_DEFAULT": json.dumps(conn), "AIRFLOW_CONN_UNICONTA_DEFAULT": json.dumps(uc),
           "AIRFLOW_VAR_TLSYNC_ENTITY_PAIRS": json.dumps({"1": 10001, "2": 10002})}
    env.pop("TLSYNC_SETTINGS", None)
    return env


def _night(env: dict, *, kill_after: float | None = None) -> int | None:
    proc = subprocess.Popen([sys.executable, "-m", "tlsync.nightly.local"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    if kill_after is not None:
        time.sleep(kill_after)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=60)
            return None
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]
    return proc.returncode


def _staged(url: str) -> dict[str, set[tuple[str, str, str]]]:
    eng = create_engine(url)
    try:
        with eng.connect() as conn:
            return {name: set(conn.execute(select(t.c.tenant, t.c.natural_key, t.c.content_hash)).all())
                    for name, t in STAGING.items()}
    finally:
        eng.dispose()


@pytest.mark.skipif(not LONG, reason="three nightly runs (~4 min here): TLSYNC_RELIABILITY_LONG=1 (docs/reliability.md)")
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_killed_nightly_then_rerun_equals_a_clean_night(sims, db_url, second_db_url, tmp_path):
    from tlsync.staging.migrate import upgrade

    upgrade(db_url)
    upgrade(second_db_url)
    rng = random.Random(int(os.environ.get("TLSYNC_RELIABILITY_SEED", "17")))
    killed_env = _env(sims, db_url, str(tmp_path / "out-killed"))
    kills = sum(_night(killed_env, kill_after=rng.uniform(1.0, 6.0)) is None for _ in range(NIGHTLY_KILLS))
    _night(killed_env)
    _night(_env(sims, second_db_url, str(tmp_path / "out-clean")))
    killed, clean = _staged(db_url), _staged(second_db_url)
    assert sum(len(v) for v in clean.values()) > 0
    differing = {name: (len(killed[name] - clean[name]), len(clean[name] - killed[name]))
                 for name in clean if killed[name] != clean[name]}
    assert differing == {}, differing
    eng = create_engine(db_url)
    try:
        with eng.connect() as conn:
            statuses = [r.status for r in conn.execute(select(sync_runs.c.status).order_by(sync_runs.c.started_at))]
    finally:
        eng.dispose()
    assert statuses[-1] == "success" and statuses.count("success") == 1 + (NIGHTLY_KILLS - kills)
    assert kills >= 1
