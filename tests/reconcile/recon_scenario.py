"""A hand-written staging database where the right reconciliation is known exactly (rule U3).

Legal entity 1 ↔ Uniconta company 10001, site ``SIMSITE``, period January–February 2026, home currency DKK.
Every category appears; ``EXPECTED`` says which TimeLog/Uniconta numbers land where, and the amounts are chosen so
that the per-month totals can be computed by hand (see ``EXPECTED_TOTALS``).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from decimal import Decimal

from sqlalchemy import insert

from tlsync.ledger import Ledger
from tlsync.staging.tables import STAGING, customer_links, quarantine

SITE, LE, COMPANY = "SIMSITE", 1, 10001
TL_TENANT, UC_TENANT = f"{SITE}:{LE}", str(COMPANY)
NOW = datetime(2026, 3, 1, 6, 0, 0)
INJECT_NAME = "=HYPERLINK(\"http://evil\",\"klik\")"
SCRIPT_NAME = "<script>alert('x')</script> ApS"


def stage(engine, entity: str, tenant: str, key: str, payload: dict, staged_at: datetime = NOW, **columns) -> None:
    """One staged record; ``columns``: the entity's typed columns the loader fills (e.g. ``invoice_id``)."""
    body = json.dumps(payload, default=str, sort_keys=True)
    with engine.begin() as conn:
        conn.execute(insert(STAGING[entity]).values(
            source_system=entity.split(".")[0], tenant=tenant, natural_key=key,
            content_hash=hashlib.sha256(body.encode()).hexdigest(), run_id="fixture", staged_at=staged_at,
            payload=body, **columns))


def tl_invoice(engine, iid: int, number: str, day: str, customer: int, net: str, vat: str, lines: list[tuple],
               *, currency: str = "DKK", status: int = 1, ext: str = "", ext_status: str = "", type_: int = 1,
               name: str | None = None) -> str:
    guid = f"00000000-0000-0000-0000-{iid:012d}"
    stage(engine, "timelog.invoices", TL_TENANT, str(iid), {
        "ID": iid, "GUID": guid, "InvoiceNumber": number, "InvoiceDate": f"{day}T00:00:00", "Status": str(status),
        "Type": str(type_), "CustomerID": str(customer), "CustomerNo": f"K{customer}",
        "CustomerName": name or f"Kunde {customer} A/S", "LegalEntityID": str(LE), "CurrencyAbb": currency,
        "NetAmount": net, "VATIncluded": vat, "Amount": str(Decimal(net) + Decimal(vat)),
        "ExternalInvoiceNo": ext, "ExternalInvoiceStatus": ext_status, "IsIgnoredWhenTransfer": "false"})
    for n, (item, qty, rate) in enumerate(lines, start=1):
        lid = iid * 100 + n
        stage(engine, "timelog.invoice_lines", TL_TENANT, str(lid), {
            "ID": lid, "InvoiceID": iid, "Text": f"Linje {n}", "Quantity": qty, "Rate": rate, "Discount": "0",
            "Amount": str((Decimal(qty) * Decimal(rate)).quantize(Decimal("0.01"))), "ProductNo": item})
    return guid


def uc_invoice(engine, number: int, day: str, account: str, net: str, vat: str, lines: list[tuple], *,
               order: int | None = None, currency: str = "", name: str = "") -> None:
    stage(engine, "uniconta.invoices", UC_TENANT, str(number), {
        "InvoiceNumber": number, "OrderNumber": order, "Account": account, "Name": name or f"Debitor {account}",
        "Date": day, "Currency": currency, "NetAmount": float(net), "VatAmount": float(vat),
        "TotalAmount": float(Decimal(net) + Decimal(vat))})
    for n, (item, qty, price) in enumerate(lines, start=1):
        stage(engine, "uniconta.invoice_lines", UC_TENANT, f"{number}|{n}", {
            "InvoiceNumber": number, "LineNumber": n, "Item": item, "Text": f"Linje {n}", "InvoiceQty": float(qty),
            "SalesPrice": float(price), "DiscountPct": 0.0,
            "InvoiceNetAmount": float((Decimal(qty) * Decimal(price)).quantize(Decimal("0.01")))})


