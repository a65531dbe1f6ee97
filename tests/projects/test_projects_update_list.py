"""Changed projects go to Uniconta in UpdateLists (issue 13; 100 per call, 10 here): one call per batch instead of one per project,
a project Uniconta refuses fails alone with its reason, and nothing is written twice on the next run."""

from __future__ import annotations

import json
import math
from datetime import datetime

import httpx
import pytest
from sqlalchemy import insert, update

from tests.invoicing.conftest import sim_state
from tlsync.projects import PROJECT_DOMAIN, transfer_projects
from tlsync.projects.transfer import staged_projects, staged_uniconta_projects
from tlsync.staging.tables import STAGING, customer_links

RENAMED = 30
BATCH = 10            # S has ~37 projects Uniconta already holds: batches of 10 show the batching


def _uniconta_calls(sims) -> int:
    return sum(httpx.get(f"{sims['uniconta_url']}/_sim/quota").json()["used"].values())


def _restage(engine, pid: int, project: dict) -> None:
    table = STAGING["timelog.projects"]
    with engine.begin() as conn:
        conn.execute(update(table).where(table.c.natural_key == str(pid), table.c.tenant.notlike("%:%"))
                     .values(payload=json.dumps(project)))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_changed_projects_go_in_update_lists_and_a_refused_one_fails_alone(world, monkeypatch):
    monkeypatch.setattr("tlsync.projects.transfer.BATCH_SIZE", BATCH)
    engine, ledger, le, sims = world["engine"], world["ledger"], world["le"](1), world["sims"]
    uc = world["uniconta"](10001)
    in_uniconta = staged_uniconta_projects(engine, 10001)
    known = sorted((pid, p) for pid, p in staged_projects(engine, 1).items()
                   if str(p.get("No")) in in_uniconta and str(p.get("InternalProject")).lower() not in ("true", "1"))
    assert len(known) > RENAMED
    # renamed in TimeLog since Uniconta got them (as the nightly sync would stage it)
    for pid, p in known[:RENAMED]:
        _restage(engine, pid, {**p, "Name": f"{p['Name']} (omdøbt)"})
    # one of them now belongs to a customer linked to a debtor Uniconta does not have: Uniconta refuses it
    bad_pid, bad = known[0]
    with engine.begin() as conn:
        conn.execute(insert(customer_links).values(
            legal_entity_id=1, debtor_account="FINDES-IKKE", company_id="10001", customer_id="990001",
            state="linked", action="timelog_wins", run_id="test", actor="test", updated_at=datetime(2026, 11, 1)))
    _restage(engine, bad_pid, {**bad, "Name": f"{bad['Name']} (omdøbt)", "CustomerID": 990001})

    dry = transfer_projects(uc, engine, le, ledger=ledger, dry_run=True)
    updates = [p for p in dry.planned if p["write"] == "update ProjectClient"]
    inserts = [p for p in dry.planned if p["write"] == "insert ProjectClient"]
    assert len(updates) >= RENAMED
    before = _uniconta_calls(sims)
    res = transfer_projects(uc, engine, le, ledger=ledger)
    calls = _uniconta_calls(sims) - before
    assert res.updated == len(updates) - 1 and res.failed == 1
    assert "FINDES-IKKE" in res.failures[bad_pid] or "refused" in res.failures[bad_pid]
    # UpdateLists and InsertLists of BATCH; the refused record costs its batch one more call (the server names it)
    assert calls <= math.ceil(len(updates) / BATCH) + math.ceil(len(inserts) / BATCH) + 1, calls
    assert calls < len(updates), "not one call per project"
    after = {p["Number"]: p for p in sim_state(sims, 10001)["ProjectClient"]}
    assert all(after[str(p["No"])]["Name"].endswith("(omdøbt)") for pid, p in known[1:RENAMED])
    assert not after[str(bad["No"])]["Name"].endswith("(omdøbt)"), "nothing written for the refused project"
    done = {e.source_key for e in ledger.entries(PROJECT_DOMAIN, 1, states=["done"])}
    assert f"10001/{bad_pid}" not in done and f"10001/{known[1][0]}" in done

    before = _uniconta_calls(sims)
    again = transfer_projects(uc, engine, le, ledger=ledger)
    assert again.updated == 0 and again.created == 0 and again.failed == 1
    assert _uniconta_calls(sims) - before == 1, "only the refused project is tried again; nothing written twice"
