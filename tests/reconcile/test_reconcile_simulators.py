"""The accountant posts the drafts, editing one line (the Uniconta simulator's ``/_sim/post-drafts``): the
reconciliation of the staged result finds a real "lines edited in Uniconta" difference with the right hint — on
SQLite and PostgreSQL, against the in-process simulators (rule U3).

The drafts come from the real invoice transfer (``tlsync.invoicing.transfer_invoices``, issue 6): customer linking
finished, settings activated, one month transferred; the accountant then posts one of the drafts."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal

import httpx
from sqlalchemy import insert, select

from tlsync import connections
from tlsync.invoicing import transfer_invoices
from tlsync.ledger import Ledger
from tlsync.nightly import pipeline, sources
from tlsync.nightly.local import run_once
from tlsync.reconcile import BY_LEDGER, DRAFT_IN_UNICONTA, LINES_EDITED, MATCHED, reconcile
from tlsync.reconcile.report import write_report
from tlsync.staging.tables import STAGING, customer_links

PAIRS = {"1": 10001, "2": 10002}


def payloads(engine, entity: str, tenant: str) -> list[dict]:
    t = STAGING[entity]
    with engine.connect() as conn:
        return [json.loads(p, parse_float=Decimal)
                for p in conn.execute(select(t.c.payload).where(t.c.tenant == tenant)).scalars()]


def stage_company(sims, run_id: str) -> None:
    """The nightly sync's steps for company 10001 only (all that changed): extract, validate and stage, finish."""
    pipeline.begin(run_id)
    with sources.uniconta_source(company_id=10001, **sims["uniconta"]) as source:
        manifest = pipeline.extract_uniconta_company(source, run_id, {"legal_entity_id": 1, "company_id": 10001})
    pipeline.finish(run_id, [pipeline.validate_and_stage_all(manifest)])


def le_settings(le_id: int):
    """Legal entity settings as an administrator completes them (S1–S8), activation confirmed."""
    from tlsync.settings.models import LegalEntitySettings

    return LegalEntitySettings.model_validate({
        "legal_entity_id": le_id, "uniconta_company_id": 10000 + le_id, "customer_master": "manual",
        "debtor_defaults": {"debtor_group": "DK", "payment_terms": "N30", "layout_group": "Standard"},
        "invoice_project_category": "FAKT", "project_group": "KUNDE",
        "activation": {"configuration_complete": True, "customers_linked": True, "item_numbers_imported": True,
                       "confirmed_by": "admin", "confirmed_at": "2026-11-01T10:00:00"}})


def link_by_number(engine, le_id: int, company: int) -> set[str]:
    """Customer linking finished (rules L2/L3): debtors whose account is a TimeLog customer number are linked,
    the rest ignored. Returns the linked customer IDs."""
    customers = {str(p.get("No")): str(p["ID"]) for p in payloads(engine, "timelog.customers", "SIMSITE")}
    linked = set()
    with engine.begin() as conn:
        for p in payloads(engine, "uniconta.debtors", str(company)):
            cid = customers.get(str(p["Account"]))
            conn.execute(insert(customer_links).values(
                legal_entity_id=le_id, debtor_account=str(p["Account"]), company_id=str(company), customer_id=cid,
                state="linked" if cid else "ignored", action="timelog_wins" if cid else "ignored",
                updated_at=datetime(2026, 11, 1)))
            if cid:
                linked.add(cid)
    return linked


