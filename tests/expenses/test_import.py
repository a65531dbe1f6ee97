"""Expense import (rules U4, S6) against the in-process simulators, on SQLite and PostgreSQL, with a hand-written
fixture whose right answers are known exactly (see conftest.py): the mapping to the øre, the review reasons,
idempotency counted at the TimeLog simulator, reversals before and after an import, dry runs, interrupted and
refused writes."""

from __future__ import annotations

import socket
from contextlib import contextmanager
from datetime import date, datetime, timezone
from decimal import Decimal

import httpx
import pytest
from expense_world import REVERSAL_OF_1, TIMELOG, gl
from sqlalchemy import delete, insert

from tlsync.clients.timelog.models import ProjectExpenseCreate
from tlsync.expenses import DOMAIN, import_expenses, imported_expenses
from tlsync.expenses.importer import ExpenseImport
from tlsync.expenses.report import waiting
from tlsync.ledger import Ledger
from tlsync.ledger.lease import LeaseHeld
from tlsync.staging.tables import write_leases

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
"""For paths whose database side is the ledger's own (tested on both databases in tests/ledger): the machine is
shared, so these run once."""


def run(world, **kw) -> dict:
    return import_expenses(world.engine, world.le, world.rest, ledger=world.ledger, **kw)


def by_external_id(world) -> dict[str, dict]:
    return {e["ExternalID"]: e for e in world.expenses()}


def D(value) -> Decimal:
    return Decimal(str(value))


def test_first_import_writes_the_clear_postings_and_lists_the_rest_with_reasons(world):
    assert run(world) == {"imported": 3, "review": 5, "ignored": 2, "unchanged": 0, "failed": 0}
    assert sorted(by_external_id(world)) == ["10001:1", "10001:10", "10001:7"]
    rows = {r["posting_key"]: r for r in waiting(world.engine, 1)}
    assert {k: r["review_codes"] for k, r in rows.items()} == {
        "10001:2": "several_types", "10001:3": "no_type", "10001:4": "unknown_project",
        "10001:5": "unknown_project", "10001:6": "no_project"}
    assert rows["10001:2"]["reason"] == (
        "posting 10001:2 (voucher 20002, 2026-03-03, account 2250, creditor 50005, 250.00 incl. VAT): several "
        "TimeLog expense types carry account number 2250 (Taxi [4], Parkering [9]); choose one (rule U4)")
    assert rows["10001:3"]["reason"].endswith(
        "no active TimeLog expense type carries account number 2230; choose the expense type (rule U4)")
    assert "Uniconta project 'P-999' is not a TimeLog project number; choose the TimeLog project (rule U4)" in \
        rows["10001:4"]["reason"]
    assert "TimeLog project 'P-201' belongs to legal entity 2, not to legal entity 1" in rows["10001:5"]["reason"]
    assert "carries no Uniconta project" in rows["10001:6"]["reason"]
    assert all(r["state"] == "review" and r["currency"] == "DKK" for r in rows.values())
    # what the import could tell is kept for the reviewer: P-101 is known even though the type is not
    assert rows["10001:2"]["project"] == "P-101" and rows["10001:4"]["expense_type_id"] == 1
    # not supplier postings on an S6 account: never seen
    assert {"10001:11", "10001:12"}.isdisjoint(r["posting_key"] for r in imported_expenses(world.engine))
    check_mapping(world)
    check_reversal_before_import(world)


