"""Contract tests: the TimeLog simulator's Reporting API (service.asmx) over real HTTP."""

from __future__ import annotations

import re

import httpx
import pytest
from lxml import etree

from simulators.timelog.sample import REPORTING_ALL
from simulators.timelog.schemas import SCHEMAS

NS = "http://www.timelog.com/XML/Schema/tlp/v4_4"
T = f"{{{NS}}}"
CRED = {"siteCode": "SIMSITE", "apiID": "apiuser", "apiPassword": "apipass"}
ASMX = "/tlsim/service.asmx"


@pytest.fixture
def c(timelog_sim):
    return timelog_sim


def call(c: httpx.Client, method: str, http_status: int = 200, **params) -> etree._Element:
    r = c.get(f"{ASMX}/{method}", params={**CRED, **params})
    assert r.status_code == http_status, r.text
    assert r.headers["content-type"].startswith("text/xml")
    return etree.fromstring(r.content)


def ids(root: etree._Element) -> list[int]:
    return [int(e.get("ID")) for e in root]


INVOICES_ALL = {"invoiceID": 0, "customerID": 0, "status": -1, "startDate": "", "endDate": ""}
LINES_ALL = {"invoiceLineID": 0, "customerID": 0, "projectID": 0, "invoiceID": 0, "startDate": "", "endDate": ""}
WU = {"workUnitID": 0, "employeeID": 0, "allocationID": 0, "taskID": 0, "projectID": 0, "departmentID": 0,
      "startDate": "2024-01-01", "endDate": "2024-01-31"}

ALL_METHODS = REPORTING_ALL


@pytest.mark.parametrize("method", sorted(ALL_METHODS))
def test_every_method_answers_its_documented_root_items_and_field_order(c, method):
    params, root_name, item_name = ALL_METHODS[method]
    root = call(c, method, **params)
    assert root.tag == T + root_name
    assert root.nsmap.get("tlp") == NS
    assert len(root) > 0
    schema = SCHEMAS[method]
    order = [f.name for f in schema.elements]
    for item in root:
        assert item.tag == T + item_name
        assert item.get("ID", "").isdigit()
        if any(f.name == "GUID" and f.attr for f in schema.fields):
            assert re.fullmatch(r"[0-9a-fA-F-]{36}", item.get("GUID", ""))
        names = [etree.QName(ch).localname for ch in item]
        assert all(ch.tag.startswith(T) for ch in item)
        assert names == [n for n in order if n in names], "children must follow XSD order"
        required = [f.name for f in schema.elements if not f.optional and f.type not in ("dateTime", "date")]
        assert set(required) <= set(names)


def test_decimals_have_four_decimals_dates_and_booleans_as_in_samples(c):
    inv = call(c, "GetInvoicesRaw", **{**INVOICES_ALL, "invoiceID": 102})
    (i,) = inv
    assert i.findtext(T + "CurrencyRate") == "745.9400"
    assert i.findtext(T + "InvoiceDate") == "2024-03-05T00:00:00"
    assert i.findtext(T + "AddVAT") == "1"
    assert i.findtext(T + "IsIgnoredWhenTransfer") == "0"
    # 2 x 1250.50 less 10 % = 2250.90 net, 25 % VAT = 562.725 -> 562.7250
    assert i.findtext(T + "NetAmount") == "2250.9000"
    assert i.findtext(T + "VATIncluded") == "562.7250"
    assert i.findtext(T + "Amount") == "2813.6250"
    lines = call(c, "GetInvoiceLinesRaw", **{**LINES_ALL, "invoiceID": 100})
    first = lines[0]
    assert (first.findtext(T + "Quantity"), first.findtext(T + "Rate"), first.findtext(T + "Amount")) == \
        ("3.5000", "350.0000", "1225.0000")
    for el in lines.iter():
        if el.text and re.fullmatch(r"-?\d+\.\d+", el.text):
            assert re.fullmatch(r"-?\d+\.\d{4}", el.text), el.text
    cust = call(c, "GetCustomersRaw", customerID=1, customerStatusID=-1, accountManagerID=0)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", cust[0].findtext(T + "CreatedAt"))
    assert cust[0].findtext(T + "EanNo") == "5790000123456"


def test_expense_items_carry_an_id_attribute_and_invoices_a_guid(c):
    params, *_ = ALL_METHODS["GetExpensesRaw"]
    assert ids(call(c, "GetExpensesRaw", **params)) == [7000, 7001]
    assert call(c, "GetInvoicesRaw", **INVOICES_ALL)[0].get("GUID")


