"""The default-item resolver (rules I1–I5): each line kind under each principle, the fallback of an unmapped
dimension value to the line's own item, no defaults at all (I5), unknown and blocked items, and the I3 warning.

The reference data is written by hand here (small, readable); ``test_resolver_staging.py`` reads it from a staging
database filled from the simulators."""

from __future__ import annotations

import pytest

from tlsync.items.reference import ReferenceData, attach_details
from tlsync.items.resolver import ItemResolver, LineItem
from tlsync.settings.models import ItemNumberDefaults


def ref() -> ReferenceData:
    return ReferenceData(
        company="10001",
        legal_entity_id=1,
        items={"KONS-SR": False, "KONS-JR": False, "FAST": False, "ABON": False, "KM": False, "HOTEL": False,
               "REJSE": False, "UDL": False, "DIAET": False, "RABAT": True},
        gl_accounts={"2220", "2240", "3610"},
        projects={"10": ("1", "3"), "20": ("2", "1")},
        tasks={"100": "3", "101": "1", "200": "8"},
        expenses={"500": "1", "501": "2"},
        expense_by_line={"7": "4"},
        expense_types={"1": {"ExpenseTypeID": 1, "ExpenseTypeName": "Hotel", "ProductNo": "HOTEL", "IsActive": True},
                       "2": {"ExpenseTypeID": 2, "ExpenseTypeName": "Flybillet", "ProductNo": "REJSE",
                             "IsActive": True},
                       "3": {"ExpenseTypeID": 3, "ExpenseTypeName": "Togbillet", "ProductNo": "REJSE",
                             "IsActive": True},
                       "4": {"ExpenseTypeID": 4, "ExpenseTypeName": "Taxi", "ProductNo": "UDL", "IsActive": True},
                       "8": {"ExpenseTypeID": 8, "ExpenseTypeName": "Telefon", "ProductNo": "UDL",
                             "IsActive": False}},
        hourly_rates=[
            {"ID": "1", "Name": "Senior konsulent", "Amount": "1250.0000", "CurrencyISO": "DKK", "IsActive": "1",
             "CustomerID": "0"},
            {"ID": "2", "Name": "Konsulent", "Amount": "995.0000", "CurrencyISO": "DKK", "IsActive": "1",
             "CustomerID": "0"},
            {"ID": "6", "Name": "Senior consultant", "Amount": "170.0000", "CurrencyISO": "EUR", "IsActive": "1",
             "CustomerID": "0"},
            {"ID": "13", "Name": "Aftalepris Kunde A/S", "Amount": "1100.0000", "CurrencyISO": "DKK",
             "IsActive": "1", "CustomerID": "18"},
            {"ID": "14", "Name": "Konsulent (LE 2)", "Amount": "995.0000", "CurrencyISO": "DKK", "IsActive": "1",
             "CustomerID": "0", "LegalEntityID": "2"},
        ],
        names={"project_type": {"1": "Tid og materialer", "2": "Fastpris"},
               "project_category": {"1": "Rådgivning", "3": "Udvikling"},
               "task_type": {"1": "Analyse", "3": "Udvikling", "8": "Fastprisopgave"},
               "hourly_rate": {"1": "Senior konsulent", "2": "Konsulent", "6": "Senior consultant",
                               "13": "Aftalepris Kunde A/S"},
               "expense_type": {"1": "Hotel", "2": "Flybillet", "3": "Togbillet", "4": "Taxi"}},
    )


def resolver(**defaults) -> ItemResolver:
    return ItemResolver(ItemNumberDefaults.model_validate(defaults), ref())


INVOICE = {"ID": "9", "InvoiceNumber": "2025-0042", "CurrencyAbb": "DKK", "CustomerID": "18", "ProjectID": "10"}


def line(line_id="1", product="", unit=1, project="10", rate="1250.0000", details=(), **extra) -> dict:
    out = {"ID": line_id, "InvoiceID": "9", "InvoiceNo": "2025-0042", "ProductNo": product, "UnitType": str(unit),
           "ProjectID": project, "Rate": rate, "Quantity": "1.0000", "Text": extra.pop("Text", "")}
    if details:
        out["_Details"] = [{"InvoiceLineID": line_id, **d} for d in details]
    out.update(extra)
    return out


def work(task="100"):
    return {"RegistrationType": "2", "TaskID": task}


