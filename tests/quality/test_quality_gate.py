"""The quality gate end to end: Great Expectations suites + row rules split a batch into good and quarantined rows.

Every test checks the three promises: exactly the bad row is quarantined with a specific reason, the good rows pass
untouched (the same dict objects, same values, same order), and extracted = staged + quarantined.
"""

from __future__ import annotations

import copy
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tlsync.quality import (
    HardQualityFailure,
    QualityContext,
    QualityResult,
    QualityWarning,
    QuarantinedRecord,
    check_batch,
    suites,
)
from tlsync.staging.entities import UNICONTA, EntitySpec, get

TL_INVOICES = get("timelog.invoices")
TL_CUSTOMERS = get("timelog.customers")
UC_INVOICES = get("uniconta.invoices")
UC_INVOICE_LINES = get("uniconta.invoice_lines")
UC_DEBTORS = get("uniconta.debtors")

REPO = Path(__file__).resolve().parents[2]


def tl_invoice(i: int, **changes) -> dict:
    """A TimeLog Reporting invoice as the XML wire has it: every value a string."""
    record = {
        "ID": str(i), "InvoiceNumber": f"2024-{i:04d}", "InvoiceDate": "2024-03-01T00:00:00", "Status": "1",
        "Type": "1", "CustomerID": "7", "LegalEntityID": "1", "CurrencyAbb": "DKK", "NetAmount": "1000.0000",
        "VATIncluded": "250.0000", "Amount": "1250.0000", "ExternalInvoiceNo": "",
    }
    record.update(changes)
    return {k: v for k, v in record.items() if v is not _DROP}


def uc_invoice(n: int, **changes) -> dict:
    """A Uniconta DebtorInvoiceClient row as JSON gives it: numbers, strings, ISO dates."""
    record = {"InvoiceNumber": n, "Account": "1001", "Date": "2024-03-01T00:00:00", "LineAmount": 800.5,
              "EndDiscountPct": 10.0, "NetAmount": 720.45, "TotalAmount": 900.56, "Currency": None}
    record.update(changes)
    return {k: v for k, v in record.items() if v is not _DROP}


_DROP = object()


def ctx(line_sums=None, **kw) -> QualityContext:
    return QualityContext(known_currencies=frozenset({"DKK", "EUR", "USD"}), date_min=date(2000, 1, 1),
                          date_max=date(2030, 12, 31), line_sums=line_sums, **kw)


def tl_line_sums(n: int) -> dict[str, Decimal]:
    return {str(i): Decimal("1000.00") for i in range(1, n + 1)}


def assert_reconciles(result: QualityResult) -> None:
    assert result.extracted == len(result.good) + len(result.quarantined)


def run_one_bad(bad: dict, position: int = 2, n: int = 5, spec=TL_INVOICES, line_sums=None):
    """A batch of ``n`` good invoices with ``bad`` inserted at ``position``; returns result, goods, snapshot."""
    goods = [tl_invoice(i) for i in range(1, n + 1)]
    batch = goods[:position] + [bad] + goods[position:]
    snapshot = copy.deepcopy(batch)
    result = check_batch(spec, batch, ctx(line_sums if line_sums is not None else tl_line_sums(n + 100)),
                         reported_count=len(batch))
    assert batch == snapshot, "the gate must not touch the payloads"
    return result, goods


# ---- one rule at a time ----------------------------------------------------------------------------------------
BAD_ROWS = [
    # (bad record, rule, natural key, fragments the reason must contain)
    pytest.param(tl_invoice(42, ID=_DROP), "key_missing", None, ["invoice in row 3", "ID is missing"], id="key-absent"),
    pytest.param(tl_invoice(42, ID="  "), "key_missing", None, ["invoice in row 3", "ID is blank"], id="key-blank"),
    pytest.param(tl_invoice(42, Status="9"), "enum_invalid", "42",
                 ["invoice 42:", "Status '9' is not one of the allowed values 0, 1, 2, 3"], id="enum-invalid"),
    pytest.param(tl_invoice(42, Type=_DROP), "enum_invalid", "42", ["invoice 42:", "Type is missing"], id="enum-missing"),
    pytest.param(tl_invoice(42, InvoiceDate="2024-13-45T00:00:00"), "date_unparsable", "42",
                 ["invoice 42:", "InvoiceDate '2024-13-45T00:00:00' is not a parsable date"], id="date-unparsable"),
    pytest.param(tl_invoice(42, InvoiceDate=""), "date_missing", "42", ["InvoiceDate is missing"], id="date-missing"),
    pytest.param(tl_invoice(42, InvoiceDate="0001-01-01T00:00:00"), "date_out_of_range", "42",
                 ["InvoiceDate '0001-01-01T00:00:00' is outside the accepted range 2000-01-01 to 2030-12-31"],
                 id="date-out-of-range"),
    pytest.param(tl_invoice(42, CurrencyAbb="XYZ"), "currency_unknown", "42",
                 ["invoice 42: CurrencyAbb 'XYZ' is not a currency known to TimeLog [currency_unknown]"],
                 id="currency-unknown"),
    pytest.param(tl_invoice(42, CurrencyAbb=""), "currency_unknown", "42", ["CurrencyAbb is missing"],
                 id="currency-missing"),
    pytest.param(tl_invoice(42, NetAmount="999.0000"), "header_lines_mismatch", "42",
                 ["invoice 42: NetAmount 999.00 differs from the sum of its lines 1000.00"], id="header-vs-lines"),
    pytest.param(tl_invoice(42, CustomerID="abc"), "schema", "42", ["CustomerID 'abc' is not an integer"],
                 id="schema-int"),
    pytest.param(tl_invoice(42, VATIncluded="12,5"), "schema", "42", ["VATIncluded '12,5' is not a number"],
                 id="schema-decimal"),
]


