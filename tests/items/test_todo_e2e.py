"""Rule U2 against a TimeLog that has only its public API (issue 13, evidence 1), end to end through both simulators
(the TimeLog simulator with ``product_writes=False``: no write extension, no ``X-TimeLog-Simulator``).

    night 1 → the items step and the administrator's ``activate`` write nothing to TimeLog, they record changes to
    make by hand → the transfer holds back the invoices whose item TimeLog lacks, each with that reason (listed by
    ``tlsync invoicing list``) → ``tlsync items todo`` (screen and Excel) lists both → the administrator does them
    in TimeLog → night 2 (GET /product restaged) → the list is empty, the wishes are closed in the ledger, and the
    held invoices are transferred.
"""

from __future__ import annotations

import io
import json

import httpx
import pytest
from openpyxl import load_workbook

import simulators.timelog as timelog_sim
import simulators.uniconta as uniconta_sim
from simulators.generator import FIXED_TODAY
from tests.conftest import served_simulators
from tests.invoicing.conftest import le_settings, link_all
from tlsync import settings as settings_mod
from tlsync import writeback
from tlsync.clients.timelog import RestClient, RestSettings
from tlsync.invoicing import cli as invoicing_cli
from tlsync.items import cli as items_cli
from tlsync.items.products import BY_HAND, ItemNumbers
from tlsync.items.todo import SHEET, todo_rows
from tlsync.ledger import DONE, FAILED, REVIEW, Ledger
from tlsync.nightly.local import run_once
from tlsync.settings.models import IntegrationSettings

LE, COMPANY = 1, 10001
PAIRS = [{"legal_entity_id": 1, "company_id": 10001}, {"legal_entity_id": 2, "company_id": 10002}]
MISSING = "HW-100"          # a Uniconta item TimeLog never had (generator: NEVER_IMPORTED)
INACTIVE = "KURSUS"         # an inactive TimeLog product number (generator: INACTIVE_PRODUCTS)


@pytest.fixture
def public_sims():
    with served_simulators(
            timelog_sim.create_app(size="S", seed=42, today=FIXED_TODAY, product_writes=False),
            uniconta_sim.create_app(size="S", seed=42, today=FIXED_TODAY)) as served:
        yield served


def _products(sims) -> dict[str, dict]:
    state = httpx.get(f"{sims['timelog_url']}/_sim/state").json()["timelog"]
    return {p["ProductNumber"]: p for p in state["Products"] if p.get("LegalEntityID") in (None, 0, LE)}


def _by_hand_in_timelog(sims) -> None:
    """What the administrator does in TimeLog's own screens: create HW-100, make KURSUS active."""
    doc = httpx.get(f"{sims['timelog_url']}/_sim/state").json()
    products = doc["timelog"]["Products"]
    for p in products:
        if p["ProductNumber"] == INACTIVE and p.get("LegalEntityID") == LE:
            p["IsActive"] = True
    products.append({"ProductNumberID": max(p["ProductNumberID"] for p in products) + 1, "ProductNumber": MISSING,
                     "ProductName": "Hardware, diverse", "IsActive": True, "LegalEntityID": LE})
    httpx.post(f"{sims['timelog_url']}/_sim/fixture", json=doc).raise_for_status()


def _step(step, sims, settings, engine, run_id):
    return writeback.run_step(step, LE, run_id=run_id, timelog_fields=sims["timelog"],
                              uniconta_fields=sims["uniconta"], settings=settings, engine=engine)


