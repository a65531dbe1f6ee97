"""Building one draft (rule T2): the official mapping, Decimal totals to the øre, credit notes, and one clear reason
per problem — without any server (the item resolver is built from hand-made reference data)."""

from __future__ import annotations

from decimal import Decimal

from tlsync.clients.timelog.models import Invoice
from tlsync.invoicing.currencies import uniconta_currency
from tlsync.invoicing.draft import MARKER_FIELD, Context, build
from tlsync.items.resolver import ItemResolver, ReferenceData
from tlsync.money import line_total
from tlsync.settings.models import ItemNumberDefaults

GUID = "0027AC9A-939A-46D6-8035-1789CB6E9BBF"


def _ctx(module=True, category="FAKT"):
    ref = ReferenceData(company="10001", legal_entity_id=1, items={"KONS": False, "FAST": False, "OLD": True},
                        item_names={"KONS": "Konsulent", "FAST": "Fastpris", "OLD": "Gammel"})
    return Context(company_currency="DKK", project_module=module, category=category, categories={"FAKT"},
                   resolver=ItemResolver(ItemNumberDefaults(), ref),
                   projects={13: {"ID": 13, "No": "P2024-0003", "PMInitials": "MDA"}},
                   employee_names={"MDA": "Martin Dahl"})


def _invoice(**over):
    raw = {"ID": 1, "GUID": GUID, "InvoiceNumber": "2024-0001", "Header": "BI-dashboard", "Text": "November",
           "InvoiceDate": "2024-11-01T00:00:00", "Amount": "1385.95", "NetAmount": "1108.76",
           "VATIncluded": "277.19", "Status": 3, "Type": 1, "CustomerID": 18, "CurrencyAbb": "DKK",
           "ProjectID": 13, "ProjectNo": "P2024-0003", "PurchaseNo": "PO-1", "CustomerReference": "William",
           "CustomerAddress1": "Vej 1", "CustomerZipCode": "6700", "CustomerCity": "Esbjerg",
           "CustomerCountry": "Danmark", "CustomerCountryID": 208}
    raw.update(over)
    return Invoice.model_validate(raw), raw


def _line(n, qty, rate, disc, amount, product="KONS", **over):
    ln = {"ID": n, "InvoiceID": 1, "Text": f"line {n}", "Quantity": qty, "Rate": rate, "Discount": disc,
          "Amount": amount, "ProductNo": product, "UnitType": 1, "ProjectID": 13, "Date": "2024-11-01T00:00:00"}
    ln.update(over)
    return ln


def test_line_total_rounds_half_up_to_the_ore():
    assert line_total(Decimal("1.5"), Decimal("0.03"), Decimal(0)) == Decimal("0.05")      # 0.045 → 0.05
    assert line_total(Decimal("-1.5"), Decimal("0.03"), Decimal(0)) == Decimal("-0.05")    # away from zero
    assert line_total(Decimal("7.25"), Decimal("1395"), Decimal("12.5")) == Decimal("8849.53")   # 8849.53125


def test_invoice_maps_to_a_draft_with_marker_and_exact_totals():
    inv, raw = _invoice()
    lines = [_line(1, "0.75", "1395.00", "10", "941.63"), _line(2, "1", "167.13", "0", "167.13", product="FAST",
                                                                 UnitType=6)]
    draft, problems = build(inv, raw, lines, _ctx(), debtor="10018", employee="MDA", project_number="P2024-0003",
                            project_problem=None, customer_problem=None)
    assert problems == []
    o = draft.order.to_payload()
    assert o[MARKER_FIELD] == GUID.lower() and o["Account"] == "10018"
    assert (o["Project"], o["PrCategory"], o["Employee"], o["OurRef"]) == ("P2024-0003", "FAKT", "MDA", "Martin Dahl")
    assert (o["YourRef"], o["Requisition"], o["Remark"]) == ("William", "PO-1", "BI-dashboard\nNovember")
    assert "Currency" not in o and o["DeliveryCountry"] == "Denmark"
    assert [ln.Item for ln in draft.lines] == ["KONS", "FAST"]
    assert draft.total() == Decimal("1108.76")
    assert draft.details == {"invoice_no": "2024-0001", "kind": "invoice", "customer_id": 18, "debtor_account": "10018",
                             "currency": "DKK", "date": "2024-11-01", "net": "1108.76", "vat": "277.19",
                             "total": "1385.95", "items": ["KONS", "FAST"]}


def test_credit_note_travels_with_negative_quantities():
    inv, raw = _invoice(Type=2, NetAmount="-1395.00", Amount="-1743.75", VATIncluded="-348.75")
    draft, problems = build(inv, raw, [_line(1, "-1", "1395.00", "0", "-1395.00")], _ctx(), debtor="10018",
                            employee=None, project_number="P2024-0003", project_problem=None, customer_problem=None)
    assert not problems and draft.lines[0].Qty == Decimal(-1) and draft.lines[0].Price == Decimal("1395.00")
    assert draft.total() == Decimal("-1395.00") and draft.details["kind"] == "credit_note"
    # a credit note booked with positive quantities still becomes a negative draft
    inv, raw = _invoice(Type=2, NetAmount="1395.00")
    draft, problems = build(inv, raw, [_line(1, "1", "1395.00", "0", "1395.00")], _ctx(), debtor="10018",
                            employee=None, project_number="P2024-0003", project_problem=None, customer_problem=None)
    assert not problems and draft.total() == Decimal("-1395.00")


def test_every_problem_is_named_and_blocks_the_invoice():
    inv, raw = _invoice(CurrencyAbb="XYZ", NetAmount="100.00")
    lines = [_line(1, "1", "10", "0", "10.00", product=""), _line(2, "1", "20", "0", "20.00", product="NOPE"),
             _line(3, "1", "30", "0", "31.00")]
    draft, problems = build(inv, raw, lines, _ctx(category=None), debtor=None, employee=None,
                            project_number="P2024-0003", project_problem=None,
                            customer_problem="customer 18 is not linked to a Uniconta debtor (rule S3a)")
    text = "\n".join(problems)
    assert draft is None
    assert "S3a" in text and "currency XYZ does not exist in Uniconta" in text and "(rule S5)" in text
    assert "I5" in text or "no item" in text.lower()
    assert "NOPE" in text
    assert "comes to 30.00" in text and "TimeLog says 31.00" in text


def test_without_project_module_the_draft_has_no_project_reference():
    inv, raw = _invoice(NetAmount="1395.00")
    draft, problems = build(inv, raw, [_line(1, "1", "1395.00", "0", "1395.00")], _ctx(module=False, category=None),
                            debtor="10018", employee=None, project_number=None, project_problem=None,
                            customer_problem=None)
    assert not problems
    assert draft.order.Project is None and draft.order.PrCategory is None and draft.lines[0].Project is None


def test_currency_rules():
    assert uniconta_currency("DKK", "DKK") == (None, None)
    assert uniconta_currency("eur", "DKK") == ("EUR", None)
    assert uniconta_currency("XYZ", "DKK")[1].startswith("currency XYZ does not exist in Uniconta")
    assert uniconta_currency("", "DKK")[1]
