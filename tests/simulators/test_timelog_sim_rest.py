"""Contract tests: the TimeLog simulator's REST API v1 (TAF envelopes, Bearer PAT) over real HTTP."""

from __future__ import annotations

import httpx
import pytest
from lxml import etree

API = "/tlsim/api/v1"
AUTH = {"Authorization": "Bearer sim-pat-token"}
ERROR_KEYS = {"Code", "Details", "Message", "Parameters", "Url", "DeveloperNote"}
T = "{http://www.timelog.com/XML/Schema/tlp/v4_4}"
CRED = {"siteCode": "SIMSITE", "apiID": "apiuser", "apiPassword": "apipass"}


@pytest.fixture
def c(timelog_sim):
    timelog_sim.headers.update(AUTH)
    return timelog_sim


def entities(body: dict) -> list[dict]:
    return [e["Properties"] for e in body["Entities"]]


def reporting_customer(c: httpx.Client, cid: int) -> etree._Element:
    r = c.get("/tlsim/service.asmx/GetCustomersRaw", params={**CRED, "customerID": cid, "customerStatusID": -1,
                                                              "accountManagerID": 0})
    (cust,) = etree.fromstring(r.content)
    return cust


def full_update(**over) -> dict:
    body = {"CustomerID": 2, "Name": "Beta ApS", "CustomerNo": "1002", "CurrencyID": 1, "CustomerStatusID": 1,
            "NickName": "Beta", "CountryID": 0, "OrganizationNo": "87654321", "PrimaryKAMID": 1, "SecondaryKAMID": 0,
            "IndustryID": 0, "Phone": "33 12 34 56", "Fax": "", "Email": "info@beta.dk", "Website": "beta.dk",
            "Address": "Vesterbrogade 1", "Address2": "", "Address3": "", "ZipCode": "1620", "City": "København V",
            "State": "", "VatNo": "DK87654321", "UseInvoicingAddress": False, "InvoicingName": "",
            "InvoicingAddress": "", "InvoicingAddress2": "", "InvoicingAddress3": "", "InvoicingAddressZipCode": "",
            "InvoicingAddressCity": "", "InvoicingAddressState": "", "InvoicingAddressCountryID": 0, "CreditorID": ""}
    body.update(over)
    return body


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic c2ltLXBhdC10b2tlbg=="}])
def test_missing_or_wrong_bearer_token_is_401_response_error(timelog_sim_url, headers):
    r = httpx.get(f"{timelog_sim_url}{API}/customer", headers=headers)
    assert r.status_code == 401
    body = r.json()
    assert set(body) == ERROR_KEYS
    assert body["Code"] == 401 and body["Message"] == "Invalid authentication token"
    assert body["Url"].endswith("/tlsim/api/v1/customer")


def test_taf_list_has_string_paging_properties_and_default_page_size_10(c):
    r = c.get(f"{API}/customer")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"Properties", "Entities", "Links"}
    assert body["Properties"] == {"TotalRecord": "12", "TotalPage": "2", "PageNumber": "1"}
    assert len(body["Entities"]) == 10
    assert set(body["Entities"][0]) == {"Properties"}
    assert set(entities(body)[0]) == {"CustomerID", "ID", "Name", "No", "DefaultMileageDistance", "CustomerStatusID",
                                      "VATNo", "OrganizationNo"}
    p2 = c.get(f"{API}/customer", params={"$page": 2}).json()
    assert p2["Properties"]["PageNumber"] == "2" and [e["CustomerID"] for e in entities(p2)] == [11, 12]
    small = c.get(f"{API}/customer", params={"$page": 3, "$pagesize": 5}).json()
    assert small["Properties"] == {"TotalRecord": "12", "TotalPage": "3", "PageNumber": "3"}
    assert len(small["Entities"]) == 2
    assert c.get(f"{API}/customer", params={"$page": 9}).json()["Entities"] == []
    bad = c.get(f"{API}/customer", params={"$pagesize": 0})
    assert bad.status_code == 400 and set(bad.json()) == ERROR_KEYS


def test_customer_get_single_and_404(c):
    r = c.get(f"{API}/customer/1").json()
    assert set(r) == {"Properties", "Links", "Actions"}
    assert r["Properties"]["VATNo"] == "DK12345678" and r["Properties"]["CustomerID"] == 1
    assert r["Links"][0]["Rel"] == "self"
    missing = c.get(f"{API}/customer/999")
    assert missing.status_code == 404 and missing.json()["Code"] == 404
    assert [e["CustomerID"] for e in entities(c.get(f"{API}/customer/by-number/1003").json())] == [3]


