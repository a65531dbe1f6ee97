"""Debtors created with an InsertList whose 2xx answer is not the stored rows are verified by reading them back,
never assumed written (issue 13, evidence 7) — the customer step's side of what the invoice transfer does
(tests/invoicing/test_unverified_insertlist.py)."""

from __future__ import annotations

from collections import Counter

import pytest
from conftest import settings, stage

import simulators.timelog as timelog_sim
import simulators.uniconta as uniconta_sim
from simulators._common import serve_in_thread
from simulators.generator import FIXED_TODAY
from tests.conftest import NumberAnswers
from tests.customers.test_ensure import uc_rows, unlinked_customers
from tlsync.customers.sync import DEBTOR_DOMAIN, ensure_debtors
from tlsync.ledger import DONE, FAILED

PATH = "/api/Entities/InsertList/DebtorClient"


ANSWERS = NumberAnswers(uniconta_sim.create_app(size="S", seed=42, today=FIXED_TODAY), PATH)


@pytest.fixture(scope="module")
def served():
    """Overrides the shared fixture: the Uniconta simulator behind :data:`ANSWERS`."""
    with serve_in_thread(timelog_sim.create_app(size="S", seed=42, today=FIXED_TODAY)) as tl, \
            serve_in_thread(ANSWERS) as uc:
        yield tl, uc


@pytest.mark.parametrize("stored", [True, False], ids=["stored-answer-unusable", "not-stored"])
def test_debtors_answered_without_the_rows_are_read_back(engine, sims, uniconta, ledger, stored):
    stage(engine, sims)
    _, free, _ = unlinked_customers(engine)
    wanted = free[:3]
    ANSWERS.count, ANSWERS.store = 1, stored
    result = ensure_debtors(uniconta, engine, settings("automatic"), wanted, ledger=ledger)
    assert ANSWERS.answered >= 1 and ANSWERS.count == 0
    entries = {e.source_key: e for e in ledger.entries(DEBTOR_DOMAIN)}
    accounts = Counter(d["Account"] for d in uc_rows(sims, "DebtorClient"))
    if stored:   # read back: every debtor is there, done, and none was sent twice
        assert {e.state for e in entries.values()} == {DONE}
        assert all(accounts[result[c]] == 1 for c in wanted)
    else:        # read back: none is there — failed with the reason, not "done" with no debtor behind it
        assert {e.state for e in entries.values()} == {FAILED}
        assert all("not found when read back" in e.reason for e in entries.values())
        again = ensure_debtors(uniconta, engine, settings("automatic"), wanted, ledger=ledger)
        accounts = Counter(d["Account"] for d in uc_rows(sims, "DebtorClient"))
        assert all(accounts[again[c]] == 1 for c in wanted), "created once by the next run"
        assert {e.state for e in ledger.entries(DEBTOR_DOMAIN)} == {DONE}
