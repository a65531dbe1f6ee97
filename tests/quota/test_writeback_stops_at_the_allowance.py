"""The write-back at the day's Uniconta allowance (issue 13): each step stops cleanly with one line naming the
quota, the setting and the work left for the next night — no traceback, no "see the task's log" — and the next
night (a fresh allowance) finishes it without loss and without a duplicate."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.invoicing.conftest import le_settings, link_all, sim_state
from tlsync import writeback
from tlsync.invoicing import MARKER_FIELD
from tlsync.nightly.local import run_once
from tlsync.quota import ALLOWANCE_ENV, RESERVE_ENV, tally_of
from tlsync.settings.models import IntegrationSettings


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_write_back_stops_at_the_allowance_with_one_line_and_the_next_night_finishes(sims, staging,
                                                                                       monkeypatch):
    run_once(sims["timelog"], sims["uniconta"], [{"legal_entity_id": 1, "company_id": 10001}])
    link_all(staging, 1, 10001)
    settings = IntegrationSettings(legal_entities={1: le_settings(1)})
    used = tally_of(staging, "integration")[0]
    assert used > 0, "the nightly's reads are booked in the tally"
    monkeypatch.setenv(ALLOWANCE_ENV, str(used))        # nothing left today
    monkeypatch.setenv(RESERVE_ENV, "0")

    def night(run_id: str) -> dict[str, writeback.StepResult]:
        return {step: writeback.run_step(step, 1, run_id=run_id, timelog_fields=sims["timelog"],
                                         uniconta_fields=sims["uniconta"], settings=settings, engine=staging)
                for step in ("projects", "invoices")}

    first = night("transfer-1")
    for step, what in (("projects", "project(s) to create or update"), ("invoices", "invoice(s)")):
        line = first[step].stopped
        assert "\n" not in line and "Traceback" not in line and "task's log" not in line
        assert "daily Uniconta call allowance is reached" in line and f"{ALLOWANCE_ENV}={used:,}" in line
        assert "Left for the next night: " in line and what in line and "nothing is lost" in line, line
    assert " 0 project(s)" not in first["projects"].stopped
    summary = writeback.format_summary("transfer-1", [({"legal_entity_id": 1, "company_id": 10001}, first)])
    ours = [ln for ln in summary.splitlines() if ln.strip().startswith(("projects", "invoices", "stopped"))]
    assert not any("did not finish" in ln for ln in ours) and sum("stopped: " in ln for ln in ours) == 2, summary
    assert not sim_state(sims, 10001).get("DebtorOrderClient") or not any(
        o.get(MARKER_FIELD) for o in sim_state(sims, 10001)["DebtorOrderClient"]), "nothing sent past the allowance"

    monkeypatch.setenv(ALLOWANCE_ENV, "100000")            # the next night: a fresh allowance
    second = night("transfer-2")
    assert not second["projects"].stopped and not second["invoices"].stopped
    assert second["projects"].counts["created"] > 0 and second["invoices"].counts["transferred"] > 0
    third = night("transfer-3")
    assert third["projects"].counts["created"] == third["projects"].counts["updated"] == 0
    assert third["invoices"].counts["transferred"] == 0
    state = sim_state(sims, 10001)
    numbers = Counter(p["Number"] for p in state["ProjectClient"])
    assert max(numbers.values()) == 1
    marks = Counter(o[MARKER_FIELD] for o in state["DebtorOrderClient"] if o.get(MARKER_FIELD))
    assert marks and max(marks.values()) == 1, "one draft per invoice: nothing lost, nothing twice"
