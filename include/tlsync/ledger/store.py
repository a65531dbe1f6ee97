"""``Ledger``: read and move the state of written records; every move is audited with before/after values.

States (strings, so a report can show them as they are):

``pending``    known, not written yet (e.g. a booked invoice waiting for its transfer)
``in_flight``  claimed by a writer; the write may or may not have landed (see the package docstring)
``done``       written; ``target_key`` is the record's key in the other system
``failed``     the write was refused; ``reason`` says why, in words an administrator can act on
``ignored``    an administrator chose not to write it (can be un-ignored)
``elsewhere``  written by someone else (TimeLog's built-in integration); adopted, never sent again
``review``     waiting for a person (e.g. an expense posting whose type is ambiguous); ``reason`` says why

Values passed as ``before``/``after``/``details`` are stored as JSON with secret-looking keys blanked, so the
ledger can never become the place a password leaks to.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from tlsync.staging.tables import ledger_events, sync_ledger

from . import bulk
from .encoding import content_hash, to_json

PENDING, IN_FLIGHT, DONE, FAILED, IGNORED, ELSEWHERE, REVIEW = (
    "pending", "in_flight", "done", "failed", "ignored", "elsewhere", "review")
STATES = (PENDING, IN_FLIGHT, DONE, FAILED, IGNORED, ELSEWHERE, REVIEW)
WRITABLE = (PENDING, FAILED)           # states a writer may claim a record from (besides "no row yet")

class LedgerConflict(RuntimeError):
    """A transition was asked from a state that does not allow it (names the record and both states)."""


@dataclass(frozen=True)
class LedgerEntry:
    domain: str
    legal_entity_id: int
    source_key: str
    state: str
    target_key: str | None = None
    content_hash: str | None = None
    reason: str | None = None
    attempts: int = 0
    details: dict[str, Any] = field(default_factory=dict)
    run_id: str | None = None
    updated_at: datetime | None = None

    @classmethod
    def from_row(cls, row: Any) -> LedgerEntry:
        m = row._mapping
        return cls(domain=m["domain"], legal_entity_id=m["legal_entity_id"], source_key=m["source_key"],
                   state=m["state"], target_key=m["target_key"], content_hash=m["content_hash"],
                   reason=m["reason"], attempts=m["attempts"] or 0,
                   details=json.loads(m["details"]) if m["details"] else {}, run_id=m["run_id"],
                   updated_at=m["updated_at"])


@dataclass(frozen=True)
class Move:
    """One record's move in :meth:`Ledger.transition_many` (the arguments of :meth:`Ledger.transition`), typed;
    readable like the mapping it replaces (``move["action"]``, ``move.get("reason")``)."""

    source_key: str
    state: str
    action: str
    target_key: str | None = None
    content_hash: str | None = None
    reason: str | None = None
    before: Any = None
    after: Any = None
    details: Any = None
    expect: tuple[str | None, ...] | None = None

    def __getitem__(self, name: str) -> Any:
        return getattr(self, name)

    def get(self, name: str, default: Any = None) -> Any:
        return getattr(self, name, default)


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


class Ledger:
    """The sync ledger on one database (the staging database: one transaction can cover both)."""

    def __init__(self, engine: Engine, *, run_id: str | None = None, actor: str = "tlsync") -> None:
        self.engine = engine
        self.run_id = run_id
        self.actor = actor   # the tables come from the staging migrations (tlsync.staging.migrate.upgrade)

    # -- reading -------------------------------------------------------------------------------------------

    @staticmethod
    def _key(domain: str, legal_entity_id: int, source_key: str) -> ColumnElement[bool]:
        return and_(sync_ledger.c.domain == domain, sync_ledger.c.legal_entity_id == int(legal_entity_id),
                    sync_ledger.c.source_key == str(source_key))

    def get(self, domain: str, legal_entity_id: int, source_key: str) -> LedgerEntry | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(sync_ledger).where(self._key(domain, legal_entity_id, source_key))).first()
        return LedgerEntry.from_row(row) if row else None

    def entries(self, domain: str, legal_entity_id: int | None = None, *, states: Iterable[str] | None = None,
                reason_prefix: str | None = None) -> list[LedgerEntry]:
        """All entries of a domain (optionally one legal entity, some states, a reason starting with
        ``reason_prefix``), by source key."""
        q = select(sync_ledger).where(sync_ledger.c.domain == domain)
        if legal_entity_id is not None:
            q = q.where(sync_ledger.c.legal_entity_id == int(legal_entity_id))
        if states is not None:
            q = q.where(sync_ledger.c.state.in_(list(states)))
        if reason_prefix is not None:
            q = q.where(sync_ledger.c.reason.startswith(reason_prefix, autoescape=True))
        with self.engine.connect() as conn:
            return [LedgerEntry.from_row(r) for r in conn.execute(q.order_by(sync_ledger.c.source_key))]

    def by_key(self, domain: str, legal_entity_id: int) -> dict[str, LedgerEntry]:
        """Every entry of one domain and legal entity, keyed by source key (one query; for bulk planning)."""
        return {e.source_key: e for e in self.entries(domain, legal_entity_id)}

    def get_many(self, domain: str, legal_entity_id: int, source_keys: Iterable[str]) -> dict[str, LedgerEntry]:
        """Entries of some records of one domain and legal entity, by source key (a query per 500 keys)."""
        keys, out = sorted({str(k) for k in source_keys}), dict[str, LedgerEntry]()
        q = select(sync_ledger).where(sync_ledger.c.domain == domain,
                                      sync_ledger.c.legal_entity_id == int(legal_entity_id))
        with self.engine.connect() as conn:
            for i in range(0, len(keys), 500):
                rows = conn.execute(q.where(sync_ledger.c.source_key.in_(keys[i:i + 500])))
                out.update((e.source_key, e) for e in map(LedgerEntry.from_row, rows))
        return out

    def in_flight(self, domain: str, legal_entity_id: int | None = None) -> list[LedgerEntry]:
        """Writes that were claimed and never completed (a crash, a kill): verify them before writing again."""
        return self.entries(domain, legal_entity_id, states=[IN_FLIGHT])

    def counts(self, domain: str, legal_entity_id: int | None = None) -> dict[str, int]:
        q = select(sync_ledger.c.state, func.count()).where(sync_ledger.c.domain == domain)
        if legal_entity_id is not None:
            q = q.where(sync_ledger.c.legal_entity_id == int(legal_entity_id))
        with self.engine.connect() as conn:
            return dict(conn.execute(q.group_by(sync_ledger.c.state)).all())

    def events(self, domain: str, legal_entity_id: int, source_key: str) -> list[dict[str, Any]]:
        """The audit trail of one record, oldest first, with ``before``/``after`` decoded."""
        q = (select(ledger_events)
             .where(ledger_events.c.domain == domain, ledger_events.c.legal_entity_id == int(legal_entity_id),
                    ledger_events.c.source_key == str(source_key))
             .order_by(ledger_events.c.id))
        with self.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(q)]
        for r in rows:
            r["before"] = json.loads(r["before"]) if r["before"] else None
            r["after"] = json.loads(r["after"]) if r["after"] else None
        return rows

    def trails(self, domain: str, legal_entity_id: int, source_keys: Iterable[str], *, actions: Iterable[str]
               ) -> Iterator[tuple[str, Any, datetime | None]]:
        """``(source key, after, at)`` of the events ``actions`` of many records, oldest first, ``after`` decoded
        (``None`` when absent or not JSON): the audit trails of a batch in one query per 500 keys."""
        wanted, acts = sorted({str(k) for k in source_keys}), list(actions)
        with self.engine.connect() as conn:
            for i in range(0, len(wanted), 500):
                q = (select(ledger_events.c.source_key, ledger_events.c.after, ledger_events.c.at)
                     .where(ledger_events.c.domain == domain,
                            ledger_events.c.legal_entity_id == int(legal_entity_id),
                            ledger_events.c.action.in_(acts), ledger_events.c.source_key.in_(wanted[i:i + 500]))
                     .order_by(ledger_events.c.id))
                for key, after, at in conn.execute(q):
                    try:
                        decoded = json.loads(after) if after else None
                    except ValueError:
                        decoded = None
                    yield str(key), decoded, at

    # -- writing -------------------------------------------------------------------------------------------

    def transition(self, domain: str, legal_entity_id: int, source_key: str, state: str, *, action: str,
                   target_key: str | None = None, content_hash: str | None = None, reason: str | None = None,
                   before: Any = None, after: Any = None, details: Any = None,
                   expect: Iterable[str | None] | None = None, conn: Any = None) -> LedgerEntry:
        """Set a record's state (creating its row) and append the event, in one transaction.

        ``expect``: the states (``None`` = no row yet) the record may be in; otherwise :class:`LedgerConflict`.
        ``target_key``/``content_hash``/``details`` left ``None`` keep their stored values. Pass ``conn`` to join
        a caller's transaction (e.g. a link row and its ledger entry committed together)."""
        if state not in STATES:
            raise ValueError(f"unknown ledger state {state!r}; known: {', '.join(STATES)}")
        if conn is None:
            with self.engine.begin() as own:
                return self.transition(domain, legal_entity_id, source_key, state, action=action,
                                       target_key=target_key, content_hash=content_hash, reason=reason,
                                       before=before, after=after, details=details, expect=expect, conn=own)
        key = self._key(domain, legal_entity_id, source_key)
        row = conn.execute(select(sync_ledger).where(key)).first()
        current = LedgerEntry.from_row(row) if row else None
        was = current.state if current else None
        if expect is not None and was not in set(expect):
            where = was or "not in the ledger"
            wanted = " or ".join(str(s) for s in expect)
            raise LedgerConflict(f"{domain} {source_key} (legal entity {legal_entity_id}) is {where}; {action} "
                                 f"needs it to be {wanted}")
        now = _now()
        values: dict[str, Any] = {"state": state, "reason": reason, "run_id": self.run_id, "updated_at": now}
        if target_key is not None:
            values["target_key"] = str(target_key)
        if content_hash is not None:
            values["content_hash"] = content_hash
        if details is not None:
            values["details"] = to_json(details)
        if state == IN_FLIGHT:
            values["attempts"] = (current.attempts if current else 0) + 1
        if current is None:
            conn.execute(insert(sync_ledger).values(domain=domain, legal_entity_id=int(legal_entity_id),
                                                    source_key=str(source_key), created_at=now,
                                                    attempts=values.pop("attempts", 0), **values))
        else:
            conn.execute(update(sync_ledger).where(key).values(**values))
        conn.execute(insert(ledger_events).values(
            domain=domain, legal_entity_id=int(legal_entity_id), source_key=str(source_key), action=action,
            state_before=was, state_after=state, target_key=values.get("target_key", current and current.target_key),
            before=to_json(before), after=to_json(after), reason=reason, run_id=self.run_id, actor=self.actor,
            at=now))
        return self.get_in(conn, domain, legal_entity_id, source_key)

    def transition_many(self, domain: str, legal_entity_id: int, moves: Iterable[Move | Mapping[str, Any]], *,
                        conn: Any = None) -> int:
        """:meth:`transition` for many records of one domain and legal entity, in one transaction and a handful
        of statements (one ``SELECT`` of all rows, one multi-row ``INSERT`` of the new rows, one batched
        ``UPDATE`` of the existing ones — each guarded by the state it was read in — and one multi-row ``INSERT``
        of the events). For bulk paths such as a five-year backfill, where one transaction per record is the cost.

        Each move is a :class:`Move` (or a mapping) with ``source_key``, ``state``, ``action`` and optionally
        ``target_key``,
        ``content_hash``, ``reason``, ``before``, ``after``, ``details``, ``expect`` — the same meaning as the
        arguments of :meth:`transition`. All or nothing: if any record is not in an expected state (or changes
        meanwhile), :class:`LedgerConflict` is raised and nothing of the batch is written. Returns the number of
        records moved. A key may appear only once per call."""
        from sqlalchemy import bindparam

        moves = list(moves)
        if not moves:
            return 0
        if conn is None:
            with self.engine.begin() as own:
                return self.transition_many(domain, legal_entity_id, moves, conn=own)
        le = int(legal_entity_id)
        keys = [str(m["source_key"]) for m in moves]
        if len(set(keys)) != len(keys):
            raise ValueError("transition_many: a source key appears twice in one batch")
        current: dict[str, Any] = {}
        ordered = sorted(keys)          # one lock order for every run: two concurrent batches cannot deadlock
        for i in range(0, len(ordered), 500):
            for row in conn.execute(select(sync_ledger).where(       # rows locked until commit (PostgreSQL)
                    sync_ledger.c.domain == domain, sync_ledger.c.legal_entity_id == le,
                    sync_ledger.c.source_key.in_(ordered[i:i + 500]))
                    .order_by(sync_ledger.c.source_key).with_for_update()):
                current[row.source_key] = row
        now = _now()
        inserts, updates, events = [], [], []
        for m, key in zip(moves, keys):
            state, action = m["state"], m["action"]
            if state not in STATES:
                raise ValueError(f"unknown ledger state {state!r}; known: {', '.join(STATES)}")
            row = current.get(key)
            was = row.state if row is not None else None
            expect = m.get("expect")
            if expect is not None and was not in set(expect):
                wanted = " or ".join(str(s) for s in expect)
                raise LedgerConflict(f"{domain} {key} (legal entity {le}) is {was or 'not in the ledger'}; "
                                     f"{action} needs it to be {wanted}")
            target = m.get("target_key")
            target = str(target) if target is not None else (row.target_key if row is not None else None)
            chash = m.get("content_hash")
            chash = chash if chash is not None else (row.content_hash if row is not None else None)
            given, after = m.get("details"), m.get("after")
            details = to_json(given) if given is not None else (row.details if row is not None else None)
            after_json = details if after is given and given is not None else to_json(after)   # a claim: both
            attempts = (row.attempts or 0) if row is not None else 0
            if state == IN_FLIGHT:
                attempts += 1
            values = {"state": state, "reason": m.get("reason"), "run_id": self.run_id, "updated_at": now,
                      "target_key": target, "content_hash": chash, "details": details, "attempts": attempts}
            if row is None:
                inserts.append({"domain": domain, "legal_entity_id": le, "source_key": key, "created_at": now,
                                **values})
            else:
                updates.append({"k_source_key": key, "k_was": was, **values})
            events.append({"domain": domain, "legal_entity_id": le, "source_key": key, "action": action,
                           "state_before": was, "state_after": state, "target_key": target,
                           "before": to_json(m.get("before")), "after": after_json,
                           "reason": m.get("reason"), "run_id": self.run_id, "actor": self.actor, "at": now})
        postgres = conn.dialect.name == "postgresql"
        if inserts and postgres:
            bulk.insert_from_arrays(conn, "sync_ledger", inserts)   # a concurrent insert loses on the primary key
        elif inserts:
            conn.execute(insert(sync_ledger), inserts)
        if updates:
            if postgres:
                changed = bulk.update_from_arrays(conn, domain, le, updates)
            else:
                stmt = (update(sync_ledger)
                        .where(sync_ledger.c.domain == domain, sync_ledger.c.legal_entity_id == le,
                               sync_ledger.c.source_key == bindparam("k_source_key"),
                               sync_ledger.c.state == bindparam("k_was"))
                        .values(**{c: bindparam(c) for c in bulk.UPDATED}))
                # the rows were read FOR UPDATE (PostgreSQL; SQLite has one writer at a time), so the state guard
                # in the WHERE holds; where the driver reports an executemany's row count, it is checked as well
                result = conn.execute(stmt, updates)
                changed = result.rowcount if conn.dialect.supports_sane_multi_rowcount else len(updates)
            if changed != len(updates):
                raise LedgerConflict(f"{domain} (legal entity {le}): {len(updates) - changed} record(s) changed "
                                     f"state while a batch of {len(moves)} was being moved; nothing of the batch "
                                     f"was written")
        if postgres:
            bulk.insert_from_arrays(conn, "ledger_events", events)
        else:
            conn.execute(insert(ledger_events), events)
        return len(moves)

    def get_in(self, conn: Any, domain: str, legal_entity_id: int, source_key: str) -> LedgerEntry:
        return LedgerEntry.from_row(conn.execute(
            select(sync_ledger).where(self._key(domain, legal_entity_id, source_key))).one())

    def record_change(self, domain: str, legal_entity_id: int, source_key: str, *, action: str, written: Any,
                      before: Any = None, target_key: str | None = None, state: str = DONE,
                      conn: Any = None) -> bool:
        """For writes that are idempotent by content (a debtor update, a link): record ``written`` as the new
        state unless exactly that was already recorded. Returns ``False`` (and records nothing) when unchanged —
        the caller then skips the write: a no-change night writes nothing."""
        digest = content_hash(written)
        current = self.get(domain, legal_entity_id, source_key) if conn is None else \
            (lambda r: LedgerEntry.from_row(r) if r else None)(
                conn.execute(select(sync_ledger).where(self._key(domain, legal_entity_id, source_key))).first())
        if current is not None and current.state == state and current.content_hash == digest and \
                (target_key is None or current.target_key == str(target_key)):
            return False
        self.transition(domain, legal_entity_id, source_key, state, action=action, target_key=target_key,
                        content_hash=digest, before=before, after=written, conn=conn)
        return True

    def unchanged(self, domain: str, legal_entity_id: int, source_key: str, written: Any) -> bool:
        """Whether ``written`` is exactly what the ledger says was last written (so the write can be skipped)."""
        current = self.get(domain, legal_entity_id, source_key)
        return current is not None and current.state == DONE and current.content_hash == content_hash(written)

    def claim(self, domain: str, legal_entity_id: int, source_key: str, *, action: str = "claim",
              details: Any = None, allow: Iterable[str] = WRITABLE) -> LedgerEntry | None:
        """Move a record to ``in_flight`` if (and only if) it may be written now — no row, or a state in ``allow``.

        Atomic on both databases: the row is inserted (a concurrent insert loses on the primary key) or updated
        with the allowed states in the ``WHERE`` (a concurrent update loses on the row count). Committed before
        returning, so the claim survives a crash of the write that follows. ``None``: someone else has it, or it is
        done/ignored/elsewhere — do not write."""
        allow = tuple(allow)
        key = self._key(domain, legal_entity_id, source_key)
        now = _now()
        try:
            with self.engine.begin() as conn:
                was = conn.execute(select(sync_ledger.c.state, sync_ledger.c.attempts).where(key)).first()
                if was is None:
                    conn.execute(insert(sync_ledger).values(
                        domain=domain, legal_entity_id=int(legal_entity_id), source_key=str(source_key),
                        state=IN_FLIGHT, attempts=1, details=to_json(details), run_id=self.run_id,
                        created_at=now, updated_at=now))
                else:
                    if was.state not in allow:
                        return None
                    changed = conn.execute(update(sync_ledger).where(key, sync_ledger.c.state.in_(allow)).values(
                        state=IN_FLIGHT, attempts=(was.attempts or 0) + 1, reason=None, run_id=self.run_id,
                        updated_at=now, **({"details": to_json(details)} if details is not None else {})))
                    if changed.rowcount != 1:
                        return None
                conn.execute(insert(ledger_events).values(
                    domain=domain, legal_entity_id=int(legal_entity_id), source_key=str(source_key), action=action,
                    state_before=was.state if was else None, state_after=IN_FLIGHT, after=to_json(details),
                    run_id=self.run_id, actor=self.actor, at=now))
                return self.get_in(conn, domain, legal_entity_id, source_key)
        except IntegrityError:
            return None

    def complete(self, domain: str, legal_entity_id: int, source_key: str, *, target_key: str | None,
                 written: Any = None, before: Any = None, action: str = "write") -> LedgerEntry:
        """A claimed write landed: ``done`` with the target key and the hash of what was written."""
        return self.transition(domain, legal_entity_id, source_key, DONE, action=action, target_key=target_key,
                               content_hash=content_hash(written) if written is not None else None,
                               before=before, after=written, expect=(IN_FLIGHT,))

    def fail(self, domain: str, legal_entity_id: int, source_key: str, reason: str, *,
             action: str = "write", details: Any = None) -> LedgerEntry:
        """A claimed write was refused (or never started): ``failed`` with a reason an administrator can act on."""
        return self.transition(domain, legal_entity_id, source_key, FAILED, action=action, reason=reason,
                               details=details, expect=(IN_FLIGHT, PENDING, FAILED, None))

    def release(self, domain: str, legal_entity_id: int, source_key: str, *, reason: str | None = None,
                action: str = "release") -> LedgerEntry:
        """Give a claimed record back as ``pending`` without counting it as failed (e.g. the day's API quota ran
        out before its write was attempted)."""
        return self.transition(domain, legal_entity_id, source_key, PENDING, action=action, reason=reason,
                               expect=(IN_FLIGHT,))
