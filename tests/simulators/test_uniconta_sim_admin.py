"""Uniconta simulator admin surface: post drafts (with a line edit), touch, dump/load round-trip, reset."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from simulators._common import serve_in_thread
from simulators.generator import FIXED_TODAY
from simulators.uniconta import create_app

AUTH = ("0010001/integration", "uniconta-pw")


def _fixture() -> dict:
    return {"uniconta": {"companies": [{
        "CompanyId": 10001, "Name": "Alpha A/S", "ProjectModule": True, "_Note": "metadata survives",
        "GLVatClient": [{"Vat": "U25", "Rate": 25}, {"Vat": "U0", "Rate": 0}],
        "PaymentTermClient": [{"Payment": "N14", "Days": 14}, {"Payment": "LM30", "Days": 30, "EndOfMonth": True}],
        "DebtorClient": [
            {"Account": "1001", "Name": "Dansk Kunde A/S", "Payment": "N14", "Vat": "U25"},
            {"Account": "1002", "Name": "Deutsche Kunde GmbH", "VatZone": "EU", "Currency": "EUR", "Payment": "LM30"},
        ],
        "PrCategoryClient": [{"Number": "SALG"}],
        "ProjectGroupClient": [{"Group": "STD"}],
        "ProjectClient": [{"Number": "P-1", "Group": "STD", "Account": "1001"}],
        "DebtorOrderClient": [
            {"OrderNumber": 11, "Account": "1001", "InvoiceDate": "2024-05-31", "YourRef": "TL-9001",
             "_LastModifiedAt": "2024-05-31T10:00:00"},
            {"OrderNumber": 12, "Account": "1002", "InvoiceDate": "2024-06-10", "Currency": "EUR",
             "ExchangeRate": 7.46},
            {"OrderNumber": 13, "Account": "1001"},                        # no lines
            {"OrderNumber": 14, "Account": "1001", "Project": "P-1"},      # project without category
        ],
        "DebtorOrderLineClient": [
            {"OrderNumber": 11, "LineNumber": 1, "Item": "TIME", "Text": "Konsulent", "Qty": 7.5, "Price": 950},
            {"OrderNumber": 11, "LineNumber": 2, "Text": "Kørsel", "Qty": 3, "Price": 33.33, "DiscountPct": 10},
            {"OrderNumber": 12, "LineNumber": 1, "Text": "Beratung", "Qty": -2, "Price": 120},
            {"OrderNumber": 14, "LineNumber": 1, "Text": "Projekt", "Qty": 1, "Price": 10},
        ],
    }]}}


@pytest.fixture
def base():
    with serve_in_thread(create_app(_fixture())) as url:
        yield url


def test_post_drafts_with_line_edit_creates_a_real_difference(base):
    odata = httpx.Client(base_url=f"{base}/odata/10001", auth=AUTH)
    draft_lines = odata.get("/DebtorOrderLineClient", params={"$filter": "OrderNumber eq 11"}).json()["value"]
    assert [ln["Total"] for ln in draft_lines] == [7125.0, 89.99]

    r = httpx.post(f"{base}/_sim/companies/10001/post-drafts",
                   json={"edit_line": {"order": 11, "line": 1, "changes": {"Price": 1000}}})
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["edited"] == {"OrderNumber": 11, "LineNumber": 1, "before": {"Price": 950.0},
                                "after": {"Price": 1000.0}}
    assert [p["invoice"]["OrderNumber"] for p in result["posted"]] == [11, 12]
    assert {s["OrderNumber"]: s["code"] for s in result["skipped"]} == {13: "NoLinesFound", 14: "FieldCannotBeBlank"}

    inv = result["posted"][0]["invoice"]
    # 7.5 × 1000 = 7500.00 ; 3 × 33.33 × 0.9 = 89.991 → 89.99 ; VAT 25 % per line
    assert Decimal(str(inv["NetAmount"])) == Decimal("7589.99")
    assert Decimal(str(inv["VatAmount"])) == Decimal("1897.50")   # 1875.00 + 22.50 (22.4975 → 22.50)
    assert Decimal(str(inv["TotalAmount"])) == Decimal("9487.49")
    assert inv["Date"] == "2024-05-31" and inv["DueDate"] == "2024-06-14" and inv["YourRef"] == "TL-9001"
    assert "_LastModifiedAt" not in inv
    credit = result["posted"][1]["invoice"]  # EU debtor: no VAT; foreign currency converted for the local amount
    assert credit["TotalAmount"] == -240.0 and credit["VatAmount"] == 0.0 and credit["Currency"] == "EUR"
    assert credit["AmountLocalCur"] == -1790.4 and credit["DueDate"] == "2024-07-30"
    assert credit["InvoiceNumber"] == inv["InvoiceNumber"] + 1

    # what the API now shows: posted invoices + lines; the drafts are gone (except the refused ones)
    invoices = odata.get("/DebtorInvoiceClient", params={"$orderby": "InvoiceNumber"}).json()["value"]
    assert [i["OrderNumber"] for i in invoices] == [11, 12]
    lines = odata.get("/DebtorInvoiceLines", params={"$filter": f"InvoiceNumber eq {inv['InvoiceNumber']}"}).json()
    assert [(ln["SalesPrice"], ln["InvoiceNetAmount"]) for ln in lines["value"]] == [(1000.0, 7500.0), (33.33, 89.99)]
    assert sum(Decimal(str(ln["SalesPrice"])) != Decimal(str(d["Price"]))
               for ln, d in zip(lines["value"], draft_lines)) == 1
    remaining = odata.get("/DebtorOrderClient").json()["value"]
    assert [o["OrderNumber"] for o in remaining] == [13, 14]


def test_post_drafts_random_edit_is_seeded(base):
    state = httpx.get(f"{base}/_sim/state").json()
    a = httpx.post(f"{base}/_sim/companies/10001/post-drafts", json={"edit_random_line": {"seed": 3}}).json()
    httpx.post(f"{base}/_sim/fixture", json=state)
    b = httpx.post(f"{base}/_sim/companies/10001/post-drafts", json={"edit_random_line": {"seed": 3}}).json()
    assert a["edited"] == b["edited"] and a["edited"]["before"] != a["edited"]["after"]
    assert a["posted"] == b["posted"]


def test_dump_load_round_trip(base):
    api = httpx.Client(base_url=f"{base}/api/Entities", auth=AUTH)
    api.post("/Insert/DebtorClient", json={"Account": "3003", "Name": "Æblegård ApS", "CreditMax": 12.5})
    dump1 = httpx.get(f"{base}/_sim/state").json()
    assert "Password" not in json.dumps(dump1)
    company = dump1["uniconta"]["companies"][0]
    assert company["_Note"] == "metadata survives"
    assert company["DebtorOrderClient"][0]["_LastModifiedAt"] == "2024-05-31T10:00:00"
    httpx.post(f"{base}/_sim/touch", json={"company": 10001, "class": "DebtorClient", "keys": ["3003"],
                                           "changes": {"Name": "changed"}})
    assert httpx.post(f"{base}/_sim/fixture", json=dump1).status_code == 200
    dump2 = httpx.get(f"{base}/_sim/state").json()
    assert dump2 == dump1
    # the reloaded state serves the same rows and keeps numbering after the highest RowId
    row = api.post("/Insert/DebtorClient", json={"Account": "3004"}).json()
    assert row["RowId"] == max(d["RowId"] for d in company["DebtorClient"]) + 1
    secret = httpx.get(f"{base}/_sim/state", params={"include_secrets": "true"}).json()
    assert secret["uniconta"]["users"][0]["Password"] == "uniconta-pw"


def test_touch_and_reset(base):
    r = httpx.post(f"{base}/_sim/touch", json={"company": 10001, "class": "DebtorClient",
                                               "filter": "Account eq '1002'", "changes": {"Phone": "+49 30 1234"}})
    assert [t["Phone"] for t in r.json()["touched"]] == ["+49 30 1234"]
    r = httpx.post(f"{base}/_sim/touch", json={"company": 10001, "class": "DebtorClient", "count": 1, "seed": 5})
    (touched,) = r.json()["touched"]
    assert touched["Name"].endswith("(rettet)")
    r = httpx.post(f"{base}/_sim/touch", json={"company": 10001, "class": "DebtorOrderLineClient",
                                               "keys": [[11, 1]], "changes": {"Qty": 8}})
    assert r.json()["touched"][0]["Total"] == 7600.0 and "UpdatedAt" in r.json()["touched"][0]
    assert httpx.post(f"{base}/_sim/reset").status_code == 200
    names = [d["Name"] for d in httpx.get(f"{base}/odata/10001/DebtorClient", auth=AUTH).json()["value"]]
    assert names == ["Dansk Kunde A/S", "Deutsche Kunde GmbH"]


def test_generated_data_serves_and_round_trips():
    pytest.importorskip("simulators.generator")
    with serve_in_thread(create_app(size="S", seed=42, page_size=50, today=FIXED_TODAY)) as url:
        auth = ("integration", "uniconta-pw")
        companies = httpx.get(f"{url}/api/Entities/CompanyClient", auth=auth).json()
        assert [c["PrimaryKeyId"] for c in companies] == [10001, 10002]
        for c in companies:
            r = httpx.get(f"{url}/odata/{c['PrimaryKeyId']}/DebtorClient", auth=auth)
            assert r.status_code == 200 and r.json()["value"]
            r = httpx.get(f"{url}/odata/{c['PrimaryKeyId']}/ProjectClient", auth=auth)
            assert r.status_code == (200 if c["Project"] else 403)
        state = httpx.get(f"{url}/_sim/state").json()
        httpx.post(f"{url}/_sim/fixture", json=state)
        assert httpx.get(f"{url}/_sim/state").json() == state
        secret = httpx.get(f"{url}/_sim/state", params={"include_secrets": "1"}).json()
        from simulators.generator import generate

        users = generate(size="S", seed=42, today=FIXED_TODAY)["uniconta"]["users"]
        expected = {u["UserName"]: u["Password"] for u in users}
        assert {u["UserName"]: u["Password"] for u in secret["uniconta"]["users"]} == expected
