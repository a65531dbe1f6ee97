"""The synthetic data generator: determinism, shapes, money invariants, the matching mess and its truth, the
streamed file and the CLI. Everything runs on size S (generated in well under a second)."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from stdnum.dk import cvr as stdnum_cvr

from simulators.generator import (
    FIXED_TODAY,
    TRUTH_COLUMNS,
    dumps,
    generate,
    load_fixture,
    real_today,
    truth,
    write_fixture,
    write_truth,
)
from simulators.generator import danish as dk
from simulators.generator.master import KINDS

REPO = Path(__file__).resolve().parents[2]
CENT = Decimal("0.01")


def q2(d: Decimal) -> Decimal:
    return d.quantize(CENT, ROUND_HALF_UP)


@pytest.fixture(scope="module")
def fx() -> dict:
    return generate("S", 42, today=FIXED_TODAY)


@pytest.fixture(scope="module")
def tl(fx) -> dict:
    return fx["timelog"]


@pytest.fixture(scope="module")
def companies(fx) -> dict[int, dict]:
    return {c["CompanyId"]: c for c in fx["uniconta"]["companies"]}


# -- determinism and speed -------------------------------------------------------------------------------------

def test_same_seed_gives_identical_json(fx):
    assert dumps(generate("S", 42, today=FIXED_TODAY)) == dumps(fx)


def test_different_seed_gives_different_data(fx):
    other = generate("S", 43, today=FIXED_TODAY)
    assert dumps(other) != dumps(fx)
    assert [c["Name"] for c in other["timelog"]["Customers"]] != [c["Name"] for c in fx["timelog"]["Customers"]]


def test_today_and_years_are_parameters():
    f = generate("S", 42, years=1, today=date(2025, 6, 1))
    meta = f["_meta"]
    assert (meta["today"], meta["years"], meta["period_start"]) == ("2025-06-01", 1, "2024-06-01")
    dates = [i["InvoiceDate"][:10] for i in f["timelog"]["Invoices"]]
    assert dates and min(dates) >= "2024-06-01" and max(dates) < "2025-06-01"
    before = real_today()
    meta = generate("S", 42)["_meta"]
    assert meta["today"] in {before.isoformat(), real_today().isoformat()}, "default: today in Denmark"
    invoices = max(i["InvoiceDate"][:10] for i in generate("S", 42, today=FIXED_TODAY)["timelog"]["Invoices"])
    assert invoices < FIXED_TODAY.isoformat() <= meta["today"]


def test_size_s_is_fast():
    t0 = time.perf_counter()
    generate("S", 7, today=FIXED_TODAY)
    assert time.perf_counter() - t0 < 1.0


def test_unknown_size_is_refused():
    with pytest.raises(ValueError, match="size"):
        generate("XL")


# -- shapes --------------------------------------------------------------------------------------------------

REQUIRED_TL = {
    "LegalEntities": {"ID", "GUID", "Name", "IsActive", "CurrencyISO", "Country"},
    "Customers": {"ID", "GUID", "Name", "No", "VATNo", "Phone", "Email", "Address1", "ZipCode", "City", "Country",
                  "CountryID", "CustomerStatusID", "CustomerStatus", "CreatedAt", "LastModifiedAt"},
    "Contacts": {"ID", "FirstName", "LastName", "FullName", "CustomerID", "Email", "CreatedAt", "LastModifiedAt"},
    "Employees": {"ID", "EmployeeUserId", "Initials", "FirstName", "LastName", "FullName", "Email", "Status",
                  "HiredDate", "LegalEntityID", "DefaultHourlyRateID"},
    "Projects": {"ID", "GUID", "No", "Name", "CustomerID", "ProjectTypeID", "ProjectCategoryID", "LegalEntityID",
                 "ProjectStartDate", "ProjectEndDate", "Status", "CreatedAt", "LastModifiedAt"},
    "ProjectTypes": {"ID", "Name", "ProductNo"}, "ProjectCategories": {"ID", "Name", "ProductNo"},
    "TaskTypes": {"ID", "Name", "ProductNo"},
    "Tasks": {"ID", "GUID", "Name", "ProjectID", "TaskTypeID", "IsFixedPrice"},
    "HourlyRates": {"ID", "GUID", "Name", "Amount", "CurrencyISO", "ProductNo", "CustomerID"},
    "Invoices": {"ID", "GUID", "InvoiceNumber", "InvoiceDate", "DueDate", "Amount", "AmountSystemCurrency", "Status",
                 "Type", "CustomerID", "CustomerName", "CurrencyAbb", "CurrencyRate", "DefaultVAT", "AddVAT",
                 "NetAmount", "VATIncluded", "ProjectID", "ExternalInvoiceNo", "ExternalInvoiceStatus",
                 "LegalEntityID", "IsIgnoredWhenTransfer", "_LastModifiedAt"},
    "InvoiceLines": {"ID", "InvoiceID", "InvoiceNo", "Date", "Text", "Quantity", "Rate", "RateSystemCurrency",
                     "Amount", "AmountSystemCurrency", "VAT", "Discount", "UnitType", "ProductNo", "ProjectID"},
    "InvoiceLineDetails": {"ID", "InvoiceLineID", "InvoiceID", "Quantity", "Rate", "Amount", "RegistrationType",
                           "RegistrationID", "TaskID"},
    "Expenses": {"ID", "ExpenseTypeID", "ProjectID", "Amount", "VAT", "Date", "Created"},
    "Mileages": {"ID", "ProjectID", "TravelKM", "TransportRateAmount", "EmployeeID"},
    "WorkUnits": {"ID", "EmployeeID", "TaskID", "ProjectID", "Date", "RegHours", "InvoiceStatus"},
    "Products": {"ProductNumberID", "ProductNumber", "ProductName", "IsActive", "LegalEntityID"},
    "ExpenseTypes": {"ExpenseTypeID", "ExpenseTypeName", "AccountNo", "ProductNo", "IsActive"},
    "PaymentTerms": {"ID", "Name", "DaysOfCredit", "IsDefaultTerm"},
    "Currencies": {"CurrencyID", "CurrencyABB", "CurrentRate", "IsActive"},
}
REQUIRED_UC = {
    "DebtorClient": {"Account", "Name", "CompanyRegNo", "VatNumber", "Phone", "ContactEmail", "Address1", "ZipCode",
                     "City", "Country", "Currency", "EAN", "Group", "VatZone", "Vat", "Payment", "LayoutGroup"},
    "DebtorGroupClient": {"Group", "Name"}, "PaymentTermClient": {"Payment", "Name", "Days"},
    "DebtorLayoutGroupClient": {"Name"}, "GLVatClient": {"Vat", "Name", "Rate"},
    "EmployeeClient": {"Number", "Name"}, "InvItemClient": {"Item", "Name", "SalesPrice1", "Blocked"},
    "GLAccountClient": {"Account", "Name", "AccountType"}, "CreditorClient": {"Account", "Name"},
    "GLTransClient": {"Date", "Account", "Amount", "AmountVat", "Voucher", "Text", "DCAccount", "Project"},
    "DebtorInvoiceClient": {"InvoiceNumber", "Account", "Date", "NetAmount", "VatAmount", "TotalAmount", "Currency"},
    "DebtorInvoiceLines": {"InvoiceNumber", "LineNumber", "Item", "Text", "InvoiceQty", "SalesPrice", "InvoiceNetAmount"},
    "DebtorOrderClient": {"OrderNumber", "Account"}, "DebtorOrderLineClient": {"OrderNumber", "LineNumber", "Item",
                                                                               "Qty", "Price"},
    "ContactClient": {"Name", "DCAccount"},
}


def test_timelog_collections_and_fields(tl):
    assert set(tl) == {"auth", *REQUIRED_TL, "CustomerStatuses"}
    assert tl["auth"]["SiteCode"] == "SIMSITE" and tl["auth"]["Tokens"] == ["sim-pat-token"]
    for coll, keys in REQUIRED_TL.items():
        assert tl[coll], coll
        for rec in tl[coll]:
            assert keys <= rec.keys(), (coll, keys - rec.keys())
    assert [le["ID"] for le in tl["LegalEntities"]] == [1, 2]
    assert len(tl["Customers"]) == 40
    assert 150 <= len(tl["InvoiceLines"]) <= 1000


def test_uniconta_companies_users_and_fields(fx, companies):
    users = fx["uniconta"]["users"]
    assert any(u["UserName"] == "integration" and u["Password"] == "uniconta-pw"
               and set(u["Companies"]) == {10001, 10002} for u in users)
    assert set(companies) == {10001, 10002}
    assert companies[10001]["ProjectModule"] is True and companies[10002]["ProjectModule"] is False
    assert companies[10001]["ProjectClient"] and "ProjectClient" not in companies[10002]
    for comp in companies.values():
        for cls, keys in REQUIRED_UC.items():
            for rec in comp[cls]:
                assert keys <= rec.keys(), (cls, keys - rec.keys())
        assert comp["DebtorClient"] and comp["DebtorInvoiceClient"] and comp["GLTransClient"]
    assert 25 <= sum(len(c["DebtorClient"]) for c in companies.values()) <= 50


def test_ids_are_unique(tl, companies):
    keys = {"Products": "ProductNumberID", "ExpenseTypes": "ExpenseTypeID", "Currencies": "CurrencyID"}
    for coll in REQUIRED_TL:
        ids = [r[keys.get(coll, "ID")] for r in tl[coll]]
        assert len(ids) == len(set(ids)), coll
    for comp in companies.values():
        for cls, key in (("DebtorClient", "Account"), ("InvItemClient", "Item"), ("DebtorInvoiceClient",
                                                                                  "InvoiceNumber"),
                         ("DebtorOrderClient", "OrderNumber"), ("EmployeeClient", "Number")):
            vals = [r[key] for r in comp[cls]]
            assert len(vals) == len(set(vals)), (comp["CompanyId"], cls)
    numbers = [i["InvoiceNumber"] for i in tl["Invoices"] if i["InvoiceNumber"]]
    assert len(numbers) == len(set(numbers))


# -- money ---------------------------------------------------------------------------------------------------

def _money_values(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _money_values(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _money_values(v)
    elif isinstance(obj, float):
        raise AssertionError(f"float in the fixture: {obj}")
    elif isinstance(obj, Decimal):
        yield obj


def test_numbers_are_decimals_with_at_most_two_places(fx):
    for d in _money_values(fx):
        assert d == d.quantize(CENT), d


def test_invoice_headers_equal_the_sum_of_their_lines(tl):
    lines = defaultdict(list)
    for ln in tl["InvoiceLines"]:
        lines[ln["InvoiceID"]].append(ln)
    for ln in tl["InvoiceLines"]:
        assert ln["Amount"] == q2(ln["Quantity"] * ln["Rate"] * (100 - ln["Discount"]) / 100), ln
    for inv in tl["Invoices"]:
        own = lines[inv["ID"]]
        assert own, inv["ID"]
        net = sum((ln["Amount"] for ln in own), Decimal(0))
        assert inv["NetAmount"] == net
        assert inv["VATIncluded"] == q2(net * inv["DefaultVAT"] / 100)
        assert inv["Amount"] == inv["NetAmount"] + inv["VATIncluded"]
        assert inv["AmountSystemCurrency"] == q2(inv["Amount"] * inv["CurrencyRate"] / 100)
        assert inv["AddVAT"] == (inv["DefaultVAT"] == 25)
        assert all(ln["VAT"] == inv["DefaultVAT"] for ln in own)
        if inv["CurrencyAbb"] == "DKK":
            assert inv["CurrencyRate"] == 100 and inv["AmountSystemCurrency"] == inv["Amount"]


def test_every_line_and_detail_points_at_existing_records(tl):
    invoices = {i["ID"] for i in tl["Invoices"]}
    lines = {ln["ID"]: ln for ln in tl["InvoiceLines"]}
    projects = {p["ID"] for p in tl["Projects"]}
    customers = {c["ID"] for c in tl["Customers"]}
    tasks = {t["ID"]: t for t in tl["Tasks"]}
    assert all(ln["InvoiceID"] in invoices and ln["ProjectID"] in projects for ln in lines.values())
    assert all(i["CustomerID"] in customers and i["ProjectID"] in projects for i in tl["Invoices"])
    assert all(p["CustomerID"] in customers for p in tl["Projects"])
    assert all(t["ProjectID"] in projects for t in tasks.values())
    assert all(c["CustomerID"] in customers for c in tl["Contacts"])
    expenses = {e["ID"] for e in tl["Expenses"]}
    mileages = {m["ID"] for m in tl["Mileages"]}
    for det in tl["InvoiceLineDetails"]:
        line = lines[det["InvoiceLineID"]]
        assert det["InvoiceID"] == line["InvoiceID"] and det["TaskID"] in tasks
        if det["RegistrationType"] == 3:
            assert det["RegistrationID"] in expenses
        if det["RegistrationType"] == 16:
            assert det["RegistrationID"] in mileages
    for e in tl["Expenses"]:
        if "InvoiceLineId" in e:
            assert e["InvoiceLineId"] in lines
    assert Counter(d["RegistrationType"] for d in tl["InvoiceLineDetails"]).keys() >= {2, 3, 6, 16}


def test_credit_notes_reference_earlier_booked_invoices_of_the_same_customer(tl):
    by_id = {i["ID"]: i for i in tl["Invoices"]}
    credit_notes = [i for i in tl["Invoices"] if i["Type"] == 2]
    assert len(credit_notes) >= 2
    for cn in credit_notes:
        orig = by_id[cn["RelatesToInvoiceID"]]
        assert orig["Type"] == 1 and orig["Status"] >= 1 and orig["CustomerID"] == cn["CustomerID"]
        assert orig["InvoiceDate"] <= cn["InvoiceDate"] and cn["NetAmount"] < 0
    assert all("RelatesToInvoiceID" not in i for i in tl["Invoices"] if i["Type"] == 1)


def test_invoice_mix(tl):
    inv = tl["Invoices"]
    assert {i["Status"] for i in inv} == {0, 1, 2, 3}
    assert {"EUR", "USD", "SEK", "NOK"} <= {i["CurrencyAbb"] for i in inv}
    assert Counter(i["CurrencyAbb"] for i in inv).most_common(1)[0][0] == "DKK"
    assert any(i["IsIgnoredWhenTransfer"] for i in inv)
    assert all(i["InvoiceNumber"] == "" for i in inv if i["Status"] == 0)
    assert any(ln["ProductNo"] == "" for ln in tl["InvoiceLines"])
    assert {"Posted", ""} <= {i["ExternalInvoiceStatus"] for i in inv} <= {"Posted", "Draft", ""}
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", i["_LastModifiedAt"]) for i in inv)
    assert all(i["_LastModifiedAt"] < FIXED_TODAY.isoformat() for i in inv)


def test_transferred_invoices_exist_in_uniconta_with_the_same_amounts(fx, tl, companies):
    lines_by_inv = defaultdict(list)
    for ln in tl["InvoiceLines"]:
        lines_by_inv[ln["InvoiceID"]].append(ln)
    meta = fx["_meta"]
    n_posted = n_diff = 0
    for inv in tl["Invoices"]:
        if not inv["ExternalInvoiceStatus"]:
            continue
        comp = companies[10000 + inv["LegalEntityID"]]
        assert meta["integration_start"] <= inv["InvoiceDate"][:10] < meta["cutover"]
        assert all(ln["ProductNo"] for ln in lines_by_inv[inv["ID"]]) and not inv["IsIgnoredWhenTransfer"]
        if inv["ExternalInvoiceStatus"] == "Draft":
            order = [o for o in comp["DebtorOrderClient"] if str(o["OrderNumber"]) == inv["ExternalInvoiceNo"]]
            assert len(order) == 1
            continue
        n_posted += 1
        [ucinv] = [u for u in comp["DebtorInvoiceClient"] if str(u["InvoiceNumber"]) == inv["ExternalInvoiceNo"]]
        uclines = [u for u in comp["DebtorInvoiceLines"] if u["InvoiceNumber"] == ucinv["InvoiceNumber"]]
        assert ucinv["NetAmount"] == sum((u["InvoiceNetAmount"] for u in uclines), Decimal(0))
        assert ucinv["TotalAmount"] == ucinv["NetAmount"] + ucinv["VatAmount"]
        if ucinv.get("_ReconDiff"):
            n_diff += 1
            assert ucinv["NetAmount"] != inv["NetAmount"]
        else:
            assert (ucinv["NetAmount"], ucinv["VatAmount"]) == (inv["NetAmount"], inv["VATIncluded"])
            assert [u["Item"] for u in uclines] == [ln["ProductNo"] for ln in lines_by_inv[inv["ID"]]]
    assert n_posted >= 5 and n_diff >= 1
    # Uniconta also has invoices that never came from TimeLog
    ext = {(10000 + i["LegalEntityID"], i["ExternalInvoiceNo"]) for i in tl["Invoices"] if i["ExternalInvoiceNo"]}
    assert any((cid, str(u["InvoiceNumber"])) not in ext for cid, c in companies.items()
               for u in c["DebtorInvoiceClient"])


def test_uniconta_references_resolve(companies):
    for cid, comp in companies.items():
        def keys(cls, key, comp=comp):
            return {r[key] for r in comp.get(cls, [])}
        groups, pays, layouts, vats = (keys("DebtorGroupClient", "Group"), keys("PaymentTermClient", "Payment"),
                                       keys("DebtorLayoutGroupClient", "Name"), keys("GLVatClient", "Vat"))
        for d in comp["DebtorClient"]:
            assert d["Group"] in groups and d["Payment"] in pays and d["LayoutGroup"] in layouts and d["Vat"] in vats
        debtors, items = keys("DebtorClient", "Account"), keys("InvItemClient", "Item")
        employees, accounts = keys("EmployeeClient", "Number"), keys("GLAccountClient", "Account")
        projects, categories = keys("ProjectClient", "Number"), keys("PrCategoryClient", "Number")
        for inv in comp["DebtorInvoiceClient"] + comp["DebtorOrderClient"]:
            assert inv["Account"] in debtors and inv["Employee"] in employees | {""}
            assert inv["Project"] in projects | {""} and inv["PrCategory"] in categories | {""}
        for ln in comp["DebtorInvoiceLines"] + comp["DebtorOrderLineClient"]:
            assert ln["Item"] in items and ln["Project"] in projects | {""}
            assert ln["PrCategory"] in categories | {""}
        for c in comp["ContactClient"]:
            assert c["DCAccount"] in debtors
        for p in comp.get("ProjectClient", []):
            assert p["Account"] in debtors and p["Group"] in keys("ProjectGroupClient", "Group")
        creditors = keys("CreditorClient", "Account")
        for t in comp["GLTransClient"]:
            assert t["Account"] in accounts and t["DCAccount"] in creditors and t["Project"] in projects | {""}
        if cid == 10001:
            assert any(t["Project"] for t in comp["GLTransClient"])


def test_products_expense_types_and_items(tl, companies):
    for p in tl["Products"]:
        items = {i["Item"] for i in companies[10000 + p["LegalEntityID"]]["InvItemClient"]}
        assert p["ProductNumber"] in items
    assert any(not p["IsActive"] for p in tl["Products"])
    active_products = {p["ProductNumber"] for p in tl["Products"] if p["IsActive"]}
    used = {ln["ProductNo"] for ln in tl["InvoiceLines"]} - {""}
    assert used <= active_products
    per_item = Counter(e["ProductNo"] for e in tl["ExpenseTypes"] if e["IsActive"] and e["ProductNo"])
    assert max(per_item.values()) == 2          # one item on two expense types (rule I3's warning)
    gl = {a["Account"] for a in companies[10001]["GLAccountClient"]}
    assert all(e["AccountNo"] in gl for e in tl["ExpenseTypes"])
    assert any(h["ProductNo"] == "" for h in tl["HourlyRates"])


# -- the matching mess -----------------------------------------------------------------------------------------

def test_cvr_mix(tl):
    danish = [c["VATNo"] for c in tl["Customers"] if c["Country"] == "Danmark" and c["VATNo"]]
    valid = [v for v in danish if stdnum_cvr.is_valid(v)]
    invalid = [v for v in danish if not stdnum_cvr.is_valid(v)]
    assert len(valid) > len(invalid) >= 1
    assert any(v.startswith("DK") for v in danish) and any(" " in v for v in danish)
    assert any(c["VATNo"] == "" for c in tl["Customers"])
    for v in invalid:  # invalid means a wrong check digit, not garbage
        assert re.fullmatch(r"\d{8}", stdnum_cvr.compact(v))


def test_phone_formats_are_mixed(tl, companies):
    phones = [c["Phone"] for c in tl["Customers"] if c["Phone"]]
    assert len({re.sub(r"\d", "9", p) for p in phones}) >= 3
    assert any(p.startswith("+45") for p in phones) and any(re.fullmatch(r"\d{8}", p) for p in phones)


def _letters(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", dk.ascii_fold(name).lower())


def test_truth_pairs_reference_existing_records(tl, companies):
    rows = truth("S", 42, today=FIXED_TODAY)
    customers = {c["ID"]: c for c in tl["Customers"]}
    assert rows and {r["kind"] for r in rows} == set(KINDS)
    seen = set()
    for r in rows:
        assert set(r) == set(TRUTH_COLUMNS)
        assert r["company_id"] == 10000 + r["legal_entity_id"]
        debtors = {d["Account"]: d for d in companies[r["company_id"]]["DebtorClient"]}
        assert r["uniconta_debtor_account"] in debtors and r["timelog_customer_id"] in customers
        key = (r["company_id"], r["uniconta_debtor_account"])
        assert key not in seen
        seen.add(key)
        c, d = customers[r["timelog_customer_id"]], debtors[r["uniconta_debtor_account"]]
        digits = re.sub(r"\D", "", c["Phone"])[-8:]
        if r["kind"] == "exact":
            assert d["Name"] == c["Name"] and d["Account"] == c["No"]
        if r["kind"] == "messy_name":
            assert d["Name"] != c["Name"]
            assert _letters(d["Name"])[:4] == _letters(c["Name"])[:4]
        if r["kind"] == "number_only":
            assert d["Account"] == c["No"] and d["CompanyRegNo"] == ""
        if r["kind"] == "phone_only" and digits:
            assert re.sub(r"\D", "", d["Phone"])[-8:] == digits
    # customers only in TimeLog and debtors only in Uniconta exist
    linked = {r["timelog_customer_id"] for r in rows}
    assert any(c["ID"] not in linked and c["CustomerStatusID"] == 1 for c in tl["Customers"])
    only_uc = [d for cid, comp in companies.items() for d in comp["DebtorClient"] if (cid, d["Account"]) not in seen]
    assert len(only_uc) >= 4


def test_look_alikes_make_several_plausible_matches(tl, companies):
    rows = truth("S", 42, today=FIXED_TODAY)
    linked = {(r["company_id"], r["uniconta_debtor_account"]) for r in rows}
    tl_bases = {dk.split_suffix(c["Name"])[0] for c in tl["Customers"]}
    # a Uniconta-only debtor named like a TimeLog customer with the other legal form ("Hansen ApS"/"Hansen A/S")
    assert any((cid, d["Account"]) not in linked and dk.split_suffix(d["Name"])[0] in tl_bases
               and d["Name"] not in {c["Name"] for c in tl["Customers"]}
               for cid, comp in companies.items() for d in comp["DebtorClient"])
    # two TimeLog customers sharing a phone number or a CVR
    phones = Counter(re.sub(r"\D", "", c["Phone"])[-8:] for c in tl["Customers"] if c["Phone"])
    cvrs = Counter(stdnum_cvr.compact(c["VATNo"]) for c in tl["Customers"] if c["VATNo"])
    assert max(phones.values()) >= 2 or max(cvrs.values()) >= 2


def test_truth_is_independent_of_the_transaction_pass():
    assert truth("S", 42, today=FIXED_TODAY) == truth("S", 42, today=FIXED_TODAY)
    assert truth("S", 42, today=FIXED_TODAY) != truth("S", 43, today=FIXED_TODAY)


# -- files -----------------------------------------------------------------------------------------------------

def test_streamed_file_equals_generate(tmp_path, fx):
    path = write_fixture(tmp_path / "f" / "fixture.json", "S", 42, today=FIXED_TODAY)
    with open(path, encoding="utf-8") as fh:
        plain = json.load(fh)
    assert set(plain) == {"timelog", "uniconta", "_meta"}
    assert load_fixture(path) == fx
    assert path.read_text(encoding="utf-8") == dumps(fx) + "\n"
    assert not [p for p in path.parent.iterdir() if p.name != "fixture.json"]  # no temp files left


def test_write_truth_csv(tmp_path):
    path = write_truth(tmp_path / "truth.csv", "S", 42, today=FIXED_TODAY)
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == TRUTH_COLUMNS
    assert [(int(r["timelog_customer_id"]), r["uniconta_debtor_account"], r["kind"]) for r in rows] == \
        [(r["timelog_customer_id"], r["uniconta_debtor_account"], r["kind"])
         for r in truth("S", 42, today=FIXED_TODAY)]


def test_cli_writes_fixture_and_truth(tmp_path):
    out = tmp_path / "data"
    res = subprocess.run([sys.executable, "-m", "simulators.generator", "--size", "S", "--seed", "42", "--today",
                          FIXED_TODAY.isoformat(), "--out", str(out)], cwd=REPO, capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stderr
    assert "timelog.InvoiceLines" in res.stdout and "uniconta.10001.DebtorClient" in res.stdout
    assert re.search(r"in \d+\.\d s", res.stdout)
    assert load_fixture(out / "fixture.json") == generate("S", 42, today=FIXED_TODAY)
    assert (out / "truth.csv").read_text(encoding="utf-8").startswith(",".join(TRUTH_COLUMNS))
