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
