"""The writing half of a night: what the staged data asks to be written, per legal entity, in dependency order.

    customers (T1/U1, contacts) → items (U2) → projects (T3) → invoices (T2, behind the S8 gate) → expenses (U4)

Customers first, so an invoice finds its debtor; item numbers and projects before invoices, so a draft's lines
carry current items and its project exists.
Each step reads from staging (the nightly sync has just refreshed it), writes through the typed clients, and is
idempotent through the sync ledger — a rerun, or a night with no changes, writes nothing. Each step is its own
Airflow task (``dags/transfer.py``): a failed expense import does not hold back the invoices, and a retry repeats
only the step that failed.

The settings of a legal entity come from :func:`load_settings` — the administrator's settings file
(``TLSYNC_SETTINGS``, default ``config/integration.yaml``), else the Airflow Variable
``tlsync_integration_settings`` (the same document as JSON). A legal entity without settings is skipped with a
message: nothing is written for it until an administrator has set it up (rule S8).

:func:`format_summary` turns the steps' results of a run into the table the DAG's ``summary`` task returns and
``make run`` prints; ``docs/transfer.md`` describes the whole write-back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

from tlsync import connections
from tlsync.ledger import Ledger
from tlsync.settings.models import IntegrationSettings, LegalEntitySettings

from . import config

log = logging.getLogger(__name__)

STEPS = ("customers", "items", "projects", "invoices", "expenses")


def load_settings(variable: str | None = None) -> IntegrationSettings | None:
    """The integration settings: the settings file if it exists, else the Variable's JSON (``variable``, as the
    DAG read it), else ``None`` — :func:`tlsync.settings.resolve`, the one reader of both."""
    from tlsync import settings

    return settings.resolve(variable)


def entity_settings(configured: IntegrationSettings | None, legal_entity_id: int) -> LegalEntitySettings | None:
    if configured is None:
        return None
    return configured.legal_entities.get(int(legal_entity_id))


@contextmanager
def _uniconta(fields: Mapping[str, Any], company_id: int, *, master_data: bool = False):
    """The Uniconta client of a step; a master-data step leaves the invoices' reserve of the day's calls
    (:func:`tlsync.quota.invoice_reserve`)."""
    from tlsync.quota import invoice_reserve

    reserve = invoice_reserve() if master_data else 0
    with connections.uniconta_source(company_id=company_id, reserve=reserve, **fields) as source:
        yield source.client


@contextmanager
def _timelog(fields: Mapping[str, Any]):
    with connections.timelog_source(**fields) as source:
        yield source


def _customers(engine, le, ledger, timelog_fields, uniconta_fields, dry_run, period) -> dict:
    from tlsync.customers.nightly import sync_customers

    with _uniconta(uniconta_fields, le.uniconta_company_id, master_data=True) as uniconta, \
            _timelog(timelog_fields) as timelog:
        return sync_customers(engine, le, uniconta, timelog.rest, ledger=ledger, dry_run=dry_run)


def _items(engine, le, ledger, timelog_fields, uniconta_fields, dry_run, period) -> dict:
    from tlsync.items.products import ItemNumbers

    with _timelog(timelog_fields) as timelog:
        numbers = ItemNumbers(engine, le, timelog.rest, run_id=ledger.run_id, actor=ledger.actor)
        writes = numbers.plan_sync()
        if dry_run:
            return {"planned": [str(w) for w in writes]}
        outcome = numbers.apply(writes)
        result = {"written": len(outcome.done), "failed": len(outcome.failed), "failures": outcome.failed}
        if not numbers.writes_available:       # TimeLog's public API: the changes are a list to make by hand
            from tlsync.items.todo import settle, todo_rows

            settle(ledger, le, numbers.products)
            todo = todo_rows(engine, le)
            result["by_hand"] = len(todo)
            if todo:
                result["messages"] = [
                    f"{len(todo)} item-number change(s) to make by hand in TimeLog (product-number writes are not "
                    f"in its public API): `tlsync items todo --legal-entity {le.legal_entity_id}` lists them "
                    f"(rule U2)"]
    return result


def _projects(engine, le, ledger, timelog_fields, uniconta_fields, dry_run, period) -> dict:
    from tlsync.projects.transfer import transfer_projects

    with _uniconta(uniconta_fields, le.uniconta_company_id, master_data=True) as uniconta:
        result = transfer_projects(uniconta, engine, le, ledger=ledger, dry_run=dry_run)
    return {**result.counts(), "messages": result.messages, "failures": result.failures}


def _invoices(engine, le, ledger, timelog_fields, uniconta_fields, dry_run, period) -> dict:
    from tlsync.invoicing.transfer import transfer_invoices

    with _uniconta(uniconta_fields, le.uniconta_company_id) as uniconta, _timelog(timelog_fields) as timelog:
        return transfer_invoices(engine, le, uniconta, timelog.transactional, ledger=ledger, period=period,
                                 dry_run=dry_run)


def _expenses(engine, le, ledger, timelog_fields, uniconta_fields, dry_run, period) -> dict:
    from tlsync.expenses import import_expenses

    if not le.expense_gl_accounts:
        return {"skipped": f"{le.label}: no expense GL accounts chosen; nothing to import (rule S6)"}
    with _timelog(timelog_fields) as timelog:
        return import_expenses(engine, le, timelog.rest, ledger=ledger,
                               since=period[0] if period else None, dry_run=dry_run)


_RUNNERS: dict[str, Callable[..., dict]] = {
    "customers": _customers, "items": _items, "projects": _projects, "invoices": _invoices, "expenses": _expenses}


def run_step(step: str, legal_entity_id: int, *, run_id: str, timelog_fields: Mapping[str, Any],
             uniconta_fields: Mapping[str, Any], settings: IntegrationSettings | None,
             period: tuple[date, date] | None = None, dry_run: bool = False, engine=None) -> dict:
    """Run one step for one legal entity; returns the step's counts (plus ``skipped`` with the reason when the
    legal entity is not set up for it)."""
    if step not in _RUNNERS:
        raise ValueError(f"unknown write-back step {step!r}; the steps are {', '.join(STEPS)}")
    le = entity_settings(settings, legal_entity_id)
    if le is None:
        reason = (f"legal entity {legal_entity_id} has no integration settings; nothing is written for it until an "
                  f"administrator sets it up (`python -m tlsync.settings init`, rule S8)")
        log.warning(reason)
        return {"skipped": reason}
    if le.uniconta_company_id is None:
        return {"skipped": f"{le.label}: no Uniconta company chosen (rule S1)"}
    engine = engine or config.staging_engine()
    ledger = Ledger(engine, run_id=run_id, actor=f"tlsync {step}")
    from tlsync.clients.errors import QuotaExceededError
    from tlsync.ledger.lease import LeaseHeld

    try:
        result = _RUNNERS[step](engine, le, ledger, timelog_fields, uniconta_fields, dry_run, period)
    except LeaseHeld as exc:           # another writer has this legal entity now: a clean skip, said in one line
        log.warning("%s — %s: %s", le.label, step, exc.message)
        return {"skipped": exc.message}
    except QuotaExceededError:         # the day's Uniconta allowance is spent: a clean stop, resumed next night
        from tlsync.quota import stop_line

        line = stop_line(f"{le.label} — {step}", engine, uniconta_fields.get("login"),
                         work_left=_work_left(step, engine, le, ledger))
        log.warning("%s", line)
        return {"stopped": line}
    if step == "invoices" and result.get("stopped") == _quota_reason():   # the transfer stopped itself cleanly
        from tlsync.quota import stop_line

        result["stopped"] = stop_line(f"{le.label} — {step}", engine, uniconta_fields.get("login"),
                                      work_left=f"{int(result.get('pending') or 0):,} invoice(s)")
    log.info("%s — %s: %s", le.label, step, summarise(result))
    return _jsonable(result)


def _quota_reason() -> str:
    from tlsync.invoicing.run import QUOTA_REASON

    return QUOTA_REASON


def _work_left(step: str, engine, le, ledger) -> str | None:
    """What a step stopped by the quota leaves for the next night, planned from staging (no API call), for the
    steps that can say it cheaply; ``None`` otherwise."""
    try:
        if step == "projects":
            from tlsync.projects.transfer import transfer_projects

            planned = transfer_projects(None, engine, le, ledger=ledger, dry_run=True).planned
            return f"{len(planned):,} project(s) to create or update"
    except Exception:                  # the count is a courtesy; the stop line stands without it
        log.debug("could not count what %s leaves for the next night", step, exc_info=True)
    return None


def _counts(result: Mapping[str, Any]) -> str:
    return ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in result.items()
                     if isinstance(v, int) and v and not isinstance(v, bool))


def summarise(result: Mapping[str, Any]) -> str:
    """One line for the log and the run summary: the non-zero counts, then any refusal or stop reason."""
    if result.get("skipped"):
        return f"skipped: {result['skipped']}"
    notes = [*result.get("refused", []), *([result["stopped"]] if result.get("stopped") else [])]
    return "; ".join([_counts(result) or "nothing to write", *notes])


def _reasons(failures: Any) -> list[str]:
    if isinstance(failures, Mapping):
        return [str(v) for v in failures.values()]
    if isinstance(failures, (list, tuple)):
        return [str(v) for v in failures]
    return []


def format_summary(run_id: str, results: Sequence[tuple[Mapping[str, Any], Mapping[str, Mapping[str, Any] | None]]],
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
            if result.get("skipped"):
                lines.append(f"  {step:<10} skipped: {result['skipped']}")
                continue
            lines.append(f"  {step:<10} {_counts(result) or 'nothing to write'}")
            lines += [f"  {'':<10} refused: {why}" for why in result.get("refused") or []]
            if result.get("stopped"):
                lines.append(f"  {'':<10} stopped: {result['stopped']}")
            lines += [f"  {'':<10} note: {m}" for m in result.get("messages") or [] if isinstance(m, str)]
            reasons = _reasons(result.get("failures"))
            lines += [f"  {'':<10} not written: {why}" for why in reasons[:reasons_shown]]
            if len(reasons) > reasons_shown:
                lines.append(f"  {'':<10} … and {len(reasons) - reasons_shown} more (every reason is in the sync "
                             f"ledger, state failed)")
    return "\n".join(lines)


def _jsonable(value: Any) -> Any:
    """XCom-safe: Decimals/dates as strings, sets as sorted lists, nested mappings kept."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
