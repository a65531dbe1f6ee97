"""The accountant posts the drafts, editing one line (the Uniconta simulator's ``/_sim/post-drafts``): the
reconciliation of the staged result finds a real "lines edited in Uniconta" difference with the right hint — on
SQLite and PostgreSQL, against the in-process simulators (rule U3).

The transfer is done the way the invoice transfer (issue 6) does it: claim in the ledger, insert the draft order
and its lines through ``UnicontaClient.insert_list``, complete the ledger entry with the order number."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal

import httpx
from sqlalchemy import insert, select

from tlsync import connections
from tlsync.clients.uniconta.models import DebtorOrderClient, DebtorOrderLineClient
from tlsync.ledger import Ledger
from tlsync.reconcile import BY_LEDGER, LINES_EDITED, MATCHED, reconcile
from tlsync.report import write_report
from tlsync.staging.tables import STAGING, customer_links
from tlsync.sync import pipeline
from tlsync.sync.local import run_once

PAIRS = {"1": 10001, "2": 10002}


def payloads(engine, entity: str, tenant: str) -> list[dict]:
    t = STAGING[entity]
    with engine.connect() as conn:
        return [json.loads(p, parse_float=Decimal)
                for p in conn.execute(select(t.c.payload).where(t.c.tenant == tenant)).scalars()]


def stage_company(sims, run_id: str) -> None:
    """The nightly sync's steps for company 10001 only (all that changed): extract, validate and stage, finish."""
    pipeline.begin(run_id)
    with connections.uniconta_source(company_id=10001, **sims["uniconta"]) as source:
        manifest = pipeline.extract_uniconta_company(source, run_id, {"legal_entity_id": 1, "company_id": 10001})
    pipeline.finish(run_id, [pipeline.validate_and_stage_all(manifest)])


def pick_invoice(engine) -> tuple[dict, list[dict]]:
    """A booked DKK invoice of legal entity 1 that TimeLog's own integration never transferred, whose lines all
    carry an item Uniconta knows (so the draft can be inserted and posted)."""
    items = {p["Item"] for p in payloads(engine, "uniconta.items", "10001")}
    lines: dict[str, list[dict]] = {}
    for ln in payloads(engine, "timelog.invoice_lines", "SIMSITE:1"):
        lines.setdefault(str(ln["InvoiceID"]), []).append(ln)
    for inv in sorted(payloads(engine, "timelog.invoices", "SIMSITE:1"), key=lambda i: i["InvoiceDate"]):
        own = sorted(lines.get(str(inv["ID"]), []), key=lambda ln: int(ln["ID"]))
        if (str(inv["Status"]) in ("1", "2", "3") and not inv.get("ExternalInvoiceNo") and inv["CurrencyAbb"] == "DKK"
                and str(inv["Type"]) == "1" and own and all(ln.get("ProductNo") in items for ln in own)
                and all(Decimal(str(ln["Discount"])) == 0 for ln in own)):
            return inv, own
    raise AssertionError("the S data set has no untransferred booked DKK invoice with known items")


def test_post_drafts_editing_one_line_is_found_as_lines_edited_with_the_right_hint(sims, staging, tmp_path):
    run_once(sims["timelog"], sims["uniconta"], PAIRS, "run-1")
    inv, lines = pick_invoice(staging)
    guid = str(inv["GUID"]).lower()
    debtor = sorted(p["Account"] for p in payloads(staging, "uniconta.debtors", "10001")
                    if (p.get("Currency") or "DKK") == "DKK" and not p.get("Blocked"))[0]
    with staging.begin() as conn:   # the customer was linked (issue 5) before invoices flow
        conn.execute(insert(customer_links).values(
            legal_entity_id=1, debtor_account=debtor, company_id="10001", customer_id=str(inv["CustomerID"]),
            state="linked", action="timelog_wins", updated_at=datetime.now()))

    # the transfer (T2): claim → insert the draft → complete with the order number
    ledger = Ledger(staging, run_id="transfer-test")
    assert ledger.claim("invoice", 1, guid) is not None
    client = connections.uniconta_client(company_id=10001, **sims["uniconta"])
    today = datetime.now(timezone.utc).date()
    with client:
        [order] = client.insert_list([DebtorOrderClient(Account=debtor, InvoiceDate=today,
                                                        Remark=f"TimeLog {inv['InvoiceNumber']}")])
        client.insert_list([DebtorOrderLineClient(OrderNumber=order.OrderNumber, LineNumber=n, Item=ln["ProductNo"],
                                                  Text=ln["Text"][:60], Qty=Decimal(str(ln["Quantity"])),
                                                  Price=Decimal(str(ln["Rate"])), DiscountPct=Decimal(0))
                            for n, ln in enumerate(lines, start=1)])
    ledger.complete("invoice", 1, guid, target_key=str(order.OrderNumber), written={"order": order.OrderNumber})
    ledger.transition("invoice", 1, guid, "done", action="details", details={
        "invoice_no": inv["InvoiceNumber"], "kind": "invoice", "customer_id": str(inv["CustomerID"]),
        "debtor_account": debtor, "currency": "DKK", "net": str(inv["NetAmount"]), "vat": str(inv["VATIncluded"]),
        "total": str(inv["Amount"])})

    # the accountant posts the draft, raising the price of line 1 by 10 % first
    old_price = Decimal(str(lines[0]["Rate"]))
    new_price = (old_price * Decimal("1.10")).quantize(Decimal("0.01"))
    resp = httpx.post(f"{sims['uniconta_url']}/_sim/companies/10001/post-drafts", timeout=30, json={
        "orders": [order.OrderNumber], "date": today.isoformat(),
        "edit_line": {"order": order.OrderNumber, "line": 1, "changes": {"Price": float(new_price)}}})
    resp.raise_for_status()
    posted = resp.json()
    assert posted["skipped"] == [] and len(posted["posted"]) == 1, posted
    invoice_no = str(posted["posted"][0]["invoice"]["InvoiceNumber"])

    stage_company(sims, "run-2")        # stage what the accountant did
    inv_day = date.fromisoformat(str(inv["InvoiceDate"])[:10])
    recon = reconcile(staging, 1, inv_day.replace(day=1), inv_day, company_id=10001)
    [row] = [r for r in recon.rows if r.timelog is not None and r.timelog.key == guid]
    assert (row.category, row.basis) == (LINES_EDITED, BY_LEDGER), (row.findings, row.timelog.currency, row.uniconta.currency)
    assert row.uniconta.number == invoice_no and row.uniconta.status == "posted"
    assert row.findings[0] == f"line 1: price {old_price:,.2f} → {new_price:,.2f}"
    assert any(h.startswith("edited in Uniconta after transfer by tlsync") for h in row.hints), row.hints
    expected_net = Decimal(str(inv["NetAmount"])) + Decimal(str(lines[0]["Quantity"])) * (new_price - old_price)
    assert row.uniconta.net == expected_net.quantize(Decimal("0.01"))
    # the posted draft is not reported a second time as a draft or as missing in TimeLog
    assert not [r for r in recon.rows if r.uniconta is not None and r.uniconta.order_number == str(order.OrderNumber)
                and r is not row]
    # the history TimeLog's own integration transferred is paired by its external invoice number
    everything = reconcile(staging, 1, date(2000, 1, 1), today, company_id=10001)
    assert everything.counts()[MATCHED] >= 10
    files = write_report(recon, tmp_path / "report")
    assert files.html.exists() and files.xlsx.exists()
