"""Contract tests of the Uniconta simulator's OData feed, over real HTTP."""

from __future__ import annotations

import httpx
import pytest

from simulators._common import serve_in_thread
from simulators.uniconta import create_app
from simulators.uniconta.odata import ODataError, parse_filter

AUTH = ("0010001/integration", "uniconta-pw")


def _fixture() -> dict:
    debtors = [
        {"Account": f"{1000 + i}", "Name": f"Kunde {i:02d} ApS", "Phone": f"+45 {20000000 + i}",
         "Created": f"2024-{1 + i % 12:02d}-15T08:00:00", "CreditMax": float(i * 100), "Blocked": i % 5 == 0,
         "Group": "DK" if i % 2 else "EU"}
        for i in range(57)
    ]
    return {"timelog": {}, "uniconta": {
        "users": [{"UserName": "integration", "Password": "uniconta-pw", "Companies": [10001]}],
        "companies": [{"CompanyId": 10001, "Name": "Alpha A/S", "ProjectModule": True,
                       "DebtorClient": debtors, "DebtorGroupClient": [{"Group": "DK"}, {"Group": "EU"}]}],
    }}


@pytest.fixture(scope="module")
def client():
    app = create_app(_fixture(), page_size=10)
    with serve_in_thread(app) as base, httpx.Client(base_url=base, auth=AUTH, timeout=10) as c:
        yield c


def _all(client: httpx.Client, url: str, params: dict | None = None) -> tuple[list[dict], int]:
    r = client.get(url, params=params)
    assert r.status_code == 200, r.text
    rows, pages = [], 0
    while True:
        body = r.json()
        rows += body["value"]
        pages += 1
        link = body.get("@odata.nextLink")
        if not link:
            return rows, pages
        assert link.startswith("http://")  # absolute URL
        assert "$skip=" in link
        r = client.get(link)
        assert r.status_code == 200, r.text


def test_envelope_and_nextlink_paging_visits_every_row_once(client):
    r = client.get("/odata/10001/DebtorClient", headers={"Accept": "application/json"})
    body = r.json()
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert set(body) >= {"value", "@odata.nextLink"}
    assert len(body["value"]) == 10
    first = body["value"][0]
    assert first["Account"] == "1000" and isinstance(first["RowId"], int) and first["Blocked"] is True
    assert not any(k.startswith("_") for k in first)
    rows, pages = _all(client, "/odata/10001/DebtorClient")
    assert pages == 6
    assert len(rows) == 57 and len({r["RowId"] for r in rows}) == 57
    assert [r["RowId"] for r in rows] == sorted(r["RowId"] for r in rows)


def test_filter_operators(client):
    def accounts(flt: str) -> list[str]:
        rows, _ = _all(client, "/odata/10001/DebtorClient", {"$filter": flt})
        return [r["Account"] for r in rows]

    assert accounts("Account eq '1003'") == ["1003"]
    assert len(accounts("Account ne '1003'")) == 56
    assert accounts("Account gt '1054'") == ["1055", "1056"]
    assert accounts("Account ge '1055'") == ["1055", "1056"]
    assert accounts("Account lt '1002'") == ["1000", "1001"]
    assert accounts("Account le '1001'") == ["1000", "1001"]
    assert accounts("CreditMax ge 5500") == ["1055", "1056"]
    assert accounts("CreditMax lt 150.5") == ["1000", "1001"]
    assert accounts("Blocked eq true and Account lt '1011'") == ["1000", "1005", "1010"]
    assert accounts("Account eq '1001' or Account eq '1002' or Account eq '1040'") == ["1001", "1002", "1040"]
    assert accounts("(Account eq '1001' or Account eq '1002') and Group eq 'DK'") == ["1001"]
    assert accounts("not (Account lt '1055')") == ["1055", "1056"]
    assert accounts("startswith(Name, 'Kunde 5')") == [f"10{i}" for i in range(50, 57)]
    assert accounts("Name eq 'Kunde 07 ApS'") == ["1007"]


def test_datetime_literal_filter(client):
    flt = "Created ge datetime'2024-12-01T00:00:00' and Created le datetime'2024-12-31T23:59:59'"
    rows, _ = _all(client, "/odata/10001/DebtorClient", {"$filter": flt})
    assert [r["Account"] for r in rows] == ["1011", "1023", "1035", "1047"]
    rows, _ = _all(client, "/odata/10001/DebtorClient", {"$filter": "Created lt datetime'2024-01-16T00:00:00'"})
    assert [r["Account"] for r in rows] == ["1000", "1012", "1024", "1036", "1048"]


