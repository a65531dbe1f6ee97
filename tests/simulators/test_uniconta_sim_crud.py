"""Uniconta simulator: JSON CRUD API (Insert, InsertList, Update, Delete, lookup), over real HTTP."""

from __future__ import annotations

import httpx
import pytest

from simulators._common import serve_in_thread
from simulators.uniconta import create_app


def _fixture() -> dict:
    return {"uniconta": {"companies": [{
        "CompanyId": 10001, "Name": "Alpha A/S", "ProjectModule": True,
        "DebtorGroupClient": [{"Group": "DK", "Name": "Danske kunder"}],
        "DebtorClient": [{"Account": "1001", "Name": "Eksisterende ApS", "Group": "DK"}],
        "InvItemClient": [{"Item": "TIME", "Name": "Timer", "SalesPrice1": 950}],
        "ProjectGroupClient": [{"Group": "STD"}],
    }]}}


@pytest.fixture
def api():
    with serve_in_thread(create_app(_fixture())) as base, \
            httpx.Client(base_url=f"{base}/api/Entities", auth=("0010001/integration", "uniconta-pw")) as c:
        yield c


def test_insert_returns_the_stored_record(api):
    r = api.post("/Insert/DebtorClient", json={"Account": "2001", "Name": "Ny Kunde A/S", "CompanyRegNo": "12345678",
                                                "CreditMax": "1000.50", "Group": "DK", "NotAField": 1})
    assert r.status_code == 200, r.text
    row = r.json()
    assert row["Account"] == "2001" and row["CompanyRegNo"] == "12345678" and isinstance(row["RowId"], int)
    assert row["CreditMax"] == 1000.5 and row["Blocked"] is False and "NotAField" not in row
    found = api.get("/DebtorClient", params={"Name": "Account", "Value": "2001"}).json()
    assert found == [row]
    assert api.get("/Read/DebtorClient", params={"Name": "CompanyRegNo", "Value": "12345678"}).json() == [row]
    assert api.get("/DebtorClient", params={"Name": "Account", "Value": "9999"}).json() == []


def test_duplicate_key_names_the_key(api):
    r = api.post("/Insert/DebtorClient", json={"Account": "1001", "Name": "Dublet"})
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["code"] == "KeyExists" and "1001" in err["message"] and err["key"] == {"Account": "1001"}