def test_post_drafts_editing_one_line_is_found_as_lines_edited_with_the_right_hint(sims, staging, tmp_path):
    run_once(sims["timelog"], sims["uniconta"], PAIRS, "run-1")
    linked = link_by_number(staging, 1, 10001)
    items = {p["Item"] for p in payloads(staging, "uniconta.items", "10001")}
    lines: dict[str, list[dict]] = {}
    for ln in payloads(staging, "timelog.invoice_lines", "SIMSITE:1"):
        lines.setdefault(str(ln["InvoiceID"]), []).append(ln)
    candidates = [i for i in payloads(staging, "timelog.invoices", "SIMSITE:1")
                  if str(i["Status"]) in ("1", "2", "3") and not i.get("ExternalInvoiceNo") and str(i["Type"]) == "1"
                  and str(i["CustomerID"]) in linked and i["CurrencyAbb"] == "DKK" and lines.get(str(i["ID"]))
                  and all(ln.get("ProductNo") in items for ln in lines[str(i["ID"])])]
    assert candidates, "the S data set has booked, untransferred invoices of linked customers"
    inv = max(candidates, key=lambda i: i["InvoiceDate"])
    own = sorted(lines[str(inv["ID"])], key=lambda ln: int(ln["ID"]))
    guid = str(inv["GUID"]).lower()
    inv_day = date.fromisoformat(str(inv["InvoiceDate"])[:10])
    month = (inv_day.replace(day=1), inv_day)

    # the real invoice transfer (T2, issue 6) for the invoice's month: drafts in Uniconta, recorded in the ledger
    ledger = Ledger(staging, run_id="transfer")
    with connections.uniconta_client(company_id=10001, **sims["uniconta"]) as uc, \
            connections.timelog_source(**sims["timelog"]) as tl:
        result = transfer_invoices(staging, le_settings(1), uc, tl.transactional, ledger=ledger, period=month)
    assert result["transferred"] >= 1, result
    entry = ledger.get("invoice", 1, guid)
    assert entry is not None and entry.state == "done", (entry, result)
    order_no = int(entry.target_key)

    # the accountant posts that draft, raising the price of line 1 by 10 % first
    old_price = Decimal(str(own[0]["Rate"]))
    new_price = (old_price * Decimal("1.10")).quantize(Decimal("0.01"))
    today = datetime.now(timezone.utc).date()
    resp = httpx.post(f"{sims['uniconta_url']}/_sim/companies/10001/post-drafts", timeout=30, json={
        "orders": [order_no], "date": today.isoformat(),
        "edit_line": {"order": order_no, "line": 1, "changes": {"Price": float(new_price)}}})
    resp.raise_for_status()
    posted = resp.json()
    assert posted["skipped"] == [] and len(posted["posted"]) == 1, posted
    invoice_no = str(posted["posted"][0]["invoice"]["InvoiceNumber"])

    stage_company(sims, "run-2")        # stage what the accountant did
    recon = reconcile(staging, 1, *month, company_id=10001)
    [row] = [r for r in recon.rows if r.timelog is not None and r.timelog.key == guid]
    assert (row.category, row.basis) == (LINES_EDITED, BY_LEDGER), (row.findings, row.hints)
    assert row.uniconta.number == invoice_no and row.uniconta.status == "posted"
    assert row.findings[0] == f"line 1: price {old_price:,.2f} → {new_price:,.2f}"
    assert any(h.startswith("edited in Uniconta after transfer by tlsync") for h in row.hints), row.hints
    first = own[0]
    edited_line = (Decimal(str(first["Quantity"])) * new_price * (100 - Decimal(str(first["Discount"]))) / 100
                   ).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert row.uniconta.net == Decimal(str(inv["NetAmount"])) - Decimal(str(first["Amount"])) + edited_line
    # the posted draft is not reported again (as a draft, or as missing in TimeLog); the month's other transferred
    # invoices wait as drafts, found through the ledger
    assert not [r for r in recon.rows if r.uniconta is not None and r.uniconta.order_number == str(order_no)
                and r is not row]
    others = [r for r in recon.rows if r.basis == BY_LEDGER and r is not row]
    assert len(others) == result["transferred"] - 1
    assert all(r.category == DRAFT_IN_UNICONTA and "transferred by tlsync" in r.hints[0] for r in others)
    # the history TimeLog's own integration transferred is paired by its external invoice number
    everything = reconcile(staging, 1, date(2000, 1, 1), today, company_id=10001)
    assert everything.counts()[MATCHED] >= 10
    files = write_report(recon, tmp_path / "report")
    assert files.html.exists() and files.xlsx.exists()
