"""REST v1 client on canned TAF bodies (shapes from TimeLog's API docs (api.timelog.com, TimeLogApiSdk) "REST API v1" and
timelog-rest-v1-swagger.md), via ``httpx.MockTransport``."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from tlsync.clients._http import RetryPolicy
from tlsync.clients.errors import (
    AuthenticationError,
    MalformedResponseError,
    NotFoundError,
    RecordRejectedError,
    RetriesExhaustedError,
    WriteOutcomeUnknownError,
)
from tlsync.clients.timelog import RestClient, RestSettings
from tlsync.clients.timelog.models import Customer, CustomerCreate, CustomerUpdate, ProductCreate, ProjectExpenseCreate

TOKEN = "pat-very-secret-token"
FAST = RetryPolicy(max_attempts=3, base_delay=0.0, max_delay=0.0)


def taf_list(rows: list[dict], page: int, total_pages: int, total: int) -> dict:
    return {"Properties": {"TotalRecord": str(total), "TotalPage": str(total_pages), "PageNumber": str(page)},
            "Entities": [{"Properties": r, "Links": []} for r in rows], "Links": []}


def jresp(doc, status=200) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(doc).encode(), headers={"Content-Type": "application/json"})


def make_client(handler, *, page_size=500, sleep=None, product_writes=False) -> RestClient:
    settings = RestSettings(base_url="https://app5.timelog.com/acct/api", token=TOKEN, page_size=page_size,
                            product_writes=product_writes)
    return RestClient(settings, transport=httpx.MockTransport(handler), retry=FAST, sleep=sleep or (lambda s: None))


def test_list_walks_pages_with_large_pagesize_and_bearer_token():
    currencies = [{"CurrencyID": i, "CurrencyABB": f"C{i}", "DescriptiveName": "x", "CurrentRate": 477.72,
                   "IsActive": True} for i in range(1, 6)]
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        page = int(request.url.params["$page"])
        size = int(request.url.params["$pagesize"])
        rows = currencies[(page - 1) * size: page * size]
        return jresp(taf_list(rows, page, 3, len(currencies)))

    with make_client(handler, page_size=2) as client:
        result = list(client.currencies())
    assert [c.currency_id for c in result] == [1, 2, 3, 4, 5]
    assert result[0].current_rate == Decimal("477.72") and isinstance(result[0].current_rate, Decimal)
    assert result[0].currency_abb == "C1"
    assert [r.url.path for r in seen] == ["/acct/api/v1/currency/-1"] * 3
    assert [r.url.params["$page"] for r in seen] == ["1", "2", "3"]
    assert seen[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in str(seen[0].url)


def test_default_page_size_is_large():
    seen = []

    def handler(request):
        seen.append(request)
        return jresp(taf_list([], 1, 0, 0))

    with make_client(handler, page_size=500) as client:
        assert list(client.products()) == []
    assert seen[0].url.params["$pagesize"] == "500" and seen[0].url.path == "/acct/api/v1/product"


def test_reference_lists_hit_documented_paths():
    paths = []

    def handler(request):
        paths.append(request.url.path.removeprefix("/acct/api/v1/"))
        return jresp(taf_list([], 1, 1, 0))

    with make_client(handler) as client:
        for method in (client.project_types, client.project_categories, client.task_types, client.hourly_rates,
                       client.expense_types, client.legal_entities, client.payment_terms, client.customers):
            list(method())
    assert paths == ["ProjectType", "ProjectCategory", "TaskType", "hourly-rate", "expense-type/-1",
                     "legal-entity", "payment-term", "customer"]


def test_expense_type_carries_account_and_product_numbers():
    row = {"ExpenseTypeID": 4, "ExpenseTypeName": "Hotel", "AccountNo": "3610", "VAT": 25.0, "ProductNo": "EXP-H",
           "IsActive": True, "CostPrice": 0, "SalesPrice": 1250.50}
    with make_client(lambda r: jresp(taf_list([row], 1, 1, 1))) as client:
        (et,) = client.expense_types()
    assert (et.account_no, et.product_no, et.sales_price) == ("3610", "EXP-H", Decimal("1250.50"))


def test_401_names_the_token_setting_without_the_token():
    calls = []

    def handler(request):
        calls.append(request)
        return jresp({"Code": 401, "Message": "Invalid authentication token", "Details": [], "Parameters": "",
                      "Url": str(request.url), "DeveloperNote": None}, 401)

    with make_client(handler) as client, pytest.raises(AuthenticationError) as err:
        list(client.customers())
    text = str(err.value)
    assert "TimeLog REST API" in text and "RestSettings.token" in text and TOKEN not in text
    assert len(calls) == 1


def test_response_error_names_the_record():
    def handler(request):
        return jresp({"Code": 400, "Message": "Name is required",
                      "Details": [{"Property": "Name", "Message": "required"}], "Parameters": "", "Url": "",
                      "DeveloperNote": None}, 400)

    with make_client(handler) as client, pytest.raises(RecordRejectedError) as err:
        client.create_customer(CustomerCreate(name="x", customer_no="1001"))
    assert err.value.record == "customer '1001'" and err.value.status == 400
    assert "Name is required" in str(err.value)


def test_500_with_response_error_is_an_answer_but_plain_500_is_retried():
    calls = []

    def answer(request):
        calls.append(request)
        return jresp({"Code": 500, "Message": "Request to GetAll has failed", "Details": []}, 500)

    with make_client(answer) as client, pytest.raises(RecordRejectedError) as err:
        list(client.payment_terms())
    assert len(calls) == 1 and "Request to GetAll has failed" in str(err.value)

    calls.clear()

    def hiccup(request):
        calls.append(request)
        return httpx.Response(500, text="<html>oops</html>")

    with make_client(hiccup) as client, pytest.raises(RetriesExhaustedError):
        list(client.payment_terms())
    assert len(calls) == FAST.max_attempts


def test_404_is_not_found_with_the_record():
    with make_client(lambda r: jresp({"Code": 404, "Message": "Customer not found"}, 404)) as client:
        with pytest.raises(NotFoundError) as err:
            client.customer(99)
    assert err.value.record == "customer 99"


def test_truncated_json_retried_then_malformed_with_where():
    body = json.dumps(taf_list([{"PaymentTermID": 1}], 1, 1, 1)).encode()
    with make_client(lambda r: httpx.Response(200, content=body[:20])) as client:
        with pytest.raises(MalformedResponseError) as err:
            list(client.payment_terms())
    assert err.value.where.startswith("GET payment-term page 1 line 1")


def test_update_customer_is_read_modify_write_with_full_body():
    current = {"CustomerID": 7, "ID": "b86f7c33-f6a8-41a3-a5db-05422ae34e43", "Name": "Kunde A/S", "No": "1001",
               "CustomerStatusID": 1, "VATNo": "DK12345678", "OrganizationNo": None, "DefaultMileageDistance": 0}
    reporting = Customer(id=7, name="Kunde A/S (old)", no="1001", phone="+45 12 34 56 78", address1="Vestergade 1",
                         zip_code="8000", city="Aarhus C", web_page="kunde.dk", account_manager_id=3)
    puts = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            assert request.url.path == "/acct/api/v1/customer/7"
            return jresp({"Properties": current, "Links": [], "Actions": []})
        puts.append(json.loads(request.content))
        return jresp({"Properties": {**current, "Name": puts[-1]["Name"]}, "Links": []})

    with make_client(handler) as client:
        updated = client.update_customer(7, {"email": "info@kunde.dk", "Phone": "+45 87 65 43 21"},
                                         base=CustomerUpdate.from_reporting(reporting))
    body = puts[0]
    assert body["CustomerID"] == 7 and body["Name"] == "Kunde A/S"  # REST's current value wins over the base
    assert body["Phone"] == "+45 87 65 43 21" and body["Email"] == "info@kunde.dk"  # changes applied
    assert body["Address"] == "Vestergade 1" and body["Website"] == "kunde.dk" and body["PrimaryKAMID"] == 3
    assert body["VatNo"] == "DK12345678" and body["CustomerNo"] == "1001"
    assert updated.customer_id == 7


def test_update_customer_rejects_unknown_change_names():
    with make_client(lambda r: jresp({"Properties": {"CustomerID": 1, "Name": "x"}})) as client:
        with pytest.raises(ValueError, match="Colour"):
            client.update_customer(1, {"Colour": "red"})


def test_product_create_activate_and_project_expense():
    seen = []

    def handler(request):
        seen.append((request.method, request.url.path.removeprefix("/acct/api/v1/"),
                     json.loads(request.content) if request.content else None))
        if request.url.path.endswith("project-expense"):
            return httpx.Response(200)
        return jresp({"Properties": {"ProductNumberID": 9, "ProductNumber": "1000", "ProductName": "Consulting",
                                     "IsActive": True, "VATPercentage": 25.0}})

    with make_client(handler, product_writes=True) as client:
        created = client.create_product(ProductCreate(product_number="1000", product_name="Consulting",
                                                      vat_percentage=Decimal("25.00")))
        client.activate_product(9)
        client.deactivate_product(9)
        result = client.create_project_expense(ProjectExpenseCreate(
            project_id=5, expense_type_id=4, amount_including_vat_expense_currency=Decimal("1250.50"),
            external_id="UC-GL-77"))
    assert created.product_number_id == 9 and created.vat_percentage == Decimal("25.0")
    assert seen[0] == ("POST", "product/create", {"ProductNumber": "1000", "ProductName": "Consulting",
                                                  "VATPercentage": 25.0})
    assert seen[1] == ("PUT", "product/9/activate", {}) and seen[2] == ("PUT", "product/9/deactivate", {})
    assert seen[3][2] == {"ProjectID": 5, "ExpenseTypeID": 4, "AmountIncludingVatExpenseCurrency": 1250.5,
                          "ExternalID": "UC-GL-77"}
    assert result is None


def test_settings_accept_site_or_api_url():
    assert RestSettings(base_url="https://x.timelog.com/a/api/v1/", token="t").base_url == "https://x.timelog.com/a"
    assert TOKEN not in repr(RestSettings(base_url="https://x/a", token=TOKEN))


def test_create_customer_answer_without_customer_id_is_settled_by_number_never_sent_twice():
    """Issue 13, evidence 8: the swagger's CustomerApiCreateModel has no CustomerID; if the real answer lacks it,
    the new customer is looked up by number — a second create would be a duplicate."""
    from tlsync.clients.timelog.models import CustomerCreate

    creates = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            creates.append(request.url.path)
            return httpx.Response(200, json={"Properties": {"Name": "Ny Kunde ApS", "CustomerNo": "7001"}})
        return httpx.Response(200, json={"Properties": {}, "Entities": [
            {"Properties": {"CustomerID": 42, "Name": "Ny Kunde ApS", "No": "7001"}}], "Links": []})

    with make_client(handler) as client:
        created = client.create_customer(CustomerCreate(name="Ny Kunde ApS", customer_no="7001"))
    assert created.customer_id == 42 and len(creates) == 1

    def not_found(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            creates.append(request.url.path)
            return httpx.Response(200, json={"Properties": {"Name": "Ny Kunde ApS"}})
        return httpx.Response(200, json={"Properties": {}, "Entities": [], "Links": []})

    creates.clear()
    with make_client(not_found) as client, pytest.raises(WriteOutcomeUnknownError) as err:
        client.create_customer(CustomerCreate(name="Ny Kunde ApS", customer_no="7001"))
    assert len(creates) == 1 and "without a CustomerID" in str(err.value)


def test_product_writes_are_refused_against_a_server_that_is_not_the_simulator():
    """REST v1 has only GET /product (issue 13, evidence 1): outside the simulator a product-number write is refused
    with one clear line before anything is sent; one read tells whether the server is the simulator."""
    from tlsync.clients.errors import UnknownMethodError

    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path))
        return httpx.Response(200, json={"Properties": {}, "Entities": [], "Links": []})

    with make_client(handler) as client:
        for write in (lambda: client.create_product(ProductCreate(product_number="1000", product_name="Konsulent")),
                      lambda: client.activate_product(7), lambda: client.update_product(7, product_name="x")):
            with pytest.raises(UnknownMethodError) as err:
                write()
            assert "not in TimeLog's public API" in str(err.value) and "rule U2" in str(err.value)
    assert [m for m, _ in seen] == ["GET"]

    def simulator(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path))
        body = {"Properties": {"ProductNumberID": 7, "ProductNumber": "1000", "ProductName": "Konsulent",
                               "IsActive": True}} if request.method == "PUT" else \
            {"Properties": {}, "Entities": [], "Links": []}
        return httpx.Response(200, json=body, headers={"X-TimeLog-Simulator": "tlsync"})

    seen.clear()
    with make_client(simulator) as client:
        assert client.activate_product(7) is not None
    assert [m for m, _ in seen] == ["GET", "PUT"]
