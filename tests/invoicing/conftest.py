"""Fixtures for the invoice transfer: both simulators with the generator's S data, a staging database filled by the
real nightly sync, settings for both legal entities, customer linking done (debtors whose account equals a TimeLog
customer number linked, every other debtor ignored), and clients pointed at the simulators.

Decision (CI time): the staged S world is built once per test session and database kind — a real nightly sync
(``run_once``) of fresh S simulators into a migrated database, then the linking — and every test gets its own copy
of that database and of its landing folder (``staged_copy`` in tests/conftest.py), next to its own fresh
simulators. The nightly only reads the simulators, so a fresh simulator is in the state the sync
left it in, but for the call counters and the Uniconta quota's usage (the tests compare those before and after
their own calls). The sync itself is proved by tests/nightly and tests/e2e; here it took ~20 s per test.
"""

from __future__ import annotations

import json
from datetime import datetime

import httpx
import pytest
from sqlalchemy import insert, select

from tests.conftest import served_simulators

PAIRS = {"1": 10001, "2": 10002}


def le_settings(le_id: int, **over):
    from tlsync.settings.models import LegalEntitySettings

    doc = {"legal_entity_id": le_id, "uniconta_company_id": 10000 + le_id, "customer_master": "manual",
           "debtor_defaults": {"debtor_group": "DK", "payment_terms": "N30", "layout_group": "Standard"},
           "invoice_project_category": "FAKT" if le_id == 1 else None,
           "project_group": "KUNDE" if le_id == 1 else None,
           "activation": {"configuration_complete": True, "customers_linked": True, "item_numbers_imported": True,
                          "confirmed_by": "admin", "confirmed_at": "2026-11-01T10:00:00"}}
    doc.update(over)
    return LegalEntitySettings.model_validate(doc)


def link_all(engine, le_id: int, company: int) -> None:
    """Customer linking as an administrator would finish it (L2 views empty)."""
    from tlsync.staging.tables import STAGING, customer_links

    customers = STAGING["timelog.customers"]
    debtors = STAGING["uniconta.debtors"]
    with engine.begin() as conn:
        by_no = {str(json.loads(p).get("No")): k for k, p in conn.execute(
            select(customers.c.natural_key, customers.c.payload))}
        accounts = list(conn.execute(select(debtors.c.natural_key).where(debtors.c.tenant == str(company))).scalars())
        now = datetime(2026, 11, 1)
        for acc in accounts:
            cid = by_no.get(acc)
            conn.execute(insert(customer_links).values(
                legal_entity_id=le_id, debtor_account=acc, company_id=str(company), customer_id=cid,
                state="linked" if cid else "ignored", action="timelog_wins" if cid else "ignored", run_id="test",
                actor="test", updated_at=now))


def _stage_s_world(url: str, out_dir) -> None:
    """The S world's staging database at ``url`` (empty): migrated, one nightly sync of fresh S simulators, the
    customers of both legal entities linked. Landing files go to ``out_dir``."""
    import simulators.timelog as timelog_sim
    import simulators.uniconta as uniconta_sim
    from simulators.generator import FIXED_TODAY
    from tlsync.nightly.local import run_once
    from tlsync.staging.engine import staging_engine
    from tlsync.staging.migrate import upgrade

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TLSYNC_STAGING_URL", url)
        mp.setenv("TLSYNC_OUT_DIR", str(out_dir))
        staging_engine.cache_clear()
        try:
            upgrade(url)
            with served_simulators(timelog_sim.create_app(size="S", seed=42, today=FIXED_TODAY),
                                   uniconta_sim.create_app(size="S", seed=42, today=FIXED_TODAY)) as sims:
                run_once(sims["timelog"], sims["uniconta"], [{"legal_entity_id": 1, "company_id": 10001},
                                                            {"legal_entity_id": 2, "company_id": 10002}])
            engine = staging_engine()
            link_all(engine, 1, 10001)
            link_all(engine, 2, 10002)
            engine.dispose()
        finally:
            staging_engine.cache_clear()


@pytest.fixture
def world(sims, db_url, use_staging, staged_copy, tmp_path):
    """Staged S data (one nightly sync), linked customers, and ready-made clients for legal entity 1 and 2 — the
    test's own copy of the session's staged world (module docstring), configured as ``staging`` configures it."""
    from tlsync import connections
    from tlsync.ledger import Ledger

    staged_copy("invoicing-s-world", _stage_s_world, db_url, tmp_path / "out")
    staging = use_staging(db_url, migrate=False)
    tl_source = connections.timelog_source(**sims["timelog"])
    clients = {}

    def uniconta(company: int):
        if company not in clients:
            clients[company] = connections.uniconta_client(company_id=company, **sims["uniconta"])
        return clients[company]

    yield {"engine": staging, "sims": sims, "tx": tl_source.transactional, "uniconta": uniconta,
           "ledger": Ledger(staging, run_id="test"), "le": le_settings}
    for c in clients.values():
        c.close()
    tl_source.close()


def sim_state(sims, company: int) -> dict:
    """The Uniconta simulator's current company state (fixture shape)."""
    doc = httpx.get(f"{sims['uniconta_url']}/_sim/state").json()
    doc = doc.get("uniconta", doc)
    return next(c for c in doc["companies"] if c["CompanyId"] == company)


def timelog_state(sims) -> dict:
    doc = httpx.get(f"{sims['timelog_url']}/_sim/state").json()
    return doc.get("timelog", doc)
