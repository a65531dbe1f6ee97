"""The sync ledger: the one place that knows what tlsync has written where, so that no write happens twice.

Every record tlsync writes to either system has one row in ``sync_ledger`` keyed by ``(domain, legal entity,
source key)`` — e.g. ``("invoice", 1, "<TimeLog invoice GUID>")`` or ``("customer_link", 1, "<debtor account>")``
— holding its current state, the key it got in the other system, and a hash of what was last written. Every
transition also appends a row to ``ledger_events`` with the values before and after (the audit finance and
administrators read). See :mod:`tlsync.ledger.store`.

The write protocol that makes a double post impossible, also across crashes (issue 6, T2), is implemented once, in
:mod:`tlsync.ledger.protocol` (:class:`ExactlyOnce`, issue 12), and every writer uses it — debtors and employees,
projects, invoice drafts, project expenses; each supplies only its keys and its look-up:

1. ``claim``/``claim_many`` move the record to ``in_flight`` in a committed transaction — only from a state that
   allows a write (no row, ``pending``, ``failed``); a second worker, a rerun or a retried task gets nothing.
2. The caller writes to the other system, carrying a marker of the source key where the target allows one (or the
   key it creates the record under).
3. ``complete_many`` (``done`` with the target key), ``fail`` (``failed`` with the reason) or ``release_many``
   (``pending``: the write was never attempted).

A crash between 1 and 3 leaves ``in_flight``: the next run's ``recover`` asks the target system, with the domain's
batched look-up, whether each write landed — landed: ``done`` with the key found; not landed: ``pending`` and
written again; the look-up failing: everything stays ``in_flight`` until a run can ask; nothing to look a record up
by: ``review`` — never by writing again blindly.

0. Around all of it, every writer holds the **write lease** of the ledger domains it writes, for its legal entity
   (:mod:`tlsync.ledger.lease`, issue 17): a second writer stops with one line instead of starting, so a claim is
   ``in_flight`` only while its writer lives — and the recovery above, which runs only under the lease (it checks),
   only ever sees claims whose writer is gone: there is no staleness cut-off. A write whose answer was lost
   (:class:`~tlsync.clients.errors.WriteOutcomeUnknownError`) is settled the same way (``settle``), by looking the
   record up before anything is sent again.

Writes idempotent by content (a whole-record update) record what they wrote with :meth:`Ledger.record_change`.
"""

from .encoding import content_hash
from .protocol import ExactlyOnce, Landed, Recovered
from .store import (
    DONE,
    ELSEWHERE,
    FAILED,
    IGNORED,
    IN_FLIGHT,
    PENDING,
    REVIEW,
    WRITABLE,
    Ledger,
    LedgerConflict,
    LedgerEntry,
    Move,
)

__all__ = ["DONE", "ELSEWHERE", "FAILED", "IGNORED", "IN_FLIGHT", "PENDING", "REVIEW", "WRITABLE", "ExactlyOnce",
           "Landed", "Ledger", "LedgerConflict", "LedgerEntry", "Move", "Recovered", "content_hash"]
