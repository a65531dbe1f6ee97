"""The project transfer killed at every point of its write, then rerun: each project in Uniconta exactly once
(issue 12: the kill-at-every-point tests of the one exactly-once protocol, tlsync.ledger.protocol; rule T3).

Points: after the claim, before the InsertList; after the InsertList landed, before the ledger said done; the
InsertList's answer lost (settled at once by looking the numbers up); lost with the look-up failing too (the
claims stay in flight; the next run's recovery settles them)."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.crash_points import POINTS, Crash, crash_first_insert
from tests.invoicing.conftest import sim_state
from tlsync.clients.errors import TransientError
from tlsync.ledger import DONE
from tlsync.projects import PROJECT_DOMAIN, transfer_projects


def _numbers(world) -> Counter:
    return Counter(p["Number"] for p in sim_state(world["sims"], 10001)["ProjectClient"])


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("point", POINTS)
def test_a_project_transfer_killed_at_every_point_then_rerun_creates_each_project_once(world, monkeypatch, point):
    engine, ledger, le, uc = world["engine"], world["ledger"], world["le"](1), world["uniconta"](10001)
    before = _numbers(world)
    real_insert = type(uc).insert_list
    with monkeypatch.context() as m:
        crash_first_insert(m, uc, "ProjectClient", point)
        if point == "answer_lost":
            first = transfer_projects(uc, engine, le, ledger=ledger)
            assert first.created > 0 and not ledger.in_flight(PROJECT_DOMAIN, 1)
        else:
            with pytest.raises((Crash, TransientError)):
                transfer_projects(uc, engine, le, ledger=ledger)
            assert ledger.in_flight(PROJECT_DOMAIN, 1), "the kill left no claim in flight"
    landed_first = _numbers(world) - before
    sent = Counter()

    def spy(self, objs, *a, **kw):
        sent.update(o.Number for o in objs if type(o).__name__ == "ProjectClient")
        return real_insert(self, objs, *a, **kw)

    with monkeypatch.context() as m:
        m.setattr(type(uc), "insert_list", spy)
        transfer_projects(uc, engine, le, ledger=ledger)
    created = _numbers(world) - before
    assert not set(sent) & set(landed_first), "a project that had landed was sent again (not looked up)"
    assert created and set(created.values()) == {1}, f"a project created twice: {created}"
    assert all(before[n] <= 1 for n in before)
    entries = ledger.entries(PROJECT_DOMAIN, 1)
    assert {e.state for e in entries} == {DONE} and {e.target_key for e in entries} >= set(created)
    calls = uc.calls_used
    again = transfer_projects(uc, engine, le, ledger=ledger)
    assert (again.created, again.updated, uc.calls_used) == (0, 0, calls), "a third run wrote or read again"