# -- line kinds ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("ln, kind", [
    (line(details=[work(), work()]), "time"),
    (line(unit=6, details=[{"RegistrationType": "6", "TaskID": "200"}]), "fixed_price"),
    (line(unit=6, details=[{"RegistrationType": "3", "RegistrationID": "500"}]), "expense"),
    (line(unit=4, details=[{"RegistrationType": "16"}]), "mileage"),
    (line(unit=3, details=[{"RegistrationType": "4", "Text": "Diæter 2 døgn"}]), "per_diem"),
    (line(unit=3, Text="Logi, Hamborg", details=[{"RegistrationType": "4"}]), "accommodation"),
    (line(unit=1), "time"),                              # no details: the unit type decides
    (line(unit=4), "mileage"),
    (line(unit=6), "fixed_price"),
    (line("7", unit=6), "expense"),                      # an expense was invoiced on line 7 (staged expenses)
    (line(unit=1, _Kind="per_diem"), "per_diem"),        # the caller knows better
    (line(unit=1, details=[{"RegistrationType": "8"}, work()]), "time"),   # rounding does not vote
])
def test_line_kind(ln, kind):
    assert resolver().line_kind(ln) == kind


def test_attach_details_groups_by_line():
    lines = [line("1"), line("2")]
    attach_details(lines, [{"InvoiceLineID": "2", "RegistrationType": "16"}, {"InvoiceLineID": "2"}])
    assert [len(x["_Details"]) for x in lines] == [0, 2]


# -- I1 time ---------------------------------------------------------------------------------------------------

def test_time_on_the_line():
    assert resolver().resolve(line(product="KONS-SR", details=[work()]), INVOICE) == \
        LineItem("KONS-SR", None, "I1 on the line", None)


def test_time_specific_item_is_for_lines_without_an_item():
    """TimeLog's help page: "Vælges et specifikt varenummer: Får tidsregistreringer automatisk tilføjet det valgte
    varenummer på fakturalinjerne" — and "For valgte varenumre kan ændres på fakturakladden": the specific item is
    what a line gets when it has none; an item on the line (chosen or changed on the draft) stays (rule I1)."""
    r = resolver(time={"mode": "specific_item", "item": "KONS-JR"})
    own = r.resolve(line(product="KONS-SR"), INVOICE)
    assert (own.item, own.rule, own.blocked) == ("KONS-SR", "I1 on the line", None)
    none = r.resolve(line(product=""), INVOICE)
    assert (none.item, none.rule, none.blocked) == ("KONS-JR", "I1 specific item", None)


@pytest.mark.parametrize("dimension, mapping, expect_rule", [
    ("task_type", {"3": "KONS-JR"}, "I1 by task type 'Udvikling'"),
    ("project_type", {"1": "KONS-JR"}, "I1 by project type 'Tid og materialer'"),
    ("project_category", {"3": "KONS-JR"}, "I1 by project category 'Udvikling'"),
    ("hourly_rate", {"1": "KONS-JR"}, "I1 by hourly rate 'Senior konsulent'"),
])
def test_time_by_dimension(dimension, mapping, expect_rule):
    r = resolver(time={"mode": "by_dimension", "dimension": dimension, "mapping": mapping})
    got = r.resolve(line(product="KONS-SR", details=[work("100")]), INVOICE)
    assert (got.item, got.rule, got.blocked) == ("KONS-JR", expect_rule, None)


def test_time_unmapped_dimension_value_falls_back_to_the_line():
    r = resolver(time={"mode": "by_dimension", "dimension": "task_type", "mapping": {"3": "KONS-JR"}})
    got = r.resolve(line(product="KONS-SR", details=[work("101")]), INVOICE)          # task type 1 "Analyse"
    assert (got.item, got.rule, got.blocked) == ("KONS-SR", "I1 task type 'Analyse' not mapped: on the line",
                                                 None)
    unknown = r.resolve(line(product="KONS-SR"), INVOICE)                             # no details: no task
    assert (unknown.item, unknown.rule) == ("KONS-SR", "I1 task type (unknown) not mapped: on the line")


def test_hourly_rate_is_inferred_from_rate_currency_and_customer():
    r = resolver(time={"mode": "by_dimension", "dimension": "hourly_rate",
                       "mapping": {"2": "KONS-JR", "6": "KONS-SR", "13": "KONS-SR"}})
    assert r.resolve(line(rate="995.0000"), INVOICE).rule == "I1 by hourly rate 'Konsulent'"   # LE 2 rate ignored
    assert r.resolve(line(rate="170.00"), {**INVOICE, "CurrencyAbb": "EUR"}).item == "KONS-SR"
    # the customer's own negotiated rate
    assert r.resolve(line(rate="1100"), INVOICE).rule == "I1 by hourly rate 'Aftalepris Kunde A/S'"
    assert r.resolve(line(rate="1100"), {**INVOICE, "CustomerID": "19"}).rule == \
        "I1 hourly rate (unknown) not mapped: on the line"
    # an explicit HourlyRateID wins over the inference
    assert r.resolve(line(rate="1250", product="", HourlyRateID="2"), INVOICE).item == "KONS-JR"


