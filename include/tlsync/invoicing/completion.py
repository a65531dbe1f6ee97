"""An order is in Uniconta: the invoice is ``done`` with its order number, then TimeLog is told where it went
(``UpdateExternalData``: the order number, state "Draft"), in the background while the next batch is written
(rule T2). A write-back that fails keeps the invoice ``done`` with the reason "TimeLog write-back pending" and is
sent again by later runs — the same values set again, nothing posted twice."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from tlsync.clients.errors import SyncAPIError
from tlsync.ledger import DONE, Landed

from .draft import Draft
from .landed import protocol
from .run import DOMAIN, WRITEBACK_PENDING, WRITEBACK_THREADS, Run, WriteBack, WriteBackOutcome

log = logging.getLogger(__name__)


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
    done: list[WriteBack] = []
    landed: list[Landed] = []
    for d in drafts:
        details = {**d.details, "order_number": d.order.OrderNumber, "written_back": False}
        landed.append(Landed(d.guid, str(d.order.OrderNumber), reason=WRITEBACK_PENDING, details=details,
                             after={"order": d.order.OrderNumber, "lines": len(d.lines), "total": str(d.total())}))
        done.append((d.guid, d.order.OrderNumber, details))
    protocol(run).complete_many(landed, action=action)       # the one exactly-once protocol (tlsync.ledger)
    run.counts["transferred"] += len(done)
    start_write_backs(run, done)


def write_back(run: Run, guid: str, order_number: int | str | None, details: Mapping[str, object]) -> bool:
    return write_backs(run, [(guid, order_number, details)]) == 1


def _write_back_one(run: Run, item: WriteBack) -> WriteBackOutcome:
    from tlsync.clients.timelog.models import InvoiceStatus

    guid, order_number, details = item
    try:
        run.timelog_tx.update_external_data(guid, str(order_number), InvoiceStatus.DRAFT, status_name="Draft",
                                            read_invoice=False)   # only success counts: the invoice is not parsed
    except SyncAPIError as exc:
        return guid, details, f"{WRITEBACK_PENDING}: {exc.message}"
    return guid, details, None


def _record_write_backs(run: Run, outcomes: list[WriteBackOutcome]) -> int:
    for _guid, details, reason in outcomes:
        if reason:
            run.messages.append(f"invoice {details.get('invoice_no')}: {reason} (retried by the next run)")
    run.ledger.transition_many(DOMAIN, run.le_id, [
        {"source_key": guid, "state": DONE, "action": "write_back", "reason": reason,
         "details": None if reason else {**details, "written_back": True}, "expect": (DONE,)}
        for guid, details, reason in outcomes])
    return sum(1 for _, _, reason in outcomes if reason is None)


def write_backs(run: Run, items: list[WriteBack]) -> int:
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


def _pool(run: Run) -> ThreadPoolExecutor:
    if run.wb_pool is None:
        run.wb_pool = ThreadPoolExecutor(max_workers=max(1, WRITEBACK_THREADS), thread_name_prefix="writeback")
    return run.wb_pool


def start_write_backs(run: Run, items: list[WriteBack]) -> None:
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
        outcomes: list[WriteBackOutcome] = []
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
    entries = run.ledger.entries(DOMAIN, run.le_id, states=[DONE], reason_prefix=WRITEBACK_PENDING)
    return write_backs(run, [(e.source_key, e.target_key, e.details) for e in entries]) if entries else 0
