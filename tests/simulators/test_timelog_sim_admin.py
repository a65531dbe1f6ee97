"""Contract tests: the TimeLog simulator's admin surface, fault injection, counters and CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from lxml import etree

from simulators._common import FaultConfig, free_port, serve_in_thread
from simulators.generator import FIXED_TODAY
from simulators.timelog import create_app
from simulators.timelog.sample import REPORTING_ALL, sample_fixture

T = "{http://www.timelog.com/XML/Schema/tlp/v4_4}"
CRED = {"siteCode": "SIMSITE", "apiID": "apiuser", "apiPassword": "apipass"}
CUSTOMERS = {**CRED, "customerID": 0, "customerStatusID": -1, "accountManagerID": 0}
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def c(timelog_sim):
    return timelog_sim


def customers(c: httpx.Client, **params) -> etree._Element:
    return etree.fromstring(c.get("/tlsim/service.asmx/GetCustomersRaw", params={**CUSTOMERS, **params}).content)


def test_dump_load_round_trip_without_secrets(c):
    dump1 = c.get("/_sim/state")
    assert dump1.status_code == 200
    doc = json.loads(dump1.content, parse_float=Decimal)
    tl = doc["timelog"]
    assert {"Customers", "Invoices", "InvoiceLines", "Products", "ExpenseTypes", "auth"} <= set(tl)
    assert len(tl["Customers"]) == 12 and len(tl["InvoiceLines"]) == 6
    text = dump1.text
    for secret in ("apipass", "integration-pw", "sim-pat-token"):
        assert secret not in text
    assert c.post("/_sim/fixture", content=dump1.content).status_code == 200
    dump2 = json.loads(c.get("/_sim/state").content, parse_float=Decimal)
    assert dump2 == doc
    # secrets survived the load of a redacted dump
    assert len(customers(c)) == 12
    assert httpx.get(f"{c.base_url}/tlsim/api/v1/currency/1", headers={"Authorization": "Bearer sim-pat-token"}).status_code == 200


def test_load_replaces_state_and_reset_restores_seed(c):
    fx = {"timelog": {"Customers": [{"ID": 5, "Name": "Eneste Kunde A/S"}],
                      "auth": {"ApiPassword": "other-pass"}}}
    assert c.post("/_sim/fixture", json=fx).json()["loaded"]["Customers"] == 1
    root = customers(c)
    assert root.tag == T + "Errors"  # password changed by the fixture
    root = customers(c, apiPassword="other-pass")
    assert [e.findtext(T + "Name") for e in root] == ["Eneste Kunde A/S"]
    assert c.post("/_sim/reset").status_code == 200
    assert len(customers(c)) == 12


def test_touch_bumps_modification_and_applies_changes(c):
    c.put("/_sim/clock", json={"now": "2025-03-01T08:30:00"})
    r = c.post("/_sim/touch", json={"collection": "Customers", "ids": [3], "changes": {"Phone": "+45 11 22 33 44"}})
    assert r.status_code == 200 and r.json() == {"touched": 1, "at": "2025-03-01T08:30:00"}
    (cust,) = customers(c, customerID=3)
    assert cust.findtext(T + "Phone") == "+45 11 22 33 44"
    assert cust.findtext(T + "LastModifiedAt") == "2025-03-01T08:30:00"
    state = json.loads(c.get("/_sim/state").content)
    inv = next(i for i in state["timelog"]["Invoices"] if i["ID"] == 100)
    assert inv["_LastModifiedAt"] == "2024-01-15T10:00:00"
    r = c.post("/_sim/touch", json={"collection": "Invoices", "ids": [100], "at": "2025-03-02T00:00:00"})
    assert r.status_code == 200
    state = json.loads(c.get("/_sim/state").content)
    assert next(i for i in state["timelog"]["Invoices"] if i["ID"] == 100)["_LastModifiedAt"] == "2025-03-02T00:00:00"
    assert c.post("/_sim/touch", json={"collection": "Customers", "ids": [999]}).status_code == 404
    assert c.post("/_sim/touch", json={"collection": "Nope", "ids": [1]}).status_code == 404


def test_fault_injection_429_with_retry_after_and_counters(c):
    cfg = c.put("/_sim/faults", json={"rate_429": 1.0, "retry_after": 3, "seed": 7})
    assert cfg.status_code == 200
    for path in ("/tlsim/service.asmx/GetTaskTypesShortList", "/tlsim/api/v1/product"):
        r = c.get(path, params=CRED)
        assert r.status_code == 429 and r.headers["retry-after"] == "3"
    assert c.get("/_sim/state").status_code == 200  # admin never faulted
    counters = c.get("/_sim/counters").json()
    assert counters["faults"]["429"] == 2
    c.put("/_sim/faults", json={})
    assert c.get("/tlsim/service.asmx/GetTaskTypesShortList", params=CRED).status_code == 200
    counters = c.get("/_sim/counters").json()
    assert counters["by_surface"]["reporting"] == 1 and counters["by_user"]["reporting:apiuser"] == 1


def test_seeded_faults_from_create_app_and_truncation():
    app = create_app(sample_fixture(), faults=FaultConfig(rate_429=1.0, retry_after=2))
    with serve_in_thread(app) as url:
        r = httpx.get(f"{url}/tlsim/service.asmx/GetTaskTypesShortList", params=CRED)
        assert r.status_code == 429 and r.headers["Retry-After"] == "2"
        httpx.put(f"{url}/_sim/faults", json={"rate_truncated": 1.0})
        r = httpx.get(f"{url}/tlsim/service.asmx/GetCustomersRaw", params=CUSTOMERS)
        with pytest.raises(etree.XMLSyntaxError):
            etree.fromstring(r.content)
        assert httpx.get(f"{url}/_sim/counters").json()["faults"] == {"429": 1, "truncated": 1}


def test_clock_and_info(c):
    assert c.put("/_sim/clock", json={"now": "2030-01-01T00:00:00"}).json()["now"] == "2030-01-01T00:00:00"
    info = c.get("/_sim/info").json()
    assert info["site"] == "tlsim" and info["counts"]["WorkUnits"] == 25
    assert c.put("/_sim/config", json={"token_ttl_seconds": 60}).json() == {"token_ttl_seconds": 60.0}
    c.put("/_sim/config", json={"token_ttl_seconds": 43200})


def test_minimal_fixture_gets_defaults():
    app = create_app({"timelog": {"Customers": [{"Name": "Uden ID ApS"}],
                                  "Invoices": [{"ID": 1, "CustomerID": 1, "InvoiceDate": "2024-05-01"}],
                                  "InvoiceLines": [{"InvoiceID": 1, "Quantity": 2, "Rate": 100.5}]}})
    store = app.store
    assert store.get("Customers", 1)["GUID"]
    inv = store.get("Invoices", 1)
    assert (inv["NetAmount"], inv["VATIncluded"], inv["Amount"], inv["CustomerName"]) == \
        (Decimal("201.0000"), Decimal("50.2500"), Decimal("251.2500"), "Uden ID ApS")
    assert [le["Name"] for le in store.data["LegalEntities"]] == ["TimeLog Sim A/S"]
    assert {c["CurrencyABB"] for c in store.data["Currencies"]} >= {"DKK", "EUR", "SEK"}


def test_cli_serves_a_fixture_file(tmp_path):
    fx = tmp_path / "fx.json"
    fx.write_text(json.dumps({"timelog": {"Customers": [{"ID": 1, "Name": "CLI Kunde"}]}}))
    port = free_port()
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'include'}"}
    proc = subprocess.Popen([sys.executable, "-m", "simulators.timelog", "--port", str(port), "--fixture", str(fx),
                             "--fault-rate-429", "0"], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/tlsim/service.asmx/GetCustomersRaw", params=CUSTOMERS, timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline, "CLI did not start"
                time.sleep(0.1)
        assert [e.findtext(T + "Name") for e in etree.fromstring(r.content)] == ["CLI Kunde"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_generated_size_s_serves_every_reporting_method_and_the_other_surfaces():
    pytest.importorskip("simulators.generator")
    app = create_app(size="S", seed=42, today=FIXED_TODAY)
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=30) as c:
        for method, (params, root_name, item_name) in REPORTING_ALL.items():
            root = etree.fromstring(c.get(f"/tlsim/service.asmx/{method}", params={**CRED, **params}).content)
            assert root.tag == T + root_name, method
            assert all(e.tag == T + item_name and e.get("ID") for e in root), method
        rest = c.get("/tlsim/api/v1/customer", headers={"Authorization": "Bearer sim-pat-token"}).json()
        assert len(rest["Entities"]) == 10 and int(rest["Properties"]["TotalRecord"]) > 10
        assert c.get("/_sim/state").status_code == 200
