"""Item-number synchronisation (rule U2) against the in-process simulators, on SQLite and PostgreSQL: list,
activate, deactivate, and ``sync`` following Uniconta's renames, blocks and renumberings — idempotent through the
ledger (a second run writes nothing, counted at the simulator) and never touching posted invoices."""

from __future__ import annotations

import pytest

from tlsync.items.products import DOMAIN, ItemNumbers, ItemProblem, Write
from tlsync.ledger import Ledger


def numbers(world) -> ItemNumbers:
    return ItemNumbers(world.engine, world.le, world.rest, run_id="test")


def test_list_shows_active_uniconta_items_with_their_timelog_state(world):
    rows = {r.item: r for r in numbers(world).status()}
    assert "RABAT" not in rows and "GL-TIME" not in rows                  # blocked in Uniconta: not offered
    assert rows["KONS-SR"].state == "active" and rows["KONS-SR"].name == "Konsulenttimer, senior"
    assert rows["GEBYR"].state == "inactive"                             # imported but left inactive
    assert rows["HW-100"].state == "not imported" and rows["HW-100"].product_id is None
    everything = {r.item for r in numbers(world).status(include_blocked=True)}
    assert {"RABAT", "GL-TIME"} <= everything


def test_activate_creates_or_activates_and_a_second_run_writes_nothing(world):
    n = numbers(world)
    before = world.rest_calls()
    outcome = n.activate(["HW-100", "GEBYR"])
    assert outcome.ok and len(outcome.done) == 2
    assert world.rest_calls() - before == 1 + 2                          # one read, two writes
    products = world.products()
    assert products["HW-100"]["IsActive"] is True and products["HW-100"]["ProductName"] == "Hardware, diverse"
    assert products["GEBYR"]["IsActive"] is True
    ledger = Ledger(world.engine)
    entry = ledger.get(DOMAIN, 1, "HW-100")
    assert entry.state == "done" and entry.target_key == str(products["HW-100"]["ProductNumberID"])
    assert [e["action"] for e in ledger.events(DOMAIN, 1, "HW-100")] == ["create"]

    before = world.rest_calls()
    again = numbers(world)
    assert again.plan_activate(["HW-100", "GEBYR"]) == []
    assert again.activate(["HW-100", "GEBYR"]).done == []
    assert world.rest_calls() - before == 1                              # the read only: no write
    assert len(ledger.events(DOMAIN, 1, "HW-100")) == 1


def test_activate_refuses_unknown_and_blocked_items_and_writes_nothing(world):
    before = world.rest_calls()
    with pytest.raises(ItemProblem) as exc:
        numbers(world).activate(["HW-100", "RABAT", "NOPE"])
    assert exc.value.problems == [
        "item 'RABAT' is blocked in Uniconta company 10001; a blocked item cannot be activated in TimeLog (rule U2)",
        "item 'NOPE' does not exist in Uniconta company 10001 (rule U2)"]
    assert world.rest_calls() - before == 1                              # the product list was read, nothing written
    assert "HW-100" not in world.products()


def test_deactivate(world):
    n = numbers(world)
    assert [str(w) for w in n.plan_deactivate(["KONS-JR", "GEBYR"])] == [
        "deactivate product number KONS-JR (Konsulenttimer): chosen by the administrator"]   # GEBYR already is
    assert n.deactivate(["KONS-JR", "GEBYR"]).ok
    assert world.products()["KONS-JR"]["IsActive"] is False
    with pytest.raises(ItemProblem, match="neither a Uniconta item"):
        numbers(world).plan_deactivate(["NOPE"])


