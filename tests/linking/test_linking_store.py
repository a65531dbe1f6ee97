"""``tlsync.linking.store``, the one home of ``customer_links`` (issue 12, item 5): the link readers the customer
sync, the suggestions' refresh and reconciliation use, the reset, and the staged records read exactly. SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from conftest import COMPANY, LE, customer, debtor, stage
from sqlalchemy import insert

from tlsync.customers import staged as customer_staged
from tlsync.linking import store
from tlsync.staging.tables import customer_links

NOW = datetime(2026, 12, 1, 12, 0)


def _links(engine, *rows) -> None:
    with engine.begin() as conn:
        conn.execute(insert(customer_links), [
            {"legal_entity_id": le, "debtor_account": account, "company_id": str(company), "customer_id": cid,
             "state": state, "action": action, "updated_at": NOW}
            for le, company, account, cid, state, action in rows])


def test_the_link_readers(engine):
    _links(engine,
           (LE, COMPANY, "D2", "7", "linked", "timelog_wins"),
           (LE, COMPANY, "D1", "7", "linked", "imported"),        # one customer, two debtors: the first account
           (LE, COMPANY, "D3", None, "ignored", "ignored"),
           (LE, 10009, "X1", "8", "linked", "created"),           # the company the entity was connected to before
           (2, COMPANY, "D4", "9", "linked", "uniconta_wins"))
    assert store.linked_customers(engine, LE) == {"7": "D1", "8": "X1"}
    assert store.linked_customers(engine, LE, COMPANY) == {"7": "D1"}
    assert store.link_actions(engine, LE) == {"7": "imported", "8": "created"}      # the action of D1's link
    assert [(lk.legal_entity_id, lk.debtor_account, lk.state) for lk in store.company_links(engine, COMPANY)] == [
        (LE, "D1", "linked"), (LE, "D2", "linked"), (LE, "D3", "ignored"), (2, "D4", "linked")]
    # the customer sync reads the same links through the same functions
    assert customer_staged.linked_customers is store.linked_customers
    assert customer_staged.link_actions is store.link_actions

    assert store.clear_links(engine, LE) == 4
    assert store.linked_customers(engine, LE) == {} and store.linked_customers(engine, 2) == {"9": "D4"}


def test_staged_records_come_back_with_exact_numbers(engine):
    stage(engine, [customer(1, "Bager A/S")],
          [debtor("D1", "Bager A/S", CreditMax=2.125), debtor("D2", "Smed ApS")])
    debtors = store.staged_debtors(engine, COMPANY)
    assert list(debtors) == ["D1", "D2"]
    assert debtors["D1"]["CreditMax"] == Decimal("2.125") and type(debtors["D1"]["CreditMax"]) is Decimal
    assert store.staged_debtor(engine, str(COMPANY), "D1") == debtors["D1"]
    assert store.staged_debtor(engine, COMPANY, "D9") is None
    assert store.staged_customer(engine, "1")["Name"] == "Bager A/S"
    assert store.staged_customers(engine) == {"1": store.staged_customer(engine, "1")}
    assert customer_staged.uniconta_rows(engine, "uniconta.debtors", COMPANY) == debtors


def test_save_links_writes_what_save_link_would_one_by_one(engine):
    """The debtors a batch of the invoice transfer created are linked with one ``save_links`` (a few statements)
    instead of a ``save_link`` each: an account already in ``customer_links`` is updated, a new one inserted, an
    account given twice gets its last pair — the same rows as ``save_link`` one after the other."""
    from sqlalchemy import select

    pairs = [("D1", "7"), ("D5", "11"), ("D6", None), ("D5", "12")]
    kw = {"legal_entity_id": LE, "company_id": COMPANY, "state": "linked", "action": "created", "run_id": "r",
          "actor": "tlsync", "now": NOW}
    table = select(customer_links).order_by(customer_links.c.legal_entity_id, customer_links.c.debtor_account)
    got = []
    for batch in (True, False):
        _links(engine, (LE, COMPANY, "D1", None, "ignored", "ignored"), (2, COMPANY, "D5", "9", "linked", "imported"))
        with engine.begin() as conn:
            if batch:
                store.save_links(conn, links=pairs, **kw)
            else:
                for account, customer_id in pairs:
                    store.save_link(conn, debtor_account=account, customer_id=customer_id, **kw)
        with engine.begin() as conn:
            got.append([tuple(r) for r in conn.execute(table)])
            conn.execute(customer_links.delete())
    assert got[0] == got[1]
    assert [(r[0], r[1], r[3], r[4]) for r in got[0]] == [   # the other legal entity's D5 untouched
        (LE, "D1", "7", "linked"), (LE, "D5", "12", "linked"), (LE, "D6", None, "linked"), (2, "D5", "9", "linked")]
