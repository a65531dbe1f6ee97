"""The settings models and their stores: validation errors name the legal entity, the field and the rule; YAML
and Airflow-Variable JSON round trips; the activation gate (S8)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from tlsync.settings import (
    ActivationChecklist,
    IntegrationSettings,
    LegalEntitySettings,
    SettingsError,
    TimeByDimension,
    dumps_yaml,
    from_variable_json,
    load,
    loads_yaml,
    parse,
    save,
    settings_path,
    to_variable_json,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "integration.example.yaml"


def _problems(doc: dict) -> list[str]:
    with pytest.raises(SettingsError) as exc:
        parse(doc)
    return exc.value.problems


def test_example_file_loads_with_the_demo_pairs():
    s = load(EXAMPLE)
    assert {k: v.uniconta_company_id for k, v in s.legal_entities.items()} == {1: 10001, 2: 10002}
    le = s.entity(1)
    assert le.legal_entity_id == 1 and le.customer_master.value == "manual"
    assert le.debtor_defaults.debtor_group == "DK" and le.debtor_defaults.vat_zone.value == "Domestic"
    assert le.expense_gl_accounts[0] == "2200"
    assert isinstance(le.item_numbers.time, TimeByDimension)
    assert le.item_numbers.time.item_for(1) == "KONS-SR"
    assert le.item_numbers.time.item_for(99) is None          # unmapped → choose on the line (I1)
    assert le.item_numbers.accommodation.account == "2220"    # GL account (I4)
    assert s.warnings() == []


def test_yaml_round_trip_is_lossless_and_deterministic(tmp_path):
    s = load(EXAMPLE)
    path = save(s, tmp_path / "integration.yaml")
    again = load(path)
    assert again == s
    assert dumps_yaml(again) == path.read_text(encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    assert text.index("mode: by_dimension") < text.index("dimension: hourly_rate") < text.index("mapping:")


def test_variable_json_round_trip_and_string_keys():
    s = load(EXAMPLE)
    raw = to_variable_json(s)
    assert json.loads(raw)["legal_entities"]["1"]["uniconta_company_id"] == 10001
    assert from_variable_json(raw) == s


def test_variable_json_errors_are_settings_errors():
    with pytest.raises(SettingsError, match="not valid JSON"):
        from_variable_json("{not json")
    with pytest.raises(SettingsError) as exc:
        from_variable_json('{"legal_entities": {"3": {"customer_master": "sometimes"}}}')
    assert exc.value.problems == [
        "legal entity 3: customer_master: Input should be 'manual' or 'automatic' (rule S3)"]


@pytest.mark.parametrize("entry, expected", [
    ({"debtor_defaults": {"debtor_group": "DK", "layout_group": "Standard"}},
     "legal entity 1: debtor_defaults.payment_terms: is required (rule S4)"),
    ({"debtor_defaults": {"debtor_group": "DK", "payment_terms": "N8", "layout_group": "S", "vat_zone": "Mars"}},
     "legal entity 1: debtor_defaults.vat_zone: Input should be 'Domestic', 'EU', 'Abroad' or 'VatFree' (rule S4)"),
    ({"invoice_project_category": ""},
     "legal entity 1: invoice_project_category: String should have at least 1 character (rule S5)"),
    ({"expense_gl_accounts": [2210, "2210"]},
     "legal entity 1: expense_gl_accounts: account(s) listed twice: 2210 (rule S6)"),
    ({"item_numbers": {"time": {"mode": "by_dimension", "dimension": "expense_type"}}},
     "legal entity 1: item_numbers.time.dimension: Input should be 'project_type', 'project_category', "
     "'task_type' or 'hourly_rate' (rule I1)"),
    ({"item_numbers": {"fixed_price": {"mode": "by_dimension", "dimension": "task_type"}}},
     "legal entity 1: item_numbers.fixed_price.dimension: Input should be 'project_type' or 'project_category' "
     "(rule I2)"),
    ({"item_numbers": {"time": {"mode": "gl_account", "account": "2210"}}},
     "legal entity 1: item_numbers.time: Input tag 'gl_account' found using 'mode' does not match any of the "
     "expected tags: 'on_line', 'by_dimension', 'specific_item' (rule I1)"),
    ({"item_numbers": {"mileage": {"mode": "specific_item"}}},
     "legal entity 1: item_numbers.mileage.item: is required (rule I4)"),
    ({"activation": {"customers_linked": True, "confirmed_by": "admin", "confirmed_at": "2026-11-27T12:00:00"}},
     "legal entity 1: activation: cannot be confirmed while configuration_complete, item_numbers_imported is "
     "not checked (rule S8)"),
    ({"uniconta_company_id": 0},
     "legal entity 1: uniconta_company_id: Input should be greater than or equal to 1 (rule S1/S2)"),
])
def test_errors_name_the_entity_the_field_and_the_rule(entry, expected):
    assert _problems({"legal_entities": {1: entry}}) == [expected]


def test_a_secret_in_the_file_is_refused_without_echoing_it():
    problems = _problems({"legal_entities": {1: {"uniconta_password": "hunter2-secret"}}})
    assert problems == ["legal entity 1: uniconta_password: is not a known setting (secrets belong in Airflow "
                        "Connections, not here)"]
    with pytest.raises(SettingsError) as exc:
        parse({"legal_entities": {1: {"uniconta_company_id": "hunter2-secret"}}})
    assert "hunter2" not in str(exc.value)


def test_each_legal_entity_needs_its_own_company():
    assert _problems({"legal_entities": {1: {"uniconta_company_id": 10001}, 2: {"uniconta_company_id": 10001}}}) \
        == ["legal entity 2: Uniconta company 10001 is already connected to legal entity 1; each legal entity "
            "needs its own company (rule S2)"]
    assert _problems({"legal_entities": {1: {"legal_entity_id": 2}}}) == [
        "legal entity 1: legal_entity_id 2 differs from its key (rule S2)"]


def test_bad_yaml_names_the_line():
    with pytest.raises(SettingsError, match="not valid YAML at line 2"):
        loads_yaml("legal_entities:\n  1: x: y\n")


def test_missing_file_says_how_to_create_it(tmp_path):
    with pytest.raises(SettingsError, match="python -m tlsync.settings init"):
        load(tmp_path / "nope.yaml")


def test_settings_path_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TLSYNC_SETTINGS", str(tmp_path / "x.yaml"))
    assert settings_path() == tmp_path / "x.yaml"
    monkeypatch.delenv("TLSYNC_SETTINGS")
    assert settings_path() == ROOT / "config" / "integration.yaml"


def test_without_item_defaults_everything_is_chosen_on_the_line():
    le = parse({"legal_entities": {4: None}}).entity(4)         # an empty entry is a valid, unconfigured entity
    assert {k: getattr(le.item_numbers, k).mode for k in ("time", "fixed_price", "expenses", "mileage",
                                                          "per_diem", "accommodation")} == {
        k: "on_line" for k in ("time", "fixed_price", "expenses", "mileage", "per_diem", "accommodation")}
    assert le.item_numbers.items() == []                        # I5: still valid, nothing to check


def test_the_same_item_on_several_expense_types_is_warned():
    s = parse({"legal_entities": {1: {"uniconta_company_id": 10001, "item_numbers": {
        "expenses": {"mode": "by_dimension", "mapping": {2: "REJSE", 3: "REJSE", 1: "HOTEL"}}}}}})
    assert s.warnings() == ["legal entity 1 (company 10001): item 'REJSE' is used for several expense types "
                            "(2, 3); the expense import cannot tell them apart (rule I3)"]


def test_activation_gate_blocks_invoices_until_everything_is_confirmed():
    le = load(EXAMPLE).entity(1)
    assert not le.can_transfer_invoices
    assert le.invoice_transfer_blockers() == [
        "legal entity 1 (company 10001): the activation checklist is not confirmed; no invoices are transferred "
        "until it is (rule S8)"]
    le.activation = ActivationChecklist(configuration_complete=True, customers_linked=True,
                                        item_numbers_imported=True, confirmed_by="admin@nordlys.dk",
                                        confirmed_at=datetime(2026, 11, 27, 12))
    assert le.can_transfer_invoices

    bare = LegalEntitySettings(legal_entity_id=2)
    blockers = bare.invoice_transfer_blockers()
    assert [b.rsplit("(rule ", 1)[1] for b in blockers] == ["S1)", "S4)", "S5)", "S8)"]
    assert all(b.startswith("legal entity 2 (no Uniconta company)") for b in blockers)
    # A company without the project module cannot have a project category (S5 does not apply there).
    assert [b.rsplit("(rule ", 1)[1] for b in bare.invoice_transfer_blockers(project_module=False)] == [
        "S1)", "S4)", "S8)"]


def test_unknown_legal_entity_lists_the_configured_ones():
    with pytest.raises(KeyError, match="legal entity 7 is not in the settings; configured: 1, 2"):
        load(EXAMPLE).entity(7)


def test_empty_document_is_valid():
    assert parse(None) == IntegrationSettings()


def test_legal_entities_may_be_a_list_with_ids():
    s = parse({"legal_entities": [{"legal_entity_id": 2, "uniconta_company_id": 10002},
                                  {"legal_entity_id": 1, "uniconta_company_id": 10001}]})
    assert sorted(s.legal_entities) == [1, 2] and s.entity(2).uniconta_company_id == 10002
    assert _problems({"legal_entities": [{"legal_entity_id": 1}, {"legal_entity_id": 1}]}) == [
        "legal entity 1: listed twice (rule S2)"]
    assert _problems({"legal_entities": [{"uniconta_company_id": 10001}]}) == [
        "legal entity ?: an entry of the legal_entities list has no legal_entity_id (rule S2)"]