def uc_draft(engine, order: int, day: str, account: str, lines: list[tuple]) -> None:
    stage(engine, "uniconta.orders", UC_TENANT, str(order), {
        "OrderNumber": order, "Account": account, "Name": f"Debitor {account}", "InvoiceDate": day, "Currency": ""})
    for n, (item, qty, price) in enumerate(lines, start=1):
        stage(engine, "uniconta.order_lines", UC_TENANT, f"{order}|{n}", {
            "OrderNumber": order, "LineNumber": n, "Item": item, "Text": f"Linje {n}", "Qty": float(qty),
            "Price": float(price), "DiscountPct": 0.0,
            "Total": float((Decimal(qty) * Decimal(price)).quantize(Decimal("0.01")))})


def link(engine, customer: int, debtor: str) -> None:
    with engine.begin() as conn:
        conn.execute(insert(customer_links).values(legal_entity_id=LE, debtor_account=debtor,
                                                   company_id=UC_TENANT, customer_id=str(customer), state="linked",
                                                   action="timelog_wins", updated_at=NOW))


def transferred(ledger: Ledger, guid: str, number: str, order: int, debtor: str = "D1") -> None:
    ledger.claim("invoice", LE, guid, details={"invoice_no": number})
    ledger.complete("invoice", LE, guid, target_key=str(order), written={"order": order})
    ledger.transition("invoice", LE, guid, "done", action="annotate",
                      details={"invoice_no": number, "kind": "invoice", "customer_id": "1", "debtor_account": debtor,
                               "currency": "DKK"})


# TimeLog number / Uniconta number → category
EXPECTED = {
    "matched": [("2026-0001", "9001"), ("2026-0010", "9010")],
    "amounts_differ": [("2026-0002", "9002")],
    "missing_in_uniconta": [("2026-0003", None), ("2026-0004", None), ("2026-0014", None)],
    "missing_in_timelog": [(None, "9005"), (None, "9011")],
    "debtor_differs": [("2026-0006", "9006")],
    "currency_differs": [("2026-0007", "9007")],
    "draft_in_uniconta": [("2026-0008", "7008")],
    "lines_edited": [("2026-0009", "9009")],
}


