"""Debtor and employee creation killed at every point of its write, then rerun: each record in Uniconta exactly once
(issue 12: the kill-at-every-point tests of the one exactly-once protocol, tlsync.ledger.protocol).

Points: after the claim, before the InsertList; after the InsertList landed, before the ledger said done; the
InsertList's answer lost (the writer settles it at once by looking the records up) — and lost with the look-up
failing too (the claims stay in flight; the next run's recovery settles them)."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest
from conftest import COMPANY, settings, stage

from tests.crash_points import POINTS, Crash, crash_first_insert
from tlsync.clients.errors import TransientError
from tlsync.customers import staged as staged_mod
from tlsync.customers.sync import DEBTOR_DOMAIN, EMPLOYEE_DOMAIN, ensure_debtors, ensure_employees
from tlsync.ledger import DONE
from tlsync.staging.tables import customer_links


def uc_rows(sims, cls):
    state = httpx.get(f"{sims['uniconta_url']}/_sim/state").json()["uniconta"]
    return next(c for c in state["companies"] if c["CompanyId"] == COMPANY).get(cls, [])


def _free_customers(engine) -> list[int]:
    customers = staged_mod.timelog_customers(engine)
    accounts = set(staged_mod.uniconta_rows(engine, "uniconta.debtors", COMPANY))
    return sorted(int(k) for k, c in customers.items() if c.get("No") and c["No"] not in accounts)


@pytest.mark.parametrize("point", POINTS)
def test_debtor_creation_killed_at_every_point_then_rerun_creates_each_debtor_once(engine, sims, uniconta, ledger,
                                                                                   monkeypatch, point):
    stage(engine, sims)
    wanted = _free_customers(engine)[:5]
    before = Counter(d["Account"] for d in uc_rows(sims, "DebtorClient"))
    le = settings("automatic")
    with monkeypatch.context() as m:
        crash_first_insert(m, uniconta, "DebtorClient", point)
        if point in ("after_claim", "after_write", "answer_and_look_up_lost"):
            with pytest.raises((Crash, TransientError)):
                ensure_debtors(uniconta, engine, le, wanted, ledger=ledger, batch_size=2)
            assert ledger.in_flight(DEBTOR_DOMAIN, 1), "the kill left no claim in flight"
        else:
            ensure_debtors(uniconta, engine, le, wanted, ledger=ledger, batch_size=2)
    result = ensure_debtors(uniconta, engine, le, wanted, ledger=ledger, batch_size=2)
    assert set(result) == set(wanted)
    after = Counter(d["Account"] for d in uc_rows(sims, "DebtorClient"))
    created = after - before
    assert sorted(created) == sorted(result.values()) and set(created.values()) == {1}, "a debtor created twice"
    assert {e.state for e in ledger.entries(DEBTOR_DOMAIN, 1)} == {DONE}
    with engine.connect() as conn:
        links = Counter(r.customer_id for r in conn.execute(customer_links.select().where(
            customer_links.c.legal_entity_id == 1, customer_links.c.state == "linked")))
    assert all(links[str(c)] == 1 for c in wanted), "every created debtor is linked once"


@pytest.mark.parametrize("point", POINTS)
def test_employee_creation_killed_at_every_point_then_rerun_creates_each_employee_once(engine, sims, uniconta,
                                                                                       ledger, monkeypatch, point):
    stage(engine, sims)
    wanted = ["ZZA", "ZZB", "ZZC"]
    with monkeypatch.context() as m:
        crash_first_insert(m, uniconta, "EmployeeClient", point)
        try:
            ensure_employees(uniconta, engine, settings("manual"), wanted, ledger=ledger, batch_size=2)
        except (Crash, TransientError):
            assert ledger.in_flight(EMPLOYEE_DOMAIN, 1)
    assert ensure_employees(uniconta, engine, settings("manual"), wanted, ledger=ledger) == {i: i for i in wanted}
    numbers = Counter(e["Number"] for e in uc_rows(sims, "EmployeeClient"))
    assert all(numbers[i] == 1 for i in wanted), f"an employee created twice: {numbers}"
    assert {e.state for e in ledger.entries(EMPLOYEE_DOMAIN, 1)} == {DONE}