def test_insert_validation_errors(api):
    r = api.post("/Insert/DebtorClient", json={"Name": "No account"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "FieldCannotBeBlank"
    r = api.post("/Insert/DebtorClient", json={"Account": "3", "Group": "NOPE"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "CouldNotFind" and "NOPE" in r.text
    r = api.post("/Insert/DebtorOrderClient", json={"Account": "nobody"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "AccountIsMissing"
    r = api.post("/Insert/DebtorClient", content=b"{not json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "BadRequest"
    r = api.post("/Insert/DebtorClient", json=[{"Account": "x"}])
    assert r.status_code == 400 and "InsertList" in r.json()["error"]["message"]
    r = api.post("/Insert/InvItemClient", json={"Item": "X", "SalesPrice1": "lots"})
    assert r.status_code == 400 and "SalesPrice1" in r.json()["error"]["message"]
    r = api.post("/Insert/ProjectClient", json={"Number": "P1", "Account": "1001"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "FieldCannotBeBlank"
    assert api.post("/Insert/NoSuchClient", json={}).status_code == 404


def test_insert_list_is_all_or_nothing_and_numbers_orders_and_lines(api):
    orders = api.post("/InsertList/DebtorOrderClient", json=[{"Account": "1001", "YourRef": "a"},
                                                             {"Account": "1001", "YourRef": "b"}])
    assert orders.status_code == 200, orders.text
    o1, o2 = orders.json()
    assert (o1["OrderNumber"], o2["OrderNumber"]) == (1, 2) and o2["RowId"] == o1["RowId"] + 1
    lines = api.post("/InsertList/DebtorOrderLineClient", json=[
        {"OrderNumber": 1, "Item": "TIME", "Qty": 7.5, "Price": 950, "DiscountPct": 10},
        {"OrderNumber": 1, "Text": "Kørsel", "Qty": 1, "Price": 333.33},
        {"OrderNumber": 2, "Item": "TIME", "Qty": 1, "Price": 100}]).json()
    assert [(ln["OrderNumber"], ln["LineNumber"]) for ln in lines] == [(1, 1), (1, 2), (2, 1)]
    assert lines[0]["Total"] == 6412.5 and lines[1]["Total"] == 333.33
    before = api.get("/DebtorOrderLineClient").json()
    bad = api.post("/InsertList/DebtorOrderLineClient", json=[
        {"OrderNumber": 2, "Qty": 1, "Price": 1}, {"OrderNumber": 77, "Qty": 1, "Price": 1}])
    assert bad.status_code == 400
    assert bad.json()["error"]["index"] == 1 and "77" in bad.json()["error"]["message"]
    dup = api.post("/InsertList/DebtorClient", json=[{"Account": "5"}, {"Account": "5"}])
    assert dup.status_code == 409 and dup.json()["error"]["index"] == 1
    assert api.get("/DebtorOrderLineClient").json() == before
    assert api.get("/DebtorClient", params={"Name": "Account", "Value": "5"}).json() == []
    assert api.post("/InsertList/DebtorClient", json={"Account": "6"}).status_code == 400


def test_update_replaces_the_record_by_key_or_rowid(api):
    row = api.get("/DebtorClient", params={"Name": "Account", "Value": "1001"}).json()[0]
    row["Phone"] = "+45 70 70 70 70"
    r = api.put("/Update/DebtorClient", json=row)
    assert r.status_code == 200 and r.json()["Phone"] == "+45 70 70 70 70" and r.json()["RowId"] == row["RowId"]
    # by key, full object: fields left out fall back to their defaults
    r = api.post("/Update/DebtorClient", json={"Account": "1001", "Name": "Omdøbt ApS"})
    assert r.status_code == 200 and r.json()["Name"] == "Omdøbt ApS" and "Phone" not in r.json()
    # rename through RowId, and a clash with an existing key
    api.post("/Insert/DebtorClient", json={"Account": "1002"})
    r = api.put("/Update/DebtorClient", json={"RowId": row["RowId"], "Account": "1002"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "KeyExists"
    r = api.put("/Update/DebtorClient", json={"Account": "4040", "Name": "ghost"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "CouldNotFind"


def test_delete_by_key_and_cascade_of_order_lines(api):
    r = api.request("DELETE", "/Delete/InvItemClient", json={"Item": "TIME"})
    assert r.status_code == 200 and r.json()["Item"] == "TIME"
    assert api.get("/InvItemClient").json() == []
    r = api.request("DELETE", "/Delete/InvItemClient", json={"Item": "TIME"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "CouldNotFind"
    order = api.post("/Insert/DebtorOrderClient", json={"Account": "1001"}).json()
    api.post("/InsertList/DebtorOrderLineClient", json=[{"OrderNumber": order["OrderNumber"], "Qty": 1}] * 3)
    r = api.post("/Delete/DebtorOrderClient", json=order)
    assert r.status_code == 200
    assert api.get("/DebtorOrderLineClient").json() == []
    assert api.get("/Insert/DebtorClient").status_code in (404, 405)


def test_concurrent_inserts_get_unique_numbers(api):
    from concurrent.futures import ThreadPoolExecutor

    def work(i: int) -> list[dict]:
        orders = [{"Account": "1001", "YourRef": f"{i}-{j}"} for j in range(5)]
        r = api.post("/InsertList/DebtorOrderClient", json=orders)
        assert r.status_code == 200, r.text
        return r.json()

    with ThreadPoolExecutor(8) as pool:
        rows = [row for chunk in pool.map(work, range(16)) for row in chunk]
    assert len({r["OrderNumber"] for r in rows}) == len({r["RowId"] for r in rows}) == 80
    assert len(api.get("/DebtorOrderClient").json()) == 80


def test_new_orders_continue_the_order_series_past_posted_invoices():
    """Uniconta never reuses an order number: a posted invoice keeps its order's number after the draft is gone,
    so a new draft comes after it (otherwise pairing a draft with its posted invoice by order number breaks)."""
    doc = _fixture()
    doc["uniconta"]["companies"][0]["DebtorOrderClient"] = [{"OrderNumber": 5002, "Account": "1001"}]
    doc["uniconta"]["companies"][0]["DebtorInvoiceClient"] = [
        {"InvoiceNumber": 100001, "OrderNumber": 5001, "Account": "1001", "Date": "2026-01-31"},
        {"InvoiceNumber": 100002, "OrderNumber": 5003, "Account": "1001", "Date": "2026-02-28"}]
    with serve_in_thread(create_app(doc)) as base, \
            httpx.Client(base_url=f"{base}/api/Entities", auth=("0010001/integration", "uniconta-pw")) as c:
        made = c.post("/Insert/DebtorOrderClient", json={"Account": "1001"})
        assert made.status_code == 200, made.text
        assert made.json()["OrderNumber"] == 5004
