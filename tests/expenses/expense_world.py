"""The expense-import tests' world: both simulators serving a hand-written fixture whose right answers are
known exactly, the data staged through the product's own extraction and loader (SQLite and PostgreSQL), and a
REST client on TimeLog.

The Uniconta company 10001 (currency DKK) has supplier postings (``DCType`` Creditor) on the expense accounts
2220 (hotel: one TimeLog type), 2250 (two TimeLog types carry it), 2230 (only an inactive type carries it), plus
postings the import must leave alone (another account, a debtor posting). TimeLog legal entity 1 has projects
P-101 and P-102; P-201 belongs to legal entity 2.
"""

from __future__ import annotations

import copy
from datetime import datetime
from decimal import Decimal

import httpx

from tlsync.clients.timelog import RestClient, RestSettings
from tlsync.ledger import Ledger
from tlsync.nightly import sources
from tlsync.settings.models import LegalEntitySettings
from tlsync.staging.entities import get
from tlsync.staging.loader import StagingLoader

TIMELOG = {
    "LegalEntities": [{"ID": 1, "Name": "Sim A/S", "CurrencyISO": "DKK"},
                      {"ID": 2, "Name": "Sim B ApS", "CurrencyISO": "DKK"}],
    "Customers": [{"ID": 1, "Name": "Kunde A/S", "No": "K1"}],
    "Projects": [
        {"ID": 101, "No": "P-101", "Name": "Website", "CustomerID": 1, "LegalEntityID": 1},
        {"ID": 102, "No": "P-102", "Name": "Drift", "CustomerID": 1, "LegalEntityID": 1},
        {"ID": 201, "No": "P-201", "Name": "Andet selskab", "CustomerID": 1, "LegalEntityID": 2},
    ],
    "ExpenseTypes": [
        {"ExpenseTypeID": 1, "ExpenseTypeName": "Hotel", "AccountNo": "2220", "IsActive": True, "ProductNo": "HOTEL"},
        {"ExpenseTypeID": 4, "ExpenseTypeName": "Taxi", "AccountNo": "2250", "IsActive": True},
        {"ExpenseTypeID": 9, "ExpenseTypeName": "Parkering", "AccountNo": "2250", "IsActive": True},
        {"ExpenseTypeID": 8, "ExpenseTypeName": "Telefon (udgået)", "AccountNo": "2230", "IsActive": False},
        {"ExpenseTypeID": 6, "ExpenseTypeName": "Softwarelicens", "AccountNo": "", "IsActive": True},
    ],
}


def gl(row_id: int, day: str, account: str, amount: str, vat: str, project: str = "", *, invoice: int,
       creditor: str = "50001", name: str = "Hotel Kongensgaard A/S", **extra) -> dict:
    a = Decimal(amount)
    return {"RowId": row_id, "Date": day, "DocumentDate": day, "Account": account, "Voucher": 20000 + row_id,
            "VoucherLine": 1, "Text": f"Bilag {row_id}", "Amount": a, "Debit": max(a, Decimal(0)),
            "Credit": max(-a, Decimal(0)), "AmountVat": Decimal(vat), "Vat": "I25", "Currency": "",
            "DCType": "Creditor", "DCAccount": creditor, "DCName": name, "Invoice": invoice, "Project": project,
            "JournalPostedComment": f"Kreditorfaktura {invoice}", **extra}


GL = [
    gl(1, "2026-03-02", "2220", "1000.00", "250.00", "P-101", invoice=111),             # imports: Hotel on P-101
    gl(2, "2026-03-03", "2250", "200.00", "50.00", "P-101", invoice=112,
       creditor="50005", name="Byens Taxa ApS"),                                           # several types
    gl(3, "2026-03-04", "2230", "900.00", "225.00", "P-102", invoice=113,
       creditor="50007", name="Cloudline Software ApS"),                                   # no (active) type
    gl(4, "2026-03-05", "2220", "800.00", "200.00", "P-999", invoice=114),              # unknown project
    gl(5, "2026-03-06", "2220", "700.00", "175.00", "P-201", invoice=115),              # other legal entity's
    gl(6, "2026-03-07", "2220", "600.00", "150.00", "", invoice=116),                   # no project
    gl(7, "2026-03-08", "2220", "333.33", "83.33", "P-102", invoice=117,
       DocumentDate="2026-03-01", JournalPostedComment=""),                                # øre; comment from Text
    gl(8, "2026-03-09", "2220", "500.00", "125.00", "P-101", invoice=118),              # reversed before import
    gl(9, "2026-03-12", "2220", "-500.00", "-125.00", "P-101", invoice=118, Correction=True,
       JournalPostedComment="Tilbageførsel af bilag 20008"),
    gl(10, "2026-03-10", "2220", "1490.25", "372.56", "P-102", invoice=119, Currency="EUR",
       AmountCur=Decimal("200.00"), creditor="50008", name="DevTools Ltd"),               # foreign supplier
    gl(11, "2026-03-11", "1010", "100.00", "25.00", "P-101", invoice=120),              # not an S6 account
    gl(12, "2026-03-11", "2220", "100.00", "25.00", "P-101", invoice=121, DCType="Debtor"),  # not a supplier
]

