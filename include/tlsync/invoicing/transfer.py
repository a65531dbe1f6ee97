"""Transfer booked TimeLog invoices and credit notes to Uniconta drafts, exactly once (rule T2).

One run for one legal entity (:func:`transfer_invoices`):

1. **Gate** (rule S8): :func:`tlsync.linking.gate.transfer_blockers` — anything there refuses the whole legal
   entity with exactly those lines; nothing is read from or written to Uniconta.
2. **Recover** what a crashed run left ``in_flight`` (:mod:`.recovery`): drafts are looked up by their marker
   (one filtered read per 40 invoices); a draft that landed is completed (missing lines added), one that did not is
   released to ``pending`` and sent again.
3. **Month by month** over the period (bounded memory: one month's invoices, one batch's lines at a time):
   invoices TimeLog already marks as transferred (``ExternalInvoiceNo``; TimeLog's built-in integration) are adopted
   as ``elsewhere``, those marked "ignore for transfer" as ``ignored`` — neither is ever sent. The rest are built into
   drafts (:mod:`.draft`); an invoice with bad input is ``failed`` with its own reason and blocks nothing else.
4. **Write a batch** of up to 100 drafts: claim each (ledger ``in_flight``), one ``InsertList`` of the orders, one
   ``InsertList`` per 500 lines (lines of many orders per call), then ``done`` with the order number — and write
   the Uniconta reference back to TimeLog (``UpdateExternalData``). A failed write-back keeps the invoice ``done``
   with the reason "TimeLog write-back pending" and is retried by later runs without re-posting.
5. **Quota** (:mod:`.budget`): today's spent calls are shared by all runs of the UTC day. When the client refuses a
   call (budget spent) or Uniconta answers ``DailyCallLimitExceeded``, the run stops: claims whose drafts were not
   written go back to ``pending`` with the reason "Uniconta daily quota ran out"; a batch whose orders were written
   but not all lines stays ``in_flight`` and is finished by step 2 of the next run. No loss, no duplicate.

Ledger: domain ``invoice``, key = the TimeLog invoice GUID (lower case), ``target_key`` = the Uniconta order number,
``details`` = ``{invoice_no, kind, customer_id, debtor_account, currency, date, net, vat, total, order_number,
written_back}`` (amounts as strings) — the reconciliation report reads these fields.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, and_, select

from tlsync.clients.errors import QuotaExceededError, RecordRejectedError, SyncAPIError
from tlsync.clients.uniconta.models import DebtorOrderClient
from tlsync.ledger import DONE, ELSEWHERE, FAILED, IGNORED, IN_FLIGHT, PENDING, Ledger, LedgerEntry
from tlsync.settings.models import LegalEntitySettings
from tlsync.staging.tables import sync_ledger

from . import source
from .budget import DayBudget
from .draft import Context, Draft, build, describe, details_of, internal_reference, marker

log = logging.getLogger(__name__)

DOMAIN = "invoice"
ORDER_BATCH = 100
LINE_BATCH = 500
OR_LIMIT = 40
QUOTA_REASON = "Uniconta daily quota ran out"
WRITEBACK_PENDING = "TimeLog write-back pending"
WRITEBACK_THREADS = int(os.environ.get("TLSYNC_WRITEBACK_THREADS") or 8)
COUNT_KEYS = ("transferred", "failed", "pending", "elsewhere", "ignored", "unchanged", "calls")


class QuotaOut(Exception):
    """Uniconta's daily quota (or the run's share of it) is spent: stop cleanly."""


@dataclass
class Run:
    """The state of one transfer run (what it knows, what it did)."""

    engine: Engine
    le: LegalEntitySettings
    uniconta: Any
    timelog_tx: Any
    ledger: Ledger
    tenant: str
    ctx: Context
    dry_run: bool
    budget: DayBudget | None
    progress: Callable[[int], None] | None
    counts: Counter = field(default_factory=Counter)
    messages: list[str] = field(default_factory=list)
    planned: list[dict] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    lines_seen: int = 0
    queue: list = field(default_factory=list)       # candidates waiting for a full batch (across months)

    def flush(self, *, full_only: bool = False) -> None:
        while self.queue and (len(self.queue) >= ORDER_BATCH or not full_only):
            batch, self.queue = self.queue[:ORDER_BATCH], self.queue[ORDER_BATCH:]
            _batch(self, batch)

    @property
    def le_id(self) -> int:
        return self.le.legal_entity_id


# ------------------------------------------------------------------------------------------------ entry point


def transfer_invoices(engine: Engine, le: LegalEntitySettings, uniconta: Any, timelog_tx: Any, *, ledger: Ledger,
                      period: tuple[date, date] | None = None, dry_run: bool = False,
                      progress: Callable[[int], None] | None = None, context: Context | None = None) -> dict:
    """Transfer the legal entity's booked invoices and credit notes dated in ``period`` (default: all staged).

    Returns counts — ``transferred, failed, pending, elsewhere, ignored, unchanged, calls`` (Uniconta calls this
    run) — plus ``messages`` (one-off notes, e.g. no project module), ``refused`` (the S8 gate's lines; then
    nothing was done), ``stopped`` (why the run stopped early, e.g. the quota), ``failures`` (GUID → reason of the
    invoices that failed in this run) and, for a dry run, ``planned`` (the writes it would make).
    ``progress(n)`` is called with the number of invoices handled since its last call. ``context``: master data
    already loaded by :func:`load_context` (a backfill loads it once for all its months)."""
    from tlsync.linking.gate import transfer_blockers

    result: dict[str, Any] = {k: 0 for k in COUNT_KEYS}
    result.update(messages=[], refused=[], stopped=None, failures={}, planned=[], lines=0)
    blockers = transfer_blockers(le, engine)
    if blockers:
        result["refused"] = list(blockers)
        return result
    source.ensure_indexes(engine)
    tenant = source.invoice_tenant(engine, le.legal_entity_id)
    if tenant is None:
        result["messages"].append(f"{le.label}: no TimeLog invoices are staged for this legal entity yet")
        return result
    start_calls = uniconta.calls_used
    budget = None if dry_run else DayBudget(ledger, uniconta)
    run = Run(engine, le, uniconta, timelog_tx, ledger, tenant, context or load_context(engine, le, tenant), dry_run, budget,
              progress)
    if not run.ctx.project_module:
        from tlsync.projects.transfer import no_module_message

        run.messages.append(no_module_message(le))
    try:
        if not dry_run:
            from .recovery import recover_in_flight

            recover_in_flight(run)
            retry_write_backs(run)
        span = period or source.staged_period(engine, tenant)
        if span is not None:
            for start, end in source.months(*span):
                _month(run, start, end)
            run.flush()
    except QuotaOut:
        run.counts["pending"] += len(run.queue)
        result["stopped"] = QUOTA_REASON
        run.messages.append(f"{le.label}: {QUOTA_REASON}; the rest stays pending and the next run continues")
    finally:
        if budget is not None:
            budget.close()
    result.update({k: run.counts.get(k, 0) for k in COUNT_KEYS})
    result["calls"] = uniconta.calls_used - start_calls
    result["lines"] = run.lines_seen
    result["messages"] = run.messages + result["messages"]
    result["failures"] = run.failures
    result["planned"] = run.planned
    return result


def load_context(engine: Engine, le: LegalEntitySettings, tenant: str) -> Context:
    """Master data, read once per run — from staging, which the nightly sync keeps current (no Uniconta call)."""
    from tlsync.customers.staged import uniconta_rows
    from tlsync.items.resolver import ItemResolver
    from tlsync.projects.transfer import has_project_module, staged_projects

    company = le.uniconta_company_id
    companies = uniconta_rows(engine, "uniconta.companies", company)
    own = (companies.get(str(company)) or {}).get("Currency") or None
    module = has_project_module(engine, le)
    categories = set(uniconta_rows(engine, "uniconta.project_categories", company)) if module else set()
    employees = {k: (v.get("Name") or k) for k, v in uniconta_rows(engine, "uniconta.employees", company).items()}
    return Context(company_currency=own, project_module=module, category=le.invoice_project_category,
                   categories=categories, resolver=ItemResolver.from_staging(engine, le),
                   projects=staged_projects(engine, le.legal_entity_id), employee_names=employees)


# ------------------------------------------------------------------------------------------------ one month


def states_of(ledger: Ledger, le_id: int, keys: Iterable[str]) -> dict[str, LedgerEntry]:
    """Ledger entries of some invoices (one query per 500 keys)."""
    keys = list(keys)
    out: dict[str, LedgerEntry] = {}
    with ledger.engine.connect() as conn:
        for i in range(0, len(keys), 500):
            q = select(sync_ledger).where(and_(sync_ledger.c.domain == DOMAIN,
                                               sync_ledger.c.legal_entity_id == int(le_id),
                                               sync_ledger.c.source_key.in_(keys[i:i + 500])))
            for row in conn.execute(q):
                e = LedgerEntry.from_row(row)
                out[e.source_key] = e
    return out


def _month(run: Run, start: date, end: date) -> None:
    invoices = source.invoices_in(run.engine, run.tenant, start, end)
    if not invoices:
        return
    entries = states_of(run.ledger, run.le_id, [marker(inv.guid or "") for inv, _ in invoices if inv.guid])
    candidates: list[tuple[Any, dict, LedgerEntry | None]] = []
    for inv, raw in invoices:
        if not inv.guid:
            run.counts["failed"] += 1
            run.messages.append(f"{describe(inv)}: TimeLog gave it no GUID, so it cannot be tracked (rule T2)")
            continue
        key = marker(inv.guid)
        entry = entries.get(key)
        state = entry.state if entry else None
        external = (inv.external_invoice_no or "").strip()
        if state in (DONE, ELSEWHERE, IGNORED):
            run.counts["unchanged"] += 1
        elif state == IN_FLIGHT:
            run.counts["pending"] += 1          # another writer has it (recovery already ran for ours)
        elif external:
            _adopt(run, inv, key, ELSEWHERE, target=external,
                   reason=f"transferred by TimeLog's built-in integration (external invoice number {external}"
                          f"{', status ' + inv.external_invoice_status if inv.external_invoice_status else ''})")
        elif inv.is_ignored_when_transfer and state in (None, FAILED):   # not after an administrator's unignore
            _adopt(run, inv, key, IGNORED, reason="marked 'ignore for transfer' in TimeLog")
        else:
            candidates.append((inv, raw, entry))
    run.queue.extend(candidates)
    run.flush(full_only=True)
    if run.progress:
        run.progress(len(invoices) - len(candidates))


def _adopt(run: Run, inv: Any, key: str, state: str, *, reason: str, target: str | None = None) -> None:
    run.counts["elsewhere" if state == ELSEWHERE else "ignored"] += 1
    if run.dry_run:
        run.planned.append({"write": f"ledger: adopt as {state}", "guid": key, "invoice_no": inv.invoice_number,
                            "reason": reason})
        return
    run.ledger.transition(DOMAIN, run.le_id, key, state, action=f"adopt_{state}", target_key=target, reason=reason,
                          details=details_of(inv, None), expect=(None, PENDING, FAILED))


# ------------------------------------------------------------------------------------------------ one batch


def prepare(run: Run, batch: list[tuple[Any, dict, LedgerEntry | None]]) -> tuple[list[Draft], dict[str, list[str]]]:
    """Build the drafts of a batch: debtors (S3), employees (T4) and projects (T3) first, in batches."""
    from tlsync.customers.sync import ensure_debtors, ensure_employees
    from tlsync.projects.transfer import ensure_projects

    le, ctx = run.le, run.ctx
    lines = source.lines_for(run.engine, run.tenant, [inv.id for inv, _, _ in batch])
    run.lines_seen += sum(len(v) for v in lines.values())
    try:
        debtors = ensure_debtors(run.uniconta, run.engine, le, {inv.customer_id for inv, _, _ in batch},
                                 ledger=run.ledger, dry_run=run.dry_run)
        refs = {inv.guid: internal_reference(raw, ctx, inv) for inv, raw, _ in batch}
        employees = ensure_employees(run.uniconta, run.engine, le, {r for r in refs.values() if r},
                                     ledger=run.ledger, dry_run=run.dry_run)
        projects = None
        if ctx.project_module:
            projects = ensure_projects(run.uniconta, run.engine, le,
                                       {inv.project_id for inv, _, _ in batch if inv.project_id},
                                       ledger=run.ledger, dry_run=run.dry_run, module=True)
            if run.dry_run:
                run.planned.extend(projects.planned)
    except QuotaExceededError as exc:
        raise QuotaOut(str(exc)) from exc
    drafts: list[Draft] = []
    problems: dict[str, list[str]] = {}
    automatic = le.customer_master.value == "automatic"
    for inv, raw, _ in batch:
        debtor = debtors.get(inv.customer_id)
        customer_problem = None
        if debtor is None:
            customer_problem = (f"{describe(inv)}: customer {inv.customer_id} ({inv.customer_name or '?'}) is not "
                                f"linked to a Uniconta debtor (rule S3a)") if not automatic else (
                f"{describe(inv)}: customer {inv.customer_id} ({inv.customer_name or '?'}) could not be created as a "
                f"Uniconta debtor (rule S3b); see `python -m tlsync.ledger` domain debtor")
        number, project_problem = None, None
        if projects is not None and inv.project_id:
            number = projects.numbers.get(inv.project_id)
            if number is None:
                project_problem = (f"{describe(inv)}: " + projects.failures.get(
                    inv.project_id, f"project {inv.project_no or inv.project_id} is not staged from TimeLog, so it "
                                    f"cannot be transferred to Uniconta (rule T3)"))
        ref = refs.get(inv.guid)
        draft, why = build(inv, raw, lines.get(inv.id, []), ctx, debtor=debtor,
                           employee=employees.get(ref) if ref else None, project_number=number,
                           project_problem=project_problem, customer_problem=customer_problem)
        if draft is None:
            problems[marker(inv.guid)] = why
            continue
        drafts.append(draft)
    return drafts, problems


def _batch(run: Run, batch: list[tuple[Any, dict, LedgerEntry | None]]) -> None:
    drafts, problems = prepare(run, batch)
    by_key = {marker(inv.guid): (inv, entry) for inv, _, entry in batch}
    to_fail = []
    for key, why in problems.items():
        inv, entry = by_key[key]
        reason = "; ".join(why)
        run.counts["failed"] += 1
        run.failures[key] = reason
        if run.dry_run or (entry is not None and entry.state == FAILED and entry.reason == reason):
            continue                                 # same reason as last time: no new event every night
        to_fail.append((key, reason, details_of(inv, None)))
    if to_fail:
        with run.engine.begin() as conn:             # one transaction for the batch's refusals
            for key, reason, details in to_fail:
                run.ledger.transition(DOMAIN, run.le_id, key, FAILED, action="build_draft", reason=reason,
                                      details=details, expect=(IN_FLIGHT, PENDING, FAILED, None), conn=conn)
    if run.progress:
        run.progress(len(problems))
    if run.dry_run:
        for d in drafts:
            run.planned.append(_plan(d))
            run.counts["transferred"] += 1
        if run.progress:
            run.progress(len(drafts))
        return
    claimed = claim_batch(run, drafts)
    run.counts["pending"] += len(drafts) - len(claimed)      # someone else holds those
    write_drafts(run, claimed)
    if run.budget is not None:
        run.budget.book()
    if run.progress:
        run.progress(len(drafts))


def claim_batch(run: Run, drafts: list[Draft]) -> list[Draft]:
    """:meth:`Ledger.claim` for a whole batch in one transaction, with the same guarantees: a row is inserted
    (a concurrent insert loses on the primary key) or updated only from a writable state (``WHERE state IN …``,
    checked by the row count). If anything conflicts, the batch falls back to one claim per invoice."""
    from sqlalchemy import insert, update
    from sqlalchemy.exc import IntegrityError

    from tlsync.ledger import WRITABLE
    from tlsync.ledger.store import to_json
    from tlsync.staging.tables import ledger_events

    if not drafts:
        return []
    keys = [d.guid for d in drafts]
    now = datetime.now().replace(microsecond=0)
    try:
        with run.engine.begin() as conn:
            was = {r.source_key: r for r in conn.execute(
                select(sync_ledger.c.source_key, sync_ledger.c.state, sync_ledger.c.attempts).where(
                    sync_ledger.c.domain == DOMAIN, sync_ledger.c.legal_entity_id == run.le_id,
                    sync_ledger.c.source_key.in_(keys)))}
            claimed = []
            for d in drafts:
                row = was.get(d.guid)
                details = to_json(d.details)
                if row is None:
                    conn.execute(insert(sync_ledger).values(
                        domain=DOMAIN, legal_entity_id=run.le_id, source_key=d.guid, state=IN_FLIGHT, attempts=1,
                        details=details, run_id=run.ledger.run_id, created_at=now, updated_at=now))
                elif row.state in WRITABLE:
                    changed = conn.execute(update(sync_ledger).where(
                        sync_ledger.c.domain == DOMAIN, sync_ledger.c.legal_entity_id == run.le_id,
                        sync_ledger.c.source_key == d.guid, sync_ledger.c.state.in_(WRITABLE)).values(
                        state=IN_FLIGHT, attempts=(row.attempts or 0) + 1, reason=None, run_id=run.ledger.run_id,
                        updated_at=now, details=details))
                    if changed.rowcount != 1:
                        raise IntegrityError("claim", None, Exception("changed meanwhile"))
                else:
                    continue
                conn.execute(insert(ledger_events).values(
                    domain=DOMAIN, legal_entity_id=run.le_id, source_key=d.guid, action="claim",
                    state_before=row.state if row else None, state_after=IN_FLIGHT, after=details,
                    run_id=run.ledger.run_id, actor=run.ledger.actor, at=now))
                claimed.append(d)
            return claimed
    except IntegrityError:
        return [d for d in drafts
                if run.ledger.claim(DOMAIN, run.le_id, d.guid, action="claim", details=d.details) is not None]


def _plan(d: Draft) -> dict:
    order = d.order.to_payload()
    return {"write": "insert DebtorOrderClient", "guid": d.guid, "invoice_no": d.details.get("invoice_no"),
            "debtor": order.get("Account"), "currency": order.get("Currency") or "(company currency)",
            "project": order.get("Project"), "lines": len(d.lines), "total": str(d.total())}


# ------------------------------------------------------------------------------------------------ writing


def write_drafts(run: Run, drafts: list[Draft]) -> None:
    """Orders (one InsertList), then their lines (InsertList per 500), then done + write-back. On a quota stop the
    unwritten claims are released; written orders stay in_flight for the next run's recovery."""
    if not drafts:
        return
    try:
        written = _insert_orders(run, drafts)
    except QuotaOut:
        for d in drafts:
            run.ledger.release(DOMAIN, run.le_id, d.guid, reason=QUOTA_REASON, action="quota")
            run.counts["pending"] += 1
        raise
    try:
        _insert_lines(run, written)
    except QuotaOut:
        for d in written:                              # their orders exist: the next run's recovery finishes them
            run.counts["pending"] += 1
        raise
    finish_many(run, written)


