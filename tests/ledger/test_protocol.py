"""The one exactly-once protocol (tlsync.ledger.protocol) against a fake target, on both databases: a writer killed
at every point of its write — after the claim, after the write, the write's answer lost — and rerun writes every
record exactly once; recovery's rules (landed, not landed, look-up failing, nothing to look up by, the lease)."""

from __future__ import annotations

import pytest

from tlsync.clients.errors import TransientError, WriteOutcomeUnknownError
from tlsync.ledger import DONE, IN_FLIGHT, PENDING, REVIEW, ExactlyOnce, Landed, Ledger, Move
from tlsync.ledger.domains import Domain
from tlsync.ledger.lease import write_lease

DOMAIN = Domain.PROJECT
KEYS = [f"10001/{n}" for n in range(1, 8)]


class Crash(BaseException):
    """A kill: nothing in the product catches it."""


class Target:
    """A target system that creates records under a key (like a Uniconta project ``Number``) and can be killed
    around a write or lose its answer."""

    def __init__(self) -> None:
        self.rows: list[str] = []            # every record created, duplicates included
        self.lookups = 0
        self.kill: tuple[str, int] | None = None
        self.writes = 0
        self.down = False

    def create(self, key: str) -> str:
        self.writes += 1
        point, nth = self.kill or ("", 0)
        if point == "after_claim" and self.writes == nth:
            raise Crash("killed before the write")
        self.rows.append(key)
        if point == "answer_lost" and self.writes == nth:
            raise WriteOutcomeUnknownError("Target", "the answer was lost")
        return f"T-{key}"

    def find(self, entries) -> dict[str, str | None]:
        if self.down:
            raise TransientError("Target", "unreachable")
        self.lookups += 1
        out: dict[str, str | None] = {}
        for e in entries:
            planned = (e.details or {}).get("target")
            if planned is not None:
                out[e.source_key] = f"T-{planned}" if planned in self.rows else None
        return out


def protocol(ledger: Ledger, target: Target) -> ExactlyOnce:
    return ExactlyOnce(ledger, DOMAIN, 1, target="Target", find_landed=target.find)


def write_all(ledger: Ledger, target: Target, keys=KEYS) -> None:
    """A writer as every domain writes: under the lease, recover, claim the batch, write each, complete."""
    with write_lease(ledger.engine, 1, (DOMAIN,)):
        p = protocol(ledger, target)
        p.recover()
        claimed = p.claim_many({k: {"target": k} for k in keys if _writable(ledger, k)})
        for k in claimed:
            try:
                found = target.create(k)
            except WriteOutcomeUnknownError:
                settled = p.settle([k])                # look it up before anything is sent again
                if k in settled.released and p.claim(k, details={"target": k}):
                    p.complete(k, target.create(k))
                continue
            if target.kill == ("after_write", target.writes):
                raise Crash("killed before the ledger said done")
            p.complete(k, found, written={"key": k})


def _writable(ledger: Ledger, key: str) -> bool:
    e = ledger.get(DOMAIN, 1, key)
    return e is None or e.state != DONE


@pytest.fixture
def ledger(engine):
    return Ledger(engine, run_id="run-1", actor="test")


@pytest.mark.parametrize("nth", [1, 4, 7])
@pytest.mark.parametrize("point", ["after_claim", "after_write", "answer_lost"])
def test_a_writer_killed_at_every_point_then_rerun_writes_each_record_exactly_once(ledger, point, nth):
    target = Target()
    target.kill = (point, nth)
    if point == "answer_lost":
        write_all(ledger, target)                      # settled by the writer itself, no crash
    else:
        with pytest.raises(Crash):
            write_all(ledger, target)
        assert ledger.in_flight(DOMAIN, 1), "the kill left the claims in flight"
    target.kill = None
    write_all(ledger, target)
    assert sorted(target.rows) == sorted(KEYS), "a record written twice or never"
    entries = {e.source_key: e for e in ledger.entries(DOMAIN, 1)}
    assert {k: (e.state, e.target_key) for k, e in entries.items()} == {k: (DONE, f"T-{k}") for k in KEYS}
    writes, lookups = target.writes, target.lookups
    write_all(ledger, target)
    assert (target.writes, target.lookups) == (writes, lookups), "a third run wrote or looked something up"


