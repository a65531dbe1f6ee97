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
   An invoice with an item that is not a TimeLog product number (staged ``GET /product``) is held back the same
   way, naming the items (rule U2, :mod:`tlsync.items.todo`); it goes once the item exists in TimeLog.
4. **Write a batch** of up to 100 drafts: claim each (ledger ``in_flight``), one ``InsertList`` of the orders, one
   ``InsertList`` per 500 lines (lines of many orders per call), then ``done`` with the order number — and write
   the Uniconta reference back to TimeLog (``UpdateExternalData``). A failed write-back keeps the invoice ``done``
   with the reason "TimeLog write-back pending" and is retried by later runs without re-posting.
5. **Quota** (:mod:`tlsync.quota`): every Uniconta call of the client is booked in the daily tally shared by every
   task and process (Danish day). When the tally refuses a call (the day's allowance is spent) or Uniconta answers
   ``DailyCallLimitExceeded``, the run stops: claims whose drafts were not
   written go back to ``pending`` with the reason "Uniconta daily quota ran out"; a batch whose orders were written
   but not all lines stays ``in_flight`` and is finished by step 2 of the next run. No loss, no duplicate.

Ledger: domain ``invoice``, key = the TimeLog invoice GUID (lower case), ``target_key`` = the Uniconta order number,
``details`` = ``{invoice_no, kind, customer_id, debtor_account, currency, date, net, vat, total, items, order_number,
written_back}`` (amounts as strings; ``items`` = the item sent per line) — the reconciliation report reads these.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Engine, and_, select

from tlsync.clients.errors import QuotaExceededError, RecordRejectedError, SyncAPIError, WriteOutcomeUnknownError
from tlsync.clients.uniconta.crud import Unverified
from tlsync.ledger import DONE, ELSEWHERE, FAILED, IGNORED, IN_FLIGHT, PENDING, Ledger, LedgerEntry
from tlsync.ledger.lease import Lease, LeaseHeld, LeaseLost, write_lease
from tlsync.settings.models import LegalEntitySettings
from tlsync.staging.tables import sync_ledger

from . import source
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
LEASE_DOMAINS = (DOMAIN, "debtor", "employee", "project")
"""Ledger domains a transfer writes (invoices, and the debtors, employees and projects they need): held as one
write lease for the whole run (:mod:`tlsync.ledger.lease`) — a second writer of the legal entity stops cleanly."""
ANALYZE_EVERY = 20_000
"""Ledger rows written between two refreshes of its planner statistics (see :func:`source.analyze`)."""
INVOICES_T, LINES_T, DETAILS_T = source.INVOICES.name, source.LINES.name, source.DETAILS.name


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
    progress: Callable[[int], None] | None
    counts: Counter = field(default_factory=Counter)
    messages: list[str] = field(default_factory=list)
    planned: list[dict] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    lines_seen: int = 0
    queue: list = field(default_factory=list)       # candidates waiting for a full batch (across months)
    debtors: dict = field(default_factory=dict)     # customer ID → debtor account, known in this run
    employees: dict = field(default_factory=dict)   # internal reference (initials) → employee number
    projects: dict = field(default_factory=dict)    # project ID → Uniconta project number
    wb_pool: Any = None                              # write-back threads (created on first use)
    analyzed_at: int = 0                             # ledger rows written when its statistics were last refreshed
    wb_pending: list = field(default_factory=list)  # [futures] per batch of write-backs not yet recorded
    lease: Lease | None = None                       # the write lease of the legal entity (None: a dry run)
    duplicates: dict = field(default_factory=dict)  # invoice number → {TimeLog invoice ID: GUID} (shared numbers)
    held_items: dict = field(default_factory=dict)  # marker → items missing in TimeLog (held back, rule U2)

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
    source.analyze(engine, [INVOICES_T, LINES_T, DETAILS_T, sync_ledger.name], only_if_never=True)
    tenant = source.invoice_tenant(engine, le.legal_entity_id)
    if tenant is None:
        result["messages"].append(f"{le.label}: no TimeLog invoices are staged for this legal entity yet")
        return result
    if dry_run:
        return _transfer(engine, le, uniconta, timelog_tx, ledger, tenant, result, period, dry_run, progress,
                         context)
    try:
        with write_lease(engine, le.legal_entity_id, LEASE_DOMAINS, run_id=ledger.run_id, what="transferred") as lease:
            return _transfer(engine, le, uniconta, timelog_tx, ledger, tenant, result, period, dry_run, progress,
                             context, lease=lease)
    except LeaseHeld as exc:                         # another writer has this legal entity: a clean skip
        result["stopped"] = exc.message
        result["messages"].append(exc.message)
        return result
    except LeaseLost as exc:                         # ours was taken over meanwhile: stop, write nothing more
        result["stopped"] = str(exc)
        result["messages"].append(str(exc))
        return result


def _transfer(engine: Engine, le: LegalEntitySettings, uniconta: Any, timelog_tx: Any, ledger: Ledger, tenant: str,
              result: dict[str, Any], period: tuple[date, date] | None, dry_run: bool,
              progress: Callable[[int], None] | None, context: Context | None, lease: Lease | None = None) -> dict:
    start_calls = uniconta.calls_used
    run = Run(engine, le, uniconta, timelog_tx, ledger, tenant, context or load_context(engine, le, tenant), dry_run,
              progress, lease=lease, duplicates=duplicate_numbers(engine, tenant))
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
        drain_write_backs(run)
    except QuotaOut:
        run.counts["pending"] += len(run.queue)
        result["stopped"] = QUOTA_REASON
        run.messages.append(f"{le.label}: {QUOTA_REASON}; the rest stays pending and the next run continues")
        drain_write_backs(run)
    finally:
        if run.wb_pending:                           # an error is on its way out: record what finished, quietly
            drain_write_backs(run, quiet=True)
        if run.wb_pool is not None:
            run.wb_pool.shutdown(wait=True)
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
    from tlsync.items.todo import TimeLogProducts
    from tlsync.projects.transfer import has_project_module, staged_projects

    company = le.uniconta_company_id
    companies = uniconta_rows(engine, "uniconta.companies", company)
    own = (companies.get(str(company)) or {}).get("Currency") or None
    module = has_project_module(engine, le)
    categories = set(uniconta_rows(engine, "uniconta.project_categories", company)) if module else set()
    employees = {k: (v.get("Name") or k) for k, v in uniconta_rows(engine, "uniconta.employees", company).items()}
    return Context(company_currency=own, project_module=module, category=le.invoice_project_category,
                   categories=categories, resolver=ItemResolver.from_staging(engine, le),
                   projects=staged_projects(engine, le.legal_entity_id), employee_names=employees,
                   timelog_products=TimeLogProducts.from_staging(engine, le))


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
    written = run.counts["transferred"] + run.counts["elsewhere"] + run.counts["ignored"] + run.counts["failed"]
    if not run.dry_run and written - run.analyzed_at >= ANALYZE_EVERY:   # a backfill grows the ledger fast
        source.analyze(run.engine, [sync_ledger.name])
        run.analyzed_at = written
    invoices = source.invoices_in(run.engine, run.tenant, start, end)
    if not invoices:
        return
    entries = states_of(run.ledger, run.le_id, [marker(inv.guid or "") for inv, _ in invoices if inv.guid])
    candidates: list[tuple[Any, dict, LedgerEntry | None]] = []
    adopt: list[dict] = []
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
            _adopt(run, inv, key, ELSEWHERE, target=external, into=adopt,
                   reason=f"transferred by TimeLog's built-in integration (external invoice number {external}"
                          f"{', status ' + inv.external_invoice_status if inv.external_invoice_status else ''})")
        elif inv.is_ignored_when_transfer and state in (None, FAILED):   # not after an administrator's unignore
            _adopt(run, inv, key, IGNORED, reason="marked 'ignore for transfer' in TimeLog", into=adopt)
        else:
            candidates.append((inv, raw, entry))
    if adopt:                                        # the month's adoptions: one transaction, a few statements
        run.ledger.transition_many(DOMAIN, run.le_id, adopt)
    run.queue.extend(candidates)
    if len(candidates) >= ORDER_BATCH:               # a busy month: its debtors, employees, projects at once
        masters(run, [(inv, raw) for inv, raw, _ in candidates])   # (a quiet one is left to its batch)
    run.flush(full_only=True)
    if run.progress:
        run.progress(len(invoices) - len(candidates))


def _adopt(run: Run, inv: Any, key: str, state: str, *, reason: str, target: str | None = None,
           into: list[dict] | None = None) -> None:
    """Adopt an invoice as ``elsewhere``/``ignored`` (never sent). With ``into`` the ledger move is appended there
    for one :meth:`Ledger.transition_many` of the month instead of being written now."""
    run.counts["elsewhere" if state == ELSEWHERE else "ignored"] += 1
    if run.dry_run:
        run.planned.append({"write": f"ledger: adopt as {state}", "guid": key, "invoice_no": inv.invoice_number,
                            "reason": reason})
        return
    move = {"source_key": key, "state": state, "action": f"adopt_{state}", "target_key": target, "reason": reason,
            "details": details_of(inv, None), "expect": (None, PENDING, FAILED)}
    if into is not None:
        into.append(move)
        return
    run.ledger.transition_many(DOMAIN, run.le_id, [move])


# ------------------------------------------------------------------------------------------------ one batch


def masters(run: Run, invoices: list[tuple[Any, dict]]) -> tuple[dict, dict, dict, Any]:
    """Debtors (S3), employees (T4) and projects (T3) of some invoices — created in Uniconta where missing, in
    batches. What is known is kept for the rest of the run, so a backfill asks once per month (``_month`` calls
    this for the whole month) instead of once per batch; what could not be resolved is asked again next time.
    Returns ``(debtors, refs, employees, projects)``; ``projects`` is ``None`` without the project module."""
    from tlsync.customers.sync import ensure_debtors, ensure_employees
    from tlsync.projects.transfer import ProjectResult, ensure_projects

    le, ctx = run.le, run.ctx
    customers = {inv.customer_id for inv, _ in invoices}
    refs = {inv.guid: internal_reference(raw, ctx, inv) for inv, raw in invoices}
    initials = {r for r in refs.values() if r}
    try:
        new = {c for c in customers if c not in run.debtors}
        if new:
            run.debtors.update(ensure_debtors(run.uniconta, run.engine, le, new, ledger=run.ledger,
                                              dry_run=run.dry_run))
        new = {r for r in initials if r not in run.employees}
        if new:
            run.employees.update(ensure_employees(run.uniconta, run.engine, le, new, ledger=run.ledger,
                                                  dry_run=run.dry_run))
        projects = None
        if ctx.project_module:
            wanted = {inv.project_id for inv, _ in invoices if inv.project_id}
            new = {p for p in wanted if p not in run.projects}
            projects = ProjectResult()
            if new:
                projects = ensure_projects(run.uniconta, run.engine, le, new, ledger=run.ledger,
                                           dry_run=run.dry_run, module=True)
                run.projects.update(projects.numbers)
                if run.dry_run:
                    run.planned.extend(projects.planned)
            projects.numbers = {p: run.projects[p] for p in wanted if p in run.projects}
    except QuotaExceededError as exc:
        raise QuotaOut(str(exc)) from exc
    debtors = {c: run.debtors[c] for c in customers if c in run.debtors}
    employees = {r: run.employees[r] for r in initials if r in run.employees}
    return debtors, refs, employees, projects


def duplicate_numbers(engine: Engine, tenant: str) -> dict[str, dict[int, str]]:
    """Invoice numbers that more than one staged booked invoice or credit note of the tenant carries:
    ``{number: {TimeLog invoice ID: GUID}}`` (one grouped query; normally empty)."""
    from sqlalchemy import func

    inv = source.INVOICES
    booked = and_(inv.c.tenant == tenant, inv.c.status.in_(source.BOOKED), inv.c.type.in_(source.TRANSFERRED_TYPES),
                  inv.c.invoice_number.is_not(None), inv.c.invoice_number != "")
    shared = select(inv.c.invoice_number).where(booked).group_by(inv.c.invoice_number).having(func.count() > 1)
    out: dict[str, dict[int, str]] = {}
    with engine.connect() as conn:
        for number, payload in conn.execute(select(inv.c.invoice_number, inv.c.payload)
                                            .where(booked, inv.c.invoice_number.in_(shared))):
            raw = source.loads(payload)
            out.setdefault(str(number), {})[int(raw.get("ID") or 0)] = marker(str(raw.get("GUID") or ""))
    return out


def duplicate_problem(run: Run, inv: Any) -> str | None:
    """Why an invoice whose number another staged invoice also carries is held back (``None``: its number is its
    own). Issue 17: a second TimeLog invoice with an existing number went out as a second draft. Neither is sent
    while the number is shared — which one is right is for a person to decide in TimeLog — except that one already
    in Uniconta stays there."""
    others = {i: g for i, g in run.duplicates.get(str(inv.invoice_number or ""), {}).items() if i != inv.id}
    if not others:
        return None
    written = states_of(run.ledger, run.le_id, others.values())
    sent = [f"{i} (order {written[g].target_key})" for i, g in sorted(others.items())
            if g in written and written[g].state in (DONE, IN_FLIGHT, ELSEWHERE)]
    listed = ", ".join(str(i) for i in sorted(others))
    return (f"{describe(inv)}: its invoice number {inv.invoice_number} is also TimeLog invoice {listed}"
            + (f", already in Uniconta as {', '.join(sent)}" if sent else "")
            + "; held back until TimeLog gives each invoice its own number (rule T2)")


def prepare(run: Run, batch: list[tuple[Any, dict, LedgerEntry | None]]) -> tuple[list[Draft], dict[str, list[str]]]:
    """Build the drafts of a batch: debtors (S3), employees (T4) and projects (T3) first (:func:`masters`). An
    invoice whose number another staged invoice shares is held back (:func:`duplicate_problem`)."""
    le, ctx = run.le, run.ctx
    if run.duplicates:
        held = {}
        for inv, _, _ in batch:
            why = duplicate_problem(run, inv)
            if why:
                held[marker(inv.guid)] = [why]
        if held:
            drafts, problems = prepare(run, [b for b in batch if marker(b[0].guid) not in held]) \
                if len(held) < len(batch) else ([], {})
            return drafts, {**problems, **held}
    lines = source.lines_for(run.engine, run.tenant, [inv.id for inv, _, _ in batch])
    run.lines_seen += sum(len(v) for v in lines.values())
    debtors, refs, employees, projects = masters(run, [(inv, raw) for inv, raw, _ in batch])
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
        missing = ctx.timelog_products.missing(draft.details.get("items") or []) \
            if ctx.timelog_products is not None else []
        if missing:                             # rule U2: an item TimeLog does not have holds the invoice back
            run.held_items[marker(inv.guid)] = missing
            problems[marker(inv.guid)] = [ctx.timelog_products.hold_reason(describe(inv), missing)]
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
        details = details_of(inv, None)
        if key in run.held_items:                # what `tlsync items todo` lists as needed by invoices
            details["missing_items"] = run.held_items[key]
        to_fail.append((key, reason, details))
    if to_fail:                                      # one transaction for the batch's refusals
        run.ledger.transition_many(DOMAIN, run.le_id, [
            {"source_key": key, "state": FAILED, "action": "build_draft", "reason": reason, "details": details,
             "expect": (IN_FLIGHT, PENDING, FAILED, None)} for key, reason, details in to_fail])
    if run.progress:
        run.progress(len(problems))
    if run.dry_run:
        for d in drafts:
            run.planned.append(_plan(d))
            run.counts["transferred"] += 1
        if run.progress:
            run.progress(len(drafts))
        return
    if run.lease is not None:
        run.lease.check()                            # taken over while we were paused: write nothing more
    claimed = claim_batch(run, drafts)
    run.counts["pending"] += len(drafts) - len(claimed)      # someone else holds those
    write_drafts(run, claimed)
    if run.progress:
        run.progress(len(drafts))


def claim_batch(run: Run, drafts: list[Draft]) -> list[Draft]:
    """:meth:`Ledger.claim` for a whole batch, committed in one transaction before anything is written
    (:meth:`Ledger.transition_many`), with the same guarantees: a new row is inserted (a concurrent insert loses on
    the primary key), an existing one is moved only from a writable state (read ``FOR UPDATE``, checked again in
    the ``WHERE``). Drafts someone else holds are left out. If anything conflicts, the batch falls back to one
    claim per invoice."""
    from sqlalchemy.exc import IntegrityError

    from tlsync.ledger import WRITABLE, LedgerConflict

    if not drafts:
        return []
    was = states_of(run.ledger, run.le_id, [d.guid for d in drafts])
    claimable = [d for d in drafts if d.guid not in was or was[d.guid].state in WRITABLE]
    try:
        run.ledger.transition_many(DOMAIN, run.le_id, [
            {"source_key": d.guid, "state": IN_FLIGHT, "action": "claim", "details": d.details, "after": d.details,
             "expect": (None, *WRITABLE)} for d in claimable])
        return claimable
    except (IntegrityError, LedgerConflict):
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
        run.counts["pending"] += len(written)          # their orders exist: the next run's recovery finishes them
        raise
    finish_many(run, written)


def _insert_orders(run: Run, drafts: list[Draft], *, resend: int = 1) -> list[Draft]:
    """Insert the orders of ``drafts``; returns those written, each with ``order.OrderNumber`` set. A draft
    Uniconta refuses fails alone (the batch is split until the refused one is found). When the answer is lost
    (:class:`WriteOutcomeUnknownError`), the orders are looked up by their markers before anything is sent again:
    those found are written; the others did not land and are sent once more (``resend``)."""
    try:
        stored = run.uniconta.insert_list([d.order for d in drafts], batch_size=len(drafts))
    except QuotaExceededError as exc:
        raise QuotaOut(str(exc)) from exc
    except WriteOutcomeUnknownError:
        from .recovery import find_orders

        found = find_orders(run, [d.guid for d in drafts])   # a failure here leaves the claims for recovery
        landed = [d for d in drafts if d.guid in found]
        for d in landed:
            d.order.OrderNumber = int(found[d.guid].OrderNumber)
        missing = [d for d in drafts if d.guid not in found]
        if missing and resend > 0:
            return landed + _insert_orders(run, missing, resend=resend - 1)
        if missing:
            raise
        return landed
    except RecordRejectedError as exc:
        if len(drafts) == 1:
            _refused(run, drafts[0], f"Uniconta refused the draft: {exc.message}")
            return []
        half = len(drafts) // 2
        return _insert_orders(run, drafts[:half]) + _insert_orders(run, drafts[half:])
    numbers = [getattr(s, "OrderNumber", None) for s in stored]
    if isinstance(stored, Unverified) or any(n is None for n in numbers):   # not the stored orders: ask by marker
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
    owners = [d for d in drafts for _ in d.lines]
    unverified: dict[str, Draft] = {}
    try:
        start = 0
        for stored in run.uniconta.iter_insert_list(rows, batch_size=LINE_BATCH):
            if isinstance(stored, Unverified):   # a 2xx answer without the stored lines: read back, never assume
                unverified.update((d.guid, d) for d in owners[start:start + len(stored)])
            start += len(stored)
    except QuotaExceededError as exc:
        raise QuotaOut(str(exc)) from exc
    except (RecordRejectedError, WriteOutcomeUnknownError):
        # InsertList is all or nothing per call, and earlier calls may have landed (or the last one's answer was
        # lost): let recovery (which reads every order's lines first) find out, draft by draft, which lines are
        # missing and which draft is refused — nothing is sent again without that look-up.
        from .recovery import complete_lines

        for d in drafts:
            complete_lines(run, d)
        drafts[:] = [d for d in drafts if d.guid not in run.failures]
        return
    if unverified:
        from .recovery import verify_lines

        unsettled = verify_lines(run, list(unverified.values()))
        drafts[:] = [d for d in drafts if d.guid not in run.failures and d.guid not in unsettled]


def _refused(run: Run, d: Draft, reason: str) -> None:
    run.ledger.fail(DOMAIN, run.le_id, d.guid, f"{d.details.get('kind', 'invoice').replace('_', ' ')} "
                    f"{d.details.get('invoice_no')}: {reason} (rule T2)", details=d.details)
    run.failures[d.guid] = reason
    run.counts["failed"] += 1


def finish(run: Run, d: Draft, *, action: str = "transfer") -> None:
    finish_many(run, [d], action=action)


def finish_many(run: Run, drafts: list[Draft], *, action: str = "transfer") -> None:
    """The drafts are in Uniconta: ``done`` with their order numbers (one transaction for the batch), then the
    write-back to TimeLog. The write-back runs in the background while the next batch is built and written; its
    outcomes are recorded in one more transaction per batch (:func:`drain_write_backs`). A write-back whose
    outcome is never recorded (a crash) keeps the reason "TimeLog write-back pending" and is sent again by the next
    run — ``UpdateExternalData`` sets the same values again, nothing is posted twice."""
    if not drafts:
        return
    done: list[tuple[str, Any, dict]] = []
    moves = []
    for d in drafts:
        details = {**d.details, "order_number": d.order.OrderNumber, "written_back": False}
        moves.append({"source_key": d.guid, "state": DONE, "action": action, "target_key": str(d.order.OrderNumber),
                      "reason": WRITEBACK_PENDING, "details": details, "expect": (IN_FLIGHT,),
                      "after": {"order": d.order.OrderNumber, "lines": len(d.lines), "total": str(d.total())}})
        done.append((d.guid, d.order.OrderNumber, details))
    run.ledger.transition_many(DOMAIN, run.le_id, moves)
    run.counts["transferred"] += len(done)
    start_write_backs(run, done)


def write_back(run: Run, guid: str, order_number: Any, details: dict) -> bool:
    return write_backs(run, [(guid, order_number, details)]) == 1


def _write_back_one(run: Run, item: tuple[str, Any, dict]) -> tuple[str, dict, str | None]:
    from tlsync.clients.timelog.models import InvoiceStatus

    guid, order_number, details = item
    try:
        run.timelog_tx.update_external_data(guid, str(order_number), InvoiceStatus.DRAFT, status_name="Draft")
    except SyncAPIError as exc:
        return guid, details, f"{WRITEBACK_PENDING}: {exc.message}"
    return guid, details, None


def _record_write_backs(run: Run, outcomes: list[tuple[str, dict, str | None]]) -> int:
    for _guid, details, reason in outcomes:
        if reason:
            run.messages.append(f"invoice {details.get('invoice_no')}: {reason} (retried by the next run)")
    run.ledger.transition_many(DOMAIN, run.le_id, [
        {"source_key": guid, "state": DONE, "action": "write_back", "reason": reason,
         "details": None if reason else {**details, "written_back": True}, "expect": (DONE,)}
        for guid, details, reason in outcomes])
    return sum(1 for _, _, reason in outcomes if reason is None)


def write_backs(run: Run, items: list[tuple[str, Any, dict]]) -> int:
    """Tell TimeLog where each invoice went (``UpdateExternalData``: the order number, state "Draft") and record
    the outcomes in one transaction, now. Returns how many succeeded."""
    # one SOAP call per invoice (TimeLog has no batch operation and no daily quota): a few in parallel, so a
    # backfill is not bound by the round trip; the client's token cache and HTTP pool are thread-safe
    if len(items) > 1 and WRITEBACK_THREADS > 1:
        futures = [_pool(run).submit(_write_back_one, run, item) for item in items]
        outcomes = [f.result() for f in futures]
    else:
        outcomes = [_write_back_one(run, item) for item in items]
    return _record_write_backs(run, outcomes)


def _pool(run: Run):
    if run.wb_pool is None:
        from concurrent.futures import ThreadPoolExecutor

        run.wb_pool = ThreadPoolExecutor(max_workers=max(1, WRITEBACK_THREADS), thread_name_prefix="writeback")
    return run.wb_pool


def start_write_backs(run: Run, items: list[tuple[str, Any, dict]]) -> None:
    """Send a batch's write-backs in the background; at most two batches are in flight (the older one is
    recorded first), so memory and the number of unrecorded outcomes stay bounded."""
    if not items:
        return
    futures = [_pool(run).submit(_write_back_one, run, item) for item in items]
    run.wb_pending.append(futures)
    while len(run.wb_pending) > 2:
        _record_write_backs(run, [f.result() for f in run.wb_pending.pop(0)])


def drain_write_backs(run: Run, *, quiet: bool = False) -> None:
    """Wait for the background write-backs and record their outcomes. ``quiet``: an error is already on its way
    out — record what finished and swallow what the write-backs raised (their invoices stay "write-back
    pending" and are retried by the next run)."""
    while run.wb_pending:
        futures = run.wb_pending.pop(0)
        if not quiet:
            _record_write_backs(run, [f.result() for f in futures])
            continue
        outcomes = []
        for f in futures:
            try:
                outcomes.append(f.result())
            except Exception:  # noqa: BLE001 - the run is failing anyway; this one is retried next run
                log.warning("a TimeLog write-back failed while the run was stopping; it is retried next run",
                            exc_info=True)
                continue
        try:
            _record_write_backs(run, outcomes)
        except Exception:  # noqa: BLE001
            log.exception("could not record the outcomes of %d write-backs; they are retried next run",
                          len(outcomes))


def retry_write_backs(run: Run) -> int:
    """Write-backs that failed earlier (``done`` with the pending reason): try them again, never re-posting."""
    q = select(sync_ledger).where(sync_ledger.c.domain == DOMAIN, sync_ledger.c.legal_entity_id == run.le_id,
                                  sync_ledger.c.state == DONE, sync_ledger.c.reason.like(WRITEBACK_PENDING + "%"))
    with run.engine.connect() as conn:
        entries = [LedgerEntry.from_row(r) for r in conn.execute(q)]
    return write_backs(run, [(e.source_key, e.target_key, e.details) for e in entries]) if entries else 0
