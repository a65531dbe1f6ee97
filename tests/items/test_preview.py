"""The items page's table of the current rules (``tlsync.items.preview``): every case is the resolver's own
decision — a real line of that kind and dimension value, resolved as the transfer does, gets the same item, rule
and transferability — and every kind of line is listed, mapped values by name, the unmapped rest counted."""

from __future__ import annotations

from tests.items.test_resolver import INVOICE, line, ref, work
from tlsync.items.preview import items_in_use, rule_cases
from tlsync.items.resolver import ItemResolver
from tlsync.settings.models import ItemNumberDefaults

DEFAULTS = {
    "time": {"mode": "by_dimension", "dimension": "task_type", "mapping": {"3": "KONS-JR", "1": "KONS-SR"}},
    "fixed_price": {"mode": "specific_item", "item": "FAST"},
    "expenses": {"mode": "by_dimension", "dimension": "expense_type", "mapping": {"2": "REJSE", "3": "REJSE"}},
    "mileage": {"mode": "specific_item", "item": "RABAT"},               # blocked in Uniconta
    "per_diem": {"mode": "gl_account", "account": "3610"},
}


def cases():
    return rule_cases(ItemResolver(ItemNumberDefaults.model_validate(DEFAULTS), ref()))


def test_every_kind_is_listed_with_its_principle():
    got = cases()
    assert [c.kind for c in got] == ["time"] * 3 + ["fixed_price"] + ["expenses"] * 3 + ["mileage", "per_diem",
                                                                                         "accommodation"]
    by = {(c.kind, c.case, c.value): c for c in got}
    assert by["time", "value", "1"].value_name == "Analyse" and by["time", "value", "3"].outcome.item == "KONS-JR"
    unmapped = by["time", "unmapped", None]
    assert (unmapped.others, unmapped.examples) == (1, ["Fastprisopgave"])
    assert (unmapped.outcome.item, unmapped.transferable) == (None, False)            # I5: chosen by hand
    assert "rule I5" in unmapped.outcome.blocked
    fixed = by["fixed_price", "no_item", None]
    assert (fixed.outcome.item, fixed.rule) == ("FAST", "I2")
    assert by["per_diem", "no_item", None].outcome.gl_account == "3610"
    mileage = by["mileage", "no_item", None]
    assert not mileage.transferable and "blocked in Uniconta company 10001" in mileage.outcome.blocked
    assert by["accommodation", "no_item", None].mode == "on_line"
    assert items_in_use(got) == {"KONS-JR": ["time"], "KONS-SR": ["time"], "FAST": ["fixed_price"],
                                 "REJSE": ["expenses"], "RABAT": ["mileage"]}


def test_each_case_is_what_the_transfer_resolves_for_such_a_line():
    r = ItemResolver(ItemNumberDefaults.model_validate(DEFAULTS), ref())
    by = {(c.kind, c.case, c.value): c for c in rule_cases(r)}
    real = {("time", "value", "3"): line(details=[work("100")]),              # task 100 has task type 3
            ("time", "value", "1"): line(details=[work("101")]),
            ("time", "unmapped", None): line(details=[work("200")]),          # task type 8, not mapped
            ("fixed_price", "no_item", None): line(unit=6, details=[{"RegistrationType": "6", "TaskID": "200"}]),
            ("expenses", "value", "2"): line(unit=6, details=[{"RegistrationType": "3", "RegistrationID": "501"}]),
            ("mileage", "no_item", None): line(unit=4, details=[{"RegistrationType": "16"}]),
            ("per_diem", "no_item", None): line(unit=3, details=[{"RegistrationType": "4", "Text": "Diæter"}])}
    for key, ln in real.items():
        resolved, shown = r.resolve(ln, INVOICE), by[key].outcome
        assert (resolved.item, resolved.gl_account, resolved.transferable) == \
            (shown.item, shown.gl_account, shown.transferable), key
        assert resolved.rule == shown.rule and resolved.rule.split(" ")[0] == by[key].rule, key


def test_no_defaults_every_kind_is_chosen_on_the_line():
    got = rule_cases(ItemResolver(ItemNumberDefaults(), ref()))
    assert [(c.kind, c.mode, c.outcome.item, c.transferable) for c in got] == [
        (k, "on_line", None, False) for k in ("time", "fixed_price", "expenses", "mileage", "per_diem",
                                              "accommodation")]
    assert items_in_use(got) == {}