# -- I2 fixed price --------------------------------------------------------------------------------------------

FIXED = [{"RegistrationType": "6", "TaskID": "200"}]


@pytest.mark.parametrize("default, item, rule", [
    ({"mode": "on_line"}, "FAST", "I2 on the line"),
    ({"mode": "specific_item", "item": "ABON"}, "FAST", "I2 on the line"),      # the line's own item stays
    ({"mode": "by_dimension", "dimension": "project_type", "mapping": {"2": "ABON"}}, "ABON",
     "I2 by project type 'Fastpris'"),
    ({"mode": "by_dimension", "dimension": "project_category", "mapping": {"1": "ABON"}}, "ABON",
     "I2 by project category 'Rådgivning'"),
    ({"mode": "by_dimension", "dimension": "project_type", "mapping": {"1": "ABON"}}, "FAST",
     "I2 project type 'Fastpris' not mapped: on the line"),
])
def test_fixed_price(default, item, rule):
    got = resolver(fixed_price=default).resolve(line(product="FAST", unit=6, project="20", details=FIXED), INVOICE)
    assert (got.item, got.rule, got.blocked) == (item, rule, None)


def test_fixed_price_specific_item_does_not_replace_the_lines_own_item():
    """The demo's finding: an instalment with item ABON went to Uniconta as FAST. The specific item is the
    pre-filled item of a new payment ("Fastprisbetalingerne får automatisk tilføjet det valgte varenummer ... når
    der oprettes en ny betaling"), so ABON stays; a payment without an item gets FAST (rule I2)."""
    r = resolver(fixed_price={"mode": "specific_item", "item": "FAST"})
    assert r.resolve(line(product="ABON", unit=6, details=FIXED), INVOICE).item == "ABON"
    assert r.resolve(line(product="", unit=6, details=FIXED), INVOICE) == LineItem("FAST", None, "I2 specific item",
                                                                                   None)


# -- I3 expenses -----------------------------------------------------------------------------------------------

def test_expenses_by_expense_type_from_the_registration_and_from_the_line():
    r = resolver(expenses={"mode": "by_dimension", "mapping": {"1": "HOTEL", "4": "UDL"}})
    hotel = r.resolve(line("3", product="REJSE", unit=6, details=[{"RegistrationType": "3", "RegistrationID": "500"}]))
    assert (hotel.item, hotel.rule) == ("HOTEL", "I3 by expense type 'Hotel'")
    taxi = r.resolve(line("7", product="", unit=6))          # no details; the staged expense names line 7
    assert (taxi.item, taxi.rule, taxi.blocked) == ("UDL", "I3 by expense type 'Taxi'", None)
    flight = r.resolve(line("4", product="REJSE", unit=6, details=[{"RegistrationType": "3", "RegistrationID": "501"}]))
    assert (flight.item, flight.rule) == ("REJSE", "I3 expense type 'Flybillet' not mapped: on the line")


def test_expenses_specific_and_on_line():
    ln = line("3", product="HOTEL", unit=6, details=[{"RegistrationType": "3", "RegistrationID": "500"}])
    assert resolver(expenses={"mode": "specific_item", "item": "UDL"}).resolve(ln).item == "HOTEL"
    bare = line("3", product="", unit=6, details=[{"RegistrationType": "3", "RegistrationID": "500"}])
    assert resolver(expenses={"mode": "specific_item", "item": "UDL"}).resolve(bare).item == "UDL"
    assert resolver().resolve(ln) == LineItem("HOTEL", None, "I3 on the line", None)


# -- I4 mileage, per diem, accommodation -----------------------------------------------------------------------

