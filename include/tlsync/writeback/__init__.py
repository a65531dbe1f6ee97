"""The writing half of a night: what the staged data asks to be written, per legal entity, in dependency order.

    customers (T1/U1, contacts) → items (U2) → projects (T3) → invoices (T2, behind the S8 gate) → expenses (U4)

Customers first, so an invoice finds its debtor; item numbers and projects before invoices, so a draft's lines
carry current items and its project exists.
Each step reads from staging (the nightly sync has just refreshed it), writes through the typed clients, and is
idempotent through the sync ledger — a rerun, or a night with no changes, writes nothing. Each step is its own
Airflow task (``dags/transfer.py``): a failed expense import does not hold back the invoices, and a retry repeats
only the step that failed.

Every step is a :class:`~tlsync.writeback.steps.WriteStep` — ``plan(ctx)``, then ``apply(plan)``; a dry run is the
plan's description — and every step answers with a :class:`~tlsync.writeback.steps.StepResult` (counts, failures
by key, messages, stopped, skipped, refused). :func:`run_step` builds exactly the clients the step asks for from
the Connections' fields (:func:`tlsync.connections.clients`), runs it, and turns the day's Uniconta quota and
another writer's lease into a clean stop or skip said in one line. The transfer DAG's tasks return
:meth:`StepResult.to_json <tlsync.writeback.steps.StepResult.to_json>` (XCom).

The settings of a legal entity come from :func:`load_settings` — the administrator's settings file
(``TLSYNC_SETTINGS``, default ``config/integration.yaml``), else the Airflow Variable
``tlsync_integration_settings`` (the same document as JSON). A legal entity without settings is skipped with a
message: nothing is written for it until an administrator has set it up (rule S8).

:func:`format_summary` turns the steps' results of a run into the table the DAG's ``summary`` task returns and
``make run`` prints; ``docs/transfer.md`` describes the whole write-back.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from tlsync import connections
from tlsync.ledger import Ledger
from tlsync.settings.models import IntegrationSettings, LegalEntitySettings
from tlsync.staging.engine import staging_engine

from . import steps as write_steps
from .steps import StepContext, StepResult, WriteStep

if TYPE_CHECKING:
    from tlsync.quota.plan import NightPlan

log = logging.getLogger(__name__)

STEPS = tuple(write_steps.STEPS)      # customers, items, projects, invoices, expenses


def load_settings(variable: str | None = None) -> IntegrationSettings | None:
    """The integration settings: the settings file if it exists, else the Variable's JSON (``variable``, as the
    DAG read it), else ``None`` — :func:`tlsync.settings.resolve`, the one reader of both."""
    from tlsync import settings

    return settings.resolve(variable)


def entity_settings(configured: IntegrationSettings | None, legal_entity_id: int) -> LegalEntitySettings | None:
    if configured is None:
        return None
    return configured.legal_entities.get(int(legal_entity_id))


def run_step(step: str, legal_entity_id: int, *, run_id: str, timelog_fields: Mapping[str, Any],
             uniconta_fields: Mapping[str, Any], settings: IntegrationSettings | None,
             period: tuple[date, date] | None = None, dry_run: bool = False, engine=None) -> StepResult:
    """Run one step for one legal entity: its :class:`~tlsync.writeback.steps.WriteStep` plans and applies (a dry
    run: the plan's description, nothing written) with the clients it needs, built from the Connections' fields.
    ``skipped`` says why when the legal entity is not set up for the step; ``stopped`` when the day's Uniconta
    allowance ran out (one line, :func:`tlsync.quota.stop_line`) or another writer holds the legal entity."""
    if step not in STEPS:
        raise ValueError(f"unknown write-back step {step!r}; the steps are {', '.join(STEPS)}")
    writer = write_steps.STEPS[step]
    le = entity_settings(settings, legal_entity_id)
    if le is None:
        reason = (f"legal entity {legal_entity_id} has no integration settings; nothing is written for it until an "
                  f"administrator sets it up (`python -m tlsync.settings init`, rule S8)")
        log.warning(reason)
        return StepResult(skipped=reason)
    if le.uniconta_company_id is None:
        return StepResult(skipped=f"{le.label}: no Uniconta company chosen (rule S1)")
    engine = engine or staging_engine()
    ledger = Ledger(engine, run_id=run_id, actor=f"tlsync {step}")
    if (why := writer.skip(le)) is not None:
        return StepResult(skipped=why)
    from tlsync.clients.errors import QuotaExceededError
    from tlsync.ledger.lease import LeaseHeld
    from tlsync.quota import invoice_reserve, stop_line

    what = f"{le.label} — {step}"
    night = plan_night(engine, le, ledger, uniconta_fields.get("login"), since=step) if writer.master_data else None
    if night is not None:
        log.info("%s: %s", what, night.line())
    try:
        with connections.clients(timelog=timelog_fields if writer.timelog else None,
                                 uniconta=uniconta_fields if writer.uniconta else None,
                                 company_id=le.uniconta_company_id,
                                 reserve=(night.reserve() if night is not None else invoice_reserve())
                                 if writer.master_data else 0) as clients:
            plan = writer.plan(StepContext(engine, le, ledger, clients, period))
            result = plan.preview() if dry_run else writer.apply(plan)
    except LeaseHeld as exc:           # another writer has this legal entity now: a clean skip, said in one line
        log.warning("%s: %s", what, exc.message)
        return StepResult(skipped=exc.message)
    except QuotaExceededError:         # the day's Uniconta allowance is spent: a clean stop, resumed next night
        line = stop_line(what, engine, uniconta_fields.get("login"), work_left=_work_left(writer, engine, le, ledger))
        log.warning("%s", line)
        return StepResult(stopped=line, plan=night.line() if night is not None else None)
    if (left := writer.quota_work_left(result)) is not None:    # the step stopped itself cleanly at the quota
        result = result.with_stopped(stop_line(what, engine, uniconta_fields.get("login"), work_left=left))
    if night is not None:
        result = replace(result, plan=night.line())
    log.info("%s: %s", what, summarise(result))
    return result


def plan_night(engine, le: LegalEntitySettings, ledger: Ledger, username: str | None, *,
               since: str | None = None) -> NightPlan | None:
    """The legal entity's Uniconta calls of the steps still to run — ``since`` that step, in run order; all of
    them when ``None`` — planned from staging (no API call) against what is left of the day
    (:mod:`tlsync.quota.plan`): invoices first, then master data. The steps that have run are in the tally already,
    so they are not planned again (before, each master-data step re-ran every step's dry run). ``None`` when it
    cannot be said (no user, no tally yet: the fixed reserve applies, as before)."""
    from tlsync.quota import daily_allowance, invoice_reserve, tally_of
    from tlsync.quota.plan import allocate

    if not username:
        return None
    try:
        still = STEPS[STEPS.index(since):] if since else STEPS
        needs = [n for s in still if (n := write_steps.STEPS[s].planned_calls(engine, le, ledger)) is not None]
        used = tally_of(engine, username)[0]
    except Exception:                  # a courtesy: without it the fixed reserve applies and the steps still stop
        log.warning("%s: could not plan the night's Uniconta calls; the fixed reserve applies", le.label,
                    exc_info=True)
        return None
    return allocate(needs, daily_allowance() - used, floor=invoice_reserve())


def _work_left(writer: WriteStep, engine, le: LegalEntitySettings, ledger: Ledger) -> str | None:
    try:
        return writer.work_left(engine, le, ledger)
    except Exception:                  # the count is a courtesy; the stop line stands without it
        log.debug("could not count what %s leaves for the next night", writer.name, exc_info=True)
    return None


def _counts(result: StepResult) -> str:
    return ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in result.counts.items() if v)


def summarise(result: StepResult) -> str:
    """One line for the log and the run summary: the non-zero counts, then any refusal or stop reason."""
    if result.skipped:
        return f"skipped: {result.skipped}"
    notes = [*result.refused, *([result.stopped] if result.stopped else [])]
    return "; ".join([_counts(result) or "nothing to write", *notes])


def format_summary(run_id: str, results: Sequence[tuple[Mapping[str, Any], Mapping[str, StepResult | None]]],
                   *, reasons_shown: int = 3, failed: Mapping[tuple[int, str], str] | None = None) -> str:
    """The write-back of one run as text: per legal entity ↔ company, one line per step with its non-zero counts,
    then the S8 refusals (rule S8), notes, why the run stopped early, and the first ``reasons_shown`` reasons of
    the records that could not be written (all of them are in the sync ledger).

    ``results``: ``[(pair, {step: result or None})]`` — ``None`` = the step did not finish (it failed, or a failed
    earlier step held it back); ``failed``: ``{(legal entity, step): one line}`` for the steps that failed, said
    beside them."""
    lines = [f"Write-back summary ({run_id}):"]
    for pair, steps in results:
        lines.append(f"legal entity {pair['legal_entity_id']} → Uniconta company {pair['company_id']}")
        plan = next((r.plan for r in steps.values() if r is not None and r.plan), None)
        if plan:                       # the night's calls as planned before its first master-data step, up front
            lines.append(f"  {'plan':<10} {plan}")
        for step in STEPS:
            result = steps.get(step)
            why = (failed or {}).get((pair["legal_entity_id"], step))
            if result is None and why:
                lines.append(f"  {step:<10} failed: {why} (the next run catches up)")
                continue
            if result is None:
                lines.append(f"  {step:<10} did not finish: it failed, or a failed earlier step held it back "
                             f"(see the task's log; the next run catches up)")
                continue
            if result.skipped:
                lines.append(f"  {step:<10} skipped: {result.skipped}")
                continue
            lines.append(f"  {step:<10} {_counts(result) or 'nothing to write'}")
            lines += [f"  {'':<10} refused: {why}" for why in result.refused]
            if result.stopped:
                lines.append(f"  {'':<10} stopped: {result.stopped}")
            lines += [f"  {'':<10} note: {m}" for m in result.messages]
            reasons = list(result.failures.values())
            lines += [f"  {'':<10} not written: {why}" for why in reasons[:reasons_shown]]
            if len(reasons) > reasons_shown:
                lines.append(f"  {'':<10} … and {len(reasons) - reasons_shown} more (every reason is in the sync "
                             f"ledger, state failed)")
    return "\n".join(lines)