@pytest.mark.parametrize("bad", ["siteCode", "apiID", "apiPassword"])
def test_wrong_credentials_answer_an_errors_root(c, bad):
    r = c.get(f"{ASMX}/GetCustomersRaw", params={**CRED, bad: "wrong", "customerID": 0, "customerStatusID": -1,
                                                  "accountManagerID": 0})
    assert r.status_code == 401  # TimeLogApiSdk docs: 401 for bad credentials since 2021
    root = etree.fromstring(r.content)
    assert root.tag == T + "Errors"
    assert [etree.QName(e).localname for e in root] == ["Error"]
    assert "Access denied" in root[0].text
    assert "apipass" not in r.text


def test_validate_credentials_is_a_boolean(c):
    ok = c.get(f"{ASMX}/ValidateCredentials", params=CRED)
    bad = c.get(f"{ASMX}/ValidateCredentials", params={**CRED, "apiPassword": "nope"})
    for r, want in ((ok, "true"), (bad, "false")):
        root = etree.fromstring(r.content)
        assert root.tag == "{http://www.timelog.com/ws/tlp/v4_4}boolean"
        assert root.text == want


def test_unknown_method_missing_or_unconvertible_parameter_are_asmx_500s(c):
    r = c.get(f"{ASMX}/GetTimeRegistrationsRaw", params=CRED)
    assert r.status_code == 500 and "Web Service method name is not valid" in r.text
    r = c.get(f"{ASMX}/GetCustomersRaw", params={**CRED, "customerStatusID": -1, "accountManagerID": 0})
    assert r.status_code == 500 and "Missing parameter: customerID" in r.text
    r = c.get(f"{ASMX}/GetCustomersRaw", params={**CRED, "customerID": "x", "customerStatusID": -1, "accountManagerID": 0})
    assert r.status_code == 500 and "Cannot convert x to System.Int32" in r.text


def test_bad_filter_values_answer_errors_root(c):
    for method, params in (
        ("GetInvoicesRaw", {**INVOICES_ALL, "startDate": "15-01-2024"}),
        ("GetInvoicesRaw", {**INVOICES_ALL, "status": 7}),
        ("GetProjectsRaw", {"projectID": 0, "status": 3, "customerID": 0, "projectManagerID": 0}),
        ("GetInvoicesRaw", {**INVOICES_ALL, "startDate": "2024-03-01", "endDate": "2024-01-01"}),
        ("GetWorkUnitsRawPaged", {**WU, "page": 0, "pageSize": 10}),
    ):
        root = call(c, method, http_status=500, **params)  # TimeLogApiSdk docs: 500 for bad input
        assert root.tag == T + "Errors", (method, params)
        assert root[0].text


def test_empty_result_says_result_empty(c):
    root = call(c, "GetCustomersRaw", customerID=987654, customerStatusID=-1, accountManagerID=0)
    assert len(root) == 0 and root.get("resultEmpty") == "true"
    assert call(c, "GetCustomersRaw", customerID=0, customerStatusID=-1, accountManagerID=0).get("resultEmpty") is None


def test_all_sentinels_and_id_filters(c):
    p = {"projectID": 0, "customerID": 0, "projectManagerID": 0}
    assert ids(call(c, "GetProjectsRaw", **p, status=-2)) == [10, 11, 12]
    assert ids(call(c, "GetProjectsRaw", **p, status=1)) == [10, 11]
    assert ids(call(c, "GetProjectsRaw", **p, status=0)) == [12]
    assert ids(call(c, "GetProjectsRaw", **{**p, "customerID": -1}, status=-2)) == [10, 11, 12]
    assert ids(call(c, "GetProjectsRaw", **{**p, "customerID": 1}, status=-2)) == [10, 12]
    assert ids(call(c, "GetCustomersRaw", customerID=0, customerStatusID=2, accountManagerID=0)) == [7]
    assert len(call(c, "GetCustomersRaw", customerID=-1, customerStatusID=0, accountManagerID=-1)) == 12
    assert ids(call(c, "GetTasksRaw", taskID=0, projectID=10, status=1, taskTypeID=0)) == [201]
    assert ids(call(c, "GetHourlyRatesRaw", CustomerID=0, Status=1)) == [1, 2]
    assert ids(call(c, "GetHourlyRatesRaw", CustomerID=1, Status=-1)) == [2]
    assert ids(call(c, "GetEmployeesRaw", employeeID=0, initials="jd", departmentID=0, status=-1)) == [1]
    assert ids(call(c, "GetInvoicesRaw", **{**INVOICES_ALL, "status": 0})) == [101]
    assert ids(call(c, "GetInvoicesRaw", **{**INVOICES_ALL, "status": 1})) == [100, 102, 103]