@pytest.mark.parametrize("kind, ln", [
    ("mileage", line(product="KM", unit=4, details=[{"RegistrationType": "16"}])),
    ("per_diem", line(product="DIAET", unit=3, details=[{"RegistrationType": "4", "Text": "Diæter"}])),
    ("accommodation", line(product="HOTEL", unit=3, details=[{"RegistrationType": "4", "Text": "Overnatning"}])),
])
def test_travel_kinds_each_principle(kind, ln):
    assert resolver().resolve(ln) == LineItem(ln["ProductNo"], None, "I4 on the line", None)
    specific = resolver(**{kind: {"mode": "specific_item", "item": "UDL"}}).resolve(ln)
    assert (specific.item, specific.rule, specific.blocked) == (ln["ProductNo"], "I4 on the line", None)
    specific = resolver(**{kind: {"mode": "specific_item", "item": "UDL"}}).resolve({**ln, "ProductNo": ""})
    assert (specific.item, specific.rule, specific.blocked) == ("UDL", "I4 specific item", None)
    gl = resolver(**{kind: {"mode": "gl_account", "account": "3610"}}).resolve(ln)
    assert gl == LineItem(None, "3610", "I4 GL account 3610", None)
    # a GL account set for another kind does not touch this one
    other = "per_diem" if kind != "per_diem" else "mileage"
    assert resolver(**{other: {"mode": "gl_account", "account": "3610"}}).resolve(ln).item == ln["ProductNo"]


def test_unknown_gl_account_blocks_with_reason():
    got = resolver(mileage={"mode": "gl_account", "account": "9999"}).resolve(line("5", unit=4), INVOICE)
    assert got.gl_account == "9999" and got.item is None
    assert got.blocked == ("line 5 of invoice 2025-0042 is a mileage line set to GL account 9999, which does not "
                           "exist in Uniconta company 10001 (rule I4)")


# -- I5 and item problems --------------------------------------------------------------------------------------

def test_no_defaults_at_all_lines_with_an_item_pass_lines_without_are_blocked():
    r = resolver()                                            # every kind "on the line" (rule I5)
    assert r.resolve(line(product="KONS-SR"), INVOICE).transferable
    blocked = r.resolve(line("123", product=""), INVOICE)
    assert blocked.item is None and not blocked.transferable
    assert blocked.blocked == ("line 123 of invoice 2025-0042 has no item number and no default applies "
                               "(time line, I1 on the line; rule I5)")


def test_draft_without_number_is_named_by_its_id():
    got = resolver().resolve({"ID": "8", "InvoiceID": "77", "UnitType": "1", "ProductNo": " "})
    assert got.blocked.startswith("line 8 of invoice ID 77 (a draft, no number yet) has no item number")


def test_unknown_item_blocks_with_reason():
    got = resolver().resolve(line("12", product="NOPE"), INVOICE)
    assert got.item == "NOPE" and got.blocked == (
        "line 12 of invoice 2025-0042 has item 'NOPE' (I1 on the line), which does not exist in Uniconta company "
        "10001; import it or choose another item (rule I1)")


def test_blocked_item_blocks_with_reason_also_when_chosen_by_a_default():
    got = resolver(time={"mode": "specific_item", "item": "RABAT"}).resolve(line("13", product=""), INVOICE)
    assert got.blocked == ("line 13 of invoice 2025-0042 has item 'RABAT' (I1 specific item), which is blocked in "
                           "Uniconta company 10001; unblock it or choose another item (rule I1)")


def test_blocked_reasons_name_their_own_line_even_when_the_outcome_is_cached():
    r = resolver()
    a, b = r.resolve(line("1", product=""), INVOICE), r.resolve(line("2", product=""), INVOICE)
    assert a.blocked.startswith("line 1 ") and b.blocked.startswith("line 2 ")
    ok1, ok2 = r.resolve(line("3", product="KM", unit=4)), r.resolve(line("4", product="KM", unit=4))
    assert ok1 is ok2                                         # one LineItem per distinct outcome


# -- credit notes -----------------------------------------------------------------------------------------------

CREDITED = {**INVOICE, "Type": "1"}                      # invoice 2025-0042 (ID 9), credited below
CREDITED_LINES = [
    line("31", product="KONS-SR", unit=1, Text="Udvikling, Birgitte Knudsen", details=[work("100"), work("100")]),
    line("32", product="HOTEL", unit=6, rate="2568.6700", Text="Hotel: udlæg",
         details=[{"RegistrationType": "3", "RegistrationID": "500"}]),
    line("33", product="REJSE", unit=6, rate="900.0000", Text="Tog: udlæg"),     # no details; expense names it
]
CREDIT_NOTE = {"ID": "12", "InvoiceNumber": "2025-0050", "CurrencyAbb": "DKK", "CustomerID": "18", "ProjectID": "10",
               "Type": "2", "RelatesToInvoiceID": "9"}


def credit_line(line_id, product, unit, rate, text, qty):
    """A credit-note line as TimeLog serves it: negative quantity and amount, and no line details at all."""
    return line(line_id, product=product, unit=unit, rate=rate, Text=text, Quantity=qty, InvoiceID="12",
                InvoiceNo="2025-0050")


