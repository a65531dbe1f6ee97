"""Unit tests: Uniconta models (Decimal money, extras kept, dates) and the OData $filter/$orderby builders."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pytest

from tlsync.clients.uniconta import (
    MODELS,
    DebtorClient,
    DebtorInvoiceClient,
    DebtorOrderLineClient,
    Field,
    Filter,
    GLTransClient,
    InvItemClient,
    literal,
    render_filter,
    render_orderby,
)
from tlsync.clients.uniconta.models import ContactClient, dumps, loads

# ------------------------------------------------------------------------------------------------ models


def test_all_requested_classes_have_models_named_after_uniconta():
    expected = {
        "CompanyClient", "DebtorClient", "DebtorGroupClient", "PaymentTermClient", "DebtorLayoutGroupClient",
        "ContactClient", "EmployeeClient", "InvItemClient", "ProjectGroupClient", "ProjectClient", "PrCategoryClient",
        "DebtorOrderClient", "DebtorOrderLineClient", "DebtorInvoiceClient", "DebtorInvoiceLines", "GLAccountClient",
        "GLTransClient", "GLVatClient", "CreditorClient",
    }
    assert set(MODELS) == expected
    for name, model in MODELS.items():
        assert model.__name__ == name == model.class_name()


def test_money_is_exact_decimal_when_parsed_from_the_wire():
    raw = b'{"Account": "1001", "CreditMax": 0.1, "CurBalance": 1234567.89, "SomethingNew": 0.30}'
    d = DebtorClient.model_validate(loads(raw))
    assert d.CreditMax == Decimal("0.1") and isinstance(d.CreditMax, Decimal)
    assert d.CurBalance == Decimal("1234567.89")
    # an unmodelled amount is kept (extra="allow") and is exact too
    assert d.model_extra == {"SomethingNew": Decimal("0.30")}
    assert d.CreditMax * 3 == Decimal("0.3")  # would be 0.30000000000000004 with floats


def test_float_input_goes_through_its_shortest_repr():
    assert InvItemClient(SalesPrice1=0.1).SalesPrice1 == Decimal("0.1")


def test_keys_are_strings_even_when_sent_as_numbers():
    d = DebtorClient.model_validate({"Account": 1001, "Group": 10})
    assert d.Account == "1001" and d.Group == "10"


def test_dates_accept_both_forms_and_min_value_is_none():
    inv = DebtorInvoiceClient.model_validate(
        {"InvoiceNumber": 7, "Date": "2024-03-31T00:00:00", "DueDate": "0001-01-01T00:00:00"}
    )
    assert inv.Date == date(2024, 3, 31) and inv.DueDate is None
    assert inv.InvoiceNumber == 7
    line = DebtorOrderLineClient.model_validate({"OrderNumber": 1, "LineNumber": 2, "Date": "2024-01-02"})
    assert line.Date == date(2024, 1, 2)


def test_payload_keeps_extras_and_writes_money_as_json_numbers():
    d = DebtorClient.model_validate(loads(b'{"Account": "1", "Name": "A/S", "CreditMax": 1000.50, "Dimension1": "X",'
                                          b' "Overdue2": 12.25, "Blocked": false}'))
    body = json.loads(dumps(d))
    assert body == {"Account": "1", "Name": "A/S", "CreditMax": 1000.5, "Dimension1": "X", "Overdue2": 12.25,
                    "Blocked": False}
    assert b'"CreditMax":1000.5' in dumps(d)  # a number, not a string
    assert json.loads(dumps(DebtorClient(Account="2", CreditMax=Decimal("100.00"))))["CreditMax"] == 100
    assert json.loads(dumps(GLTransClient(Date=date(2024, 1, 5))))["Date"] == "2024-01-05"


def test_describe_names_class_and_key_without_secrets():
    assert DebtorClient(Account="1001").describe() == "DebtorClient Account=1001"
    assert DebtorOrderLineClient(OrderNumber=5, LineNumber=Decimal(2)).describe() == \
        "DebtorOrderLineClient OrderNumber=5 LineNumber=2"
    assert ContactClient(DCAccount="1001", Name="Jens").describe() == "ContactClient DCAccount=1001 Name=Jens"
    assert ContactClient(RowId=9, Name="Jens").describe() == "ContactClient RowId=9"


# ------------------------------------------------------------------------------------------------ filters


def test_literals_quote_strings_and_escape_quotes():
    assert literal("O'Brien ApS") == "'O''Brien ApS'"
    assert literal("'; drop") == "'''; drop'"
    assert literal("") == "''"
    assert literal(None) == "null"
    assert literal(True) == "true" and literal(False) == "false"
    assert literal(42) == "42"
    assert literal(Decimal("1E+3")) == "1000"
    assert literal(Decimal("12.50")) == "12.50"


def test_datetime_literals():
    assert literal(date(2021, 1, 1)) == "datetime'2021-01-01T00:00:00'"
    assert literal(datetime(2021, 12, 31, 23, 59, 58, 999)) == "datetime'2021-12-31T23:59:58'"
    with pytest.raises(ValueError):
        from datetime import timezone
        literal(datetime(2021, 1, 1, tzinfo=timezone.utc))


def test_filter_expressions_render_like_uniconta_documents():
    f = Field("Date").between(date(2021, 1, 1), date(2021, 12, 31))
    assert str(f) == "Date ge datetime'2021-01-01T00:00:00' and Date le datetime'2021-12-31T00:00:00'"
    g = (Field("Account") == "1101798") & ((Field("Blocked") == False) | (Field("Balance") > 0))  # noqa: E712
    assert str(g) == "Account eq '1101798' and (Blocked eq false or Balance gt 0)"
    assert str(Field("Name") != "x") == "Name ne 'x'"
    assert str(Field("Qty") <= Decimal("2.5")) == "Qty le 2.5"
    assert str(Field("Qty") < 3) == "Qty lt 3"
    assert str(Field("Account").in_(["1", "2"])) == "Account eq '1' or Account eq '2'"
    with pytest.raises(ValueError):
        Field("Account").in_([str(i) for i in range(41)])
    with pytest.raises(ValueError):
        Field("Name eq 'x' or 1")  # a field name cannot smuggle an expression
    assert Filter.all(Field("A") == 1, Field("B") == 2) == Filter("A eq 1 and B eq 2", compound=True)


def test_render_filter_accepts_mapping_string_and_none():
    assert render_filter({"Account": "1", "Group": "DK"}) == "Account eq '1' and Group eq 'DK'"
    assert render_filter("Balance gt 0") == "Balance gt 0"
    assert render_filter(None) is None and render_filter("") is None


def test_orderby():
    assert render_orderby("Name") == "Name asc"
    assert render_orderby("-Date, Account desc") == "Date desc, Account desc"
    assert render_orderby([("Date", "DESC"), "RowId"]) == "Date desc, RowId asc"
    assert render_orderby(None) is None
    with pytest.raises(ValueError):
        render_orderby([("Date", "sideways")])