def test_date_ranges_are_inclusive_and_lines_follow_their_invoice_date(c):
    jan = {**INVOICES_ALL, "startDate": "2024-01-01", "endDate": "2024-01-31"}
    assert ids(call(c, "GetInvoicesRaw", **jan)) == [100]
    assert ids(call(c, "GetInvoicesRaw", **{**INVOICES_ALL, "startDate": "2024-03-05", "endDate": "2024-03-20"})) == [102, 103]
    assert ids(call(c, "GetInvoicesRaw", **{**INVOICES_ALL, "startDate": "2024-04-01"})) == [104]
    assert ids(call(c, "GetInvoiceLinesRaw", **{**LINES_ALL, "startDate": "2024-01-01", "endDate": "2024-01-31"})) == [1000, 1001]
    assert ids(call(c, "GetInvoiceLinesRaw", **{**LINES_ALL, "customerID": 2})) == [1002, 1003]
    assert ids(call(c, "GetInvoiceLineDetailsRaw", **{**LINES_ALL, "invoiceLineDetailID": 0, "invoiceID": 100})) == [5000, 5001]
    mileage = ALL_METHODS["GetMileageRaw"][0]
    assert ids(call(c, "GetMileageRaw", **{**mileage, "startDate": "2024-02-01"})) == []
    assert ids(call(c, "GetMileageRaw", **{**mileage, "selfPayment": 0})) == [8000]


def test_work_units_paged_root_attributes_and_pages(c):
    pages = []
    for page in (1, 2, 3, 4):
        root = call(c, "GetWorkUnitsRawPaged", **{**WU, "page": page, "pageSize": 10})
        assert root.attrib["Page"] == str(page)
        assert (root.get("PageSize"), root.get("TotalPages"), root.get("TotalRecords")) == ("10", "3", "25")
        pages.append(ids(root))
    assert [len(p) for p in pages] == [10, 10, 5, 0]
    assert sum(pages, []) == list(range(9000, 9025))
    narrow = call(c, "GetWorkUnitsRawPaged", **{**WU, "startDate": "2024-01-05", "endDate": "2024-01-06", "page": 1,
                                                  "pageSize": 500})
    assert ids(narrow) == [9004, 9005] and narrow.get("TotalRecords") == "2"


def test_form_post_and_case_insensitive_parameter_names(c):
    data = {"SITECODE": "SIMSITE", "apiid": "apiuser", "ApiPassword": "apipass", "CustomerId": "0",
            "customerstatusid": "-1", "accountManagerID": "0"}
    r = c.post(f"{ASMX}/GetCustomersRaw", data=data)
    assert r.status_code == 200
    assert len(etree.fromstring(r.content)) == 12


def test_shortlists_have_id_and_name_only(c):
    root = call(c, "GetProjectTypesShortList")
    assert [(e.get("ID"), [etree.QName(x).localname for x in e]) for e in root] == [("1", ["Name"]), ("2", ["Name"])]


def test_soap_11_call_and_unknown_soapaction_fault(c):
    env = ('<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
           '<GetProjectsRaw xmlns="http://www.timelog.com/ws/tlp/v4_4"><siteCode>SIMSITE</siteCode><apiID>apiuser</apiID>'
           '<apiPassword>apipass</apiPassword><projectID>0</projectID><status>1</status><customerID>0</customerID>'
           '<projectManagerID>0</projectManagerID></GetProjectsRaw></soap:Body></soap:Envelope>')
    r = c.post(ASMX, content=env, headers={"Content-Type": "text/xml; charset=utf-8",
                                           "SOAPAction": '"http://www.timelog.com/ws/tlp/v4_4/GetProjectsRaw"'})
    assert r.status_code == 200
    root = etree.fromstring(r.content)
    result = root.find(".//{http://www.timelog.com/ws/tlp/v4_4}GetProjectsRawResult")
    assert result is not None and result[0].tag == T + "Projects"
    assert ids(result[0]) == [10, 11]
    r = c.post(ASMX, content=env.replace("GetProjectsRaw", "GetNothing"),
               headers={"SOAPAction": '"http://www.timelog.com/ws/tlp/v4_4/GetNothing"'})
    assert r.status_code == 500
    assert "Server did not recognize the value of HTTP Header SOAPAction" in r.text


def test_counts_reporting_calls_per_user(c):
    c.post("/_sim/counters/reset")
    call(c, "GetTaskTypesShortList")
    call(c, "GetProjectTypesShortList")
    counters = c.get("/_sim/counters").json()
    assert counters["by_surface"]["reporting"] == 2
    assert counters["by_user"]["reporting:apiuser"] == 2
