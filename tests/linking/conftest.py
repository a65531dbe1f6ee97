"""Fixtures of the linking tests: hand-written worlds served by both simulators and staged by the real nightly
sync (``run_once``), on SQLite and PostgreSQL; and a direct staging helper for the tests that only read."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tlsync.staging import entities
from tlsync.staging.loader import StagingLoader

COMPANY, LE = 10001, 1
HOSTILE = ('<script>alert("x")</script> O\'Brien & "Søn" ' + "😀" * 3 + " =cmd|' /C calc'!A0 ").ljust(300, "x")


def valid_cvr(i: int) -> str:
    """The ``i``-th valid Danish CVR number from 10000000 on (modulus-11 check, as python-stdnum checks it)."""
    from stdnum.dk import cvr

    base = 10000000 + i * 97
    while not cvr.is_valid(str(base)):
        base += 1
    return str(base)


def customer(cid: int, name: str, no: str | None = None, **kw: Any) -> dict:
    return {"ID": cid, "Name": name, "No": no if no is not None else str(cid), **kw}


def debtor(account: str, name: str, **kw: Any) -> dict:
    return {"Account": account, "Name": name, **kw}


def fixture(customers: list[dict], debtors: list[dict]) -> dict:
    """A minimal document for both simulators: one legal entity ↔ one company (rule S2)."""
    return {"timelog": {"LegalEntities": [{"ID": LE, "Name": "Nordlys A/S"}], "Customers": customers},
            "uniconta": {"companies": [{"CompanyId": COMPANY, "Name": "Nordlys A/S", "DebtorClient": debtors}]}}


def stage(engine, customers: list[dict] = (), debtors: list[dict] = (), company: int = COMPANY) -> None:
    """Stage payloads directly (the loader the nightly sync uses), for tests that never call an API."""
    loader = StagingLoader(engine)
    loader.load(entities.get("timelog.customers"), "SIMSITE", "test", list(customers))
    loader.load(entities.get("uniconta.debtors"), str(company), "test", list(debtors))


@dataclass
class World:
    engine: Any
    timelog: dict
    uniconta: dict
    timelog_url: str
    uniconta_url: str

    def calls(self) -> int:
        """API calls both simulators have answered so far (reads and writes)."""
        return sum(httpx.get(f"{u}/_sim/counters").json()["by_surface"].get("total", 0)
                   for u in (self.timelog_url, self.uniconta_url))

    def timelog_customers(self) -> list[dict]:
        return httpx.get(f"{self.timelog_url}/_sim/state").json()["timelog"]["Customers"]

    def debtors(self) -> list[dict]:
        state = httpx.get(f"{self.uniconta_url}/_sim/state").json()["uniconta"]
        return next(c for c in state["companies"] if c["CompanyId"] == COMPANY).get("DebtorClient", [])

    def sync(self, run_id: str = "run-1") -> str:
        from tlsync.nightly.local import run_once

        return run_once(self.timelog, self.uniconta, {str(LE): COMPANY}, run_id)

    def targets(self):
        from tlsync.linking import Targets

        return Targets(self.timelog, self.uniconta, COMPANY)

    def linker(self, **kw):
        from tlsync.linking import Linker

        return Linker(self.engine, LE, COMPANY, targets=self.targets(), **kw)


@pytest.fixture
def world(db_url, use_staging):
    """``world(fixture_doc)`` → a :class:`World`: both simulators serving the document, staged once by the nightly
    sync into a fresh staging DB (SQLite and PostgreSQL), suggestions computed."""
    import simulators.timelog as timelog_sim
    import simulators.uniconta as uniconta_sim
    from simulators._common import serve_in_thread
    from tlsync.matching.refresh import refresh_suggestions
    engine = use_staging(db_url)
    stack = []

    def make(doc: dict, *, sync: bool = True) -> World:
        """``sync=False`` stages the document's records directly (faster; for tests of the actions, where the
        end-to-end path is not what is tested)."""
        tl_cm = serve_in_thread(timelog_sim.create_app(doc))
        uc_cm = serve_in_thread(uniconta_sim.create_app(doc))
        tl, uc = tl_cm.__enter__(), uc_cm.__enter__()
        stack.extend([tl_cm, uc_cm])
        w = World(engine,
                  {"conn_id": "timelog_default", "host": f"{tl}/tlsim", "login": "integration",
                   "password": "integration-pw",
                   "extra": {"reporting_site_code": "SIMSITE", "reporting_api_id": "apiuser",
                             "reporting_api_password": "apipass", "rest_token": "sim-pat-token"}},
                  {"conn_id": "uniconta_default", "host": uc, "login": "integration", "password": "uniconta-pw",
                   "extra": {}}, tl, uc)
        if sync:
            w.sync()
        else:
            stage(w.engine, doc["timelog"]["Customers"], doc["uniconta"]["companies"][0]["DebtorClient"])
        refresh_suggestions(w.engine, [COMPANY])
        return w

    yield make
    for cm in reversed(stack):
        cm.__exit__(None, None, None)


@contextmanager
def no_calls(world: World):
    """Assert the block makes no API call at all (so certainly no write)."""
    before = world.calls()
    yield
    assert world.calls() == before, "an action already in place must not call either API"


def confirmed_settings(company: int | None = COMPANY, *, confirmed: bool = True, project_category: str | None = None):
    """Settings of legal entity 1 with everything an invoice transfer needs (S1, S4, S8) — S5 is only required
    where the company has Uniconta's project module, which these small worlds do not."""
    from datetime import datetime

    from tlsync.settings import IntegrationSettings

    activation = ({"configuration_complete": True, "customers_linked": True, "item_numbers_imported": True,
                   "confirmed_by": "admin", "confirmed_at": datetime(2026, 11, 1, 9, 0)} if confirmed else {})
    return IntegrationSettings.model_validate({"legal_entities": {LE: {
        "uniconta_company_id": company, "invoice_project_category": project_category,
        "debtor_defaults": {"debtor_group": "DK", "payment_terms": "N30", "layout_group": "Standard"},
        "activation": activation}}})


def twins(n: int, start: int = 1) -> tuple[list[dict], list[dict]]:
    """``n`` TimeLog customers and their Uniconta twins with equal mapped fields (same CVR, name, phone, city):
    the matching puts each under One suggestion, and linking either way has nothing to write."""
    customers, debtors = [], []
    for i in range(start, start + n):
        cvr = valid_cvr(i)
        name = f"Firma {i:04d} ApS"
        phone = f"+45{30000000 + i:08d}"[:11]
        customers.append(customer(i, name, str(500 + i), VATNo=cvr, Phone=phone, City="Aarhus C"))
        debtors.append(debtor(str(20000 + i), name, CompanyRegNo=cvr, Phone=phone, City="Aarhus C"))
    return customers, debtors
