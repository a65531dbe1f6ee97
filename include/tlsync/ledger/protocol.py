"""The one exactly-once write protocol (issue 12, rule T2): claim, write, complete — and recovery after a crash.

Every step of tlsync that creates records in the other system writes through :class:`ExactlyOnce`: debtors and
employees (:mod:`tlsync.customers.sync`), projects (:mod:`tlsync.projects.transfer`), invoice drafts
(:mod:`tlsync.invoicing`) and project expenses (:mod:`tlsync.expenses.importer`). A domain supplies only

- its **keys**: the ledger's source key of each record, and in the claim's ``details`` what the record can be found
  by in the target system (the marker it carries, or the key it is created under), and
- its **look-up** (``find_landed``): for some claimed records, which of them are in the target system — source
  key → target key, or ``None`` (not there) — in as few calls as the target allows (a filtered read per 40 keys,
  Uniconta's OR limit; one list per TimeLog project).

The protocol does the rest, the same way for all:

1. :meth:`~ExactlyOnce.claim` / :meth:`~ExactlyOnce.claim_many`: ``in_flight``, committed before the write; only
   from a state that allows a write (no row, ``pending``, ``failed``); a record someone else holds is left out.
2. The domain writes, carrying the marker or the planned key.
3. :meth:`~ExactlyOnce.complete_many` (``done`` with the target key and the hash of what was written — with the
   domain's ``on_done`` or ``on_done_many`` in the same transaction, e.g. a debtor's link row),
   :meth:`~ExactlyOnce.fail` (refused: ``failed`` with the reason) or :meth:`~ExactlyOnce.release_many` (never
   attempted, e.g. the quota: ``pending``).

**Recovery** (:meth:`~ExactlyOnce.recover`) runs at the start of every write step, for every ``in_flight`` claim of
the domain and legal entity:

- *Staleness — none.* Recovery runs only while this process holds the domain's write lease for the legal entity
  (:mod:`tlsync.ledger.lease`; it refuses otherwise), and a claim is ``in_flight`` only while its writer holds that
  lease, so every claim it finds belongs to a writer that is gone (killed, or presumed dead after its heartbeat
  stopped). No age cut-off is needed: the expense import's former ``stale_after`` (15 minutes) guessed what the
  lease knows, and an age would leave a dead writer's claims unsettled for no reason.
- *Landed* (the look-up found it): ``done`` with the target key found — or, when the domain gives ``settle``, the
  domain finishes it first and completes it itself (an invoice's draft exists: its missing lines are added).
- *Not landed*: back to ``pending`` with the reason; the normal path of the same run claims and writes it again.
- *Undecided* — one rule: **nothing is written again without an answer.** When the look-up itself fails (the
  target cannot be asked now: unreachable, the quota), nothing is moved — every claim stays ``in_flight``, the error
  goes to the domain (which stops, or carries on without those records), and the next run asks again. When the
  look-up works but the domain has nothing to find a record by (its claim lacks the marker or the planned key, or
  names another company), the record goes to ``review`` with a reason saying where a person should look.

A write whose answer was lost (:class:`~tlsync.clients.errors.WriteOutcomeUnknownError`) is settled at once the same
way, for just those records (:meth:`~ExactlyOnce.settle`), before anything is sent again.

Writes that are idempotent by content (an update of a whole record: the same values written twice are the same
record) need no claim; they use :meth:`Ledger.record_change` and are not part of this protocol.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from .domains import Domain
from .encoding import content_hash
from .lease import _HELD, _HELD_LOCK
from .store import DONE, IN_FLIGHT, PENDING, REVIEW, WRITABLE, Ledger, LedgerConflict, LedgerEntry, Move

FindLanded = Callable[[Sequence[LedgerEntry]], Mapping[str, "str | None"]]
"""The domain's look-up: source key → target key (landed) or ``None`` (not there); a key left out has nothing to be
looked up by (→ ``review``). Raises when the target cannot be asked (→ every claim stays ``in_flight``)."""
OnDone = Callable[[Connection, str, str], None]
"""Called with ``(conn, source key, target key)`` in the transaction that marks a record ``done``."""
OnDoneMany = Callable[[Connection, Sequence[tuple[str, str]]], None]
""":data:`OnDone` for all records of one :meth:`ExactlyOnce.complete_many` at once: ``(conn, [(source key, target
key), …])`` — a domain whose ``done`` writes a row per record (a debtor's link) writes them in a few statements."""
Settle = Callable[[dict[str, tuple[LedgerEntry, str]]], object]
"""Finishes landed records (source key → (entry, target key)) and completes them itself."""


@dataclass(frozen=True)
class Landed:
    """A written record: its target key (``None``: the target gave none), what was written (hashed; the audit's
    ``after``), and optionally new ``details``, a ``reason`` kept with the ``done`` state, an ``after`` of its own."""

    source_key: str
    target_key: str | None
    written: Any = None
    details: Any = None
    reason: str | None = None
    after: Any = None


@dataclass
class Recovered:
    """What :meth:`ExactlyOnce.recover` decided: landed (source key → target key), released, sent to review
    (source key → reason)."""

    landed: dict[str, str] = field(default_factory=dict)
    released: list[str] = field(default_factory=list)
    review: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.landed or self.released or self.review)


