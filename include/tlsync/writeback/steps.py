"""The write-step contract: one class per write-back step, one result type for all of them (issue 12, item 4).

    step.plan(ctx) -> Plan          what the step would write for one legal entity (a dry run is this plan)
    step.apply(plan) -> StepResult  the writes made: counts, failures {key: reason}, messages, stopped, refused

Before this module :mod:`tlsync.writeback` adapted five signatures and five result shapes (a dict of counts,
an ``Outcome``, a result object, a dict of 13 keys, another dict) at the point of use, and its summary guessed
whether ``failures`` was a mapping or a list. Each domain keeps its own function (customers, items, projects,
invoices, expenses — unchanged, each still the only writer of its records, idempotent through the sync ledger);
the adapter from that function to the contract lives here, once, beside the step it adapts.

Decisions:

- A :class:`Plan` is computed on demand. Items plan their writes ahead (``ItemNumbers.plan_sync``) and apply
  exactly that plan. The other domain functions plan and write in one pass behind a ``dry_run`` flag; for them
  :meth:`Plan.preview` runs the dry run (the description a dry run shows) and :meth:`WriteStep.apply` runs the real
  pass, so a real night plans once, inside the domain function, and costs what it cost before.
- :class:`StepResult` is plain data: ``counts`` in the order the domain reports them (the summary prints them in
  that order), ``failures`` keyed by the record's key as a string. :meth:`StepResult.to_json` is what the transfer
  DAG's tasks return (XCom), :meth:`StepResult.from_json` what its ``summary`` task reads back.
- A step names the systems it needs (:attr:`WriteStep.timelog`, :attr:`WriteStep.uniconta`) and whether it is
  master data, which leaves the invoices' share of the day's Uniconta calls;
  :func:`tlsync.writeback.run_step` builds exactly those clients (:func:`tlsync.connections.clients`).
- The steps that spend Uniconta calls say how many they plan, from staging and without a call
  (:meth:`WriteStep.planned_calls`): the customers and projects from their own dry run (they plan from staging),
  the invoices from counts (:func:`planned_invoice_calls` — building every draft of a first night's backfill to
  count its calls would cost as much as the night). :mod:`tlsync.quota.plan` turns these into the night's plan.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, ClassVar

from sqlalchemy import Engine, func, select

from tlsync.connections import Clients
from tlsync.ledger import DONE, ELSEWHERE, IGNORED, Ledger
from tlsync.quota.plan import Need
from tlsync.settings.models import LegalEntitySettings


@dataclass(frozen=True)
class StepResult:
    """What one step did (or, for a dry run, would do) for one legal entity."""

    counts: dict[str, int] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)     # record key → why it was not written
    messages: list[str] = field(default_factory=list)          # notes for the administrator
    stopped: str | None = None                                  # why the step stopped early (e.g. the quota)
    skipped: str | None = None                                  # why the step did nothing for this legal entity
    refused: list[str] = field(default_factory=list)           # the S8 gate's reasons (then nothing was written)
    planned: list[str] = field(default_factory=list)           # a dry run: the writes it would make
    plan: str | None = None                                     # the night's Uniconta calls as planned before it

    def to_json(self) -> dict[str, Any]:
        """Plain data (XCom-safe): the fields as they are, lists and mappings copied."""
        return {"counts": dict(self.counts), "failures": dict(self.failures), "messages": list(self.messages),
                "stopped": self.stopped, "skipped": self.skipped, "refused": list(self.refused),
                "planned": list(self.planned), "plan": self.plan}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StepResult:
        """The inverse of :meth:`to_json`."""
        return cls(counts={str(k): int(v) for k, v in (data.get("counts") or {}).items()},
                   failures={str(k): str(v) for k, v in (data.get("failures") or {}).items()},
                   messages=[str(m) for m in data.get("messages") or []], stopped=data.get("stopped") or None,
                   skipped=data.get("skipped") or None, refused=[str(r) for r in data.get("refused") or []],
                   planned=[str(p) for p in data.get("planned") or []], plan=data.get("plan") or None)

    def count(self, name: str) -> int:
        return self.counts.get(name, 0)

    def with_stopped(self, line: str) -> StepResult:
        return replace(self, stopped=line)


def counts_of(result: Mapping[str, Any]) -> dict[str, int]:
    """The whole-number entries of a domain function's result dict, in its order (booleans are not counts)."""
    return {str(k): v for k, v in result.items() if isinstance(v, int) and not isinstance(v, bool)}


