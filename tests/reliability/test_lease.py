"""Write leases (issue 17): one writer per legal entity and ledger domain, on SQLite and PostgreSQL.

A second writer stops with one line naming the holder; a lease whose process was SIGKILLed is taken over at once;
one whose heartbeat is older than the TTL (another host) is taken over; one process may take its own lease again.
Real processes, real databases (the ``db_url`` fixture: SQLite file and a PostgreSQL database on loopback).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from tlsync.ledger.lease import Lease, LeaseHeld, LeaseLost, holders, write_lease, write_leases

HOLDER = """
import sys, time
from sqlalchemy import create_engine
from tlsync.ledger.lease import write_lease
with write_lease(create_engine(sys.argv[1]), 1, ["invoice", "debtor"], run_id="run-A", what="transferred"):
    print("held", flush=True)
    time.sleep(120)
"""


@pytest.fixture
def eng(engine):
    """The staging database, migrated (the lease table is part of the staging schema)."""
    return engine


def _holder(db_url: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, db_url], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_second_writer_stops_with_one_line_and_takes_over_after_a_kill(eng, db_url):
    proc = _holder(db_url)
    try:
        with pytest.raises(LeaseHeld) as caught:
            with write_lease(eng, 1, ["invoice"], run_id="run-B", wait=0):
                pytest.fail("a second writer got the lease")
        line = caught.value.message
        assert "\n" not in line
        assert line.startswith("legal entity 1 is being transferred by run run-A since ")
        assert f"pid {proc.pid}" in line
        # another legal entity, and another domain of the same legal entity, are free
        with write_lease(eng, 2, ["invoice"], wait=0), write_lease(eng, 1, ["expense"], wait=0):
            pass
        # all or nothing: holding "debtor" blocks a writer wanting ("project", "debtor"); "project" stays free
        with pytest.raises(LeaseHeld):
            with write_lease(eng, 1, ["project", "debtor"], wait=0):
                pass
        assert {r["domain"] for r in holders(eng, 1)} == {"invoice", "debtor"}
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with write_lease(eng, 1, ["invoice", "debtor"], run_id="run-B", wait=0):   # the owner is gone: taken over
        rows = holders(eng, 1)
        assert {r["run_id"] for r in rows} == {"run-B"} and all(r["alive"] for r in rows)
    assert holders(eng, 1) == []


def test_a_stale_heartbeat_from_another_host_is_taken_over_and_the_old_owner_notices(eng, monkeypatch):
    from tlsync.ledger import lease as mod

    old = Lease(eng, 1, ("invoice",), run_id="run-A", ttl=60).acquire(0)
    old._stop.set()                        # no more heartbeats: its host has vanished
    old._thread.join()
    mine = dict(mod._HELD)
    monkeypatch.setattr(mod, "_HELD", {})  # the writers below are other processes, as far as re-entrancy goes
    with eng.begin() as conn:
        conn.execute(update(write_leases).values(host="another-host",
                                                 heartbeat_at=datetime.utcnow() - timedelta(minutes=2)))
    with pytest.raises(LeaseHeld):         # two minutes is fresh for a 5-minute TTL
        Lease(eng, 1, ("invoice",), ttl=300).acquire(0)
    new = Lease(eng, 1, ("invoice",), run_id="run-B", ttl=60).acquire(0)
    assert [r["run_id"] for r in holders(eng, 1)] == ["run-B"]
    new.release()
    monkeypatch.setattr(mod, "_HELD", mine)
    assert old._beat_once() is False       # the old owner's next heartbeat finds its row taken
    with pytest.raises(LeaseLost, match="taken over"):
        old.check()
    old.release()


def test_reentrant_in_one_process_and_waiting(eng):
    with write_lease(eng, 1, ["invoice", "project"], run_id="outer"):
        with write_lease(eng, 1, ["project"], run_id="inner"):       # the invoice transfer's ensure_projects
            assert {r["run_id"] for r in holders(eng, 1)} == {"outer"}
        assert len(holders(eng, 1)) == 2
    assert holders(eng, 1) == []
    start = time.monotonic()
    with write_lease(eng, 1, ["invoice"], wait=5):                   # free: no waiting
        pass
    assert time.monotonic() - start < 5
