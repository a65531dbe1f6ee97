"""The write-step contract as :func:`tlsync.writeback.run_step` drives it (issue 12, item 4), without servers:
a legal entity not set up is skipped before any client is built, a dry run is the plan and applies nothing, the
day's quota and another writer's lease become one line, and a step that stops itself at the quota gets the same
stop line. (The real steps against both simulators: test_writeback_e2e.py.)"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from tests.invoicing.conftest import le_settings
from tlsync import writeback
from tlsync.clients.errors import QuotaExceededError
from tlsync.ledger.lease import LeaseHeld
from tlsync.settings.models import IntegrationSettings
from tlsync.writeback import steps as write_steps
from tlsync.writeback.steps import Plan, StepContext, StepResult, WriteStep

NO_FIELDS: dict = {}     # building any client from these fails: a step that needs none must not build one


class FakeStep(WriteStep):
    """A step without systems whose apply does what the test says."""

    name = "items"

    def __init__(self, outcome=None) -> None:
        self.outcome = outcome
        self.applied: list[Plan] = []

    def plan(self, ctx: StepContext) -> Plan:
        return Plan(ctx, describe=lambda: StepResult(counts={"written": 2}, planned=["rename A", "rename B"]),
                    writes=["rename A", "rename B"])

    def apply(self, plan: Plan) -> StepResult:
        self.applied.append(plan)
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome

    def work_left(self, engine, le, ledger) -> str | None:
        return "7 renames"


def _run(step: str, *, settings, dry_run: bool = False) -> StepResult:
    return writeback.run_step(step, 1, run_id="r", timelog_fields=NO_FIELDS, uniconta_fields=NO_FIELDS,
                              settings=settings, engine=create_engine("sqlite://"), dry_run=dry_run)


SETTINGS = IntegrationSettings(legal_entities={1: le_settings(1)})


def test_an_unknown_step_and_a_legal_entity_not_set_up():
    with pytest.raises(ValueError, match="unknown write-back step 'nope'"):
        _run("nope", settings=SETTINGS)
    result = _run("invoices", settings=None)
    assert result.skipped and "no integration settings" in result.skipped and "rule S8" in result.skipped
    text = writeback.format_summary("r", [({"legal_entity_id": 1, "company_id": 10001}, {"invoices": result})])
    assert f"  invoices   skipped: {result.skipped}" in text.splitlines()
    no_company = IntegrationSettings(legal_entities={1: le_settings(1, uniconta_company_id=None)})
    assert "no Uniconta company chosen (rule S1)" in _run("customers", settings=no_company).skipped


def test_expenses_without_gl_accounts_are_skipped_before_any_client_is_built():
    result = _run("expenses", settings=SETTINGS)
    assert result.skipped and "no expense GL accounts chosen" in result.skipped and "rule S6" in result.skipped
    assert result.counts == {} and result.stopped is None


def test_a_dry_run_is_the_plan_and_a_real_run_applies_it(monkeypatch):
    step = FakeStep(StepResult(counts={"written": 2, "failed": 0}))
    monkeypatch.setitem(write_steps.STEPS, "items", step)
    dry = _run("items", settings=SETTINGS, dry_run=True)
    assert dry.planned == ["rename A", "rename B"] and step.applied == []
    real = _run("items", settings=SETTINGS)
    assert real.counts == {"written": 2, "failed": 0} and [p.writes for p in step.applied] == [["rename A",
                                                                                              "rename B"]]
    assert writeback.summarise(real) == "written 2"


def test_the_quota_and_another_writers_lease_are_one_line_each(monkeypatch):
    monkeypatch.setitem(write_steps.STEPS, "items", FakeStep(QuotaExceededError("Uniconta", "spent")))
    stopped = _run("items", settings=SETTINGS)
    assert stopped.stopped and "\n" not in stopped.stopped and stopped.skipped is None
    assert "daily Uniconta call allowance is reached" in stopped.stopped
    assert "Left for the next night: 7 renames" in stopped.stopped
    monkeypatch.setitem(write_steps.STEPS, "items", FakeStep(LeaseHeld("another writer has it since 10:00", {})))
    assert _run("items", settings=SETTINGS).skipped == "another writer has it since 10:00"


def test_a_step_that_stops_itself_at_the_quota_gets_the_stop_line(monkeypatch):
    from tlsync.invoicing.run import QUOTA_REASON

    class Invoices(FakeStep):
        name = "invoices"

        def quota_work_left(self, result: StepResult) -> str | None:
            return write_steps.InvoicesStep().quota_work_left(result)

    own = StepResult(counts={"transferred": 3, "pending": 1234}, stopped=QUOTA_REASON)
    monkeypatch.setitem(write_steps.STEPS, "invoices", Invoices(own))
    result = _run("invoices", settings=SETTINGS)
    assert result.counts == own.counts and result.stopped != QUOTA_REASON
    assert "Left for the next night: 1,234 invoice(s)" in result.stopped
    other = StepResult(counts={"transferred": 3}, stopped="another reason")
    monkeypatch.setitem(write_steps.STEPS, "invoices", Invoices(other))
    assert _run("invoices", settings=SETTINGS).stopped == "another reason"


def test_a_master_data_step_leaves_what_the_planned_invoices_need(monkeypatch, tmp_path):
    """The night's plan (issue 13, item 5): before a master-data step, every step's planned calls are allocated
    against what is left of the day; the step's client leaves the invoices their plan (at least the floor), and
    the plan's one line travels with the result (XCom) to the summary, up front."""
    from contextlib import contextmanager

    from tlsync.quota import ALLOWANCE_ENV, RESERVE_ENV
    from tlsync.quota.plan import Need
    from tlsync.staging.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'staging.db'}"
    upgrade(url)
    built: list[int] = []

    @contextmanager
    def clients(**kw):
        built.append(kw["reserve"])
        yield None

    class Planned(FakeStep):
        def __init__(self, name: str, need: Need | None, master: bool) -> None:
            super().__init__(StepResult(counts={"written": 1}))
            self.name, self.need, self.master_data = name, need, master

        def planned_calls(self, engine, le, ledger):
            return self.need

    monkeypatch.setattr(writeback.connections, "clients", clients)
    monkeypatch.setitem(write_steps.STEPS, "customers", Planned("customers", None, True))
    monkeypatch.setitem(write_steps.STEPS, "projects", Planned("projects", Need("projects", 900, 9_000,
                                                                                "project(s)"), True))
    monkeypatch.setitem(write_steps.STEPS, "invoices", Planned("invoices", Need("invoices", 1_500, 60_000,
                                                                                "invoice(s)", first=True), False))
    monkeypatch.setenv(ALLOWANCE_ENV, "2000")
    monkeypatch.setenv(RESERVE_ENV, "1000")

    def run(step: str) -> StepResult:
        return writeback.run_step(step, 1, run_id="r", timelog_fields=NO_FIELDS,
                                  uniconta_fields={"login": "integration"}, settings=SETTINGS,
                                  engine=create_engine(url))

    projects = run("projects")
    assert built == [1_500], "the planned invoices (1,500), not the fixed reserve (1,000)"
    assert projects.plan == ("planned 2,400 Uniconta calls, 2,000 left today: invoices first, 4,000 project(s) wait "
                             "for the next night (projects 900, invoices 1,500)")
    assert StepResult.from_json(projects.to_json()) == projects
    invoices = run("invoices")
    assert built[-1] == 0 and invoices.plan is None, "the invoices spend their share; they plan nothing"
    text = writeback.format_summary("r", [({"legal_entity_id": 1, "company_id": 10001},
                                           {"projects": projects, "invoices": invoices})])
    assert text.splitlines()[2] == f"  plan       {projects.plan}"
    monkeypatch.setenv(RESERVE_ENV, "3000")                  # the floor stays the floor
    run("projects")
    assert built[-1] == 3_000
