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
4. **Write a batch** of up to ``TLSYNC_UNICONTA_ORDER_BATCH`` drafts (500): claim each (ledger ``in_flight``),
   one ``InsertList`` of the orders, one ``InsertList`` per ``TLSYNC_UNICONTA_LINE_BATCH`` lines (2,000; lines of
   many orders per call), then ``done`` with the order number — and write the Uniconta reference back to TimeLog
   (``UpdateExternalData``). A failed write-back keeps the invoice ``done`` with the reason "TimeLog write-back
   pending" and is retried by later runs without re-posting.
5. **Quota** (:mod:`tlsync.quota`): every Uniconta call of the client is booked in the daily tally shared by every
   task and process (Danish day). When the tally refuses a call (the day's allowance is spent) or Uniconta answers
   ``DailyCallLimitExceeded``, the run stops: claims whose drafts were not
   written go back to ``pending`` with the reason "Uniconta daily quota ran out"; a batch whose orders were written
   but not all lines stays ``in_flight`` and is finished by step 2 of the next run. No loss, no duplicate.

Ledger: domain ``invoice``, key = the TimeLog invoice GUID (lower case), ``target_key`` = the Uniconta order number,
``details`` = ``{invoice_no, kind, customer_id, debtor_account, currency, date, net, vat, total, items, order_number,
written_back}`` (amounts as strings; ``items`` = the item sent per line) — the reconciliation report reads these.

The parts, each importing only those below it: this module (entry point, months, batches, writing orders and
lines) → :mod:`.recovery` → :mod:`.completion` (done + TimeLog write-back) → :mod:`.landed` (the invoice domain of
the one exactly-once protocol, :mod:`tlsync.ledger.protocol`: keys and the look-up by marker) → :mod:`.drafting`
(master data, drafts) → :mod:`.run` (the run's state and shared names).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from tlsync.clients.errors import RecordRejectedError, WriteOutcomeUnknownError
from tlsync.clients.timelog.models import Invoice
from tlsync.clients.uniconta.crud import Unverified
from tlsync.clients.uniconta.models import DebtorOrderLineClient
from tlsync.ledger import DONE, ELSEWHERE, FAILED, IGNORED, IN_FLIGHT, PENDING, Ledger
from tlsync.ledger.lease import Lease, LeaseHeld, LeaseLost, write_lease
from tlsync.settings.models import LegalEntitySettings
from tlsync.staging.tables import sync_ledger

from . import source
from .completion import drain_write_backs, finish_many, retry_write_backs
from .draft import Context, Draft, InvoiceDetails, describe, details_of, marker, stored_number
from .drafting import duplicate_numbers, load_context, masters, plan_of, prepare
from .landed import find_orders, protocol
from .recovery import complete_lines, recover_in_flight, verify_lines
from .run import (
    COUNT_KEYS,
    DOMAIN,
    LEASE_DOMAINS,
    LINE_BATCH,
    ORDER_BATCH,
    QUOTA_REASON,
    WRITEBACK_PENDING,
    Candidate,
    Move,
    QuotaOut,
    Run,
    TransferResult,
    analyze_due,
    refused,
    stops_on_quota,
)

if TYPE_CHECKING:                            # the clients are built by the callers (tlsync.connections)
    from tlsync.clients.timelog import TransactionalClient
    from tlsync.clients.uniconta import UnicontaClient

__all__ = ["DOMAIN", "QUOTA_REASON", "WRITEBACK_PENDING", "transfer_invoices"]

log = logging.getLogger(__name__)

INVOICES_T, LINES_T, DETAILS_T = source.INVOICES.name, source.LINES.name, source.DETAILS.name


def transfer_invoices(engine: Engine, le: LegalEntitySettings, uniconta: UnicontaClient,
                      timelog_tx: TransactionalClient, *, ledger: Ledger, period: tuple[date, date] | None = None,
                      dry_run: bool = False, progress: Callable[[int], None] | None = None,
                      context: Context | None = None) -> TransferResult:
    """Transfer the legal entity's booked invoices and credit notes dated in ``period`` (default: all staged).

    Returns (:class:`~.run.TransferResult`) counts — ``transferred, failed, pending, elsewhere, ignored, unchanged,
    calls`` (Uniconta calls this run) — plus ``messages`` (one-off notes, e.g. no project module), ``refused`` (the
    S8 gate's lines; then nothing was done), ``stopped`` (why the run stopped early, e.g. the quota), ``failures``
    (GUID → reason of the invoices that failed in this run) and, for a dry run, ``planned`` (the writes it would
    make).
    ``progress(n)`` is called with the number of invoices handled since its last call. ``context``: master data
    already loaded by :func:`load_context` (a backfill loads it once for all its months)."""
    from tlsync.linking.gate import transfer_blockers

    result: TransferResult = {"transferred": 0, "failed": 0, "pending": 0, "elsewhere": 0, "ignored": 0,
                              "unchanged": 0, "calls": 0, "messages": [], "refused": [], "stopped": None,
                              "failures": {}, "planned": [], "lines": 0}
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


def _transfer(engine: Engine, le: LegalEntitySettings, uniconta: UnicontaClient, timelog_tx: TransactionalClient,
              ledger: Ledger, tenant: str, result: TransferResult, period: tuple[date, date] | None, dry_run: bool,
              progress: Callable[[int], None] | None, context: Context | None,
              lease: Lease | None = None) -> TransferResult:
    start_calls = uniconta.calls_used
    run = Run(engine, le, uniconta, timelog_tx, ledger, tenant, context or load_context(engine, le, tenant), dry_run,
              progress, lease=lease, duplicates=duplicate_numbers(engine, tenant))
    if not run.ctx.project_module:
        from tlsync.projects.transfer import no_module_message

        run.messages.append(no_module_message(le))
    try:
        if not dry_run:
            recover_in_flight(run)
            retry_write_backs(run)
        span = period or source.staged_period(engine, tenant)
        if span is not None:
            for start, end in source.months(*span):
                _month(run, start, end)
            flush(run)
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
    for k in COUNT_KEYS:
        result[k] = run.counts.get(k, 0)
    result["calls"] = uniconta.calls_used - start_calls
    result["lines"] = run.lines_seen
    result["messages"] = run.messages + result["messages"]
    result["failures"] = run.failures
    result["planned"] = run.planned
    return result


# ------------------------------------------------------------------------------------------------ one month


def _month(run: Run, start: date, end: date) -> None:
    written = run.counts["transferred"] + run.counts["elsewhere"] + run.counts["ignored"] + run.counts["failed"]
    if not run.dry_run and analyze_due(written, run.analyzed_at):   # a backfill grows the ledger fast
        source.analyze(run.engine, [sync_ledger.name])
        run.analyzed_at = written
    invoices = source.invoices_in(run.engine, run.tenant, start, end)
    if not invoices:
        return
    entries = run.ledger.get_many(DOMAIN, run.le_id, [marker(inv.guid or "") for inv, _ in invoices if inv.guid])
    candidates: list[Candidate] = []
    adopt: list[Move] = []
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
    flush(run, full_only=True)
    if run.progress:
        run.progress(len(invoices) - len(candidates))


def _adopt(run: Run, inv: Invoice, key: str, state: str, *, reason: str, target: str | None = None,
           into: list[Move] | None = None) -> None:
    """Adopt an invoice as ``elsewhere``/``ignored`` (never sent). With ``into`` the ledger move is appended there
    for one :meth:`Ledger.transition_many` of the month instead of being written now."""
    run.counts["elsewhere" if state == ELSEWHERE else "ignored"] += 1
    if run.dry_run:
        run.planned.append({"write": f"ledger: adopt as {state}", "guid": key, "invoice_no": inv.invoice_number,
                            "reason": reason})
        return
    move: Move = {"source_key": key, "state": state, "action": f"adopt_{state}", "target_key": target,
                  "reason": reason, "details": details_of(inv, None), "expect": (None, PENDING, FAILED)}
    if into is not None:
        into.append(move)
        return
    run.ledger.transition_many(DOMAIN, run.le_id, [move])


# ------------------------------------------------------------------------------------------------ one batch


def flush(run: Run, *, full_only: bool = False) -> None:
    """Write the queued candidates in batches of :data:`ORDER_BATCH` (``full_only``: only full batches)."""
    while run.queue and (len(run.queue) >= ORDER_BATCH or not full_only):
        batch, run.queue = run.queue[:ORDER_BATCH], run.queue[ORDER_BATCH:]
        _batch(run, batch)


def _batch(run: Run, batch: list[Candidate]) -> None:
    drafts, problems = prepare(run, batch)
    by_key = {marker(inv.guid or ""): (inv, entry) for inv, _, entry in batch}
    to_fail: list[tuple[str, str, InvoiceDetails]] = []
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
            run.planned.append(plan_of(d))
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
    """Claim a whole batch before anything is written (:meth:`ExactlyOnce.claim_many
    <tlsync.ledger.protocol.ExactlyOnce.claim_many>`: one transaction, a new row inserted — a concurrent insert
    loses on the primary key — an existing one moved only from a writable state). Drafts someone else holds are
    left out."""
    claimed = set(protocol(run).claim_many({d.guid: d.details for d in drafts}))
    return [d for d in drafts if d.guid in claimed]


# ------------------------------------------------------------------------------------------------ writing


def write_drafts(run: Run, drafts: list[Draft]) -> None:
    """Orders (one InsertList), then their lines (InsertList per 500), then done + write-back. On a quota stop the
    unwritten claims are released; written orders stay in_flight for the next run's recovery."""
    if not drafts:
        return
    try:
        written = _insert_orders(run, drafts)
    except QuotaOut:
        protocol(run).release_many([d.guid for d in drafts], reason=QUOTA_REASON, action="quota")
        run.counts["pending"] += len(drafts)
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
        with stops_on_quota():
            stored = run.uniconta.insert_list([d.order for d in drafts], batch_size=len(drafts))
    except WriteOutcomeUnknownError:
        found = find_orders(run, [d.guid for d in drafts])   # a failure here leaves the claims for recovery
        landed = [d for d in drafts if d.guid in found]
        for d in landed:
            d.order.OrderNumber = stored_number(found[d.guid])
        missing = [d for d in drafts if d.guid not in found]
        if missing and resend > 0:
            return landed + _insert_orders(run, missing, resend=resend - 1)
        if missing:
            raise
        return landed
    except RecordRejectedError as exc:
        if len(drafts) == 1:
            refused(run, drafts[0], f"Uniconta refused the draft: {exc.message}")
            return []
        half = len(drafts) // 2
        return _insert_orders(run, drafts[:half]) + _insert_orders(run, drafts[half:])
    numbers = [getattr(s, "OrderNumber", None) for s in stored]
    if isinstance(stored, Unverified) or any(n is None for n in numbers):   # not the stored orders: ask by marker
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
    rows: list[DebtorOrderLineClient] = []
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
        with stops_on_quota():
            for stored in run.uniconta.iter_insert_list(rows, batch_size=LINE_BATCH):
                if isinstance(stored, Unverified):   # a 2xx answer without the stored lines: read back
                    unverified.update((d.guid, d) for d in owners[start:start + len(stored)])
                start += len(stored)
    except (RecordRejectedError, WriteOutcomeUnknownError):
        # InsertList is all or nothing per call, and earlier calls may have landed (or the last one's answer was
        # lost): let recovery (which reads every order's lines first) find out, draft by draft, which lines are
        # missing and which draft is refused — nothing is sent again without that look-up.
        for d in drafts:
            complete_lines(run, d)
        drafts[:] = [d for d in drafts if d.guid not in run.failures]
        return
    if unverified:
        unsettled = verify_lines(run, list(unverified.values()))
        drafts[:] = [d for d in drafts if d.guid not in run.failures and d.guid not in unsettled]
