"""Projects (rules T3, S7): TimeLog projects become Uniconta projects in the configured group, idempotently; a
company without the project module gets one clear message and nothing is written."""

from __future__ import annotations

import pytest

from tests.invoicing.conftest import sim_state
from tlsync.projects import PROJECT_DOMAIN, transfer_projects
from tlsync.projects.transfer import staged_projects


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_projects_go_to_the_configured_group_once_and_not_without_the_module(world):
    engine, ledger = world["engine"], world["ledger"]
    le = world["le"](1)
    uc = world["uniconta"](10001)
    before = {p["Number"]: p for p in sim_state(world["sims"], 10001)["ProjectClient"]}
    dry = transfer_projects(uc, engine, le, ledger=ledger, dry_run=True)
    assert dry.planned and ledger.entries(PROJECT_DOMAIN, 1) == []
    res = transfer_projects(uc, engine, le, ledger=ledger)
    assert res.created == sum(1 for p in dry.planned if p["write"] == "insert ProjectClient") > 0
    after = {p["Number"]: p for p in sim_state(world["sims"], 10001)["ProjectClient"]}
    tl = {str(p["No"]): p for p in staged_projects(engine, 1).values() if str(p.get("InternalProject")).lower() not in ("true", "1")}
    for number in set(after) - set(before):
        assert after[number]["Group"] == "KUNDE"
        assert after[number]["Name"] == tl[number]["Name"]
    calls = uc.calls_used
    again = transfer_projects(uc, engine, le, ledger=ledger)
    assert again.created == 0 and again.updated == 0 and uc.calls_used == calls, "an unchanged project is not written"

    le = world["le"](2, project_group="KUNDE")
    uc = world["uniconta"](10002)
    res = transfer_projects(uc, world["engine"], le, ledger=world["ledger"])
    assert res.module is False and res.counts() == {"created": 0, "updated": 0, "unchanged": 0, "failed": 0}
    assert len(res.messages) == 1 and "no project module" in res.messages[0] and "T3" in res.messages[0]
    assert uc.calls_used == 0