class ExactlyOnce:
    """The write protocol of one ledger domain and legal entity (see the module docstring)."""

    def __init__(self, ledger: Ledger, domain: Domain, legal_entity_id: int, *, target: str,
                 find_landed: FindLanded, on_done: OnDone | None = None, on_done_many: OnDoneMany | None = None,
                 review: Callable[[LedgerEntry], tuple[str, Any]] | None = None,
                 released: str | None = None) -> None:
        self.ledger = ledger
        self.domain = domain
        self.le_id = int(legal_entity_id)
        self.target = target
        self.find_landed = find_landed
        self.on_done = on_done
        self.on_done_many = on_done_many
        self.review = review or self._review
        self.released = released or f"interrupted before it reached {target}; written again"

    def _review(self, entry: LedgerEntry) -> tuple[str, Any]:
        return (f"{self.domain} {entry.source_key}: an earlier run started writing it to {self.target} and did not "
                f"finish, and its claim holds nothing to look it up by; look in {self.target}: if it is there, "
                f"record it as done, otherwise set it back to pending (rule T2)"), None

    # -- claiming --------------------------------------------------------------------------------------------

    def claim(self, source_key: str, *, details: Any = None, action: str = "claim",
              allow: Iterable[str] = WRITABLE) -> LedgerEntry | None:
        """Claim one record (``None``: someone else has it, or it may not be written)."""
        return self.ledger.claim(self.domain, self.le_id, source_key, action=action, details=details, allow=allow)

    def claim_many(self, claims: Mapping[str, Any], *, action: str = "claim",
                   allow: Iterable[str] = WRITABLE) -> list[str]:
        """Claim many records (source key → claim details) in one transaction; returns the keys claimed, in the
        order given. Records not in a claimable state are left out; if the batch conflicts with a concurrent
        move, each record is claimed on its own instead."""
        allow = tuple(allow)
        if not claims:
            return []
        was = self.ledger.get_many(self.domain, self.le_id, claims)
        keys = [k for k in claims if k not in was or was[k].state in allow]
        try:
            self.ledger.transition_many(self.domain, self.le_id, [
                Move(k, IN_FLIGHT, action, details=claims[k], after=claims[k], expect=(None, *allow)) for k in keys])
            return keys
        except (IntegrityError, LedgerConflict):
            return [k for k in claims if self.claim(k, details=claims[k], action=action, allow=allow) is not None]

    # -- finishing -------------------------------------------------------------------------------------------

    def complete_many(self, done: Sequence[Landed], *, action: str = "write", conn: Connection | None = None) -> int:
        """The records landed: ``done`` with their target keys, in one transaction (with ``on_done`` per record,
        or ``on_done_many`` once for all of them)."""
        if not done:
            return 0
        if conn is None:
            with self.ledger.engine.begin() as own:
                return self.complete_many(done, action=action, conn=own)
        if self.on_done_many is not None:
            self.on_done_many(conn, [(d.source_key, str(d.target_key)) for d in done if d.target_key is not None])
        if self.on_done is not None:
            for d in done:
                if d.target_key is not None:
                    self.on_done(conn, d.source_key, d.target_key)
        return self.ledger.transition_many(self.domain, self.le_id, [
            Move(d.source_key, DONE, action, target_key=None if d.target_key is None else str(d.target_key),
                 content_hash=content_hash(d.written) if d.written is not None else None, reason=d.reason,
                 after=d.after if d.after is not None else d.written, details=d.details, expect=(IN_FLIGHT,))
            for d in done], conn=conn)

    def complete(self, source_key: str, target_key: str | None, *, written: Any = None,
                 action: str = "write") -> None:
        self.complete_many([Landed(source_key, target_key, written)], action=action)

    def fail(self, source_key: str, reason: str, *, action: str = "write", details: Any = None) -> LedgerEntry:
        """Refused by the target (or never started for a reason of its own): ``failed`` with the reason."""
        return self.ledger.fail(self.domain, self.le_id, source_key, reason, action=action, details=details)

    def release_many(self, source_keys: Iterable[str], *, reason: str, action: str = "release") -> int:
        """Claims whose write was not attempted (e.g. the quota ran out) go back to ``pending``, not failed;
        records no longer ``in_flight`` are left as they are."""
        keys = [e.source_key for e in self.ledger.get_many(self.domain, self.le_id, source_keys).values()
                if e.state == IN_FLIGHT]
        return self.ledger.transition_many(self.domain, self.le_id, [
            Move(k, PENDING, action, reason=reason, expect=(IN_FLIGHT,)) for k in keys])

    # -- recovering ------------------------------------------------------------------------------------------

    def leased(self) -> bool:
        """Whether this process holds the domain's write lease for the legal entity."""
        url = self.ledger.engine.url.render_as_string(hide_password=True)
        with _HELD_LOCK:
            return (url, str(self.domain), self.le_id) in _HELD

    def recover(self, *, entries: Iterable[LedgerEntry] | None = None, settle: Settle | None = None,
                action: str = "recover") -> Recovered:
        """Settle every ``in_flight`` claim of the domain and legal entity (see the module docstring). ``entries``:
        the domain's ledger entries when already read (saves a query). Refuses to run without the write lease:
        only under it is every ``in_flight`` claim one whose writer is gone."""
        if not self.leased():
            raise RuntimeError(f"{self.domain} recovery for legal entity {self.le_id} runs only under its write lease "
                               f"(tlsync.ledger.lease): a claim in flight may belong to a live writer otherwise")
        found = self.ledger.in_flight(self.domain, self.le_id) if entries is None else \
            [e for e in entries if e.state == IN_FLIGHT]
        return self._resolve(found, settle, action)

    def settle(self, source_keys: Iterable[str], *, settle: Settle | None = None,
               action: str = "settle") -> Recovered:
        """The recovery of just these claims, by the writer itself: the answer to their write was lost."""
        entries = [e for e in self.ledger.get_many(self.domain, self.le_id, source_keys).values()
                   if e.state == IN_FLIGHT]
        return self._resolve(entries, settle, action)

    def _resolve(self, entries: list[LedgerEntry], settle: Settle | None, action: str) -> Recovered:
        out = Recovered()
        if not entries:
            return out
        answer = self.find_landed(entries)           # raises: nothing is moved, every claim stays in flight
        landed: dict[str, tuple[LedgerEntry, str]] = {}
        moves: list[Move] = []
        for e in entries:
            if e.source_key not in answer:
                reason, details = self.review(e)
                out.review[e.source_key] = reason
                moves.append(Move(e.source_key, REVIEW, action, reason=reason, details=details, expect=(IN_FLIGHT,)))
            elif (target := answer[e.source_key]) is None:
                out.released.append(e.source_key)
                moves.append(Move(e.source_key, PENDING, action, reason=self.released, expect=(IN_FLIGHT,)))
            else:
                landed[e.source_key] = (e, str(target))
        self.ledger.transition_many(self.domain, self.le_id, moves)
        out.landed = {k: t for k, (_, t) in landed.items()}
        if settle is not None:
            if landed:
                settle(landed)
        else:
            self.complete_many([Landed(k, t, after={"found": t}) for k, (_, t) in landed.items()], action=action)
        return out