def test_customer_create_maps_onto_reporting_fields(c):
    r = c.post(f"{API}/customer/create", json={"Name": "Ny Kunde ApS", "CustomerNo": "1013", "VatNo": "DK31313131",
                                                 "Address": "Torvet 1", "ZipCode": "8600", "City": "Silkeborg",
                                                 "Phone": "+45 86 00 00 00", "CustomerStatusID": 1, "CurrencyID": 1})
    assert r.status_code == 200
    props = r.json()["Properties"]
    assert props["Name"] == "Ny Kunde ApS" and props["No"] == "1013" and props["VATNo"] == "DK31313131"
    cust = reporting_customer(c, props["CustomerID"])
    assert cust.get("GUID") == props["ID"]
    assert (cust.findtext(T + "No"), cust.findtext(T + "VATNo"), cust.findtext(T + "Address1"),
            cust.findtext(T + "City")) == ("1013", "DK31313131", "Torvet 1", "Silkeborg")
    assert c.get(f"{API}/customer").json()["Properties"]["TotalRecord"] == "13"


def test_customer_create_and_update_validation_errors(c):
    r = c.post(f"{API}/customer/create", json={"CustomerNo": "1099"})
    assert r.status_code == 400
    body = r.json()
    assert set(body) == ERROR_KEYS and body["Code"] == 400
    assert body["Details"] == [{"Property": "Name", "Message": "The Name field is required."}]
    r = c.post(f"{API}/customer/create", json={"Name": "X", "CustomerStatusID": 77})
    assert r.status_code == 400 and r.json()["Details"][0]["Property"] == "CustomerStatusID"
    r = c.put(f"{API}/customer/update", json={"CustomerID": 2, "Phone": "1"})
    assert r.status_code == 400
    assert {d["Property"] for d in r.json()["Details"]} == {"Name", "CustomerStatusID"}
    r = c.put(f"{API}/customer/update", json=full_update(CustomerID=999))
    assert r.status_code == 404
    assert c.post(f"{API}/customer/create", content=b"{not json", headers={"Content-Type": "application/json"}).status_code == 400


def test_customer_update_is_a_full_replace_and_advances_last_modified(c):
    before = reporting_customer(c, 2).findtext(T + "LastModifiedAt")
    r = c.put(f"{API}/customer/update", json=full_update(Phone="99 99 99 99"))
    assert r.status_code == 200 and r.json()["Properties"]["CustomerID"] == 2
    cust = reporting_customer(c, 2)
    assert cust.findtext(T + "Phone") == "99 99 99 99"
    assert cust.findtext(T + "WebPage") == "beta.dk"
    assert cust.findtext(T + "AccountManagerInitials") == "JD"
    assert cust.findtext(T + "LastModifiedAt") > before
    body = full_update()
    del body["Phone"], body["Email"]
    assert c.put(f"{API}/customer/update", json=body).status_code == 200
    cust = reporting_customer(c, 2)
    assert cust.find(T + "Phone") is None and cust.find(T + "Email") is None  # omitted -> cleared


def test_products_list_create_duplicate_and_activation(c):
    body = c.get(f"{API}/product").json()
    assert [p["ProductNumber"] for p in entities(body)] == ["T100", "LIC", "OLD"]
    assert set(entities(body)[0]) == {"ProductNumberID", "ProductNumber", "ProductName", "Description", "UseVAT",
                                      "VATPercentage", "IsActive", "ProductNumberGuid", "LegalEntityID"}
    r = c.post(f"{API}/product/create", json={"ProductNumber": "NY-1", "ProductName": "Ny vare", "VATPercentage": 25})
    assert r.status_code == 200
    new = r.json()["Properties"]
    assert new["IsActive"] is True and new["LegalEntityID"] == 1 and new["VATPercentage"] == 25.0
    dup = c.post(f"{API}/product/create", json={"ProductNumber": "NY-1"})
    assert dup.status_code == 400 and set(dup.json()) == ERROR_KEYS
    off = c.put(f"{API}/product/{new['ProductNumberID']}/deactivate")
    assert off.status_code == 200 and off.json()["Properties"]["IsActive"] is False
    on = c.put(f"{API}/product/{new['ProductNumberID']}/activate").json()["Properties"]
    assert on["IsActive"] is True
    assert c.put(f"{API}/product/4242/activate").status_code == 404


@pytest.mark.parametrize("path,id_name", [("ProjectType", "ProjectTypeID"), ("projectcategory", "ProjectCategoryID"),
                                          ("TaskType", "TaskTypeID")])
def test_dimension_lists_carry_product_numbers(c, path, id_name):
    rows = entities(c.get(f"{API}/{path}").json())
    assert rows and set(rows[0]) == {id_name, "Name", "IsActive", "ProductNo", "ID"}
    assert rows[0]["ProductNo"]