def _insert_orders(run: Run, drafts: list[Draft]) -> list[Draft]:
    """Insert the orders of ``drafts``; returns those written, each with ``order.OrderNumber`` set. A draft
    Uniconta refuses fails alone (the batch is split until the refused one is found)."""
    try:
        stored = run.uniconta.insert_list([d.order for d in drafts], batch_size=len(drafts))
    except QuotaExceededError as exc:
        raise QuotaOut(str(exc)) from exc
    except RecordRejectedError as exc:
        if len(drafts) == 1:
            _refused(run, drafts[0], f"Uniconta refused the draft: {exc.message}")
            return []
        half = len(drafts) // 2
        return _insert_orders(run, drafts[:half]) + _insert_orders(run, drafts[half:])
    numbers = [getattr(s, "OrderNumber", None) for s in stored]
    if any(n is None for n in numbers):                # e.g. a 204 answer: ask Uniconta by marker
        from .recovery import find_orders

        found = find_orders(run, [d.guid for d in drafts])
        numbers = [found[d.guid].OrderNumber if d.guid in found else None for d in drafts]
    out = []
    for d, n in zip(drafts, numbers):
        if n is None:
            run.ledger.fail(DOMAIN, run.le_id, d.guid, "Uniconta accepted the draft but did not tell its order "
                            "number and it cannot be found by its marker; check Uniconta before retrying (rule T2)")
            run.counts["failed"] += 1
            continue
        d.order.OrderNumber = int(n)
        out.append(d)
    return out


