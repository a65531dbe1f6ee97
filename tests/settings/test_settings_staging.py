"""Settings checked against a real staging database (SQLite and PostgreSQL): values that must exist in the
Uniconta company, with the valid choices listed; a company without the project module (T3); reset (S1)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, insert, inspect, select

from simulators.generator import FIXED_TODAY, generate
from tlsync.settings import (
    clear_link_state,
    load,
    parse,
    project_module,
    reset,
    validate_against_staging,
)
from tlsync.staging.entities import get
from tlsync.staging.loader import StagingLoader

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "integration.example.yaml"
CLASSES = {"DebtorGroupClient": "debtor_groups", "GLVatClient": "vat_zones", "PaymentTermClient": "payment_terms",
           "DebtorLayoutGroupClient": "layout_groups", "ProjectGroupClient": "project_groups",
           "PrCategoryClient": "project_categories", "GLAccountClient": "gl_accounts", "InvItemClient": "items"}


def stage_demo_reference_data(engine, companies=(10001, 10002)) -> None:
    """What the nightly sync stages from the generated S data: the reference classes of each company."""
    loader = StagingLoader(engine)
    for company in generate("S", seed=42, today=FIXED_TODAY)["uniconta"]["companies"]:
        if company["CompanyId"] not in companies:
            continue
        for cls, entity in CLASSES.items():
            loader.load(get(f"uniconta.{entity}"), str(company["CompanyId"]), "test-run", company.get(cls, []))


def test_example_settings_are_valid_against_the_demo_data(engine):
    stage_demo_reference_data(engine)
    assert validate_against_staging(load(EXAMPLE), engine) == []
    assert project_module(engine, 10001) and not project_module(engine, 10002)


def test_values_missing_in_uniconta_are_listed_with_the_valid_choices(engine):
    stage_demo_reference_data(engine, companies=(10001,))
    s = load(EXAMPLE)
    le = s.entity(1)
    le.debtor_defaults = le.debtor_defaults.model_copy(update={"debtor_group": "XX", "payment_terms": "N60",
                                                               "layout_group": "Fancy", "vat": "I25X"})
    le.invoice_project_category = "NOPE"
    le.project_group = "NONE"
    le.expense_gl_accounts = ["2210", "9999", "2000"]
    le.item_numbers = le.item_numbers.model_copy(update={"mileage": le.item_numbers.fixed_price.model_copy(
        update={"item": "RABAT"})})
    del s.legal_entities[2]
    assert validate_against_staging(s, engine) == [
        "legal entity 1 (company 10001): debtor group 'XX' does not exist in Uniconta (rule S4); "
        "choose one of: DK, EU, OFF, UDL",
        "legal entity 1 (company 10001): VAT code 'I25X' does not exist in Uniconta (rule S4); "
        "choose one of: I25, IEUY, IREP, U25, UEUY, UUDY",
        "legal entity 1 (company 10001): payment terms 'N60' does not exist in Uniconta (rule S4); "
        "choose one of: KONT, LM30, N14, N30, N8",
        "legal entity 1 (company 10001): layout group 'Fancy' does not exist in Uniconta (rule S4); "
        "choose one of: Engelsk, OIOUBL, Standard",
        "legal entity 1 (company 10001): invoice project category 'NOPE' does not exist in Uniconta (rule S5); "
        "choose one of: ACONTO, FAKT, KOERSEL, TIMER, UDLAEG",
        "legal entity 1 (company 10001): project group 'NONE' does not exist in Uniconta (rule S7); "
        "choose one of: FAST, INTERN, KUNDE",
        "legal entity 1 (company 10001): expense GL account '9999' does not exist in Uniconta (rule S6); "
        "choose one of: 1010, 1020, 1030, 1040, 1050, 1060, 2200, 2210, 2211, 2220, 2230, 2240, 2250, 3010, "
        "3020, 3600, 3700, 3800, 4000, 5600, 5800, 6800, 7210, 7220",
        "legal entity 1 (company 10001): expense GL account '2000' is blocked or not usable in Uniconta (rule S6); "
        "choose one of: 1010, 1020, 1030, 1040, 1050, 1060, 2200, 2210, 2211, 2220, 2230, 2240, 2250, 3010, "
        "3020, 3600, 3700, 3800, 4000, 5600, 5800, 6800, 7210, 7220",
        "legal entity 1 (company 10001): item number of item_numbers.mileage.item 'RABAT' is blocked or not "
        "usable in Uniconta (rule I4); choose one of: ABON, ARK, FAST, FORPL, GEBYR, HOTEL, HW-100, KM, KONS-JR, "
        "KONS-SR, KURSUS, LIC, PL, REJSE, SUP, UDL",
    ]


def test_items_are_checked_per_company(engine):
    stage_demo_reference_data(engine)
    s = load(EXAMPLE)
    s.entity(2).item_numbers.time = s.entity(1).item_numbers.time    # ARK exists in 10001 only
    problems = validate_against_staging(s, engine)
    assert len(problems) == 1
    assert problems[0].startswith("legal entity 2 (company 10002): item number of item_numbers.time.mapping.4 "
                                  "'ARK' does not exist in Uniconta (rule I1); choose one of: ABON, FAST")


def test_company_without_project_module_gets_one_clear_message(engine):
    stage_demo_reference_data(engine, companies=(10002,))
    s = load(EXAMPLE)
    del s.legal_entities[1]
    s.entity(2).project_group = "KUNDE"
    s.entity(2).invoice_project_category = "FAKT"
    assert validate_against_staging(s, engine) == [
        "legal entity 2 (company 10002): the Uniconta company has no project module (no project groups or "
        "categories staged), so projects cannot be transferred (rules S7, T3); enable the project module in "
        "Uniconta or leave project_group and invoice_project_category empty"]


def test_nothing_staged_or_no_company_is_one_message_per_entity(engine):
    s = parse({"legal_entities": {1: {"uniconta_company_id": 10001, "project_group": "KUNDE"}, 2: {}}})
    assert validate_against_staging(s, engine) == [
        "legal entity 1 (company 10001): no Uniconta reference data is staged for this company; run the nightly "
        "sync first, then validate again (rules S1/S2)",
        "legal entity 2 (no Uniconta company): no Uniconta company chosen; log in and choose the company first "
        "(rule S1)"]


def _link_table(engine):
    from tlsync.staging.tables import customer_links

    with engine.begin() as conn:
        conn.execute(insert(customer_links), [
            {"legal_entity_id": le, "debtor_account": str(10000 + c), "company_id": str(10000 + le),
             "customer_id": str(c), "state": "linked", "action": "timelog_wins",
             "updated_at": datetime(2026, 11, 27, 12, 0)}
            for le in (1, 2) for c in (1, 2, 3)])
    return customer_links


def test_reset_clears_login_company_activation_and_links_of_that_entity_only(engine):
    s = load(EXAMPLE)
    s.entity(1).activation = s.entity(1).activation.model_validate(
        {"configuration_complete": True, "customers_linked": True, "item_numbers_imported": True,
         "confirmed_by": "admin", "confirmed_at": "2026-11-27T12:00:00"})
    table = _link_table(engine)

    after = reset(s, 1, engine)

    le = after.entity(1)
    assert le.uniconta_connection_id is None and le.uniconta_company_id is None
    assert not le.activation.activated and not le.activation.customers_linked
    assert le.debtor_defaults == s.entity(1).debtor_defaults           # the other choices are kept
    assert after.entity(2) == s.entity(2)
    assert s.entity(1).uniconta_company_id == 10001                    # the input is not changed
    assert s.entity(1).activation.activated
    with engine.connect() as conn:
        left = conn.execute(select(table.c.legal_entity_id, func.count()).group_by(table.c.legal_entity_id)).all()
    assert dict(left) == {2: 3}
    assert any("rule S1" in b for b in le.invoice_transfer_blockers())
    assert parse(after.model_dump()) == after                          # still a valid document


def test_clear_link_state_without_link_table_is_a_no_op(engine):
    from tlsync.staging.tables import customer_links

    customer_links.drop(engine)                                        # a staging database from before issue 5
    assert not inspect(engine).has_table("customer_links")
    assert clear_link_state(engine, 1) == 0
    with pytest.raises(KeyError, match="legal entity 9"):
        reset(load(EXAMPLE), 9, engine)


def test_dimension_mapping_keys_must_be_timelog_ids(engine):
    stage_demo_reference_data(engine, companies=(10001,))
    timelog = generate("S", seed=42, today=FIXED_TODAY)["timelog"]
    loader = StagingLoader(engine)
    loader.load(get("timelog.hourly_rates"), "SIMSITE", "test-run", timelog["HourlyRates"])
    loader.load(get("timelog.expense_types"), "SIMSITE", "test-run", timelog["ExpenseTypes"])
    s = load(EXAMPLE)
    del s.legal_entities[2]
    assert validate_against_staging(s, engine) == []
    s.entity(1).item_numbers.time.mapping["99"] = "KONS-SR"
    s.entity(1).item_numbers.expenses.mapping["42"] = "UDL"
    problems = validate_against_staging(s, engine)
    assert [p.split("; choose")[0] for p in problems] == [
        "legal entity 1 (company 10001): item_numbers.time.mapping: TimeLog hourly rate 99 does not exist in "
        "TimeLog (rule I1)",
        "legal entity 1 (company 10001): item_numbers.expenses.mapping: TimeLog expense type 42 does not exist in "
        "TimeLog (rule I3)"]
    assert problems[1].endswith("choose one of: 1 (Hotel), 2 (Flybillet), 3 (Togbillet), 4 (Taxi og parkering), "
                                "5 (Forplejning), 6 (Softwarelicens), 7 (Underleverandør), 8 (Telefon (udgået))")