@pytest.mark.parametrize("bad, rule, key, fragments", BAD_ROWS)
def test_each_rule_quarantines_exactly_the_bad_row(bad, rule, key, fragments):
    result, goods = run_one_bad(bad)
    assert len(result.quarantined) == 1
    q = result.quarantined[0]
    assert (q.entity, q.rule, q.natural_key) == ("timelog.invoices", rule, key)
    assert q.payload is bad
    for fragment in fragments:
        assert fragment in q.reason
    assert f"[{rule}]" in q.reason
    assert q.reason.count("[") == 1, f"only one problem expected: {q.reason}"
    assert len(result.good) == len(goods) and all(a is b for a, b in zip(result.good, goods))
    assert result.extracted == 6
    assert_reconciles(result)


def test_good_batch_passes_untouched_in_order():
    batch = [tl_invoice(i) for i in range(1, 21)]
    snapshot = copy.deepcopy(batch)
    result = check_batch(TL_INVOICES, batch, ctx(tl_line_sums(20)), reported_count=20)
    assert result.good == snapshot and all(a is b for a, b in zip(result.good, batch))
    assert (result.quarantined, result.warnings, result.extracted, result.duplicates_dropped) == ([], [], 20, 0)


def test_header_lines_tolerance_and_invoices_without_lines():
    batch = [tl_invoice(1, NetAmount="1000.0100"),      # within 0.01
             tl_invoice(2, NetAmount="1000.0200"),      # beyond
             tl_invoice(3, NetAmount="0.0000"),         # no lines, nothing to sum
             tl_invoice(4, NetAmount="300.0000")]       # no lines but an amount
    sums = {"1": Decimal("1000.00"), "2": Decimal("1000.00")}
    result = check_batch(TL_INVOICES, batch, ctx(sums))
    assert [g["ID"] for g in result.good] == ["1", "3"]
    assert [(q.natural_key, q.rule) for q in result.quarantined] == [("2", "header_lines_mismatch"),
                                                                     ("4", "header_lines_mismatch")]
    assert "no lines were extracted" in result.quarantined[1].reason
    # a wider tolerance lets invoice 2 through; no line sums at all: the rule does not run
    assert len(check_batch(TL_INVOICES, batch, ctx(sums, tolerance=Decimal("0.05"))).good) == 3
    assert len(check_batch(TL_INVOICES, batch, ctx(None)).good) == 4


def test_line_sums_are_ignored_for_entities_without_a_header_amount():
    customers = [{"ID": "1", "Name": "A", "CreatedAt": "2020-01-01T00:00:00", "LastModifiedAt": "2024-01-01T00:00:00"}]
    assert len(check_batch(TL_CUSTOMERS, customers, ctx({"1": Decimal(5)})).good) == 1


def test_row_with_several_problems_is_quarantined_once_with_all_reasons():
    bad = tl_invoice(42, Status="9", CurrencyAbb="XYZ", InvoiceDate="not a date", NetAmount="1.0000")
    result, _ = run_one_bad(bad)
    assert len(result.quarantined) == 1
    q = result.quarantined[0]
    assert q.rule == "date_unparsable"           # the most important problem
    assert q.reason == ("invoice 42: InvoiceDate 'not a date' is not a parsable date [date_unparsable]; "
                        "Status '9' is not one of the allowed values 0, 1, 2, 3 [enum_invalid]; "
                        "CurrencyAbb 'XYZ' is not a currency known to TimeLog [currency_unknown]; "
                        "NetAmount 1.00 differs from the sum of its lines 1000.00 (difference -999.00, "
                        "tolerance 0.01) [header_lines_mismatch]")
    assert_reconciles(result)


