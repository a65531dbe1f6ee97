"""The state of one invoice transfer run and the names every part of the transfer shares (rule T2).

The transfer is layered downward, each module importing only the ones below it:

    transfer   the entry point: gate, lease, months, batches, writing the orders and lines
    recovery   what a crashed run left ``in_flight``: looked up by marker, completed, never written twice
    completion an order in Uniconta: ``done``, then TimeLog is told where it went (``UpdateExternalData``)
    landed     the invoice domain of the one exactly-once protocol (:mod:`tlsync.ledger.protocol`)
    drafting   master data (debtors, employees, projects) and the drafts of a batch
    run        this module: the run's state (:class:`Run`), constants, the shared types (:class:`TransferResult`,
               :class:`Move`, …), a refused draft

See :mod:`tlsync.invoicing.transfer` for the whole protocol and the ledger's contents.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, NotRequired, Required, TypedDict

from sqlalchemy import Engine

from tlsync import config
from tlsync.clients.errors import QuotaExceededError
from tlsync.clients.timelog.models import Invoice
from tlsync.ledger import Ledger, LedgerEntry
from tlsync.ledger.domains import Domain
from tlsync.ledger.lease import Lease
from tlsync.settings.models import LegalEntitySettings

from .draft import Context, Draft
from .source import Payload

if TYPE_CHECKING:                            # the clients are built by the callers (tlsync.connections)
    from tlsync.clients.timelog import TransactionalClient
    from tlsync.clients.uniconta import UnicontaClient

DOMAIN = Domain.INVOICE
ORDER_BATCH = int(config.value("TLSYNC_UNICONTA_ORDER_BATCH"))
"""Drafts per ``InsertList`` of orders (default 500; docs/going-live.md §5 says why and what to do if Uniconta refuses
a list as too large). Read when the transfer is imported, as :data:`WRITEBACK_THREADS`: each task is a new process."""
LINE_BATCH = int(config.value("TLSYNC_UNICONTA_LINE_BATCH"))
"""Lines per ``InsertList`` of lines, lines of many drafts per call (default 2,000 — a batch of 500 drafts at ~4
lines each is one call)."""
QUOTA_REASON = "Uniconta daily quota ran out"
WRITEBACK_PENDING = "TimeLog write-back pending"
WRITEBACK_THREADS = int(config.value("TLSYNC_WRITEBACK_THREADS"))
CountKey = Literal["transferred", "failed", "pending", "elsewhere", "ignored", "unchanged", "calls"]
COUNT_KEYS: tuple[CountKey, ...] = ("transferred", "failed", "pending", "elsewhere", "ignored", "unchanged", "calls")
LEASE_DOMAINS = (DOMAIN, Domain.DEBTOR, Domain.EMPLOYEE, Domain.PROJECT)
"""Ledger domains a transfer writes (invoices, and the debtors, employees and projects they need): held as one
write lease for the whole run (:mod:`tlsync.ledger.lease`) — a second writer of the legal entity stops cleanly."""
ANALYZE_FIRST = 1_000
ANALYZE_EVERY = 20_000
"""When a run refreshes the ledger's planner statistics (:func:`source.analyze`): after :data:`ANALYZE_FIRST` rows
written, then each time the rows written have doubled, then every :data:`ANALYZE_EVERY` rows (:func:`analyze_due`).
Statistics taken while the legal entity had no rows in the ledger (a first backfill: the table was analyzed empty, or
held only the other legal entity) make PostgreSQL estimate one row for a legal entity's ledger range and plan each
batch's ``SELECT … FOR UPDATE`` and ``UPDATE … FROM unnest`` as a nested loop over that whole range × the 500 keys —
measured on M's ledger after a backfill, 6.1 s and 2.7 s per statement, 3 ms and 8 ms after an ``ANALYZE``: a
backfill that grows quadratically with the history until the next refresh. The first refresh used to come only after
20,000 rows (M's second legal entity never reached it)."""


def analyze_due(written: int, analyzed_at: int) -> bool:
    """Whether a run that has written ``written`` ledger rows, and refreshed the statistics at ``analyzed_at``,
    refreshes them now (see :data:`ANALYZE_EVERY`): at 1,000, 2,000, 4,000, …, 16,000, 32,000, 52,000, …"""
    return written - analyzed_at >= min(ANALYZE_EVERY, max(ANALYZE_FIRST, analyzed_at))


Candidate = tuple[Invoice, Payload, LedgerEntry | None]
"""An invoice to build and write: its parsed model, its staged payload and its ledger entry (``None``: new)."""
PlannedWrite = dict[str, object]
"""A dry run's description of one write it would make (``write``, ``guid``, ``invoice_no``, …), shown as is."""
WriteBack = tuple[str, int | str | None, Mapping[str, object]]
"""A TimeLog write-back to send: invoice GUID, Uniconta order number, the invoice's ledger details."""
WriteBackOutcome = tuple[str, Mapping[str, object], str | None]
"""A write-back sent: invoice GUID, its ledger details, and why it failed (``None``: it succeeded)."""


class TransferResult(TypedDict):
    """What one transfer run did (:func:`tlsync.invoicing.transfer_invoices`): the counts (:data:`COUNT_KEYS`;
    ``calls`` = Uniconta calls of this run), ``lines`` read, one-off ``messages``, the S8 gate's lines when it
    ``refused`` (then nothing was done), why it ``stopped`` early (``None``: it did not), the ``failures`` of this run
    (GUID → reason) and, for a dry run, the writes it ``planned``. A backfill adds the number of ``months``."""

    transferred: int
    failed: int
    pending: int
    elsewhere: int
    ignored: int
    unchanged: int
    calls: int
    messages: list[str]
    refused: list[str]
    stopped: str | None
    failures: dict[str, str]
    planned: list[PlannedWrite]
    lines: int
    months: NotRequired[int]


class Move(TypedDict, total=False):
    """One move of :meth:`Ledger.transition_many` — the arguments of :meth:`Ledger.transition` for one invoice."""

    source_key: Required[str]
    state: Required[str]
    action: Required[str]
    target_key: str | None
    reason: str | None
    details: Mapping[str, object] | None
    after: Mapping[str, object]
    expect: tuple[str | None, ...]


class QuotaOut(Exception):
    """Uniconta's daily quota (or the run's share of it) is spent: stop cleanly."""


@contextmanager
def stops_on_quota() -> Iterator[None]:
    """Uniconta's quota spent inside the block is the run's clean stop (:class:`QuotaOut`), not an API error for
    the handlers around the call to settle — the one translation of :class:`QuotaExceededError` (issue 12)."""
    try:
        yield
    except QuotaExceededError as exc:
        raise QuotaOut(str(exc)) from exc


@dataclass
class Run:
    """The state of one transfer run (what it knows, what it did)."""

    engine: Engine
    le: LegalEntitySettings
    uniconta: UnicontaClient
    timelog_tx: TransactionalClient
    ledger: Ledger
    tenant: str
    ctx: Context
    dry_run: bool
    progress: Callable[[int], None] | None
    counts: Counter[str] = field(default_factory=Counter)
    messages: list[str] = field(default_factory=list)
    planned: list[PlannedWrite] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    lines_seen: int = 0
    queue: list[Candidate] = field(default_factory=list)   # waiting for a full batch (across months)
    debtors: dict[int, str] = field(default_factory=dict)  # customer ID → debtor account, known in this run
    employees: dict[str, str] = field(default_factory=dict)   # internal reference (initials) → employee number
    projects: dict[int, str] = field(default_factory=dict)    # project ID → Uniconta project number
    wb_pool: ThreadPoolExecutor | None = None        # write-back threads (created on first use)
    analyzed_at: int = 0                             # ledger rows written when its statistics were last refreshed
    wb_pending: list[list[Future[WriteBackOutcome]]] = field(default_factory=list)   # per batch, not yet recorded
    lease: Lease | None = None                       # the write lease of the legal entity (None: a dry run)
    duplicates: dict[str, dict[int, str]] = field(default_factory=dict)   # invoice number → {TimeLog ID: GUID}
    held_items: dict[str, list[str]] = field(default_factory=dict)   # marker → items missing in TimeLog (rule U2)

    @property
    def le_id(self) -> int:
        return self.le.legal_entity_id


def refused(run: Run, d: Draft, reason: str) -> None:
    run.ledger.fail(DOMAIN, run.le_id, d.guid, f"{d.details.get('kind', 'invoice').replace('_', ' ')} "
                    f"{d.details.get('invoice_no')}: {reason} (rule T2)", details=d.details)
    run.failures[d.guid] = reason
    run.counts["failed"] += 1
