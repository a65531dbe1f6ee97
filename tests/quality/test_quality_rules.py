"""The plain-Python row rules: parsing wire values, typed columns, header vs lines in Decimal, CVR, wording."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from tlsync.quality import rules as R


@pytest.mark.parametrize("raw, expected", [
    ("2024-03-01T00:00:00", datetime(2024, 3, 1)),                 # TimeLog XML
    ("2011-08-12", datetime(2011, 8, 12)),                         # TimeLog CustomerSince
    ("2024-03-01T12:30:00.1234567", datetime(2024, 3, 1, 12, 30, 0, 123456)),   # .NET 7-digit fraction
    ("2024-03-01T10:00:00+02:00", datetime(2024, 3, 1, 8, 0)),     # offset -> naive UTC
    ("2024-03-01T00:00:00Z", datetime(2024, 3, 1)),
    (date(2024, 3, 1), datetime(2024, 3, 1)),
    (datetime(2024, 3, 1, 5), datetime(2024, 3, 1, 5)),
    (None, None), ("", None), ("   ", None),
])
def test_parse_datetime_accepts_both_wires(raw, expected):
    assert R.parse_datetime(raw) == expected


@pytest.mark.parametrize("raw", ["2024-13-45", "01/03/2024", "yesterday", 20240301, 1.5, [2024]])
def test_parse_datetime_rejects_garbage(raw):
    with pytest.raises(ValueError):
        R.parse_datetime(raw)


def test_to_decimal_is_exact_and_never_float():
    assert R.to_decimal("1225.0000") == Decimal("1225")
    assert R.to_decimal(0.1) == Decimal("0.1")                      # via str(): no binary noise
    assert R.to_decimal(0.1) + R.to_decimal(0.2) == Decimal("0.3")
    assert R.to_decimal(7) == Decimal(7)
    for bad in ("abc", "NaN", "Infinity", True, None, [1]):
        with pytest.raises(ValueError):
            R.to_decimal(bad)


def test_tokens_make_timelog_strings_and_uniconta_numbers_equal():
    assert R.token("1") == R.token(1) == R.token(1.0) == R.token(Decimal("1.000")) == R.token(" 1 ") == "1"
    assert R.token(None) is None and R.token("") is None and R.token(float("nan")) is None
    assert R.currency_token(" dkk ") == "DKK"


@pytest.mark.parametrize("value, kind, ok", [
    ("123", "int", True), (123, "int", True), (12.0, "int", True), ("12.5", "int", False), ("abc", "int", False),
    (True, "int", False),
    ("1225.0000", "decimal", True), (1225.5, "decimal", True), ("1,225.00", "decimal", False), ("NaN", "decimal", False),
    ("1", "bool", True), ("true", "bool", True), (False, "bool", True), ("yes please", "bool", False),
    ("2024-03-01", "date", True), ("2024-02-30", "date", False), ("2024-03-01T00:00:00", "datetime", True),
    ("anything", "str", True), ({"nested": 1}, "str", False),
])
def test_type_problem(value, kind, ok):
    assert (R.type_problem(value, kind) is None) is ok


def test_type_problem_unknown_kind_is_a_bug():
    with pytest.raises(ValueError):
        R.type_problem("x", "money")


def test_header_lines_within_tolerance_passes():
    tol = Decimal("0.01")
    assert R.header_lines_problem("NetAmount", "1000.0000", Decimal("1000.00"), tol, header_typed=True) is None
    assert R.header_lines_problem("NetAmount", "1000.0100", Decimal("1000.00"), tol, header_typed=True) is None
    assert R.header_lines_problem("NetAmount", 0.3, Decimal("0.1") + Decimal("0.2"), tol, header_typed=True) is None
    assert R.header_lines_problem("NetAmount", "0.0000", None, tol, header_typed=True) is None   # no lines, 0


def test_header_lines_mismatch_is_explained():
    tol = Decimal("0.01")
    text = R.header_lines_problem("NetAmount", "1000.0200", Decimal("1000.00"), tol, header_typed=True)
    assert text == ("NetAmount 1000.02 differs from the sum of its lines 1000.00 (difference 0.02, tolerance 0.01)")
    text = R.header_lines_problem("NetAmount", "500.0000", None, tol, header_typed=True)
    assert text == "NetAmount 500.00 but no lines were extracted for it (tolerance 0.01)"
    assert "missing" in R.header_lines_problem("NetAmount", None, Decimal(1), tol, header_typed=True)
    # an unparsable typed header is the schema rule's business; an untyped one is reported here
    assert R.header_lines_problem("NetAmount", "abc", Decimal(1), tol, header_typed=True) is None
    assert "'abc' is not a number" in R.header_lines_problem("NetAmount", "abc", Decimal(1), tol, header_typed=False)


@pytest.mark.parametrize("value, country, problem", [
    ("13585628", None, None),
    ("DK 13 58 56 28", None, None),
    ("DK13585628", "Denmark", None),
    ("", None, None),
    (None, None, None),
    ("13585627", None, "checksum"),
    ("1358562", None, "8 digits"),
    ("03585628", None, "not starting with 0"),
    ("SE556677889901", None, None),           # another country's VAT number: not a CVR
    ("5566778899", "Sweden", None),           # foreign customer
    ("13585627", "DK", "checksum"),
])
def test_cvr_problem(value, country, problem):
    found = R.cvr_problem(value, country)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def test_record_label_and_rule_priority():
    assert R.record_label("invoices") == "invoice"
    assert R.record_label("invoice_lines") == "invoice line"
    assert R.record_label("companies") == "company"
    assert R.record_label("mileage") == "mileage"
    assert R.rank(R.KEY_MISSING) < R.rank(R.KEY_DUPLICATE) < R.rank(R.SCHEMA) < R.rank(R.DATE_UNPARSABLE) \
        < R.rank(R.ENUM_INVALID) < R.rank(R.CURRENCY_UNKNOWN) < R.rank(R.HEADER_LINES_MISMATCH)
