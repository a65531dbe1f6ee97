"""The resolver on real staged payloads (SQLite and PostgreSQL): TimeLog's reference data, invoice lines and line
details and the company's Uniconta items are read from the simulators with the product's own clients and staged
by its loader, then every line of legal entity 1 is resolved (rules I1–I5)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tlsync.items import ItemResolver
from tlsync.items.resolver import attach_details
from tlsync.nightly import sources
from tlsync.settings.models import LegalEntitySettings
from tlsync.staging.entities import get
from tlsync.staging.loader import StagingLoader
from tlsync.staging.tables import STAGING

SITE = ("projects", "project_types", "project_categories", "tasks", "task_types", "hourly_rates", "expenses",
        "expense_types")


@pytest.fixture
def staged(engine, item_sims):
    import httpx

    for url in (item_sims["timelog_url"], item_sims["uniconta_url"]):
        httpx.post(f"{url}/_sim/reset").raise_for_status()
    loader = StagingLoader(engine)
    with sources.timelog_source(**item_sims["timelog"]) as source:
        for name in SITE:
            spec = get(f"timelog.{name}")
            loader.load(spec, "SIMSITE", "r1", [e.raw for e in source.records(spec, date(2000, 1, 1),
                                                                               date.today() + timedelta(days=1))])
        invoices, lines, details = source.invoices_with_lines(1, date(2000, 1, 1), date.today() + timedelta(days=1),
                                                               modified=False)
        for name, records in (("invoices", invoices), ("invoice_lines", lines), ("invoice_line_details", details)):
            loader.load(get(f"timelog.{name}"), "SIMSITE:1", "r1", [e.raw for e in records])
    with sources.uniconta_source(company_id=10001, **item_sims["uniconta"]) as source:
        for name in ("items", "gl_accounts"):
            spec = get(f"uniconta.{name}")
            loader.load(spec, "10001", "r1", [e.raw for e in source.records(spec)])
    return engine


def payloads(engine, entity: str) -> list[dict]:
    table = STAGING[entity]
    with engine.connect() as conn:
        return [json.loads(p) for p in conn.execute(select(table.c.payload).where(table.c.tenant == "SIMSITE:1"))
                .scalars()]


def test_every_staged_line_resolves_and_blocked_ones_say_why(staged):
    engine = staged
    invoices = {i["ID"]: i for i in payloads(engine, "timelog.invoices")}
    lines = payloads(engine, "timelog.invoice_lines")
    attach_details(lines, payloads(engine, "timelog.invoice_line_details"))
    assert len(lines) > 100

    # I5: no defaults at all; lines with an item pass, lines without one are blocked (never a crash)
    plain = ItemResolver.from_staging(engine, LegalEntitySettings(legal_entity_id=1, uniconta_company_id=10001))
    kinds = Counter(plain.line_kind(ln) for ln in lines)
    assert {"time", "fixed_price", "expense", "mileage"} <= set(kinds)
    for ln in lines:
        types = {d["RegistrationType"] for d in ln["_Details"]}
        if types == {"3"}:
            assert plain.line_kind(ln) == "expense"
        if types == {"16"}:
            assert plain.line_kind(ln) == "mileage" and ln["UnitType"] == "4"
    results = [(ln, plain.resolve(ln, invoices[ln["InvoiceID"]])) for ln in lines]
    without = [ln for ln, r in results if not ln.get("ProductNo")]
    assert without, "the generated data has lines without an item"
    assert all(not r.transferable and r.blocked.endswith("rule I5)") for ln, r in results if not ln.get("ProductNo"))
    assert all(r.transferable and r.item == ln["ProductNo"] for ln, r in results if ln.get("ProductNo"))

    # I1 by task type + I3 by expense type + I4 mileage to a GL account
    le = LegalEntitySettings(legal_entity_id=1, uniconta_company_id=10001, item_numbers={
        "time": {"mode": "by_dimension", "dimension": "task_type", "mapping": {"3": "KONS-JR", "1": "KONS-SR"}},
        "expenses": {"mode": "by_dimension", "mapping": {"7": "UDL"}},
        "mileage": {"mode": "gl_account", "account": "2250"}})
    r = ItemResolver.from_staging(engine, le)
    rules = Counter(r.resolve(ln, invoices[ln["InvoiceID"]]).rule for ln in lines)
    assert rules["I1 by task type 'Udvikling'"] > 0 and rules["I1 by task type 'Analyse'"] > 0
    assert rules["I4 GL account 2250"] == kinds["mileage"]
    for ln in lines:
        got = r.resolve(ln, invoices[ln["InvoiceID"]])
        if got.rule == "I3 by expense type 'Underleverandør'":      # the expense type without a product number
            assert got == type(got)("UDL", None, got.rule, None)
    assert rules["I3 by expense type 'Underleverandør'"] > 0
    # fewer lines are blocked now: the subcontractor expenses got an item from their expense type
    assert sum(1 for ln in lines if not r.resolve(ln, invoices[ln["InvoiceID"]]).transferable) < len(without)

    # I3: REJSE is on two expense types in TimeLog; mapping type 7 to UDL puts UDL on two types as well
    assert r.warnings() == [
        "item 'REJSE' is used for several expense types (2 'Flybillet', 3 'Togbillet'); the expense import cannot "
        "tell them apart (rule I3)",
        "item 'UDL' is used for several expense types (4 'Taxi og parkering', 7 'Underleverandør'); the expense "
        "import cannot tell them apart (rule I3)"]
    assert plain.warnings() == r.warnings()[:1]


    # a blocked Uniconta item blocks the lines that would use it (the same staged data)
    le = LegalEntitySettings(legal_entity_id=1, uniconta_company_id=10001,
                             item_numbers={"fixed_price": {"mode": "specific_item", "item": "GL-TIME"}})
    r = ItemResolver.from_staging(engine, le)
    fixed = [ln for ln in lines if r.line_kind(ln) == "fixed_price"]
    assert fixed and any(not ln.get("ProductNo") for ln in fixed) and any(ln.get("ProductNo") for ln in fixed)
    for ln in fixed:
        got = r.resolve(ln)
        if ln.get("ProductNo"):              # the specific item is for lines without one (rule I2)
            assert got.item == ln["ProductNo"] and got.rule == "I2 on the line"
        else:
            assert "item 'GL-TIME' (I2 specific item), which is blocked in Uniconta company 10001" in got.blocked


def test_credit_note_lines_are_classified_like_the_invoice_they_credit(staged):
    """S data credit note 2025-0005 credits invoice 2024-0007; its lines have no details. With the example
    settings (expenses by expense type, fixed price = FAST) its HOTEL and FORPL lines are expenses and keep their
    items by expense type — they went to Uniconta as FAST before (rules I2, I3) — and every credit-note line gets
    the kind, and the item, of the line it credits."""
    engine = staged
    invoices = {i["ID"]: i for i in payloads(engine, "timelog.invoices")}
    lines = payloads(engine, "timelog.invoice_lines")
    attach_details(lines, payloads(engine, "timelog.invoice_line_details"))
    le = LegalEntitySettings(legal_entity_id=1, uniconta_company_id=10001, item_numbers={
        "time": {"mode": "by_dimension", "dimension": "task_type", "mapping": {"3": "KONS-JR", "1": "KONS-SR"}},
        "fixed_price": {"mode": "specific_item", "item": "FAST"},
        "expenses": {"mode": "by_dimension", "mapping": {"1": "HOTEL", "5": "FORPL", "6": "LIC"}}})
    r = ItemResolver.from_staging(engine, le)
    note = next(i for i in invoices.values() if i["InvoiceNumber"] == "2025-0005")
    assert note["Type"] == "2" and note["RelatesToInvoiceID"]
    got = {ln["ProductNo"]: (r.line_kind(ln, note), r.resolve(ln, note)) for ln in lines if ln["InvoiceID"] == note["ID"]}
    assert all(not ln["_Details"] for ln in lines if ln["InvoiceID"] == note["ID"])
    assert got["HOTEL"][0] == got["FORPL"][0] == "expense"
    assert (got["HOTEL"][1].item, got["HOTEL"][1].rule) == ("HOTEL", "I3 by expense type 'Hotel'")
    assert (got["FORPL"][1].item, got["FORPL"][1].rule) == ("FORPL", "I3 by expense type 'Forplejning'")
    by_id = {ln["ID"]: ln for ln in lines}
    notes = [i for i in invoices.values() if i["Type"] == "2"]
    assert len(notes) >= 3
    checked = 0
    for n in notes:
        credited = [ln for ln in lines if ln["InvoiceID"] == n["RelatesToInvoiceID"]]
        for ln in (x for x in lines if x["InvoiceID"] == n["ID"]):
            twin = next(c for c in credited if c["ProductNo"] == ln["ProductNo"] and c["UnitType"] == ln["UnitType"]
                        and ln["Text"].endswith(c["Text"]))
            original = invoices[twin["InvoiceID"]]
            assert r.line_kind(ln, n) == r.line_kind(by_id[twin["ID"]], original), (n["InvoiceNumber"], ln["Text"])
            assert r.resolve(ln, n).item == r.resolve(twin, original).item, (n["InvoiceNumber"], ln["Text"])
            checked += 1
    assert checked >= 5


def test_credited_invoices_read_at_once_are_those_read_one_by_one(staged):
    """The invoice transfer reads the invoices a batch's credit notes credit at once (``prefetch_credited``, two
    reads per 500 invoices instead of two per invoice): the same lines with the same details in the same order as
    read one by one — an invoice without staged lines, or an id that is no number, has none — and the credit
    notes' lines are then classified without another read, as before."""
    from tlsync.items.reference import load_reference, staged_invoice_lines, staged_invoice_lines_many

    engine = staged
    invoices = payloads(engine, "timelog.invoices")
    notes = [i for i in invoices if i["Type"] == "2"]
    ids = sorted({n["RelatesToInvoiceID"] for n in notes}) + ["999999999", "x"]
    one, many = staged_invoice_lines(engine, 1), staged_invoice_lines_many(engine, 1)
    at_once = many(ids)
    assert len(at_once) == len(ids) - 2
    for i in ids:
        assert at_once.get(i) == one(i), i
    assert any(ln["_Details"] for i in at_once for ln in at_once[i])

    le = LegalEntitySettings(legal_entity_id=1, uniconta_company_id=10001, item_numbers={
        "expenses": {"mode": "by_dimension", "mapping": {"1": "HOTEL", "5": "FORPL", "6": "LIC"}}})
    read_one_by_one: list[str] = []

    def counted(invoice_id: str):
        read_one_by_one.append(invoice_id)
        return one(invoice_id)

    lines = payloads(engine, "timelog.invoice_lines")
    before = ItemResolver(le.item_numbers, load_reference(engine, le), invoice_lines=one)
    after = ItemResolver(le.item_numbers, load_reference(engine, le), invoice_lines=counted, invoice_lines_many=many)
    after.prefetch_credited(invoices)
    for n in notes:
        for ln in (x for x in lines if x["InvoiceID"] == n["ID"]):
            assert after.line_kind(ln, n) == before.line_kind(ln, n)
            assert after.resolve(ln, n) == before.resolve(ln, n)
    assert read_one_by_one == []
