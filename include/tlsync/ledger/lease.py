"""Write leases: one writer at a time per legal entity and ledger domain (issue 17, rule T2).

The ledger's claim protocol (:mod:`tlsync.ledger`) makes one *record* impossible to write twice by one run and
its reruns. It cannot tell a claim that is ``in_flight`` because its writer was killed from one that is
``in_flight`` because its writer is still waiting for Uniconta: a second transfer started meanwhile (the CLI, the
backfill DAG, ``airflow dags test`` — ``max_active_runs=1`` covers one DAG only) would "recover" the live claim
and post the invoice a second time. A lease closes that gap:

- every writer (DAG task, backfill, CLI) holds the lease of each ledger domain it writes, for one legal entity,
  for the whole step — a row ``(domain, legal entity)`` in ``write_leases`` with its owner (a random token, the
  run ID, host and process ID) and a heartbeat refreshed by a background thread;
- a second writer for the same legal entity and any of those domains does not start: it waits up to
  ``TLSYNC_LEASE_WAIT`` seconds (default 0) and then stops with one line, e.g. *"legal entity 1 is being
  transferred by run manual__… since 10:02 (pid 4711 on worker-2); nothing was written by this run"*
  (:class:`LeaseHeld`) — a clean skip, never a raw ``IntegrityError``;
- a lease whose owner is gone is taken over: on the same host when its process no longer exists (a SIGKILL is
  noticed at once), on any host when its heartbeat is older than ``TLSYNC_LEASE_TTL`` seconds (default 90);
- so **recovery treats a claim as interrupted only when its owner's lease is gone**: recovery runs only while the
  recovering run holds the domain's lease, and a claim is ``in_flight`` only while its writer holds that lease —
  every claim recovery sees belongs to a writer that is gone;
- a writer whose own lease was taken over (it was paused for longer than the TTL) notices it at its next
  :meth:`Lease.check` and stops before writing anything more (:class:`LeaseLost`).

Decisions: a table rather than PostgreSQL advisory locks, so SQLite (the embedded default) and PostgreSQL behave
the same and an administrator can see who holds what (``SELECT * FROM write_leases``); taking a lease is one
short transaction (``INSERT … ON CONFLICT DO NOTHING``, then a compare-and-swap ``UPDATE`` guarded by the old
owner and heartbeat), so two writers racing for a free or dead lease cannot both win. Several domains are taken
all or nothing in one transaction, in sorted order. Leases are re-entrant within one process: the invoice transfer
holds ``invoice``, ``debtor``, ``employee``, ``project`` and the debtor creation it calls finds them held by itself.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Engine, and_, delete, select, update

from tlsync import config
from tlsync.staging.tables import write_leases  # the table is part of the staging schema (its migrations)

log = logging.getLogger(__name__)


DEFAULT_TTL = 90.0


class LeaseHeld(RuntimeError):
    """Another live writer holds the lease: one line saying who, since when; nothing was written."""

    def __init__(self, message: str, holder: dict[str, Any]) -> None:
        super().__init__(message)
        self.message = message
        self.holder = holder


class LeaseLost(RuntimeError):
    """This writer's lease was taken over (it was presumed dead); it must stop writing now."""


def _ttl() -> float:
    return float(config.value("TLSYNC_LEASE_TTL"))


def _wait() -> float:
    return float(config.value("TLSYNC_LEASE_WAIT"))


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host and is not a zombie (killed but not yet reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] not in ("Z", "X")
    except OSError:
        return True


def owner_alive(row: Any, *, ttl: float | None = None, now: datetime | None = None) -> bool:
    """Whether the owner of a ``write_leases`` row is still alive: a fresh heartbeat and, on this host, a living
    process."""
    ttl = _ttl() if ttl is None else ttl
    now = now or _utcnow()
    m = row._mapping if hasattr(row, "_mapping") else row
    if m["heartbeat_at"] is None or now - m["heartbeat_at"] > timedelta(seconds=ttl):
        return False
    if m["host"] == socket.gethostname() and m["pid"] != os.getpid():
        return _pid_alive(int(m["pid"]))
    return True


def holder_line(legal_entity_id: int, row: Any, what: str | None = None) -> str:
    m = row._mapping if hasattr(row, "_mapping") else row
    since = m["acquired_at"].replace(tzinfo=timezone.utc).astimezone().strftime("%H:%M") \
        if m["acquired_at"] else "?"
    by = f"run {m['run_id']}" if m["run_id"] else "a command"
    return (f"legal entity {legal_entity_id} is being {m['what'] or what or 'written'} by {by} since {since} "
            f"({m['domain']}; pid {m['pid']} on {m['host']}); nothing was written by this run — it continues "
            f"when that one has finished")


# one process may take a lease it already holds (nested steps): (url, domain, le) -> [lease, depth]
_HELD: dict[tuple[str, str, int], list[Any]] = {}
_HELD_LOCK = threading.Lock()