def test_missing_key_wins_over_other_problems():
    result, _ = run_one_bad(tl_invoice(42, ID=_DROP, CurrencyAbb="XYZ"))
    q = result.quarantined[0]
    assert (q.rule, q.natural_key) == ("key_missing", None)
    assert "[key_missing]" in q.reason and "[currency_unknown]" in q.reason


# ---- duplicates and counting ---------------------------------------------------------------------------------
def test_exact_duplicates_count_once():
    batch = [tl_invoice(1), tl_invoice(2), tl_invoice(1), tl_invoice(1)]
    result = check_batch(TL_INVOICES, batch, ctx(), reported_count=4)
    assert [g["ID"] for g in result.good] == ["1", "2"] and result.good[0] is batch[0]
    assert (result.extracted, result.duplicates_dropped, result.quarantined) == (2, 2, [])
    assert result.extracted + result.duplicates_dropped == len(batch)
    assert_reconciles(result)


def test_conflicting_duplicates_are_all_quarantined():
    batch = [tl_invoice(1), tl_invoice(2, NetAmount="5.0000"), tl_invoice(3), tl_invoice(2, NetAmount="6.0000")]
    result = check_batch(TL_INVOICES, batch, ctx())
    assert [g["ID"] for g in result.good] == ["1", "3"]
    assert [(q.natural_key, q.rule, q.payload["NetAmount"]) for q in result.quarantined] == [
        ("2", "key_duplicate", "5.0000"), ("2", "key_duplicate", "6.0000")]
    assert "invoice 2 (row 2): ID '2' occurs 2 times in this batch with different contents" in result.quarantined[0].reason
    assert "(row 4)" in result.quarantined[1].reason
    assert_reconciles(result)


def test_result_invariant_is_enforced():
    with pytest.raises(AssertionError):
        QualityResult(good=[{}], quarantined=[], warnings=[], extracted=2)


def test_a_non_record_is_quarantined_not_crashed_on():
    batch = [tl_invoice(1), ["not", "a", "dict"]]
    result = check_batch(TL_INVOICES, batch, ctx())
    assert len(result.good) == 1 and result.quarantined[0].rule == "schema"
    assert result.quarantined[0].payload == {"_raw": ["not", "a", "dict"]}
    assert "row 2" in result.quarantined[0].reason
    assert_reconciles(result)


# ---- warnings --------------------------------------------------------------------------------------------------
def test_cvr_checksum_is_a_warning_not_a_quarantine():
    def customer(i, vat):
        return {"ID": str(i), "Name": f"C{i}", "VATNo": vat, "CreatedAt": "2020-01-01T00:00:00",
                "LastModifiedAt": "2024-01-01T00:00:00"}

    batch = [customer(1, "DK13585628"), customer(2, "13585627"), customer(3, ""), customer(4, "SE556677889901")]
    result = check_batch(TL_CUSTOMERS, batch, ctx())
    assert result.good == batch and result.quarantined == []
    assert result.warnings == [QualityWarning(
        "timelog.customers", "2", "cvr_checksum",
        "customer 2: VATNo '13585627' fails the CVR mod-11 checksum [cvr_checksum]")]


def test_reported_count_that_differs_from_the_batch_is_a_warning():
    result = check_batch(TL_INVOICES, [tl_invoice(1)], ctx(), reported_count=2)
    assert len(result.good) == 1
    assert [(w.rule, w.natural_key) for w in result.warnings] == [("reported_count_mismatch", None)]
    assert "reported 2 records but 1 were extracted" in result.warnings[0].reason


# ---- hard failure and the empty batch -------------------------------------------------------------------------
def test_hard_failure_when_the_api_reported_records_but_none_survive():
    batch = [tl_invoice(1, CurrencyAbb="XYZ"), tl_invoice(2, CurrencyAbb="XYZ"), tl_invoice(3, ID=_DROP)]
    with pytest.raises(HardQualityFailure) as caught:
        check_batch(TL_INVOICES, batch, ctx(), reported_count=3)
    message = str(caught.value)
    assert message.startswith("timelog.invoices: the API reported 3 records but we staged 0 — ")
    assert "currency_unknown ×2, key_missing ×1" in message
    result = caught.value.result                # the caller can still write the quarantine rows
    assert len(result.quarantined) == 3 and caught.value.reported_count == 3
    # without a reported count an all-bad batch is just quarantined
    assert len(check_batch(TL_INVOICES, batch, ctx()).quarantined) == 3


