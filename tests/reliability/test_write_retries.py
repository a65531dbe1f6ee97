"""Writes are never blindly retried (issue 17, rule T2), against the TimeLog simulator's own fault injection.

The simulator cuts ~half of its answers short *after* acting on them (a 2xx with a truncated body) — the case
that used to leave six TimeLog expenses with one ExternalID. ``create_project_expense`` must settle every lost
answer by looking the expense up by its ExternalID before sending anything again: each ExternalID ends up in
TimeLog at most once, and exactly once for every call that returned. The control shows the same faults do
duplicate a POST that is (wrongly) retried as if it were idempotent — so the check can fail.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import httpx
import pytest

from tlsync.clients._http import ResilientClient, RetryPolicy
from tlsync.clients.errors import MalformedResponseError, SyncAPIError, WriteOutcomeUnknownError
from tlsync.clients.timelog.models import ProjectExpenseCreate
from tlsync.clients.timelog.rest import RestClient, RestSettings


def _state(sims) -> dict:
    return httpx.get(f"{sims['timelog_url']}/_sim/state").json()["timelog"]


def _faults(sims, **cfg) -> None:
    httpx.put(f"{sims['timelog_url']}/_sim/faults", json=cfg).raise_for_status()


def _external_ids(sims, prefix: str) -> list[str]:
    return [e["ExternalID"] for e in _state(sims)["Expenses"] if (e.get("ExternalID") or "").startswith(prefix)]


@pytest.fixture
def target(sims):
    state = _state(sims)
    project = next(p["ID"] for p in state["Projects"])
    expense_type = next(t["ExpenseTypeID"] for t in state["ExpenseTypes"])
    return project, expense_type


def _body(project: int, expense_type: int, external_id: str) -> ProjectExpenseCreate:
    return ProjectExpenseCreate(project_id=project, expense_type_id=expense_type, purchase_date=datetime(2026, 3, 2),
                                amount_including_vat_expense_currency=Decimal("125.00"), external_id=external_id)


def test_a_create_whose_answer_is_cut_short_is_looked_up_never_sent_twice(sims, target):
    project, expense_type = target
    returned, unknown = [], []
    _faults(sims, rate_truncated=0.5, seed=11)
    with RestClient(RestSettings(base_url=sims["timelog"]["host"], token="sim-pat-token"),
                    retry=RetryPolicy(base_delay=0.0, max_delay=0.0)) as rest:
        for i in range(16):
            key = f"rel-{i}"
            try:
                rest.create_project_expense(_body(project, expense_type, key))
                returned.append(key)
            except WriteOutcomeUnknownError:
                unknown.append(key)          # the look-up failed too: left for the ledger's recovery
    _faults(sims)
    ids = _external_ids(sims, "rel-")
    assert len(ids) == len(set(ids)), f"duplicated expenses: {sorted(ids)}"
    assert set(returned) <= set(ids)
    assert len(returned) >= 12
    counters = httpx.get(f"{sims['timelog_url']}/_sim/counters").json()
    assert counters["faults"].get("truncated", 0) >= 4      # the faults really happened


def test_control_the_same_faults_duplicate_a_post_retried_as_if_idempotent(sims, target):
    project, expense_type = target
    _faults(sims, rate_truncated=0.5, seed=11)
    http = ResilientClient("TimeLog REST API", sims["timelog"]["host"] + "/api/v1/",
                           headers={"Authorization": "Bearer sim-pat-token"},
                           retry=RetryPolicy(base_delay=0.0, max_delay=0.0))

    def parse(resp: httpx.Response):
        try:
            return json.loads(resp.content) if resp.content.strip() else None
        except json.JSONDecodeError:
            raise MalformedResponseError("TimeLog REST API", "truncated", where="POST project-expense") from None

    with http:
        for i in range(16):
            try:
                body = json.dumps(_body(project, expense_type, f"ctl-{i}").to_api(), default=str)
                http.request("POST", "project-expense", parse=parse, idempotent=True, content=body,
                             headers={"Content-Type": "application/json"})
            except SyncAPIError:
                pass
    _faults(sims)
    ids = _external_ids(sims, "ctl-")
    assert len(ids) > len(set(ids)), "the control should duplicate: the fault injection did not bite"
