"""The expense import killed at every point of a write, then rerun: each posting in TimeLog exactly once (issue 12:
the kill-at-every-point tests of the one exactly-once protocol, tlsync.ledger.protocol; rule U4).

Points: after the claim, before the POST; after the POST landed, before the ledger said done; the POST's answer lost
and TimeLog not askable then (the claim stays in flight; the next run's recovery looks the ExternalID up)."""

from __future__ import annotations

from collections import Counter

import pytest

from tlsync.clients.errors import WriteOutcomeUnknownError
from tlsync.clients.timelog.rest import RestClient
from tlsync.expenses import DOMAIN, import_expenses
from tlsync.ledger import DONE

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


class Crash(BaseException):
    """A kill: nothing in the product catches it."""


def run(world):
    return import_expenses(world.engine, world.le, world.rest, ledger=world.ledger)


@SQLITE_ONLY
@pytest.mark.parametrize("nth", [1, 3])
@pytest.mark.parametrize("point", ["after_claim", "after_write", "answer_lost"])
def test_an_import_killed_at_every_point_then_rerun_writes_each_expense_once(world, monkeypatch, point, nth):
    real = RestClient.create_project_expense
    calls = Counter()

    def create(self, body, *a, **kw):
        calls["n"] += 1
        if calls["n"] != nth:
            return real(self, body, *a, **kw)
        if point == "after_claim":
            raise Crash("killed before the POST")
        real(self, body, *a, **kw)
        if point == "after_write":
            raise Crash("killed before the ledger said done")
        raise WriteOutcomeUnknownError("TimeLog REST API", "the answer was lost and the look-up failed")

    with monkeypatch.context() as m:
        m.setattr(RestClient, "create_project_expense", create)
        if point == "answer_lost":
            assert run(world)["failed"] == 1
        else:
            with pytest.raises(Crash):
                run(world)
    assert world.ledger.in_flight(DOMAIN, 1), "the kill left no claim in flight"
    run(world)
    assert not world.ledger.in_flight(DOMAIN, 1)
    external = Counter(e["ExternalID"] for e in world.expenses())
    assert sorted(external) == ["10001:1", "10001:10", "10001:7"] and set(external.values()) == {1}, external
    done = {e.source_key for e in world.ledger.entries(DOMAIN, 1, states=[DONE])}
    assert done == set(external)
    assert run(world)["imported"] == 0