def test_recovery_rules_landed_not_landed_and_nothing_to_look_up_by(ledger):
    target = Target()
    p = protocol(ledger, target)
    for k in KEYS[:3]:
        p.claim(k, details={"target": k})
    p.claim(KEYS[3], details={"note": "no planned key"})
    target.rows.append(KEYS[0])                        # the first landed before its writer died
    with write_lease(ledger.engine, 1, (DOMAIN,)):
        got = p.recover()
    assert got.landed == {KEYS[0]: f"T-{KEYS[0]}"} and got.released == KEYS[1:3] and list(got.review) == [KEYS[3]]
    states = {e.source_key: e for e in ledger.entries(DOMAIN, 1)}
    assert states[KEYS[0]].state == DONE and states[KEYS[0]].target_key == f"T-{KEYS[0]}"
    assert states[KEYS[1]].state == PENDING and "interrupted before it reached Target" in states[KEYS[1]].reason
    assert states[KEYS[3]].state == REVIEW and "look in Target" in states[KEYS[3]].reason
    assert [e["action"] for e in ledger.events(DOMAIN, 1, KEYS[0])] == ["claim", "recover"]


def test_a_failing_look_up_moves_nothing_and_the_next_run_asks_again(ledger):
    target = Target()
    p = protocol(ledger, target)
    p.claim(KEYS[0], details={"target": KEYS[0]})
    target.down = True
    with write_lease(ledger.engine, 1, (DOMAIN,)):
        with pytest.raises(TransientError):
            p.recover()
    assert ledger.get(DOMAIN, 1, KEYS[0]).state == IN_FLIGHT
    target.down = False
    write_all(ledger, target, KEYS[:1])
    assert target.rows == KEYS[:1] and ledger.get(DOMAIN, 1, KEYS[0]).state == DONE


def test_recovery_refuses_to_run_without_the_write_lease(ledger):
    p = protocol(ledger, Target())
    p.claim(KEYS[0], details={"target": KEYS[0]})
    with pytest.raises(RuntimeError, match="only under its write lease"):
        p.recover()
    assert ledger.get(DOMAIN, 1, KEYS[0]).state == IN_FLIGHT


def test_claim_many_leaves_out_records_that_may_not_be_written(ledger):
    p = protocol(ledger, Target())
    p.claim(KEYS[0])
    p.complete(KEYS[0], "T-1")
    p.claim(KEYS[1])                                   # held by another writer
    assert p.claim_many({k: {"target": k} for k in KEYS[:4]}) == KEYS[2:4]
    assert ledger.get(DOMAIN, 1, KEYS[2]).details == {"target": KEYS[2]}
    assert p.release_many(KEYS[:4], reason="quota") == 3     # KEYS[1..3] were in flight; the done one stays
    assert ledger.get(DOMAIN, 1, KEYS[0]).state == DONE


def test_complete_many_runs_on_done_in_the_same_transaction(ledger):
    seen = []
    p = ExactlyOnce(ledger, DOMAIN, 1, target="Target", find_landed=lambda entries: {},
                    on_done=lambda conn, key, target: seen.append((key, target)))
    p.claim_many({k: None for k in KEYS[:2]})
    p.complete_many([Landed(KEYS[0], "A", written={"a": 1}), Landed(KEYS[1], "B", reason="note")])
    assert seen == [(KEYS[0], "A"), (KEYS[1], "B")]
    a, b = ledger.get(DOMAIN, 1, KEYS[0]), ledger.get(DOMAIN, 1, KEYS[1])
    assert (a.state, a.target_key, b.reason) == (DONE, "A", "note") and a.content_hash


def test_transition_many_takes_typed_moves(ledger):
    moves = [Move("a", PENDING, "plan"), Move("b", PENDING, "plan", reason="why")]
    assert moves[1]["reason"] == "why" and moves[0].get("reason") is None
    assert ledger.transition_many(DOMAIN, 1, moves) == 2
    assert ledger.get(DOMAIN, 1, "b").reason == "why"


def test_complete_many_runs_on_done_many_once_in_the_same_transaction(ledger):
    """``on_done_many`` gets every record of the batch that has a target key at once, in the transaction that marks
    them ``done``: when it fails, no record of the batch is ``done``."""
    seen = []
    p = ExactlyOnce(ledger, DOMAIN, 1, target="Target", find_landed=lambda entries: {},
                    on_done_many=lambda conn, done: seen.append(list(done)))
    p.claim_many({k: None for k in KEYS[:3]})
    p.complete_many([Landed(KEYS[0], "A"), Landed(KEYS[1], None), Landed(KEYS[2], "C")])
    assert seen == [[(KEYS[0], "A"), (KEYS[2], "C")]]
    assert {ledger.get(DOMAIN, 1, k).state for k in KEYS[:3]} == {DONE}

    def refuse(conn, done):
        raise RuntimeError("the link rows could not be written")

    q = ExactlyOnce(ledger, DOMAIN, 1, target="Target", find_landed=lambda entries: {}, on_done_many=refuse)
    q.claim_many({k: None for k in KEYS[3:5]})
    with pytest.raises(RuntimeError):
        q.complete_many([Landed(KEYS[3], "D"), Landed(KEYS[4], "E")])
    assert {ledger.get(DOMAIN, 1, k).state for k in KEYS[3:5]} == {IN_FLIGHT}