def test_sync_follows_renames_and_blocks_twice_is_a_no_op_and_posted_invoices_keep_their_numbers(world):
    lines_before = [(ln["ID"], ln.get("ProductNo")) for ln in world.tl_state()["InvoiceLines"]]
    assert numbers(world).plan_sync() == []                              # in line with Uniconta to begin with

    world.touch_item("PL", {"Name": "Projektledelse og styring"})        # renamed in Uniconta
    world.touch_item("SUP", {"Blocked": True})                           # blocked in Uniconta
    world.touch_item("KONS-SR", {"Item": "KONS-SENIOR"})                 # number changed (same RowId)
    world.stage_items()                                                  # the nightly sync stages the changes

    n = numbers(world)
    plan = [(w.action, w.item) for w in n.plan_sync()]
    assert sorted(plan) == [("create", "KONS-SENIOR"), ("deactivate", "KONS-SR"), ("deactivate", "SUP"),
                            ("rename", "PL")]
    before = world.rest_calls()
    outcome = n.sync()
    assert outcome.ok, outcome.failed
    assert world.rest_calls() - before == 4                              # the list was read by the plan

    products = world.products()
    assert products["PL"]["ProductName"] == "Projektledelse og styring" and products["PL"]["IsActive"] is True
    assert products["SUP"]["IsActive"] is False
    assert products["KONS-SR"]["IsActive"] is False                      # kept (inactive) for posted invoices
    assert products["KONS-SENIOR"]["IsActive"] is True
    assert products["KONS-SENIOR"]["ProductName"] == "Konsulenttimer, senior"

    # Posted invoices keep the numbers they were posted with: no invoice line was rewritten.
    assert [(ln["ID"], ln.get("ProductNo")) for ln in world.tl_state()["InvoiceLines"]] == lines_before
    assert any(p == "KONS-SR" for _, p in lines_before)

    # The second run writes nothing (one read of the product list) and records nothing new.
    ledger = Ledger(world.engine)
    events = sum(len(ledger.events(DOMAIN, 1, k)) for k in ("PL", "SUP", "KONS-SR", "KONS-SENIOR"))
    before = world.rest_calls()
    again = numbers(world)
    assert again.plan_sync() == [] and again.sync().done == []
    assert world.rest_calls() - before == 1
    assert sum(len(ledger.events(DOMAIN, 1, k)) for k in ("PL", "SUP", "KONS-SR", "KONS-SENIOR")) == events
    assert ledger.get(DOMAIN, 1, "SUP").state == "done"


def test_a_refused_write_is_reported_and_the_others_still_happen(world):
    n = numbers(world)
    bogus = Write("activate", "KONS-JR", "Konsulenttimer", 99999, "test")   # no such product id in TimeLog
    good = Write("create", "HW-100", "Hardware, diverse", None, "test")
    outcome = n.apply([bogus, good])
    assert len(outcome.failed) == 1 and "activate product number KONS-JR" in outcome.failed[0]
    assert outcome.done == ["create and activate product number HW-100 (Hardware, diverse): test"]
    entry = Ledger(world.engine).get(DOMAIN, 1, "KONS-JR")
    assert entry.state == "failed" and "TimeLog refused it" in entry.reason


def test_a_create_that_lost_a_race_adopts_the_existing_product(world):
    stale = numbers(world)
    assert [w.action for w in stale.plan_activate(["HW-100"])] == ["create"]
    from tlsync.clients.timelog.models import ProductCreate

    world.rest.create_product(ProductCreate(product_number="HW-100", product_name="Hardware", is_active=False,
                                            legal_entity_id=1))          # a person in TimeLog is quicker
    outcome = stale.apply(stale.plan_activate(["HW-100"]))               # planned on the stale list: create → 400
    assert outcome.ok and outcome.done == [
        "create and activate product number HW-100 (Hardware, diverse): chosen by the administrator (it already "
        "existed in TimeLog)"]
    assert [p for p in world.tl_state()["Products"] if p["ProductNumber"] == "HW-100"][0]["IsActive"] is True
    assert sum(1 for p in world.tl_state()["Products"] if p["ProductNumber"] == "HW-100") == 1
    assert [e["action"] for e in Ledger(world.engine).events(DOMAIN, 1, "HW-100")] == ["adopt"]