def build(engine) -> None:
    """Stage the scenario (the ``engine`` fixture has created the tables)."""
    stage(engine, "uniconta.companies", UC_TENANT, UC_TENANT, {"CompanyId": COMPANY, "Name": "Nordlys",
                                                                "Currency": "DKK"})
    stage(engine, "uniconta.items", UC_TENANT, "KONS", {"Item": "KONS", "Name": "Konsulent"})
    ledger = Ledger(engine, run_id="fixture")
    link(engine, 1, "D1")
    link(engine, 6, "D6")
    # 1 matched through the ledger (tlsync transferred it as order 7001; posted as 9001)
    g = tl_invoice(engine, 1, "2026-0001", "2026-01-10", 1, "1000.0000", "250.0000", [("KONS", "10", "100")])
    transferred(ledger, g, "2026-0001", 7001)
    uc_invoice(engine, 9001, "2026-01-11", "D1", "1000", "250", [("KONS", 10, 100)], order=7001)
    # 2 amounts differ, lines agree (an end discount in Uniconta): found by TimeLog's external number
    tl_invoice(engine, 2, "2026-0002", "2026-01-12", 1, "2000.0000", "500.0000", [("KONS", "20", "100")],
               ext="9002", ext_status="Posted")
    uc_invoice(engine, 9002, "2026-01-12", "D1", "1900", "475", [("KONS", 20, 100)])
    # 3 missing in Uniconta: customer 2 is not linked
    tl_invoice(engine, 3, "2026-0003", "2026-01-15", 2, "500.0000", "125.0000", [("KONS", "5", "100")],
               name=SCRIPT_NAME)
    # 4 missing in Uniconta: the transfer failed with a reason
    g = tl_invoice(engine, 4, "2026-0004", "2026-01-16", 1, "300.0000", "75.0000", [("XYZ", "3", "100")])
    ledger.claim("invoice", LE, g)
    ledger.fail("invoice", LE, g, "Uniconta refused the draft: item 'XYZ' does not exist (rule I5)")
    # 5 missing in TimeLog: invoiced directly in Uniconta on a debtor no customer is linked to
    uc_invoice(engine, 9005, "2026-01-20", "D9", "800", "200", [("HW", 1, 800)], name=INJECT_NAME)
    # 6 debtor differs (customer 6 is linked to D6; the invoice is on D2)
    tl_invoice(engine, 6, "2026-0006", "2026-01-21", 6, "100.0000", "25.0000", [("KONS", "1", "100")], ext="9006",
               ext_status="Posted")
    uc_invoice(engine, 9006, "2026-01-21", "D2", "100", "25", [("KONS", 1, 100)])
    # 7 currency differs (EUR in TimeLog, the company's DKK in Uniconta)
    tl_invoice(engine, 7, "2026-0007", "2026-01-22", 1, "400.0000", "0.0000", [("KONS", "4", "100")],
               currency="EUR", ext="9007", ext_status="Posted")
    uc_invoice(engine, 9007, "2026-01-22", "D1", "400", "0", [("KONS", 4, 100)])
    # 8 still a draft (tlsync transferred it as order 7008; nobody posted it)
    g = tl_invoice(engine, 8, "2026-0008", "2026-02-02", 1, "600.0000", "150.0000", [("KONS", "6", "100")])
    transferred(ledger, g, "2026-0008", 7008)
    uc_draft(engine, 7008, "2026-02-02", "D1", [("KONS", 6, 100)])
    # 9 lines edited: the accountant raised the price of line 1 before posting (order 7009 → invoice 9009)
    g = tl_invoice(engine, 9, "2026-0009", "2026-02-03", 1, "1000.0000", "250.0000", [("KONS", "10", "100")])
    transferred(ledger, g, "2026-0009", 7009)
    uc_draft(engine, 7009, "2026-02-03", "D1", [("KONS", 10, 100)])          # stale staged draft (posted since)
    uc_invoice(engine, 9009, "2026-02-04", "D1", "1100", "275", [("KONS", 10, 110)], order=7009)
    # 10 matched on debtor + date + amount only (weaker)
    tl_invoice(engine, 10, "2026-0010", "2026-02-05", 1, "200.0000", "50.0000", [("KONS", "2", "100")])
    uc_invoice(engine, 9010, "2026-02-05", "D1", "200", "50", [("KONS", 2, 100)])
    # 11 outside the period; 12 a TimeLog draft (not booked): neither is reported
    tl_invoice(engine, 11, "2026-0011", "2026-03-05", 1, "999.0000", "0.0000", [("KONS", "1", "999")])
    tl_invoice(engine, 12, "", "2026-02-06", 1, "50.0000", "12.5000", [("KONS", "1", "50")], status=0)
    # 13 the TimeLog side was quarantined by the quality gate: Uniconta 9011 is missing in TimeLog
    uc_invoice(engine, 9011, "2026-02-07", "D1", "700", "175", [("KONS", 7, 100)])
    with engine.begin() as conn:
        conn.execute(insert(quarantine).values(
            run_id="fixture", entity="timelog.invoices", tenant=TL_TENANT, natural_key="13", rule="date_unparsable",
            reason="InvoiceDate 'i går' is not a date", quarantined_at=NOW,
            payload=json.dumps({"ID": 13, "InvoiceNumber": "2026-0013", "ExternalInvoiceNo": "9011"})))
    # 14 the day's quota ran out: released back to pending with the reason
    g = tl_invoice(engine, 14, "2026-0014", "2026-02-10", 1, "100.0000", "25.0000", [("KONS", "1", "100")])
    ledger.claim("invoice", LE, g)
    ledger.release("invoice", LE, g, reason="Uniconta daily call quota exhausted; retried next run")


# Per (month, currency): TimeLog total and Uniconta (posted) total — computed by hand from the scenario above.
EXPECTED_TOTALS = {
    # January: TimeLog 1,2,3,4,6 (DKK) + 7 (EUR); Uniconta 9001, 9002, 9005, 9006, 9007 (all DKK)
    ("2026-01", "timelog", "DKK"): Decimal("1250") + Decimal("2500") + Decimal("625") + Decimal("375")
    + Decimal("125"),
    ("2026-01", "timelog", "EUR"): Decimal("400"),
    ("2026-01", "uniconta", "DKK"): Decimal("1250") + Decimal("2375") + Decimal("1000") + Decimal("125")
    + Decimal("400"),
    # February: TimeLog 8, 9, 10, 14; Uniconta 9009, 9010, 9011 (the draft 7008 has no total)
    ("2026-02", "timelog", "DKK"): Decimal("750") + Decimal("1250") + Decimal("250") + Decimal("125"),
    ("2026-02", "uniconta", "DKK"): Decimal("1375") + Decimal("250") + Decimal("875"),
}