@dataclass(frozen=True)
class StepContext:
    """What a step works with: staging, the legal entity's settings, the run's ledger and the clients it asked for."""

    engine: Engine
    le: LegalEntitySettings
    ledger: Ledger
    clients: Clients
    period: tuple[date, date] | None = None


@dataclass
class Plan:
    """What a step is about to write for one legal entity. ``writes``: the planned writes when the step plans them
    ahead; :meth:`preview` describes the plan as a dry run's :class:`StepResult` (computed when asked for)."""

    ctx: StepContext
    describe: Callable[[], StepResult]
    writes: list[Any] = field(default_factory=list)
    state: Any = None                # what the step planned with and applies with (items: its ``ItemNumbers``)

    def preview(self) -> StepResult:
        return self.describe()


class WriteStep:
    """One write-back step. Subclasses set :attr:`name`, the systems they need, and implement :meth:`plan` and
    :meth:`apply`; :meth:`skip`, :meth:`work_left` and :meth:`quota_work_left` have defaults."""

    name: ClassVar[str]
    timelog: ClassVar[bool] = False        # needs TimeLog's clients
    uniconta: ClassVar[bool] = False       # needs the company's Uniconta client
    master_data: ClassVar[bool] = False    # leaves the invoices' reserve of the day's Uniconta calls

    def skip(self, le: LegalEntitySettings) -> str | None:
        """Why this legal entity has nothing for this step, decided from its settings alone (``None``: go on)."""
        return None

    def plan(self, ctx: StepContext) -> Plan:
        raise NotImplementedError

    def apply(self, plan: Plan) -> StepResult:
        raise NotImplementedError

    def work_left(self, engine: Engine, le: LegalEntitySettings, ledger: Ledger) -> str | None:
        """What a step stopped by the quota leaves for the next night, from staging (no API call); ``None``: not
        said cheaply."""
        return None

    def quota_work_left(self, result: StepResult) -> str | None:
        """For a step that stops itself cleanly at the quota (instead of raising): the work its ``result`` left
        when that is why it stopped, else ``None``."""
        return None

    def planned_calls(self, engine: Engine, le: LegalEntitySettings, ledger: Ledger) -> Need | None:
        """The Uniconta calls this step is about to need for ``le``, from staging (no API call); ``None``: it
        spends none (or says none)."""
        return None


class CustomersStep(WriteStep):
    """T1/U1 and contacts for every linked customer (:func:`tlsync.customers.nightly.sync_customers`)."""

    name = "customers"
    timelog = uniconta = master_data = True

    def _run(self, ctx: StepContext, dry_run: bool) -> StepResult:
        from tlsync.customers.nightly import sync_customers

        return StepResult(counts=counts_of(sync_customers(ctx.engine, ctx.le, ctx.clients.uniconta, ctx.clients.rest,
                                                          ledger=ctx.ledger, dry_run=dry_run)))

    def plan(self, ctx: StepContext) -> Plan:
        return Plan(ctx, describe=lambda: self._run(ctx, True))

    def apply(self, plan: Plan) -> StepResult:
        return self._run(plan.ctx, False)

    def planned_calls(self, engine: Engine, le: LegalEntitySettings, ledger: Ledger) -> Need | None:
        """A debtor update is a fresh look-up and an ``Update`` (2 calls); contacts: one read of them when any is
        to be written, an ``Update`` per changed one, an ``InsertList`` per 100 new ones."""
        from tlsync.customers.nightly import BATCH_SIZE, sync_customers

        c = sync_customers(engine, le, None, None, ledger=ledger, dry_run=True)  # type: ignore[arg-type]
        debtors, updated, created = c["debtors_updated"], c["contacts_updated"], c["contacts_created"]
        contacts = (1 + updated + math.ceil(created / BATCH_SIZE)) if updated or created else 0
        return Need(self.name, 2 * debtors + contacts, debtors + updated + created, "customer/contact record(s)")


