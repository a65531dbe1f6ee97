"""The night's plan in a real write-back (issue 13, item 5): with too few calls left for everything, the plan
made before the first master-data step gives the invoices their calls first — the master-data steps leave what
the planned invoices need, not only the fixed reserve — says up front in one line what waits for the next night,
and the deferred master data is done the next night."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.invoicing.conftest import le_settings, link_all, sim_state
from tlsync import writeback
from tlsync.invoicing import MARKER_FIELD
from tlsync.ledger import Ledger
from tlsync.nightly.local import run_once
from tlsync.quota import ALLOWANCE_ENV, RESERVE_ENV, tally_of
from tlsync.settings.models import IntegrationSettings

STEPS = ("customers", "projects", "invoices")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_small_allowance_defers_master_data_and_the_invoices_get_their_calls(sims, staging, monkeypatch):
    run_once(sims["timelog"], sims["uniconta"], [{"legal_entity_id": 1, "company_id": 10001}])
    link_all(staging, 1, 10001)
    le = le_settings(1)
    settings = IntegrationSettings(legal_entities={1: le})
    monkeypatch.setenv(RESERVE_ENV, "0")                 # the reserve is exactly the plan
    monkeypatch.setenv(ALLOWANCE_ENV, "100000")
    planned = writeback.plan_night(staging, le, Ledger(staging, run_id="plan"), "integration")
    need = {n.step: n.calls for n in planned.needs}
    assert planned.fits and need["projects"] >= 1 and need["invoices"] >= 2, planned.line()
    assert planned.reserve() == need["invoices"]

    used = tally_of(staging, "integration")[0]
    margin = need["projects"] - 1                        # one call short of the whole plan
    monkeypatch.setenv(ALLOWANCE_ENV, str(used + need["customers"] + need["invoices"] + margin))

    def night(run_id: str) -> dict[str, writeback.StepResult]:
        return {step: writeback.run_step(step, 1, run_id=run_id, timelog_fields=sims["timelog"],
                                         uniconta_fields=sims["uniconta"], settings=settings, engine=staging)
                for step in STEPS}

    first = night("transfer-1")
    line = first["customers"].plan
    assert line is not None and "\n" not in line
    assert line.startswith(f"planned {planned.planned:,} Uniconta calls, ") and "invoices first, " in line
    assert "project(s) wait for the next night" in line, line
    assert first["projects"].stopped and "daily Uniconta call allowance is reached" in first["projects"].stopped
    assert first["projects"].counts.get("created", 0) < planned.budgets["projects"] + need["projects"]
    invoices = first["invoices"]
    assert not invoices.stopped, invoices.stopped
    assert invoices.counts["transferred"] > 0 and invoices.counts["calls"] >= need["invoices"] - 1
    summary = writeback.format_summary("transfer-1", [({"legal_entity_id": 1, "company_id": 10001}, first)])
    head = summary.splitlines()[1:3]
    assert head[1].split(None, 1) == ["plan", line], summary

    monkeypatch.setenv(ALLOWANCE_ENV, "100000")          # the next night: the deferred master data goes
    second = night("transfer-2")
    assert "all fit" in (second["customers"].plan or "") and not second["projects"].stopped
    assert second["projects"].counts["created"] + second["projects"].counts["updated"] > 0
    third = night("transfer-3")
    assert third["projects"].counts["created"] == third["projects"].counts["updated"] == 0
    assert third["invoices"].counts["transferred"] == 0
    state = sim_state(sims, 10001)
    assert max(Counter(p["Number"] for p in state["ProjectClient"]).values()) == 1
    marks = Counter(o[MARKER_FIELD] for o in state["DebtorOrderClient"] if o.get(MARKER_FIELD))
    assert marks and max(marks.values()) == 1, "one draft per invoice: nothing lost, nothing twice"
