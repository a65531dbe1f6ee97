"""The resolver's reference data read from staging (``tlsync.items.reference``, through ``tlsync.staging.read``),
on SQLite and PostgreSQL: each read takes only its own tenants — the company's Uniconta items under the company, the
TimeLog reference data under the site tenant, a credited invoice's lines under ``<site>:<legal entity>`` of the
resolver's legal entity — and staged numbers come back exact."""

from __future__ import annotations

from decimal import Decimal

from tlsync.items.reference import load_reference, staged_invoice_lines
from tlsync.settings.models import LegalEntitySettings
from tlsync.staging.entities import get
from tlsync.staging.loader import StagingLoader

LE = LegalEntitySettings(legal_entity_id=1, uniconta_company_id=10001)


def stage(engine, entity: str, tenant: str, records: list[dict]) -> None:
    StagingLoader(engine).load(get(entity), tenant, "r1", records)


def test_each_read_takes_only_its_own_tenants_and_numbers_are_exact(engine):
    stage(engine, "uniconta.items", "10001", [{"Item": "KONS", "Name": "Konsulent", "Blocked": False},
                                              {"Item": "OLD", "Name": "Udgået", "Blocked": True}])
    stage(engine, "uniconta.items", "10002", [{"Item": "OTHER", "Name": "Another company's"}])
    stage(engine, "uniconta.gl_accounts", "10002", [{"Account": "9999", "Name": "Another company's"}])
    stage(engine, "timelog.projects", "SIMSITE", [{"ID": "20", "ProjectTypeID": "2", "ProjectCategoryID": "5"}])
    stage(engine, "timelog.projects", "SIMSITE:1", [{"ID": "21", "ProjectTypeID": "9"}])   # not site data
    stage(engine, "timelog.tasks", "SIMSITE", [{"ID": "7", "ProjectID": "20", "TaskTypeID": "3"}])
    stage(engine, "timelog.hourly_rates", "SIMSITE", [{"ID": "4", "Name": "Senior", "Amount": 1250.50}])
    stage(engine, "timelog.expense_types", "SIMSITE", [{"ExpenseTypeID": "1", "ExpenseTypeName": "Hotel",
                                                        "ProductNo": "HOTEL"}])
    stage(engine, "timelog.expenses", "SIMSITE", [{"ID": "30", "ExpenseTypeID": "1", "InvoiceLineId": "500"},
                                                  {"ID": "31", "ExpenseTypeID": ""}])

    ref = load_reference(engine, LE)
    assert (ref.company, ref.legal_entity_id) == ("10001", 1)
    assert ref.items == {"KONS": False, "OLD": True}
    assert ref.item_names == {"KONS": "Konsulent", "OLD": "Udgået"}
    assert ref.gl_accounts is None                               # none staged for company 10001
    assert ref.projects == {"20": ("2", "5")}
    assert ref.tasks == {"7": "3"}
    assert ref.expenses == {"30": "1"} and ref.expense_by_line == {"500": "1"}
    assert ref.names["expense_type"] == {"1": "Hotel"} and ref.names["hourly_rate"] == {"4": "Senior"}
    assert ref.hourly_rates[0]["Amount"] == Decimal("1250.5") and type(ref.hourly_rates[0]["Amount"]) is Decimal

    nothing = load_reference(engine, LegalEntitySettings(legal_entity_id=1))
    assert (nothing.company, nothing.items, nothing.gl_accounts) == ("(none chosen)", {}, None)


def test_a_credited_invoices_lines_are_the_legal_entitys_own(engine):
    stage(engine, "timelog.invoice_lines", "SIMSITE:1", [
        {"ID": "11", "InvoiceID": "77", "ProductNo": "KONS"}, {"ID": "9", "InvoiceID": "77", "ProductNo": "FAST"},
        {"ID": "12", "InvoiceID": "78", "ProductNo": "KONS"}])
    stage(engine, "timelog.invoice_lines", "SIMSITE:11", [{"ID": "13", "InvoiceID": "77", "ProductNo": "X"}])
    stage(engine, "timelog.invoice_line_details", "SIMSITE:1", [
        {"ID": "1", "InvoiceID": "77", "InvoiceLineID": "11", "RegistrationType": "2"}])

    lines = staged_invoice_lines(engine, 1)("77")
    assert [(ln["ID"], ln["ProductNo"]) for ln in lines] == [("9", "FAST"), ("11", "KONS")]   # by ID, as numbers
    assert [d["ID"] for d in lines[1]["_Details"]] == ["1"] and lines[0]["_Details"] == []
    assert staged_invoice_lines(engine, 11)("77")[0]["ProductNo"] == "X"
    assert staged_invoice_lines(engine, 1)("79") is None                 # not staged
    assert staged_invoice_lines(engine, 1)("not a number") is None