def test_orderby_top_skip_select(client):
    rows, _ = _all(client, "/odata/10001/DebtorClient", {"$orderby": "Group asc, CreditMax desc"})
    assert [r["Account"] for r in rows[:2]] == ["1055", "1053"]
    assert rows[28]["Group"] == "EU" and rows[28]["Account"] == "1056"
    rows, pages = _all(client, "/odata/10001/DebtorClient", {"$orderby": "Account desc", "$top": "25", "$skip": "3"})
    assert pages == 3 and len(rows) == 25
    assert rows[0]["Account"] == "1053" and rows[-1]["Account"] == "1029"
    body = client.get("/odata/10001/DebtorClient", params={"$top": "4", "$select": "Account,Name"}).json()
    assert "@odata.nextLink" not in body
    assert body["value"] == [{"Account": f"100{i}", "Name": f"Kunde 0{i} ApS"} for i in range(4)]
    body = client.get("/odata/10001/DebtorClient", params={"$skip": "100"}).json()
    assert body["value"] == [] and "@odata.nextLink" not in body


def test_bad_filter_is_400_with_odata_error(client):
    for bad in ("Account eq", "Account eq '1001' AND Name eq 'x'", "Account == '1'", "Account eq 'unterminated",
                "LegalIdent eq '12345678'", "Created ge datetime'2024-13-45T00:00:00'"):
        r = client.get("/odata/10001/DebtorClient", params={"$filter": bad})
        assert r.status_code == 400, bad
        err = r.json()["error"]
        assert err["code"] == "BadRequest" and err["message"], bad
    r = client.get("/odata/10001/DebtorClient", params={"$filter": "Name eq 'x'" + " or Name eq 'z'" * 41})
    assert r.status_code == 400 and "OR" in r.json()["error"]["message"]
    for param, value in (("$orderby", "Nope desc"), ("$top", "-1"), ("$skip", "x"), ("$expand", "Lines")):
        r = client.get("/odata/10001/DebtorClient", params={param: value})
        assert r.status_code == 400, param


def test_unknown_class_is_404(client):
    r = client.get("/odata/10001/DebtorClients")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "NotFound" and "DebtorClients" in r.json()["error"]["message"]


def test_service_document_lists_classes(client):
    body = client.get("/odata/10001").json()
    names = {e["name"] for e in body["value"]}
    assert {"DebtorClient", "DebtorOrderLineClient", "DebtorInvoiceLines", "CompanyClient"} <= names


def test_filter_parser_unit():
    known = {"Account", "Amount", "Date", "Name"}.__contains__
    f = parse_filter("Amount gt 10.5m and (Date ge 2024-01-01 or Name eq 'O''Neil')", known, "X")
    assert f.predicate({"Amount": 11.0, "Date": "2023-01-01", "Name": "O'Neil"})
    assert not f.predicate({"Amount": 10.5, "Date": "2024-02-01", "Name": "x"})
    assert parse_filter("Account eq '7'", known, "X").key_eq == {"Account": "7"}
    assert parse_filter("Name eq null", known, "X").predicate({})
    assert not parse_filter("Amount gt 1", known, "X").predicate({})
    with pytest.raises(ODataError, match="position"):
        parse_filter("Account eq '1' and", known, "X")
    with pytest.raises(ODataError, match="Could not find a property"):
        parse_filter("Acount eq '1'", known, "X")


def test_large_table_pages_in_a_stable_order_with_decimal_fixture():
    import json
    from decimal import Decimal

    rows = [{"Item": f"I{i:05d}", "Name": f"Vare {i % 97}", "SalesPrice1": i % 50 + 0.25} for i in range(12000)]
    doc = json.loads(json.dumps({"uniconta": {"companies": [{"CompanyId": 10001, "InvItemClient": rows}]}}),
                     parse_float=Decimal)
    with serve_in_thread(create_app(doc, page_size=1000)) as base, \
            httpx.Client(base_url=base, auth=("integration", "uniconta-pw"), timeout=10) as c:
        got, pages = _all(c, "/odata/10001/InvItemClient", {"$orderby": "Name,SalesPrice1 desc",
                                                             "$filter": "SalesPrice1 ge 10"})
        assert pages == 10 and len(got) == 9600 and len({r["Item"] for r in got}) == 9600
        keys = [(r["Name"], -r["SalesPrice1"], r["RowId"]) for r in got]
        assert keys == sorted(keys)
        assert got[0]["SalesPrice1"] == 49.25