def test_item_numbers_become_a_list_by_hand_and_held_invoices_go_once_timelog_has_the_item(
        public_sims, staging, tmp_path, monkeypatch, capsys):
    sims, engine = public_sims, staging
    run_once(sims["timelog"], sims["uniconta"], PAIRS, "night-1")
    link_all(engine, LE, COMPANY)
    # the administrator maps task type 4 ("Test") to HW-100, an item TimeLog does not have
    le = le_settings(LE, item_numbers={"time": {"mode": "by_dimension", "dimension": "task_type",
                                                "mapping": {4: MISSING}}})
    settings = IntegrationSettings(legal_entities={LE: le})
    settings_file = tmp_path / "integration.yaml"
    settings_mod.save(settings, settings_file)
    monkeypatch.setenv("TLSYNC_SETTINGS", str(settings_file))     # what the command lines read
    before = _products(sims)
    assert MISSING not in before and before[INACTIVE]["IsActive"] is False

    # -- outside the simulator nothing is written to TimeLog: the administrator's activate is recorded by hand -------
    with RestClient(RestSettings(base_url=f"{sims['timelog_url']}/tlsim", token="sim-pat-token")) as rest:
        numbers = ItemNumbers(engine, le, rest, actor="admin")
        assert numbers.writes_available is False
        outcome = numbers.activate([INACTIVE])
    assert outcome.ok and outcome.done == [] and len(outcome.by_hand) == 1
    assert "not in TimeLog's public API" in outcome.by_hand[0] and INACTIVE in outcome.by_hand[0]
    entry = Ledger(engine).get("product", LE, INACTIVE)
    assert entry.state == REVIEW and entry.details["todo"] == "activate"
    assert Ledger(engine).events("product", LE, INACTIVE)[-1]["action"] == BY_HAND

    # -- night 1's write-back: the items step writes nothing, the transfer holds the HW-100 invoices -------------
    items = _step("items", sims, settings, engine, "transfer-1")
    assert items.counts["written"] == 0 and items.counts["failed"] == 0 and items.counts["by_hand"] >= 1
    assert "tlsync items todo --legal-entity 1" in items.messages[0]
    invoices = _step("invoices", sims, settings, engine, "transfer-1")
    held = {k: why for k, why in invoices.failures.items() if "rule U2" in why}
    assert held and invoices.counts["transferred"] > 0
    for why in held.values():
        assert f"item '{MISSING}' is not a product number in TimeLog (legal entity 1)" in why
        assert "tlsync items todo" in why
    ledger = Ledger(engine)
    failed = {e.source_key: e for e in ledger.entries("invoice", LE, states=[FAILED])}
    assert all(failed[k].details["missing_items"] == [MISSING] for k in held)
    assert _products(sims) == before, "nothing was written to TimeLog's product numbers"

    out = io.StringIO()
    assert invoicing_cli.main(["list", "--legal-entity", "1", "--state", "failed"], out=out) == 0
    listed = out.getvalue()
    for key in held:
        line = next(ln for ln in listed.splitlines() if key in ln)
        assert f"item '{MISSING}' is not a product number in TimeLog" in line

    # -- the list, on screen and as Excel --------------------------------------------------------------------------
    rows = {r.item: r for r in todo_rows(engine, le)}
    assert set(rows) == {MISSING, INACTIVE}
    assert (rows[MISSING].todo, rows[MISSING].timelog_state, rows[MISSING].held_invoices) == \
        ("create", "not in TimeLog", len(held))
    assert (rows[INACTIVE].todo, rows[INACTIVE].timelog_state) == ("activate", "inactive")
    xlsx = tmp_path / "todo.xlsx"
    capsys.readouterr()
    assert items_cli.main(["--file", str(settings_file), "todo", "--out", str(xlsx)]) == 0
    screen = capsys.readouterr().out
    assert f"{MISSING}" in screen and "create the product number and make it active 'Hardware, diverse'" in screen
    assert "2 change(s) to make by hand in TimeLog (legal entity 1" in screen
    assert f"{len(held)} invoice(s) wait for them" in screen
    sheet = load_workbook(xlsx)[SHEET]
    table = [[c.value for c in r] for r in sheet.iter_rows()]
    assert table[0][:3] == ["Item number", "Name in Uniconta", "To do in TimeLog"]
    assert {r[0]: (r[2], r[5]) for r in table[1:]} == {
        MISSING: ("create the product number and make it active", len(held)),
        INACTIVE: ("make the product number active", 0)}

    # -- done by hand in TimeLog; night 2 restages GET /product -----------------------------------------------------
    _by_hand_in_timelog(sims)
    run_once(sims["timelog"], sims["uniconta"], PAIRS, "night-2")
    assert todo_rows(engine, le) == []
    items = _step("items", sims, settings, engine, "transfer-2")
    assert items.counts.get("by_hand") == 0 and not items.messages
    assert Ledger(engine).get("product", LE, INACTIVE).state == DONE
    assert Ledger(engine).events("product", LE, INACTIVE)[-1]["action"] == "found_in_timelog"
    second = _step("invoices", sims, settings, engine, "transfer-2")
    assert second.counts["transferred"] >= len(held)
    states = {e.source_key: e.state for e in Ledger(engine).entries("invoice", LE)}
    assert all(states[k] == DONE for k in held), "the held invoices went once TimeLog had the item"
    assert not [w for w in second.failures.values() if "rule U2" in w]
    capsys.readouterr()
    assert items_cli.main(["--file", str(settings_file), "todo"]) == 0
    assert "nothing to do by hand" in capsys.readouterr().out
    assert json.loads(json.dumps(items.to_json()))    # the step's result is XCom-safe
