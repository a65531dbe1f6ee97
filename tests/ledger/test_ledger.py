"""The sync ledger on SQLite and PostgreSQL: claims are exclusive, transitions audited, secrets never stored."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from tlsync.ledger import DONE, FAILED, IN_FLIGHT, PENDING, Ledger, LedgerConflict, content_hash


@pytest.fixture
def ledger(engine):
    return Ledger(engine, run_id="run-1", actor="test")


def test_claim_complete_then_no_second_claim(ledger):
    claimed = ledger.claim("invoice", 1, "guid-1")
    assert claimed is not None and claimed.state == IN_FLIGHT and claimed.attempts == 1
    assert ledger.claim("invoice", 1, "guid-1") is None            # in flight: nobody else writes it
    done = ledger.complete("invoice", 1, "guid-1", target_key="42", written={"total": Decimal("100.10")})
    assert done.state == DONE and done.target_key == "42"
    assert ledger.claim("invoice", 1, "guid-1") is None            # done: never written twice
    assert ledger.claim("invoice", 2, "guid-1") is not None        # another legal entity is another record


def test_failed_can_be_claimed_again_and_counts_attempts(ledger):
    ledger.claim("invoice", 1, "g")
    failed = ledger.fail("invoice", 1, "g", "currency EUR does not exist in Uniconta company 10001 (rule T2)")
    assert failed.state == FAILED and "EUR" in failed.reason
    again = ledger.claim("invoice", 1, "g")
    assert again.attempts == 2 and again.reason is None
    ledger.release("invoice", 1, "g", reason="daily quota used up")
    assert ledger.get("invoice", 1, "g").state == PENDING
    assert ledger.counts("invoice", 1) == {PENDING: 1}


def test_complete_needs_a_claim(ledger):
    with pytest.raises(LedgerConflict, match="invoice nope .*not in the ledger"):
        ledger.complete("invoice", 1, "nope", target_key="1")


def test_record_change_is_idempotent_and_audited(ledger):
    written = {"Name": "Hansen ApS", "Phone": "+4512345678"}
    assert ledger.record_change("debtor", 1, "D1", action="update", written=written, before={"Name": "Hansen"},
                                target_key="D1")
    assert not ledger.record_change("debtor", 1, "D1", action="update", written=dict(written), target_key="D1")
    events = ledger.events("debtor", 1, "D1")
    assert len(events) == 1
    assert events[0]["before"] == {"Name": "Hansen"} and events[0]["after"] == written
    assert ledger.unchanged("debtor", 1, "D1", written)
    assert ledger.get("debtor", 1, "D1").content_hash == content_hash(written)


def test_secrets_never_stored(ledger):
    ledger.record_change("debtor", 1, "D2", action="update",
                         written={"Name": "x", "password": "hunter2", "nested": {"api_key": "k"}})
    after = ledger.events("debtor", 1, "D2")[0]["after"]
    assert after["password"] == "***" and after["nested"]["api_key"] == "***"


def test_money_keeps_every_ore(ledger):
    ledger.record_change("invoice_total", 1, "g", action="write", written={"total": Decimal("0.10") * 3})
    assert ledger.events("invoice_total", 1, "g")[0]["after"] == {"total": "0.30"}


def test_concurrent_claims_one_winner(ledger):
    results = []

    def grab():
        results.append(ledger.claim("invoice", 1, "race"))

    threads = [threading.Thread(target=grab) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r is not None for r in results) == 1


# -- transition_many: the batched transition of bulk paths (issue 6, T2 backfill) --------------------------------


def test_transition_many_moves_and_audits_like_transition(ledger):
    ledger.transition("invoice", 1, "old", PENDING, action="seen", target_key="T-1", details={"n": 1})
    n = ledger.transition_many("invoice", 1, [
        {"source_key": "new", "state": IN_FLIGHT, "action": "claim", "details": {"total": Decimal("1.10")},
         "after": {"password": "x"}, "expect": (None, PENDING, FAILED)},
        {"source_key": "old", "state": IN_FLIGHT, "action": "claim", "expect": (None, PENDING, FAILED)}])
    assert n == 2
    new, old = ledger.get("invoice", 1, "new"), ledger.get("invoice", 1, "old")
    assert new.state == old.state == IN_FLIGHT and new.attempts == old.attempts == 1
    assert new.details == {"total": "1.10"}
    assert old.target_key == "T-1" and old.details == {"n": 1}        # None keeps the stored values
    ev = ledger.events("invoice", 1, "new")
    assert [(e["state_before"], e["state_after"], e["action"]) for e in ev] == [(None, IN_FLIGHT, "claim")]
    assert ev[0]["after"] == {"password": "***"} and ev[0]["actor"] == "test" and ev[0]["run_id"] == "run-1"
    assert [e["state_before"] for e in ledger.events("invoice", 1, "old")] == [None, PENDING]
    ledger.transition_many("invoice", 1, [{"source_key": k, "state": DONE, "action": "write", "target_key": 7,
                                           "expect": (IN_FLIGHT,)} for k in ("new", "old")])
    assert {e.source_key: (e.state, e.target_key) for e in ledger.entries("invoice", 1)} == {
        "new": (DONE, "7"), "old": (DONE, "7")}


def test_transition_many_is_all_or_nothing(ledger):
    ledger.claim("invoice", 1, "busy")
    with pytest.raises(LedgerConflict, match="busy"):
        ledger.transition_many("invoice", 1, [
            {"source_key": k, "state": IN_FLIGHT, "action": "claim", "expect": (None, PENDING, FAILED)}
            for k in ("a", "busy", "b")])
    assert ledger.get("invoice", 1, "a") is None and ledger.get("invoice", 1, "b") is None
    assert ledger.get("invoice", 1, "busy").attempts == 1 and len(ledger.events("invoice", 1, "busy")) == 1
    with pytest.raises(ValueError):
        ledger.transition_many("invoice", 1, [{"source_key": "a", "state": DONE, "action": "x"}] * 2)


def test_concurrent_batch_claims_one_winner(ledger):
    keys = [f"k{i}" for i in range(30)]
    ledger.transition_many("invoice", 1, [{"source_key": k, "state": PENDING, "action": "seen"} for k in keys])
    results = []

    def grab():
        try:
            results.append(ledger.transition_many("invoice", 1, [
                {"source_key": k, "state": IN_FLIGHT, "action": "claim", "expect": (None, PENDING, FAILED)}
                for k in keys]))
        except Exception as exc:  # noqa: BLE001 - a conflict, a lost lock: the loser writes nothing
            results.append(exc)

    threads = [threading.Thread(target=grab) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r == 30 for r in results) == 1
    assert all(e.state == IN_FLIGHT and e.attempts == 1 for e in ledger.entries("invoice", 1))
    assert all(len(ledger.events("invoice", 1, k)) == 2 for k in keys)