@dataclass
class Lease:
    """Leases of some domains of one legal entity, held by this process (see the module docstring)."""

    engine: Engine
    legal_entity_id: int
    domains: tuple[str, ...]
    run_id: str | None = None
    what: str = "written"
    ttl: float = DEFAULT_TTL

    def __post_init__(self) -> None:
        self.owner = uuid.uuid4().hex
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.lost: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._taken: list[str] = []

    # -- taking ----------------------------------------------------------------------------------------------

    def _try(self, domains: list[str]) -> None:
        """Take every domain in one transaction, or none (raises :class:`LeaseHeld`)."""
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        now = _utcnow()
        le = int(self.legal_entity_id)
        mine = {"owner": self.owner, "run_id": self.run_id, "what": self.what, "host": self.host, "pid": self.pid,
                "acquired_at": now, "heartbeat_at": now}
        with self.engine.begin() as conn:
            for domain in sorted(domains):
                key = and_(write_leases.c.domain == domain, write_leases.c.legal_entity_id == le)
                got = conn.execute(insert(write_leases).values(domain=domain, legal_entity_id=le, **mine)
                                   .on_conflict_do_nothing())
                if got.rowcount == 1:
                    continue
                row = conn.execute(select(write_leases).where(key)).first()
                if row is not None and owner_alive(row, ttl=self.ttl, now=now):
                    raise LeaseHeld(holder_line(le, row, self.what), dict(row._mapping))
                if row is None:        # released between our insert and our read: insert again
                    conn.execute(insert(write_leases).values(domain=domain, legal_entity_id=le, **mine))
                    continue
                took = conn.execute(update(write_leases).where(
                    key, write_leases.c.owner == row.owner, write_leases.c.heartbeat_at == row.heartbeat_at)
                    .values(**mine))
                if took.rowcount != 1:  # someone else took it over first
                    again = conn.execute(select(write_leases).where(key)).first()
                    raise LeaseHeld(holder_line(le, again or row, self.what), dict((again or row)._mapping))
                log.warning("legal entity %s: took over the %s lease of %s (pid %s on %s, last heartbeat %s UTC): "
                            "its owner is gone", le, domain, row.run_id or "a command", row.pid, row.host,
                            row.heartbeat_at)

    def acquire(self, wait: float | None = None) -> Lease:
        url = self.engine.url.render_as_string(hide_password=True)
        with _HELD_LOCK:
            todo = [d for d in self.domains if (url, d, int(self.legal_entity_id)) not in _HELD]
        wait = _wait() if wait is None else wait
        deadline = time.monotonic() + max(0.0, wait)
        while True:
            try:
                if todo:
                    self._try(todo)
                break
            except LeaseHeld:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(min(2.0, max(0.05, deadline - time.monotonic())))
        self._taken = todo
        with _HELD_LOCK:
            for d in self.domains:
                entry = _HELD.setdefault((url, d, int(self.legal_entity_id)), [self, 0])
                entry[1] += 1
        if todo:
            self._thread = threading.Thread(target=self._beat, name=f"lease-{self.legal_entity_id}", daemon=True)
            self._thread.start()
        return self

    # -- holding ---------------------------------------------------------------------------------------------

    def _beat(self) -> None:
        interval = max(0.2, self.ttl / 4)
        while not self._stop.wait(interval):
            if not self._beat_once():
                return

    def _beat_once(self) -> bool:
        """Refresh the heartbeat; ``False`` (and :attr:`lost` set) when the lease was taken over."""
        try:
            with self.engine.begin() as conn:
                n = conn.execute(update(write_leases).where(
                    write_leases.c.legal_entity_id == int(self.legal_entity_id),
                    write_leases.c.domain.in_(self._taken), write_leases.c.owner == self.owner)
                    .values(heartbeat_at=_utcnow())).rowcount
        except Exception:  # noqa: BLE001 - a missed heartbeat is retried; the TTL allows several
            log.warning("legal entity %s: could not refresh the write lease", self.legal_entity_id, exc_info=True)
            return True
        if n != len(self._taken):
            self.lost = (f"legal entity {self.legal_entity_id}: this run's write lease was taken over by another "
                         f"run (it presumed this one dead); stopping before writing more")
            return False
        return True

    def check(self) -> None:
        """Raise :class:`LeaseLost` if this process's lease of any of these domains was taken over."""
        url = self.engine.url.render_as_string(hide_password=True)
        with _HELD_LOCK:
            holders = {id(_HELD[k][0]): _HELD[k][0] for k in
                       ((url, d, int(self.legal_entity_id)) for d in self.domains) if k in _HELD}
        for lease in holders.values():
            if lease.lost:
                raise LeaseLost(lease.lost)

    # -- giving back -----------------------------------------------------------------------------------------

    def release(self) -> None:
        url = self.engine.url.render_as_string(hide_password=True)
        with _HELD_LOCK:
            for d in self.domains:
                k = (url, d, int(self.legal_entity_id))
                entry = _HELD.get(k)
                if entry is not None:
                    entry[1] -= 1
                    if entry[1] <= 0:
                        del _HELD[k]
        if not self._taken:
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self.engine.begin() as conn:
            conn.execute(delete(write_leases).where(
                write_leases.c.legal_entity_id == int(self.legal_entity_id),
                write_leases.c.domain.in_(self._taken), write_leases.c.owner == self.owner))
        self._taken = []


@contextmanager
def write_lease(engine: Engine, legal_entity_id: int, domains: Iterable[str], *, run_id: str | None = None,
                what: str = "written", wait: float | None = None, ttl: float | None = None) -> Iterator[Lease]:
    """Hold the leases of ``domains`` for one legal entity for the block (see the module docstring); raises
    :class:`LeaseHeld` (one line naming the holder) when a live writer has any of them after ``wait`` seconds."""
    lease = Lease(engine, int(legal_entity_id), tuple(sorted(set(domains))), run_id=run_id, what=what,
                  ttl=_ttl() if ttl is None else ttl).acquire(wait)
    try:
        yield lease
    finally:
        lease.release()


def holders(engine: Engine, legal_entity_id: int | None = None) -> list[dict[str, Any]]:
    """The leases held now (for an administrator, and for tests), with ``alive`` per row."""
    q = select(write_leases)
    if legal_entity_id is not None:
        q = q.where(write_leases.c.legal_entity_id == int(legal_entity_id))
    with engine.connect() as conn:
        return [{**dict(r._mapping), "alive": owner_alive(r)} for r in conn.execute(q)]
