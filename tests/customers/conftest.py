"""Fixtures of the customer-sync tests: both simulators with the generator's S data (served once per session and
reset before each test), a staging step that reads the entities the customer sync needs through the real clients
into the real staging database (SQLite and PostgreSQL, via ``engine``) — the nightly sync's staging in miniature,
so the tests stay fast — and the settings of legal entity 1 ↔ company 10001."""

from __future__ import annotations

import itertools

import httpx
import pytest

from simulators._common import serve_in_thread
from simulators.generator import FIXED_TODAY
from tlsync import connections
from tlsync.clients.timelog.rest import RestClient, RestSettings
from tlsync.ledger import Ledger
from tlsync.nightly import sources
from tlsync.settings.models import CustomerMaster, DebtorDefaults, LegalEntitySettings
from tlsync.staging import entities
from tlsync.staging.loader import StagingLoader

COMPANY = 10001
SITE = "SIMSITE"
DEFAULTS = DebtorDefaults(debtor_group="OFF", payment_terms="LM30", layout_group="OIOUBL")  # not the sim defaults
_runs = itertools.count(1)


@pytest.fixture(scope="session")
def served():
    import simulators.timelog as timelog_sim
    import simulators.uniconta as uniconta_sim

    with serve_in_thread(timelog_sim.create_app(size="S", seed=42, today=FIXED_TODAY)) as tl, \
            serve_in_thread(uniconta_sim.create_app(size="S", seed=42, today=FIXED_TODAY)) as uc:
        yield tl, uc


@pytest.fixture
def sims(served):
    """The served simulators back at their start state, counters zeroed, and the connection fields."""
    tl, uc = served
    for base in (tl, uc):
        httpx.post(f"{base}/_sim/reset").raise_for_status()
        httpx.post(f"{base}/_sim/counters/reset").raise_for_status()
    return {
        "timelog_url": tl, "uniconta_url": uc,
        "timelog": {"conn_id": "timelog_default", "host": f"{tl}/tlsim", "login": "integration",
                    "password": "integration-pw",
                    "extra": {"reporting_site_code": SITE, "reporting_api_id": "apiuser",
                              "reporting_api_password": "apipass", "rest_token": "sim-pat-token"}},
        "uniconta": {"conn_id": "uniconta_default", "host": uc, "login": "integration", "password": "uniconta-pw",
                     "extra": {}},
    }


def stage(engine, sims, companies=(COMPANY,)) -> str:
    """Stage what the customer sync reads (TimeLog customers, contacts, employees; each company's debtors and
    employees) from the simulators' current state, through the product's clients and staging loader."""
    run_id = f"test-run-{next(_runs)}"
    loader = StagingLoader(engine)
    with sources.timelog_source(**sims["timelog"]) as source:
        for name in ("customers", "contacts", "employees"):
            spec = entities.get(f"timelog.{name}")
            loader.load(spec, SITE, run_id, [x.raw for x in source.records(spec)])
    for company in companies:
        with sources.uniconta_source(company_id=company, **sims["uniconta"]) as source:
            for name in ("debtors", "employees"):
                spec = entities.get(f"uniconta.{name}")
                loader.load(spec, str(company), run_id, [x.raw for x in source.records(spec)])
    return run_id


def counters(base: str) -> dict[str, int]:
    return httpx.get(f"{base}/_sim/counters").json()["by_surface"]


def reset_counters(*bases: str) -> None:
    for base in bases:
        httpx.post(f"{base}/_sim/counters/reset").raise_for_status()


def settings(mode: str = "manual", **kw) -> LegalEntitySettings:
    return LegalEntitySettings(legal_entity_id=1, uniconta_company_id=COMPANY, customer_master=CustomerMaster(mode),
                               debtor_defaults=DEFAULTS, **kw)


@pytest.fixture
def uniconta(sims):
    with connections.uniconta_client(company_id=COMPANY, **sims["uniconta"]) as client:
        yield client


@pytest.fixture
def rest(sims):
    with RestClient(RestSettings(base_url=sims["timelog"]["host"], token="sim-pat-token")) as client:
        yield client


@pytest.fixture
def ledger(engine):
    return Ledger(engine, run_id="test", actor="pytest")