class ItemsStep(WriteStep):
    """Item numbers in TimeLog as Uniconta's items say (rule U2, :class:`tlsync.items.products.ItemNumbers`);
    where TimeLog's public API takes no product-number writes, a list to make by hand (``tlsync items todo``)."""

    name = "items"
    timelog = True

    def plan(self, ctx: StepContext) -> Plan:
        from tlsync.items.products import ItemNumbers

        numbers = ItemNumbers(ctx.engine, ctx.le, ctx.clients.rest, run_id=ctx.ledger.run_id, actor=ctx.ledger.actor)
        writes = numbers.plan_sync()
        return Plan(ctx, describe=lambda: StepResult(planned=[str(w) for w in writes]), writes=list(writes),
                    state=numbers)

    def apply(self, plan: Plan) -> StepResult:
        ctx, numbers = plan.ctx, plan.state
        outcome = numbers.apply(plan.writes)
        counts = {"written": len(outcome.done), "failed": len(outcome.failed)}
        failures = {}
        for i, reason in enumerate(outcome.failed):      # each reason starts with the write it is about
            key = next((w.item for w in plan.writes if reason.startswith(f"{w}: ")), f"#{i + 1}")
            failures[key if key not in failures else f"{key} #{i + 1}"] = reason
        messages = []
        if not numbers.writes_available:       # TimeLog's public API: the changes are a list to make by hand
            from tlsync.items.todo import settle, todo_rows

            settle(ctx.ledger, ctx.le, numbers.products)
            todo = todo_rows(ctx.engine, ctx.le)
            counts["by_hand"] = len(todo)
            if todo:
                messages.append(
                    f"{len(todo)} item-number change(s) to make by hand in TimeLog (product-number writes are not "
                    f"in its public API): `tlsync items todo --legal-entity {ctx.le.legal_entity_id}` lists them "
                    f"(rule U2)")
        return StepResult(counts=counts, failures=failures, messages=messages)


class ProjectsStep(WriteStep):
    """TimeLog projects as Uniconta projects (rule T3, :func:`tlsync.projects.transfer.transfer_projects`)."""

    name = "projects"
    uniconta = master_data = True

    def _run(self, ctx: StepContext, dry_run: bool) -> StepResult:
        from tlsync.projects.transfer import transfer_projects

        result = transfer_projects(ctx.clients.uniconta, ctx.engine, ctx.le, ledger=ctx.ledger, dry_run=dry_run)
        return StepResult(counts=result.counts(), messages=list(result.messages),
                          failures={str(k): str(v) for k, v in result.failures.items()},
                          planned=[str(p) for p in result.planned] if dry_run else [])

    def plan(self, ctx: StepContext) -> Plan:
        return Plan(ctx, describe=lambda: self._run(ctx, True))

    def apply(self, plan: Plan) -> StepResult:
        return self._run(plan.ctx, False)

    def work_left(self, engine: Engine, le: LegalEntitySettings, ledger: Ledger) -> str | None:
        from tlsync.projects.transfer import transfer_projects

        planned = transfer_projects(None, engine, le, ledger=ledger, dry_run=True).planned
        return f"{len(planned):,} project(s) to create or update"

    def planned_calls(self, engine: Engine, le: LegalEntitySettings, ledger: Ledger) -> Need | None:
        """New projects go in with ``InsertList``, changed ones with ``UpdateList``, 100 per call."""
        from tlsync.projects.transfer import BATCH_SIZE, transfer_projects

        planned = transfer_projects(None, engine, le, ledger=ledger, dry_run=True).planned
        new = sum(1 for p in planned if str(p.get("write", "")).startswith("insert"))
        calls = math.ceil(new / BATCH_SIZE) + math.ceil((len(planned) - new) / BATCH_SIZE)
        return Need(self.name, calls, len(planned), "project(s)")


class InvoicesStep(WriteStep):
    """Booked TimeLog invoices and credit notes as Uniconta drafts, behind the S8 gate (rule T2,
    :func:`tlsync.invoicing.transfer.transfer_invoices`). Spends the invoices' reserve of the day's calls."""

    name = "invoices"
    timelog = uniconta = True

    def _run(self, ctx: StepContext, dry_run: bool) -> StepResult:
        from tlsync.invoicing.transfer import transfer_invoices

        res = transfer_invoices(ctx.engine, ctx.le, ctx.clients.uniconta, ctx.clients.transactional,
                                ledger=ctx.ledger, period=ctx.period, dry_run=dry_run)
        return StepResult(counts=counts_of(res), failures={str(k): str(v) for k, v in res["failures"].items()},
                          messages=[str(m) for m in res["messages"]], stopped=res["stopped"] or None,
                          refused=[str(r) for r in res["refused"]],
                          planned=[str(p) for p in res.get("planned") or []] if dry_run else [])

    def plan(self, ctx: StepContext) -> Plan:
        return Plan(ctx, describe=lambda: self._run(ctx, True))

    def apply(self, plan: Plan) -> StepResult:
        return self._run(plan.ctx, False)

    def quota_work_left(self, result: StepResult) -> str | None:
        from tlsync.invoicing.run import QUOTA_REASON

        return f"{result.count('pending'):,} invoice(s)" if result.stopped == QUOTA_REASON else None

    def planned_calls(self, engine: Engine, le: LegalEntitySettings, ledger: Ledger) -> Need | None:
        """No calls while the S8 gate refuses the legal entity (then nothing is sent), else
        :func:`planned_invoice_calls`."""
        from tlsync.linking.gate import transfer_blockers

        if transfer_blockers(le, engine):
            return Need(self.name, 0, 0, "invoice(s)", first=True)
        calls, invoices, _ = planned_invoice_calls(engine, le.legal_entity_id)
        return Need(self.name, calls, invoices, "invoice(s)", first=True)