def check_mapping(world):
    """The official mapping, to the øre (after the first import)."""
    tl = by_external_id(world)
    hotel = tl["10001:1"]
    assert (hotel["ProjectID"], hotel["ExpenseTypeID"]) == (101, 1)
    assert D(hotel["Amount"]) == Decimal("1250.00") and D(hotel["VAT"]) == Decimal("250.00")   # Amount + AmountVat
    assert hotel["Date"] == "2026-03-02T00:00:00" and hotel["CurrencyABB"] == "DKK"
    assert D(hotel["CurrencyRate"]) == 100 and hotel["Comment"] == "Kreditorfaktura 111"      # JournalPostedComment
    assert hotel["SupplierInvoiceNo"] == "111"
    odd = tl["10001:7"]
    assert D(odd["Amount"]) == Decimal("416.66") and D(odd["VAT"]) == Decimal("83.33")
    assert odd["Date"] == "2026-03-01T00:00:00"          # the supplier invoice's date (DocumentDate)
    assert odd["Comment"] == "Bilag 7"                   # no journal comment: the posting text
    eur = tl["10001:10"]                                 # a foreign supplier: amounts in the company currency
    assert D(eur["Amount"]) == Decimal("1862.81") and eur["CurrencyABB"] == "DKK"

    rows = {r["posting_key"]: r for r in imported_expenses(world.engine, 1)}
    r = rows["10001:7"]
    assert r["amount_incl_vat"] == Decimal("416.66") and isinstance(r["amount_incl_vat"], Decimal)
    assert r["vat"] == Decimal("83.33") and r["amount"] == Decimal("333.33")
    assert (r["date"], r["purchase_date"], r["account"]) == (date(2026, 3, 8), date(2026, 3, 1), "2220")
    assert (r["expense_type"], r["project"], r["state"], r["currency"]) == ("Hotel", "P-102", "done", "DKK")
    assert r["timelog_expense_id"] == str(odd["ID"]) and r["reason"] is None
    assert rows["10001:10"]["posting_currency"] == "EUR" and rows["10001:10"]["amount_cur"] == Decimal("200.00")
    assert sum((x["amount_incl_vat"] for x in rows.values() if x["state"] == "done"), Decimal(0)) == \
        sum((D(e["Amount"]) for e in tl.values()), Decimal(0)) == Decimal("3529.47")


def test_importing_twice_imports_nothing_the_second_time(world):
    run(world)
    ledger = Ledger(world.engine)
    events = {k: len(ledger.events(DOMAIN, 1, k)) for k in ("10001:1", "10001:2", "10001:8")}
    calls = world.rest_calls()
    assert run(world) == {"imported": 0, "review": 5, "ignored": 0, "unchanged": 5, "failed": 0}
    assert world.rest_calls() == calls                   # not one call to TimeLog
    assert len(world.expenses()) == 3
    assert {k: len(ledger.events(DOMAIN, 1, k)) for k in events} == events   # the audit trail did not grow
    world.stage()                                        # a nightly restage of unchanged data changes nothing
    calls = world.rest_calls()
    assert run(world)["imported"] == 0 and world.rest_calls() == calls
    check_reversal_after_import(world)


def check_reversal_before_import(world):
    """A posting reversed before it was imported: both ignored, each naming the other, nothing in TimeLog."""
    rows = {r["posting_key"]: r for r in imported_expenses(world.engine, 1)}
    assert rows["10001:8"]["state"] == rows["10001:9"]["state"] == "ignored"
    assert "reversed by 10001:9 (voucher 20009, 2026-03-12) before it was imported" in rows["10001:8"]["reason"]
    assert "it reverses 10001:8 (voucher 20008), which was not imported into TimeLog" in rows["10001:9"]["reason"]
    assert rows["10001:9"]["reversal_of"] == "10001:8"
    assert {"10001:8", "10001:9"}.isdisjoint(by_external_id(world))


def check_reversal_after_import(world):
    """The accountant reverses an imported posting later: imported once, as a negative expense."""
    world.add_postings(REVERSAL_OF_1)                    # the accountant reverses voucher 20001 later
    assert run(world) == {"imported": 1, "review": 5, "ignored": 0, "unchanged": 5, "failed": 0}
    neg = by_external_id(world)["10001:13"]
    assert (neg["ProjectID"], neg["ExpenseTypeID"]) == (101, 1)   # the original's type and project
    assert D(neg["Amount"]) == Decimal("-1250.00") and D(neg["VAT"]) == Decimal("-250.00")
    assert neg["Comment"] == "Tilbageførsel af bilag 20001"
    on_101 = [D(e["Amount"]) for e in world.expenses() if e["ProjectID"] == 101]
    assert sum(on_101, Decimal(0)) == 0                  # TimeLog nets to zero, as Uniconta does
    row = next(r for r in imported_expenses(world.engine, 1) if r["posting_key"] == "10001:13")
    assert row["reversal_of"] == "10001:1" and row["state"] == "done"
    calls = world.rest_calls()
    assert run(world)["imported"] == 0 and world.rest_calls() == calls and len(world.expenses()) == 4


