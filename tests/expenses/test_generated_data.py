"""The expense import on the generator's S data, served by both simulators (``sims``) and staged through the
product's own extraction: the supplier postings the generator makes (journal comments, an EUR supplier, reversed
postings) go through without a failure, and a second run writes nothing. SQLite only (the database side is
covered on both databases in ``test_import.py``)."""

from __future__ import annotations

import httpx
import pytest

from simulators.generator.master import EXPENSE_IMPORT_ACCOUNTS
from tlsync.clients.timelog import RestClient, RestSettings
from tlsync.expenses import import_expenses, imported_expenses
from tlsync.expenses.postings import pair_reversals, staged_postings
from tlsync.ledger import Ledger
from tlsync.nightly import sources
from tlsync.settings.models import LegalEntitySettings
from tlsync.staging.entities import get
from tlsync.staging.loader import StagingLoader


@pytest.fixture
def db_url(tmp_path):
    return f"sqlite:///{tmp_path / 'staging.db'}"


def test_generated_supplier_postings_import_once(engine, sims):
    loader = StagingLoader(engine)
    with sources.timelog_source(**sims["timelog"]) as source:
        for name in ("projects", "expense_types"):
            spec = get(f"timelog.{name}")
            loader.load(spec, "SIMSITE", "gen", [e.raw for e in source.records(spec)])
    with sources.uniconta_source(company_id=10001, **sims["uniconta"]) as source:
        for name in ("companies", "gl_transactions"):
            spec = get(f"uniconta.{name}")
            loader.load(spec, "10001", "gen", [e.raw for e in source.records(spec)])
    le = LegalEntitySettings(legal_entity_id=1, uniconta_company_id=10001,
                             expense_gl_accounts=list(EXPENSE_IMPORT_ACCOUNTS))
    postings = staged_postings(engine, le)
    pairs = pair_reversals(postings)
    assert postings and pairs and any(p.currency == "EUR" for p in postings) and all(p.comment for p in postings)
    ledger = Ledger(engine)
    with RestClient(RestSettings(base_url=sims["timelog"]["host"], token="sim-pat-token")) as rest:
        first = import_expenses(engine, le, rest, ledger=ledger)
        assert first["imported"] > 0 and first["failed"] == 0 and first["ignored"] >= 2 * len(pairs)
        assert first["imported"] + first["review"] + first["ignored"] == len(postings)
        calls = httpx.get(f"{sims['timelog_url']}/_sim/counters").json()["by_surface"].get("rest", 0)
        second = import_expenses(engine, le, rest, ledger=ledger)
        assert second == {"imported": 0, "review": first["review"], "ignored": 0,
                          "unchanged": first["imported"] + first["ignored"], "failed": 0}
        assert httpx.get(f"{sims['timelog_url']}/_sim/counters").json()["by_surface"].get("rest", 0) == calls
    rows = imported_expenses(engine, 1)
    done = [r for r in rows if r["state"] == "done"]
    assert all(r["project"] and r["expense_type"] for r in done)
    assert {r["posting_key"] for r in rows if r["state"] == "ignored"} >= set(pairs) | set(pairs.values())
    tl = {e["ExternalID"]: e for e in httpx.get(f"{sims['timelog_url']}/_sim/state").json()["timelog"]["Expenses"]
          if e.get("ExternalID")}
    assert sorted(tl) == sorted(r["posting_key"] for r in done)