def test_hourly_rates_expense_types_and_status_paths(c):
    rates = entities(c.get(f"{API}/hourly-rate").json())
    assert [(r["HourlyRateID"], r["ProductNo"], r["Amount"]) for r in rates] == [(1, "T100", 950.0), (2, "T110", 875.5), (3, "", 700.0)]
    assert [r["HourlyRateID"] for r in entities(c.get(f"{API}/hourly-rate/default").json())] == [1]
    active = entities(c.get(f"{API}/expense-type/1").json())
    assert [(e["ExpenseTypeID"], e["AccountNo"], e["ProductNo"]) for e in active] == [(1, "2750", "UDL-REJSE"), (2, "2800", "UDL-MAD")]
    assert len(entities(c.get(f"{API}/expense-type/-1").json())) == 3
    assert [e["ExpenseTypeID"] for e in entities(c.get(f"{API}/expense-type/0").json())] == [3]
    bad = c.get(f"{API}/expense-type/5")
    assert bad.status_code == 400 and bad.json()["Message"] == "Status specified is invalid"
    listed = entities(c.get(f"{API}/expense-type/all/list", params={"legalEntityId": 1, "status": 1}).json())
    assert [e["ExpenseTypeID"] for e in listed] == [1, 2]


def test_project_expense_create_validation_and_visibility_in_reporting(c):
    body = {"ProjectID": 10, "ExpenseTypeID": 1, "PurchaseDate": "2024-05-02T00:00:00",
            "AmountIncludingVatExpenseCurrency": 1875.50, "VatAmountExpenseCurrency": 375.10, "ExpenseCurrencyISO": "DKK",
            "IsBillable": True, "Comment": "Flybillet (Uniconta bilag 4711)", "ExternalID": "UC-GL-4711",
            "SupplierInvoiceNo": "F-99"}
    r = c.post(f"{API}/project-expense", json=body)
    assert r.status_code == 200
    props = r.json()["Properties"]
    assert props["ProjectID"] == 10 and props["AmountExpenseCurrency"] == 1875.5 and props["ExternalID"] == "UC-GL-4711"
    assert props["CustomerID"] == 1 and props["IsBillable"] is True
    assert c.get(f"{API}/project-expense/{props['ProjectExpenseID']}").json()["Properties"]["Comment"].startswith("Flybillet")
    assert props["ProjectExpenseID"] in [e["ProjectExpenseID"] for e in
                                         entities(c.get(f"{API}/project-expense", params={"projectID": 10}).json())]
    rep = etree.fromstring(c.get("/tlsim/service.asmx/GetExpensesRaw", params={
        **CRED, "customerID": 0, "projectID": 10, "supplierCustomerID": 0, "employeeID": 0, "employeeDepartmentID": 0,
        "expenseTypeID": 0, "paymentMethodID": 0, "startDate": "2024-05-01", "endDate": "2024-05-31"}).content)
    (exp,) = rep
    assert exp.get("ID") == str(props["ProjectExpenseID"])
    assert (exp.findtext(T + "Amount"), exp.findtext(T + "VAT"), exp.findtext(T + "ExpenseType")) == ("1875.5000", "375.1000", "Rejser")
    missing = c.post(f"{API}/project-expense", json={"ProjectID": 10})
    assert missing.status_code == 400
    assert {d["Property"] for d in missing.json()["Details"]} == {"ExpenseTypeID", "PurchaseDate",
                                                                   "AmountIncludingVatExpenseCurrency"}
    unknown = c.post(f"{API}/project-expense", json={**body, "ProjectID": 999})
    assert unknown.status_code == 400 and unknown.json()["Details"][0]["Property"] == "ProjectID"


def test_legal_entities_payment_terms_currencies(c):
    les = entities(c.get(f"{API}/legal-entity").json())
    assert [(x["LegalEntityID"], x["CurrencyISO"]) for x in les] == [(1, "DKK"), (2, "SEK")]
    assert set(les[0]) == {"LegalEntityID", "Name", "IsActive", "ID", "CurrencyID", "CurrencyISO", "CountryISO",
                           "IsSystemLegalEntity"}
    assert c.get(f"{API}/legal-entity/2").json()["Properties"]["CountryISO"] == "SE"
    terms = entities(c.get(f"{API}/payment-term").json())
    assert {"ID", "Name", "DaysOfCredit", "IsDefaultTerm", "PaymentTermGuid"} <= set(terms[0])
    cur = c.get(f"{API}/currency/1").json()
    assert cur["Properties"]["TotalRecord"] == "5"  # GBP is inactive
    assert entities(cur)[0] == {"CurrencyID": 1, "CurrencyABB": "DKK", "DescriptiveName": "Danske kroner",
                                "CurrentRate": 100.0, "IsActive": True}
    assert c.get(f"{API}/currency/-1").json()["Properties"]["TotalRecord"] == "6"


def test_unknown_path_and_method_errors(c):
    r = c.get(f"{API}/invoice")
    assert r.status_code == 404 and set(r.json()) == ERROR_KEYS
    assert c.delete(f"{API}/customer/1").status_code == 405
    c.post("/_sim/counters/reset")
    c.get(f"{API}/payment-term")
    assert c.get("/_sim/counters").json()["by_user"] == {"rest:pat1": 1}