@SQLITE_ONLY
def test_a_review_posting_is_imported_once_the_expense_types_are_fixed(world):
    run(world)
    types = [dict(t) for t in TIMELOG["ExpenseTypes"]]
    next(t for t in types if t["ExpenseTypeID"] == 9)["AccountNo"] = ""    # only Taxi carries 2250 now
    world.set_expense_types(types)
    assert run(world) == {"imported": 1, "review": 4, "ignored": 0, "unchanged": 5, "failed": 0}
    assert by_external_id(world)["10001:2"]["ExpenseTypeID"] == 4


@SQLITE_ONLY
def test_dry_run_writes_nothing_anywhere(world):
    calls = world.rest_calls()
    assert run(world, dry_run=True) == {"imported": 3, "review": 5, "ignored": 2, "unchanged": 0, "failed": 0}
    assert world.rest_calls() == calls and world.expenses() == []
    assert imported_expenses(world.engine) == []


@SQLITE_ONLY
def test_since_limits_the_postings_but_keeps_reversal_pairs_together(world):
    assert run(world, since=date(2026, 3, 8)) == {"imported": 2, "review": 0, "ignored": 2, "unchanged": 0,
                                                  "failed": 0}
    assert sorted(by_external_id(world)) == ["10001:10", "10001:7"]


@SQLITE_ONLY
def test_an_interrupted_write_is_settled_by_asking_timelog_never_written_blindly(world):
    ledger = Ledger(world.engine)
    hotel = {"project_id": 101, "posting": {"voucher": 20001, "date": "2026-03-02", "account": "2220"}}
    ledger.claim(DOMAIN, 1, "10001:1", action="import", details=hotel)           # died after writing
    landed = world.rest.create_project_expense(ProjectExpenseCreate(
        project_id=101, expense_type_id=1, purchase_date=datetime(2026, 3, 2),
        amount_including_vat_expense_currency=Decimal("1250.00"), external_id="10001:1"))
    ledger.claim(DOMAIN, 1, "10001:7", action="import", details={"project_id": 102})   # died before writing
    ledger.claim(DOMAIN, 1, "10001:10", action="import")                          # nothing to look it up by
    ledger.claim(DOMAIN, 1, "10001:2", action="import", details={"project_id": 101})   # released → review

    with another_importer(world.engine):           # a live writer holds the expense lease: nothing is touched
        with pytest.raises(LeaseHeld):
            ExpenseImport(world.engine, world.le, world.rest, ledger=world.ledger).run()
    assert ledger.get(DOMAIN, 1, "10001:7").state == "in_flight"

    late = ExpenseImport(world.engine, world.le, world.rest, ledger=world.ledger)   # under the lease: any age
    result = late.run()
    assert any(line.startswith("recovered: posting 10001:1") for line in result.lines)
    s = {r["posting_key"]: r for r in imported_expenses(world.engine, 1)}
    assert s["10001:1"]["state"] == "done" and s["10001:1"]["timelog_expense_id"] == str(landed.project_expense_id)
    assert s["10001:7"]["state"] == "done"                                        # released and written once
    assert s["10001:10"]["state"] == "review" and s["10001:10"]["review_codes"] == "interrupted"
    assert "look in TimeLog for an expense with external ID 10001:10" in s["10001:10"]["reason"]
    assert s["10001:2"]["state"] == "review" and s["10001:2"]["review_codes"] == "several_types"
    external = [e["ExternalID"] for e in world.expenses()]
    assert sorted(external) == ["10001:1", "10001:7"]                             # each exactly once
    assert late.run().counts["imported"] == 0                                     # still never written blindly
    assert s["10001:10"]["reason"] == waiting_reason(world, "10001:10")


