"""Invoice transfer end to end against both simulators (S data, SQLite and PostgreSQL): every booked invoice and
credit note becomes exactly one Uniconta draft with the right debtor, lines, items, quantities, prices,
discounts and totals to the øre; TimeLog gets the order number back; a rerun transfers nothing (rule T2)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from tests.invoicing.conftest import sim_state, timelog_state
from tlsync.invoicing import DOMAIN, MARKER_FIELD, transfer_invoices
from tlsync.money import line_total


def _dec(v) -> Decimal:
    return Decimal(str(v)) if v not in (None, "") else Decimal(0)


def test_transfer_s_data_exactly_once_with_exact_totals(world):
    engine, ledger = world["engine"], world["ledger"]
    le = world["le"](1)
    uc = world["uniconta"](10001)
    # a dry run lists the writes it would make and writes nothing (no call, no ledger row)
    before = sim_state(world["sims"], 10001)["DebtorOrderClient"]
    dry = transfer_invoices(engine, le, uc, world["tx"], ledger=ledger, dry_run=True)
    assert dry["transferred"] > 0 and dry["calls"] == 0
    assert sum(1 for p in dry["planned"] if p["write"] == "insert DebtorOrderClient") == dry["transferred"]
    assert sim_state(world["sims"], 10001)["DebtorOrderClient"] == before and ledger.entries(DOMAIN, 1) == []
    result = transfer_invoices(engine, le, uc, world["tx"], ledger=ledger)
    assert result["transferred"] == dry["transferred"]
    assert not result["refused"], result["refused"]
    assert result["transferred"] > 0
    tl = timelog_state(world["sims"])
    invoices = {i["GUID"].lower(): i for i in tl["Invoices"]}
    lines_by_inv: dict[int, list] = {}
    for ln in tl["InvoiceLines"]:
        lines_by_inv.setdefault(ln["InvoiceID"], []).append(ln)
    company = sim_state(world["sims"], 10001)
    orders = {o[MARKER_FIELD]: o for o in company["DebtorOrderClient"] if o.get(MARKER_FIELD)}
    order_lines: dict[int, list] = {}
    for ln in company["DebtorOrderLineClient"]:
        order_lines.setdefault(ln["OrderNumber"], []).append(ln)
    marks = Counter(o.get(MARKER_FIELD) for o in company["DebtorOrderClient"] if o.get(MARKER_FIELD))
    assert all(n == 1 for n in marks.values()), "an invoice has two drafts"
    done = ledger.entries(DOMAIN, 1, states=["done"])
    assert len(done) == result["transferred"]
    links = {}
    from sqlalchemy import select

    from tlsync.staging.tables import customer_links
    with engine.connect() as conn:
        links = {r.customer_id: r.debtor_account for r in conn.execute(
            select(customer_links).where(customer_links.c.legal_entity_id == 1, customer_links.c.state == "linked"))}
    for e in done:
        inv = invoices[e.source_key]
        order = orders[e.source_key]
        assert str(order["OrderNumber"]) == e.target_key
        assert order["Account"] == links[str(inv["CustomerID"])] == e.details["debtor_account"]
        assert inv["Status"] in (1, 2, 3) and inv["Type"] in (1, 2)
        tl_lines = sorted(lines_by_inv[inv["ID"]], key=lambda x: x["ID"])
        uc_lines = sorted(order_lines[order["OrderNumber"]], key=lambda x: x["LineNumber"])
        assert len(uc_lines) == len(tl_lines)
        total = Decimal(0)
        for t, u in zip(tl_lines, uc_lines):
            assert _dec(u["Qty"]) == _dec(t["Quantity"])
            assert _dec(u["Price"]) == _dec(t["Rate"])
            assert _dec(u.get("DiscountPct")) == _dec(t["Discount"])
            assert _dec(u["Total"]) == _dec(t["Amount"]) == line_total(_dec(t["Quantity"]), _dec(t["Rate"]),
                                                                        _dec(t["Discount"]))
            if t.get("ProductNo"):
                assert u["Item"] == t["ProductNo"]
            total += _dec(u["Total"])
        assert total == _dec(inv["NetAmount"]) == Decimal(e.details["net"])
        if inv["Type"] == 2:
            assert e.details["kind"] == "credit_note" and total < 0
        # TimeLog got the Uniconta reference back
        assert inv["ExternalInvoiceNo"] == e.target_key and inv["ExternalInvoiceStatus"] == "Draft"
        assert e.details["written_back"] is True
    # every booked invoice/credit note of the legal entity has a state; none is silently skipped
    booked = [i for i in tl["Invoices"] if i["LegalEntityID"] == 1 and i["Status"] in (1, 2, 3)
              and i["Type"] in (1, 2)]
    states = {e.source_key: e.state for e in ledger.entries(DOMAIN, 1)}
    assert {i["GUID"].lower() for i in booked} == set(states)
    assert result["calls"] / max(1, result["transferred"]) <= 0.25   # S data: few invoices per batch

    # rerun: restage (TimeLog now carries our external numbers) and transfer again — nothing is written
    from tlsync.nightly.local import run_once
    run_once(world["sims"]["timelog"], world["sims"]["uniconta"], [{"legal_entity_id": 1, "company_id": 10001}])
    before = len(sim_state(world["sims"], 10001)["DebtorOrderClient"])
    again = transfer_invoices(engine, le, uc, world["tx"], ledger=ledger)
    assert again["transferred"] == 0 and again["elsewhere"] == 0
    assert again["unchanged"] == len(booked) - again["failed"]
    assert len(sim_state(world["sims"], 10001)["DebtorOrderClient"]) == before
    assert {e.source_key: e.state for e in ledger.entries(DOMAIN, 1)} == states