class ExpensesStep(WriteStep):
    """Supplier postings on the chosen GL accounts as TimeLog project expenses (rules U4, S6,
    :func:`tlsync.expenses.import_expenses`)."""

    name = "expenses"
    timelog = True

    def skip(self, le: LegalEntitySettings) -> str | None:
        return None if le.expense_gl_accounts else f"{le.label}: no expense GL accounts chosen; nothing to import " \
                                                   f"(rule S6)"

    def _run(self, ctx: StepContext, dry_run: bool) -> StepResult:
        from tlsync.expenses import import_expenses

        since = ctx.period[0] if ctx.period else None
        return StepResult(counts=counts_of(import_expenses(ctx.engine, ctx.le, ctx.clients.rest, ledger=ctx.ledger,
                                                           since=since, dry_run=dry_run)))

    def plan(self, ctx: StepContext) -> Plan:
        return Plan(ctx, describe=lambda: self._run(ctx, True))

    def apply(self, plan: Plan) -> StepResult:
        return self._run(plan.ctx, False)


def planned_invoice_calls(engine: Engine, legal_entity_id: int) -> tuple[int, int, int]:
    """``(calls, invoices, lines)`` the invoice transfer is about to send for a legal entity, counted in staging:
    the booked invoices and credit notes not yet settled in the ledger (``done``/``elsewhere``/``ignored``) and
    their share of the staged lines; an ``InsertList`` of orders per :data:`~tlsync.invoicing.run.ORDER_BATCH`
    and of lines per :data:`~tlsync.invoicing.run.LINE_BATCH` (lines of a whole batch of orders per call).
    An estimate on the safe side: invoices TimeLog marks as transferred elsewhere are counted, never sent."""
    from tlsync.invoicing import source
    from tlsync.invoicing.run import DOMAIN, LINE_BATCH, ORDER_BATCH
    from tlsync.staging.tables import sync_ledger

    tenant = source.invoice_tenant(engine, legal_entity_id)
    if tenant is None:
        return 0, 0, 0
    inv, lines, led = source.INVOICES, source.LINES, sync_ledger
    with engine.connect() as conn:
        booked = conn.execute(select(func.count()).select_from(inv).where(
            inv.c.tenant == tenant, inv.c.status.in_(source.BOOKED),
            inv.c.type.in_(source.TRANSFERRED_TYPES))).scalar_one()
        settled = conn.execute(select(func.count()).select_from(led).where(
            led.c.domain == str(DOMAIN), led.c.legal_entity_id == legal_entity_id,
            led.c.state.in_((DONE, ELSEWHERE, IGNORED)))).scalar_one()
        all_lines = conn.execute(select(func.count()).select_from(lines).where(lines.c.tenant == tenant)).scalar_one()
    todo = max(0, int(booked) - int(settled))
    if not todo:
        return 0, 0, 0
    todo_lines = math.ceil(int(all_lines) * todo / max(1, int(booked)))
    batches = math.ceil(todo / ORDER_BATCH)
    per_batch = math.ceil(math.ceil(todo_lines / batches) / LINE_BATCH) if todo_lines else 0
    return batches + batches * per_batch, todo, todo_lines


#: the steps in dependency order: customers first, so an invoice finds its debtor; item numbers and projects before
#: invoices, so a draft's lines carry current items and its project exists
STEPS: dict[str, WriteStep] = {s.name: s for s in (CustomersStep(), ItemsStep(), ProjectsStep(), InvoicesStep(),
                                                   ExpensesStep())}