@contextmanager
def another_importer(engine):
    """A live importer of legal entity 1 in another process (pid 1 lives; its heartbeat is fresh)."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    with engine.begin() as conn:
        conn.execute(insert(write_leases).values(domain=DOMAIN, legal_entity_id=1, owner="other", run_id="other",
                                                 what="imported", host=socket.gethostname(), pid=1,
                                                 acquired_at=now, heartbeat_at=now))
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(delete(write_leases).where(write_leases.c.owner == "other"))


def waiting_reason(world, key: str) -> str:
    return next(r["reason"] for r in waiting(world.engine, 1) if r["posting_key"] == key)


@SQLITE_ONLY
def test_a_write_timelog_refuses_is_failed_with_its_reason_and_retried(world):
    state = httpx.get(f"{world.tl}/_sim/state").json()
    state["timelog"]["Projects"] = [p for p in state["timelog"]["Projects"] if p["ID"] != 102]
    httpx.post(f"{world.tl}/_sim/fixture", json=state).raise_for_status()   # deleted after the nightly staging
    counts = run(world)
    assert counts["imported"] == 1 and counts["failed"] == 2
    row = next(r for r in waiting(world.engine, 1) if r["posting_key"] == "10001:7")
    assert row["state"] == "failed" and "TimeLog refused the expense" in row["reason"]
    assert "Project specified is invalid" in row["reason"] and "(rule U4)" in row["reason"]


@SQLITE_ONLY
def test_nothing_without_expense_accounts(world):
    le = world.le.model_copy(update={"expense_gl_accounts": []})
    assert import_expenses(world.engine, le, world.rest, ledger=world.ledger) == {
        "imported": 0, "review": 0, "ignored": 0, "unchanged": 0, "failed": 0}
    assert ExpenseImport(world.engine, le, world.rest, ledger=world.ledger).postings == []


@SQLITE_ONLY
def test_a_reversal_of_a_waiting_posting_takes_it_off_the_review_list(world):
    run(world)
    world.add_postings(gl(15, "2026-03-25", "2220", "-800.00", "-200.00", "P-999", invoice=114, Correction=True))
    assert run(world) == {"imported": 0, "review": 4, "ignored": 2, "unchanged": 5, "failed": 0}
    rows = {r["posting_key"]: r for r in imported_expenses(world.engine, 1)}
    assert rows["10001:4"]["state"] == rows["10001:15"]["state"] == "ignored"
    assert "reversed by 10001:15" in rows["10001:4"]["reason"]
    assert "10001:4" not in {r["posting_key"] for r in waiting(world.engine, 1)}
    assert len(world.expenses()) == 3


@SQLITE_ONLY
def test_a_decision_that_no_longer_holds_goes_back_to_review(world):
    from tlsync.expenses.decisions import apply_decisions
    from tlsync.expenses.excel import Decision

    run(world)
    ledger = Ledger(world.engine)
    ledger.transition(DOMAIN, 1, "10001:6", "pending", action="decide", details={
        **ledger.get(DOMAIN, 1, "10001:6").details,
        "decision": {"action": "import", "expense_type_id": 4, "project_id": 999}})   # a project since deleted
    assert run(world)["review"] == 5 and "10001:6" not in by_external_id(world)
    assert "the chosen TimeLog project 999 no longer exists" in waiting_reason(world, "10001:6")
    result = apply_decisions(ExpenseImport(world.engine, world.le, world.rest, ledger=world.ledger),
                             [Decision(2, "10001:6", "import", 1, 102, "P-102")], actor="controller")
    assert result.counts["imported"] == 1 and by_external_id(world)["10001:6"]["ProjectID"] == 102
    assert ledger.get(DOMAIN, 1, "10001:6").details["decision"]["by"] == "controller"