def _insert_lines(run: Run, drafts: list[Draft]) -> None:
    rows = []
    for d in drafts:
        for ln in d.lines:
            ln.OrderNumber = d.order.OrderNumber
            rows.append(ln)
    if not rows:
        return
    try:
        for _ in run.uniconta.iter_insert_list(rows, batch_size=LINE_BATCH):
            pass
    except QuotaExceededError as exc:
        raise QuotaOut(str(exc)) from exc
    except RecordRejectedError:
        # InsertList is all or nothing per call, and earlier calls may have landed: let recovery (which checks
        # every order's lines) find out, draft by draft, which lines are missing and which draft is refused.
        from .recovery import complete_lines

        for d in drafts:
            complete_lines(run, d)
        drafts[:] = [d for d in drafts if d.guid not in run.failures]


def _refused(run: Run, d: Draft, reason: str) -> None:
    run.ledger.fail(DOMAIN, run.le_id, d.guid, f"{d.details.get('kind', 'invoice').replace('_', ' ')} "
                    f"{d.details.get('invoice_no')}: {reason} (rule T2)", details=d.details)
    run.failures[d.guid] = reason
    run.counts["failed"] += 1


def finish(run: Run, d: Draft, *, action: str = "transfer") -> None:
    finish_many(run, [d], action=action)


