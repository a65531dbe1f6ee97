"""The sync ledger: the one place that knows what tlsync has written where, so that no write happens twice.

Every record tlsync writes to either system has one row in ``sync_ledger`` keyed by ``(domain, legal entity,
source key)`` — e.g. ``("invoice", 1, "<TimeLog invoice GUID>")`` or ``("customer_link", 1, "<debtor account>")``
— holding its current state, the key it got in the other system, and a hash of what was last written. Every
transition also appends a row to ``ledger_events`` with the values before and after (the audit finance and
administrators read). See :mod:`tlsync.ledger.store`.

The write protocol that makes a double post impossible, also across crashes (issue 6, T2):

1. :meth:`Ledger.claim` moves the record to ``in_flight`` in its own committed transaction — only from a state that
   allows a write (no row, ``pending``, ``failed``); a second worker, a rerun or a retried task gets ``None``.
2. The caller writes to the other system, carrying a marker of the source key where the target allows one.
3. :meth:`Ledger.complete` (``done``) or :meth:`Ledger.fail` (``failed`` with the reason).

A crash between 1 and 3 leaves ``in_flight``: the next run lists :meth:`Ledger.in_flight` and asks the target
system whether the write landed (by the marker) before deciding — never by writing again blindly.

0. Around all of it, every writer holds the **write lease** of the ledger domains it writes, for its legal entity
   (:mod:`tlsync.ledger.lease`, issue 17): a second writer stops with one line instead of starting, so a claim is
   ``in_flight`` only while its writer lives — and the recovery above, which runs under the lease, only ever sees
   claims whose writer is gone. A write whose answer was lost (:class:`~tlsync.clients.errors.WriteOutcomeUnknownError`)
   is settled the same way, by looking the record up before anything is sent again.
"""

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
    content_hash,
)

__all__ = ["DONE", "ELSEWHERE", "FAILED", "IGNORED", "IN_FLIGHT", "PENDING", "REVIEW", "WRITABLE", "Ledger",
           "LedgerConflict", "LedgerEntry", "content_hash"]