def credit_resolver(**defaults) -> ItemResolver:
    data = ref()
    data.expense_by_line["33"] = "2"
    return ItemResolver(ItemNumberDefaults.model_validate(defaults), data,
                        invoice_lines={"9": CREDITED_LINES}.get)


def test_credit_note_lines_take_their_kind_and_dimension_from_the_credited_invoice():
    """A credit note's lines carry no details (no registration type): TimeLog credits invoice
    ``RelatesToInvoiceID``, so each line is classified by the line it credits there — the same kind rules as an
    invoice's (I1 time by task type, I3 expense by expense type), not the unit-type fallback (fixed price)."""
    r = credit_resolver(time={"mode": "by_dimension", "dimension": "task_type", "mapping": {"3": "KONS-JR"}},
                        fixed_price={"mode": "specific_item", "item": "FAST"},
                        expenses={"mode": "by_dimension", "mapping": {"1": "UDL", "2": "HOTEL"}})
    hotel = credit_line("41", "HOTEL", 6, "2568.6700", "Hotel: udlæg", "-1.0000")
    work_line = credit_line("42", "KONS-SR", 1, "1250.0000", "Udvikling, Birgitte Knudsen", "-2.0000")
    partial = credit_line("43", "KONS-SR", 1, "1250.0000", "Delkreditering: Udvikling, Birgitte Knudsen", "-0.5000")
    train = credit_line("44", "REJSE", 6, "900.0000", "Tog: udlæg", "-1.0000")
    assert [r.line_kind(ln, CREDIT_NOTE) for ln in (hotel, work_line, partial, train)] == \
        ["expense", "time", "time", "expense"]
    assert r.resolve(hotel, CREDIT_NOTE) == LineItem("UDL", None, "I3 by expense type 'Hotel'", None)
    assert r.resolve(train, CREDIT_NOTE) == LineItem("HOTEL", None, "I3 by expense type 'Flybillet'", None)
    assert r.resolve(work_line, CREDIT_NOTE) == LineItem("KONS-JR", None, "I1 by task type 'Udvikling'", None)
    assert r.resolve(partial, CREDIT_NOTE).item == "KONS-JR"
    # exactly what the credited invoice's own lines got
    assert [r.resolve(ln, CREDITED).item for ln in CREDITED_LINES] == ["KONS-JR", "UDL", "HOTEL"]


def test_credit_note_whose_credited_invoice_is_not_staged_falls_back_without_guessing_wrong():
    r = credit_resolver(expenses={"mode": "by_dimension", "mapping": {"1": "UDL"}})
    orphan = {**CREDIT_NOTE, "RelatesToInvoiceID": "404"}
    hotel = credit_line("41", "HOTEL", 6, "2568.6700", "Hotel: udlæg", "-1.0000")
    # HOTEL is expense type 1's own product number (and no other active type's): an expense of that type
    assert r.line_kind(hotel, orphan) == "expense"
    assert r.resolve(hotel, orphan) == LineItem("UDL", None, "I3 by expense type 'Hotel'", None)
    fee = credit_line("45", "FAST", 6, "500.0000", "Gebyr", "-1.0000")
    assert r.line_kind(fee, orphan) == "fixed_price"
    # REJSE belongs to two expense types: an expense, but the type is unknown -> the line's own item (I3)
    train = credit_line("46", "REJSE", 6, "900.0000", "Tog", "-1.0000")
    assert r.resolve(train, orphan) == LineItem("REJSE", None, "I3 expense type (unknown) not mapped: on the line",
                                                None)


def test_credit_note_lines_resolve_like_invoice_lines():
    got = resolver().resolve(line(product="KONS-SR", Quantity="-2.5000"), {**INVOICE, "Type": "2"})
    assert got == LineItem("KONS-SR", None, "I1 on the line", None)


# -- I3 warning ------------------------------------------------------------------------------------------------

def test_warning_for_one_item_on_several_expense_types():
    # on the line: the expense types' own product numbers; REJSE is on two active types (the inactive one is not)
    assert resolver().warnings() == [
        "item 'REJSE' is used for several expense types (2 'Flybillet', 3 'Togbillet'); the expense import cannot "
        "tell them apart (rule I3)"]
    mapped = resolver(expenses={"mode": "by_dimension", "mapping": {"2": "REJSE", "3": "UDL", "4": "HOTEL"}})
    assert mapped.warnings() == [
        "item 'HOTEL' is used for several expense types (1 'Hotel', 4 'Taxi'); the expense import cannot tell them "
        "apart (rule I3)"]
    distinct = resolver(expenses={"mode": "by_dimension", "mapping": {"2": "REJSE", "3": "KM", "4": "UDL"}})
    assert distinct.warnings() == []