def finish_many(run: Run, drafts: list[Draft], *, action: str = "transfer") -> None:
    """The drafts are in Uniconta: ``done`` with their order numbers (one transaction for the batch), then the
    write-back to TimeLog, whose outcomes are recorded in one more transaction."""
    if not drafts:
        return
    done: list[tuple[str, Any, dict]] = []
    with run.engine.begin() as conn:
        for d in drafts:
            details = {**d.details, "order_number": d.order.OrderNumber, "written_back": False}
            run.ledger.transition(DOMAIN, run.le_id, d.guid, DONE, action=action,
                                  target_key=str(d.order.OrderNumber), reason=WRITEBACK_PENDING, details=details,
                                  expect=(IN_FLIGHT,), conn=conn,
                                  after={"order": d.order.OrderNumber, "lines": len(d.lines),
                                         "total": str(d.total())})
            done.append((d.guid, d.order.OrderNumber, details))
    run.counts["transferred"] += len(done)
    write_backs(run, done)


def write_back(run: Run, guid: str, order_number: Any, details: dict) -> bool:
    return write_backs(run, [(guid, order_number, details)]) == 1


def write_backs(run: Run, items: list[tuple[str, Any, dict]]) -> int:
    """Tell TimeLog where each invoice went (``UpdateExternalData``: the order number, state "Draft"); record the
    outcomes in one transaction. Returns how many succeeded."""
    from tlsync.clients.timelog.models import InvoiceStatus

    def one(item: tuple[str, Any, dict]) -> tuple[str, dict, str | None]:
        guid, order_number, details = item
        try:
            run.timelog_tx.update_external_data(guid, str(order_number), InvoiceStatus.DRAFT, status_name="Draft")
        except SyncAPIError as exc:
            return guid, details, f"{WRITEBACK_PENDING}: {exc.message}"
        return guid, details, None

    # one SOAP call per invoice (TimeLog has no batch operation and no daily quota): a few in parallel, so a
    # backfill is not bound by the round trip; the client's token cache and HTTP pool are thread-safe
    if len(items) > 1 and WRITEBACK_THREADS > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=WRITEBACK_THREADS, thread_name_prefix="writeback") as pool:
            outcomes = list(pool.map(one, items))
    else:
        outcomes = [one(item) for item in items]
    for guid, details, reason in outcomes:
        if reason:
            run.messages.append(f"invoice {details.get('invoice_no')}: {reason} (retried by the next run)")
    with run.engine.begin() as conn:
        for guid, details, reason in outcomes:
            run.ledger.transition(DOMAIN, run.le_id, guid, DONE, action="write_back", reason=reason,
                                  details=None if reason else {**details, "written_back": True},
                                  expect=(DONE,), conn=conn)
    return sum(1 for _, _, reason in outcomes if reason is None)


def retry_write_backs(run: Run) -> int:
    """Write-backs that failed earlier (``done`` with the pending reason): try them again, never re-posting."""
    q = select(sync_ledger).where(sync_ledger.c.domain == DOMAIN, sync_ledger.c.legal_entity_id == run.le_id,
                                  sync_ledger.c.state == DONE, sync_ledger.c.reason.like(WRITEBACK_PENDING + "%"))
    with run.engine.connect() as conn:
        entries = [LedgerEntry.from_row(r) for r in conn.execute(q)]
    return write_backs(run, [(e.source_key, e.target_key, e.details) for e in entries]) if entries else 0
