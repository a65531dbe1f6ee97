"""After a crash: settle every invoice left ``in_flight`` — through the one exactly-once protocol.

A writer claims an invoice (``in_flight``, committed), writes the order and its lines, then marks it ``done``. A
kill anywhere in between leaves ``in_flight``. The next run never writes such an invoice blindly: its
:func:`recover_in_flight` is :meth:`ExactlyOnce.recover <tlsync.ledger.protocol.ExactlyOnce.recover>` with the
invoice domain's look-up (:mod:`.landed`: the orders carrying the invoices' markers, 40 per filtered read) and

- **order found**: rebuilds the draft from staging *on the order that exists*, reads the order's lines (40 orders
  per read), inserts only the lines that are missing (by their line numbers, which tlsync sets), and marks the
  invoice ``done``; a draft that cannot be rebuilt now is ``done`` all the same (the order exists) with the reason;
- **no order**: nothing landed — the invoice goes back to ``pending`` and is sent again by the normal path;
- **the look-up fails** (the quota): nothing is moved; the claims stay ``in_flight`` and the run stops.

So every invoice ends with exactly one draft, whatever the point of the kill.

**Recovery never creates master data** (issue 12 item 2): it only finishes what was already written. The draft is
rebuilt with the debtor, employee and project of the order found in Uniconta — no ``ensure_debtors``,
``ensure_employees`` or ``ensure_projects``, no link, no claim of another domain. An invoice whose order did not land
needs its master data like any other: it is left ``pending`` for the normal path, which creates what is missing.

Whose claims: recovery runs only inside the transfer's write lease of the legal entity (the protocol checks), and a
claim is ``in_flight`` only while its writer holds that lease — so every claim found here belongs to a writer whose
lease is gone (killed, or presumed dead after its heartbeat stopped). No age cut-off (issue 17).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from tlsync.clients.errors import RecordRejectedError, WriteOutcomeUnknownError
from tlsync.clients.uniconta.crud import Unverified
from tlsync.clients.uniconta.models import DebtorOrderClient, DebtorOrderLineClient
from tlsync.clients.uniconta.odata import Field, Filter
from tlsync.ledger import IN_FLIGHT, Landed, LedgerEntry

from . import source
from .completion import finish_many
from .draft import Draft, build, marker, stored_number
from .landed import find_orders, protocol
from .run import DOMAIN, LINE_BATCH, Run, refused, stops_on_quota

__all__ = ["UNSETTLED", "complete_lines", "existing_lines", "find_orders", "missing_lines", "recover_in_flight",
           "verify_lines"]


def existing_lines(run: Run, order_numbers: Iterable[int | None]) -> dict[int, set[Decimal]]:
    """Line numbers present per order (one filtered read per 40 orders)."""
    numbers = sorted({int(n) for n in order_numbers if n is not None})
    out: dict[int, set[Decimal]] = defaultdict(set)
    step = Field.MAX_OR_VALUES
    with stops_on_quota():
        for i in range(0, len(numbers), step):
            flt = Filter.any(*(Field("OrderNumber") == n for n in numbers[i:i + step]))
            for line in run.uniconta.read(DebtorOrderLineClient, filter=flt):
                if line.OrderNumber is not None and line.LineNumber is not None:
                    out[int(line.OrderNumber)].add(Decimal(line.LineNumber))
    return out


def _number(d: Draft) -> int:
    if d.order.OrderNumber is None:
        raise TypeError(f"the draft of invoice {d.guid} has no order number yet")
    return int(d.order.OrderNumber)


def missing_lines(d: Draft, present: set[Decimal]) -> list[DebtorOrderLineClient]:
    out = []
    for ln in d.lines:
        ln.OrderNumber = d.order.OrderNumber
        if ln.LineNumber is None or Decimal(ln.LineNumber) not in present:
            out.append(ln)
    return out


def complete_lines(run: Run, d: Draft) -> None:
    """Insert whatever lines of one written draft are missing; a draft whose lines Uniconta refuses is deleted and
    fails alone (it must not stay half-written)."""
    present = existing_lines(run, [d.order.OrderNumber]).get(_number(d), set())
    todo = missing_lines(d, present)
    if not todo:
        return
    try:
        with stops_on_quota():
            run.uniconta.insert_list(todo, batch_size=len(todo))
    except RecordRejectedError as exc:
        with stops_on_quota():
            run.uniconta.delete(DebtorOrderClient(OrderNumber=d.order.OrderNumber))
        refused(run, d, f"Uniconta refused a line of the draft ({exc.message}); the incomplete draft "
                         f"{d.order.OrderNumber} was deleted")


UNSETTLED = ("Uniconta answered the InsertList of its lines without the stored lines, and not all of them were found "
             "when read back; the draft is completed by the next run (rule T2)")


def verify_lines(run: Run, drafts: list[Draft]) -> set[str]:
    """Lines sent with an InsertList whose 2xx answer did not show them stored (``crud.Unverified``; InsertList's
    answer is not published, issue 13 evidence 7): read each order's lines back (40 orders per read). A draft
    whose lines are all there is done; one with lines missing gets exactly those (:func:`complete_lines`, by line
    number) and is read once more. Returns the markers of drafts still incomplete: they stay ``in_flight`` (not
    finished) with the reason, and the next run's recovery completes them — nothing is assumed, nothing doubled."""
    present = existing_lines(run, [d.order.OrderNumber for d in drafts])
    short = [d for d in drafts if missing_lines(d, present.get(_number(d), set()))]
    if not short:
        return set()
    for d in short:
        complete_lines(run, d)
    short = [d for d in short if d.guid not in run.failures]
    again = existing_lines(run, [d.order.OrderNumber for d in short]) if short else {}
    unsettled = {d.guid for d in short if missing_lines(d, again.get(_number(d), set()))}
    for d in short:
        if d.guid in unsettled:
            run.counts["pending"] += 1
            run.messages.append(f"invoice {d.details.get('invoice_no')} (order {d.order.OrderNumber}): {UNSETTLED}")
    return unsettled