UNICONTA = {"companies": [{"CompanyId": 10001, "Name": "Sim A/S", "Currency": "DKK", "ProjectModule": True,
                           "GLTransClient": GL}]}

REVERSAL_OF_1 = gl(13, "2026-03-20", "2220", "-1000.00", "-250.00", "P-101", invoice=111, Correction=True,
                   JournalPostedComment="Tilbageførsel af bilag 20001")


class ExpenseWorld:
    def __init__(self, engine, tl_url: str, uc_url: str) -> None:
        self.engine, self.tl, self.uc = engine, tl_url, uc_url
        self.le = LegalEntitySettings(legal_entity_id=1, uniconta_company_id=10001,
                                      expense_gl_accounts=["2220", "2230", "2250"])
        self.rest = RestClient(RestSettings(base_url=f"{tl_url}/tlsim", token="sim-pat-token"))
        self.ledger = Ledger(engine, run_id="test")
        self.runs = 0
        self.timelog_fields = {"conn_id": "timelog_default", "host": f"{tl_url}/tlsim", "login": "integration",
                               "password": "integration-pw",
                               "extra": {"reporting_site_code": "SIMSITE", "reporting_api_id": "apiuser",
                                         "reporting_api_password": "apipass", "rest_token": "sim-pat-token"}}
        self.uniconta_fields = {"conn_id": "uniconta_default", "host": uc_url, "login": "integration",
                                "password": "uniconta-pw", "extra": {}}
        self.stage()

    def stage(self) -> None:
        """Read the entities the import needs from both simulators and stage them, as the nightly sync does."""
        self.runs += 1
        loader = StagingLoader(self.engine)
        at = datetime(2026, 4, 1, 0, 0, self.runs)
        with sources.timelog_source(**self.timelog_fields) as source:
            for name in ("projects", "expense_types"):
                spec = get(f"timelog.{name}")
                loader.load(spec, "SIMSITE", f"run-{self.runs}", [e.raw for e in source.records(spec)], staged_at=at)
        with sources.uniconta_source(company_id=10001, **self.uniconta_fields) as source:
            for name in ("companies", "gl_transactions"):
                spec = get(f"uniconta.{name}")
                loader.load(spec, "10001", f"run-{self.runs}", [e.raw for e in source.records(spec)], staged_at=at)

    def add_postings(self, *rows: dict) -> None:
        doc = copy.deepcopy(UNICONTA)
        doc["companies"][0]["GLTransClient"] = GL + list(rows)
        httpx.post(f"{self.uc}/_sim/fixture", json=_jsonable({"uniconta": doc})).raise_for_status()
        self.stage()

    def set_expense_types(self, types: list[dict]) -> None:
        doc = httpx.get(f"{self.tl}/_sim/state").json()
        doc["timelog"]["ExpenseTypes"] = types
        httpx.post(f"{self.tl}/_sim/fixture", json=doc).raise_for_status()
        self.stage()

    def rest_calls(self) -> int:
        return httpx.get(f"{self.tl}/_sim/counters").json()["by_surface"].get("rest", 0)

    def expenses(self) -> list[dict]:
        """The project expenses TimeLog holds (its state, as the Reporting API would serve them)."""
        return httpx.get(f"{self.tl}/_sim/state").json()["timelog"].get("Expenses", [])


def _jsonable(v):
    if isinstance(v, Decimal):
        return float(v) if v != v.to_integral_value() else int(v)
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    return v