def test_hard_failure_when_the_api_reported_records_but_the_batch_is_empty():
    with pytest.raises(HardQualityFailure, match=r"reported 5 records but we staged 0 — nothing reached"):
        check_batch(TL_INVOICES, [], ctx(), reported_count=5)


def test_empty_batch_is_a_fast_path_without_pandas_or_gx():
    code = (
        "import sys, time\n"
        "from datetime import date\n"
        "from tlsync.quality import QualityContext, check_batch\n"
        "from tlsync.staging.entities import get\n"
        "c = QualityContext(frozenset({'DKK'}), date(2000, 1, 1), date(2030, 1, 1))\n"
        "t = time.perf_counter(); r = check_batch(get('timelog.invoices'), [], c, reported_count=0)\n"
        "assert time.perf_counter() - t < 0.01\n"
        "assert (r.good, r.quarantined, r.warnings, r.extracted) == ([], [], [], 0)\n"
        "assert 'great_expectations' not in sys.modules and 'pandas' not in sys.modules, 'heavy import'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60,
                          env={"PYTHONPATH": f"{REPO / 'include'}", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr


# ---- Uniconta-shaped entities --------------------------------------------------------------------------------
def test_uniconta_invoices_with_json_values():
    batch = [uc_invoice(5001), uc_invoice(5002, Date="2024-03-01T00:00:00.0000000"),
             uc_invoice(5003, Date="31-02-2024"), uc_invoice(None), uc_invoice(5005, LineAmount=812.5),
             uc_invoice(5006, Date="2024-03-02T00:00:00Z", LineAmount=0.3), uc_invoice(5007, LineAmount="n/a")]
    sums = {"5001": Decimal("800.50"), "5002": Decimal("800.50"), "5003": Decimal("800.50"),
            "5005": Decimal("800.50"), "5006": Decimal("0.1") + Decimal("0.2"), "5007": Decimal("800.50")}
    result = check_batch(UC_INVOICES, batch, ctx(sums), reported_count=7)
    assert [g["InvoiceNumber"] for g in result.good] == [5001, 5002, 5006]
    assert [(q.natural_key, q.rule) for q in result.quarantined] == [
        ("5003", "date_unparsable"), (None, "key_missing"), ("5005", "header_lines_mismatch"),
        ("5007", "header_lines_mismatch")]
    assert "invoice 5003: Date '31-02-2024' is not a parsable date" in result.quarantined[0].reason
    assert "invoice in row 4: InvoiceNumber is missing" in result.quarantined[1].reason
    # Uniconta's NetAmount is after the end discount: the header total of the lines is LineAmount
    assert "LineAmount 812.50 differs from the sum of its lines 800.50 (difference 12.00" in result.quarantined[2].reason
    assert "invoice 5007: LineAmount 'n/a' is not a number [header_lines_mismatch]" == result.quarantined[3].reason
    assert_reconciles(result)


def test_uniconta_composite_key_names_the_missing_part():
    lines = [{"InvoiceNumber": 5001, "LineNumber": 1, "Item": "T1", "InvoiceQty": 2, "SalesPrice": 400.25},
             {"InvoiceNumber": 5001, "LineNumber": None, "Item": "T1", "InvoiceQty": 1, "SalesPrice": 1},
             {"InvoiceNumber": 5001, "LineNumber": 2, "Item": "T2", "InvoiceQty": "two", "SalesPrice": 1}]
    result = check_batch(UC_INVOICE_LINES, lines, ctx())
    assert result.good == [lines[0]]
    assert [(q.natural_key, q.rule) for q in result.quarantined] == [(None, "key_missing"), ("5001|2", "schema")]
    assert "LineNumber of the key (InvoiceNumber, LineNumber) is missing" in result.quarantined[0].reason
    assert "invoice line 5001|2: InvoiceQty 'two' is not a number [schema]" in result.quarantined[1].reason


def test_uniconta_debtor_cvr_warning():
    debtors = [{"Account": "1001", "Name": "A/S", "CompanyRegNo": "13585628", "Country": "Denmark"},
               {"Account": "1002", "Name": "B ApS", "CompanyRegNo": "12345678", "Country": "Denmark"},
               {"Account": "1003", "Name": "C AB", "CompanyRegNo": "5566778899", "Country": "Sweden"}]
    result = check_batch(UC_DEBTORS, debtors, ctx())
    assert result.good == debtors
    assert [(w.natural_key, w.rule) for w in result.warnings] == [("1002", "cvr_checksum")]
    assert "debtor 1002: CompanyRegNo '12345678' fails the CVR mod-11 checksum" in result.warnings[0].reason


def test_uniconta_numeric_enums_and_blank_currency_means_company_currency():
    spec = EntitySpec(UNICONTA, "test_orders", "DebtorOrderClient", ("OrderNumber",),
                      enums={"Status": frozenset({"0", "1"})}, currency_field="Currency")
    rows = [{"OrderNumber": 1, "Status": 1, "Currency": None}, {"OrderNumber": 2, "Status": 0, "Currency": "eur"},
            {"OrderNumber": 3, "Status": 7, "Currency": "DKK"}, {"OrderNumber": 4, "Status": 1, "Currency": "ZZZ"}]
    result = check_batch(spec, rows, ctx())
    assert result.good == rows[:2]
    assert [(q.natural_key, q.rule) for q in result.quarantined] == [("3", "enum_invalid"), ("4", "currency_unknown")]
    assert "test order 4: Currency 'ZZZ' is not a currency known to Uniconta" in result.quarantined[1].reason


# ---- the acceptance batch --------------------------------------------------------------------------------------
def test_acceptance_mixed_batch_stages_good_rows_and_quarantines_each_bad_one():
    good = [tl_invoice(i) for i in (1, 2, 3, 4)]
    missing_key = tl_invoice(90, ID=_DROP)
    unknown_currency = tl_invoice(91, CurrencyAbb="XYZ")
    wrong_sum = tl_invoice(92, NetAmount="1500.0000")
    bad_date = tl_invoice(93, InvoiceDate="2024-02-30T00:00:00")
    batch = [good[0], missing_key, good[1], unknown_currency, wrong_sum, good[2], bad_date, good[3]]
    snapshot = copy.deepcopy(batch)
    sums = {k: Decimal("1000.00") for k in ("1", "2", "3", "4", "91", "93")} | {"92": Decimal("1000.00")}
    result = check_batch(TL_INVOICES, batch, ctx(sums), reported_count=len(batch))

    assert batch == snapshot
    assert all(a is b for a, b in zip(result.good, good)) and len(result.good) == 4
    by_payload = {id(q.payload): q for q in result.quarantined}
    assert len(by_payload) == 4
    expected = {
        id(missing_key): ("key_missing", None, "invoice in row 2: ID is missing [key_missing]"),
        id(unknown_currency): ("currency_unknown", "91",
                               "invoice 91: CurrencyAbb 'XYZ' is not a currency known to TimeLog [currency_unknown]"),
        id(wrong_sum): ("header_lines_mismatch", "92",
                        "invoice 92: NetAmount 1500.00 differs from the sum of its lines 1000.00 "
                        "(difference 500.00, tolerance 0.01) [header_lines_mismatch]"),
        id(bad_date): ("date_unparsable", "93",
                       "invoice 93: InvoiceDate '2024-02-30T00:00:00' is not a parsable date [date_unparsable]"),
    }
    for pid, (rule, key, reason) in expected.items():
        q = by_payload[pid]
        assert (q.rule, q.natural_key, q.reason) == (rule, key, reason)
        assert isinstance(q, QuarantinedRecord) and q.entity == "timelog.invoices"
    assert result.extracted == 8 == len(result.good) + len(result.quarantined)
    assert result.warnings == []


# ---- caching and speed -------------------------------------------------------------------------------------------
def test_suites_are_built_once_per_entity():
    first = suites.suite_for(TL_INVOICES)
    assert suites.suite_for(get("timelog.invoices")) is first
    ctx_obj = suites.gx_context()
    before = len(list(ctx_obj.suites.all()))
    for _ in range(3):
        check_batch(TL_INVOICES, [tl_invoice(1)], ctx())
    assert len(list(ctx_obj.suites.all())) == before and suites.gx_context() is ctx_obj


def test_ten_thousand_invoices_stay_fast():
    n = 10_000
    batch = [tl_invoice(i) for i in range(1, n + 1)]
    for i in range(0, n, 500):
        batch[i] = tl_invoice(i + 1, CurrencyAbb="XYZ")
    check_batch(TL_INVOICES, batch[:10], ctx())            # warm the suite
    started = time.perf_counter()
    result = check_batch(TL_INVOICES, batch, ctx(tl_line_sums(n)), reported_count=n)
    elapsed = time.perf_counter() - started
    assert (len(result.good), len(result.quarantined)) == (n - 20, 20)
    assert elapsed < 5, f"10k invoices took {elapsed:.2f}s"
