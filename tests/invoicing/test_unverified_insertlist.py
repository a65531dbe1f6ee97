"""InsertList answers that are not the stored rows are verified by reading back, never assumed (issue 13, evidence 7).

Uniconta does not publish InsertList's answer. The Uniconta simulator here answers the InsertLists of draft lines
with a bare number (``0``, an ``ErrorCodes`` value) instead of the stored lines — once after storing them, once
without storing anything — and the transfer must end with every draft complete, exactly once.
"""

from __future__ import annotations

import pytest

import simulators.timelog as timelog_sim
import simulators.uniconta as uniconta_sim
from simulators.generator import FIXED_TODAY
from tests.conftest import NumberAnswers, served_simulators
from tests.invoicing.test_transfer_failures import _drafts, _expected_lines
from tlsync.invoicing import DOMAIN, transfer_invoices

LINES_PATH = "/api/Entities/InsertList/DebtorOrderLineClient"


@pytest.fixture
def answers():
    return NumberAnswers(uniconta_sim.create_app(size="S", seed=42, today=FIXED_TODAY), LINES_PATH)


@pytest.fixture
def sims(answers):
    """Overrides the shared fixture: the Uniconta simulator behind :class:`NumberAnswers`."""
    with served_simulators(timelog_sim.create_app(size="S", seed=42, today=FIXED_TODAY), answers) as served:
        yield served


def _assert_exactly_once(world, ledger):
    marks, lines, orders = _drafts(world)
    assert marks and all(n == 1 for n in marks.values()), "a double post"
    expected = _expected_lines(world["engine"])
    done = {e.source_key: e for e in ledger.entries(DOMAIN, 1, states=["done"])}
    assert set(done) == set(orders)
    for key, e in done.items():
        assert lines[orders[key]] == expected[key], f"draft of {e.details['invoice_no']} has missing/extra lines"
    assert not ledger.in_flight(DOMAIN, 1)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("stored", [True, False], ids=["stored-answer-lost", "not-stored"])
def test_line_insertlists_answered_without_the_rows_are_read_back(world, answers, stored):
    engine, ledger, le = world["engine"], world["ledger"], world["le"](1)
    answers.count, answers.store = 1, stored
    result = transfer_invoices(engine, le, world["uniconta"](10001), world["tx"], ledger=ledger)
    assert answers.answered == 1 and result["transferred"] > 0 and not result["stopped"]
    _assert_exactly_once(world, ledger)
    # not stored: without the read-back those drafts would be "done" with no lines (the check above fails);
    # stored: the read-back finds every line and sends none again (a second copy would break the exact counts)
    if not stored:
        assert answers.calls > 1, "the missing lines were sent once more"
    again = transfer_invoices(engine, le, world["uniconta"](10001), world["tx"], ledger=ledger)
    assert again["transferred"] == 0