def recover_in_flight(run: Run) -> None:
    """Settle every ``in_flight`` invoice of the legal entity (see the module docstring)."""
    orders: dict[str, DebtorOrderClient] = {}
    protocol(run, orders).recover(settle=lambda landed: _finish_landed(run, landed, orders))


def rebuild(run: Run, orders: dict[str, DebtorOrderClient]) -> tuple[list[Draft], dict[str, list[str]]]:
    """The drafts of orders already in Uniconta, rebuilt from staging on the order's own debtor, employee and
    project — no master data is looked up or created. Returns the drafts (order numbers set) and, per marker,
    why one could not be rebuilt."""
    staged = source.invoices_by_guid(run.engine, run.tenant, list(orders))
    lines = source.lines_for(run.engine, run.tenant, [inv.id for inv, _ in staged.values()])
    drafts: list[Draft] = []
    problems: dict[str, list[str]] = {}
    for inv, raw in staged.values():
        key = marker(inv.guid or "")
        order = orders.get(key)
        if order is None:
            continue
        draft, why = build(inv, raw, lines.get(inv.id, []), run.ctx, debtor=order.Account, employee=order.Employee,
                           project_number=order.Project, project_problem=None, customer_problem=None)
        if draft is None:
            problems[key] = why
            continue
        draft.order.OrderNumber = stored_number(order)
        drafts.append(draft)
    return drafts, problems


def _finish_landed(run: Run, landed: dict[str, tuple[LedgerEntry, str]],
                   orders: dict[str, DebtorOrderClient]) -> None:
    """The protocol's ``settle`` for invoices whose order exists: add the missing lines, then ``done``."""
    drafts, problems = rebuild(run, {k: orders[k] for k in landed})
    present = existing_lines(run, [d.order.OrderNumber for d in drafts])
    todo = [ln for d in drafts for ln in missing_lines(d, present.get(_number(d), set()))]
    if todo:
        _insert_lines_only(run, drafts, todo)       # drafts still incomplete are left out (stay in_flight)
    still = run.ledger.get_many(DOMAIN, run.le_id, [d.guid for d in drafts])
    finish_many(run, [d for d in drafts if d.guid not in run.failures and d.guid in still
                      and still[d.guid].state == IN_FLIGHT], action="recover")
    rebuilt = {d.guid for d in drafts}
    # a draft in Uniconta that cannot be rebuilt from staging now: it exists, so it is done — never twice
    unbuilt = [Landed(key, target, reason="draft found in Uniconta after an interrupted run; lines not verified: "
                      + "; ".join(problems.get(key, ["the invoice is no longer staged"])))
               for key, (_, target) in landed.items() if key not in rebuilt and key not in run.failures]
    protocol(run).complete_many(unbuilt, action="recover")
    run.counts["transferred"] += len(unbuilt)


def _insert_lines_only(run: Run, drafts: list[Draft], todo: list[DebtorOrderLineClient]) -> None:
    unverified = False
    try:
        with stops_on_quota():
            for stored in run.uniconta.iter_insert_list(todo, batch_size=LINE_BATCH):
                unverified = unverified or isinstance(stored, Unverified)
    except (RecordRejectedError, WriteOutcomeUnknownError):   # per draft: look its lines up, add the missing
        for d in drafts:
            complete_lines(run, d)
        return
    if unverified:                                   # a 2xx answer without the stored lines: read back
        unsettled = verify_lines(run, drafts)
        drafts[:] = [d for d in drafts if d.guid not in unsettled]
