"""Uniconta's daily call quota as one tally, shared by every task, DAG and process (issue 13).

**What Uniconta does** (support.uniconta.com, "API calls"): 5,000 server calls per user in 24 hours; past them the
service does not refuse but *slows down* — about one second extra per call for each 5,000 calls, lasting until 24
hours after midnight; bought extra calls (up to 75,000) carry no delay. A night that overspends does not fail, it
silently takes hours. So tlsync plans its calls against an allowance and counts every one of them, reads included.

**The tally**: a row per Danish calendar day and Uniconta user in ``uniconta_call_tally`` (staging schema). Every
Uniconta HTTP request of every client made by :func:`tlsync.connections.uniconta_client` first takes one call from
:class:`DailyTally` (``acquire``); the tally reserves calls from the row in blocks of :data:`BLOCK` with one
atomic ``UPDATE … SET calls = calls + n WHERE calls + n <= allowance`` — two processes can never both take the last
calls — and gives an unused reservation back when the client closes (a killed process leaves at most one block
counted too many: the safe side). When the allowance is reached the call is not sent:
:class:`~tlsync.clients.errors.CallBudgetExceededError`, which every step turns into a clean stop whose one line
names the quota and what is left (:func:`stop_line`); the ledger makes the next night resume where this one
stopped.

Settings: ``TLSYNC_UNICONTA_DAILY_CALLS`` — the allowance per day (default 5,000; set it higher when extra calls
are bought, lower to keep calls for people working in Uniconta); ``TLSYNC_UNICONTA_INVOICE_RESERVE`` — the
least the master-data write-back steps (customers, projects) leave for the invoices (default 1,000): they leave
what the invoices are planned to need when that is more (:mod:`tlsync.quota.plan` — the nightly reads run first,
so the night's priority is reads, invoices, master data); ``TLSYNC_UNICONTA_SLOW_CALL_SECONDS`` (default
1.0) — an answer slower than this counts as *slow*; many slow calls in a night mean Uniconta is throttling this user
(:func:`tally_report`, shown in the run summaries).

Decisions: the day is Denmark's (``Europe/Copenhagen``), as Uniconta's own day; a table rather than a lock server so
SQLite (the embedded default) and PostgreSQL behave the same and an administrator can read it
(``SELECT * FROM uniconta_call_tally``); blocks keep the tally to one short transaction per 25 calls.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import OperationalError, ProgrammingError

from tlsync import config
from tlsync.staging.tables import uniconta_call_tally

log = logging.getLogger(__name__)

DENMARK = ZoneInfo("Europe/Copenhagen")
BLOCK = 25
ALLOWANCE_ENV = "TLSYNC_UNICONTA_DAILY_CALLS"
RESERVE_ENV = "TLSYNC_UNICONTA_INVOICE_RESERVE"
SLOW_ENV = "TLSYNC_UNICONTA_SLOW_CALL_SECONDS"


def daily_allowance() -> int:
    """Calls tlsync may spend per Danish day (``TLSYNC_UNICONTA_DAILY_CALLS``, default 5,000)."""
    return int(config.value(ALLOWANCE_ENV))


def invoice_reserve() -> int:
    """The least the master-data steps (customers, projects) leave of the day's calls for the invoices
    (``TLSYNC_UNICONTA_INVOICE_RESERVE``, default 1,000) — the floor of the night's plan (:mod:`tlsync.quota.plan`),
    which reserves what the invoices are planned to need when that is more: the night's priority is the nightly
    reads (they run first), then invoices, then master data."""
    return int(config.value(RESERVE_ENV))


def slow_call_seconds() -> float:
    return float(config.value(SLOW_ENV))


def quota_day(now: datetime | None = None) -> str:
    """The quota's day: today's date in Denmark, ``YYYY-MM-DD``."""
    moment = now or datetime.now(timezone.utc)
    return moment.astimezone(DENMARK).date().isoformat()


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class DailyTally:
    """One user's calls of the Danish day, reserved in blocks from the shared row. Thread-safe."""

    def __init__(self, engine: Engine, username: str, *, allowance: int | None = None, block: int = BLOCK,
                 slow_seconds: float | None = None, clock: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self.username = username
        self.allowance = daily_allowance() if allowance is None else int(allowance)
        self.block = max(1, int(block))
        self.slow_seconds = slow_call_seconds() if slow_seconds is None else slow_seconds
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.day = quota_day(self.clock())
        self.reserved = 0          # taken from the row, not yet spent
        self.spent = 0             # calls this tally let through (all days)
        self.slow = 0              # slow answers seen, not yet booked
        self.slow_seen = 0
        self.refused = False
        self.unbooked = False      # the tally table is missing (staging not migrated): calls go unbooked
        self._lock = threading.Lock()

    # -- the shared row --------------------------------------------------------------------------------------
    def _insert(self):
        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(uniconta_call_tally)

    def _reserve(self, n: int) -> bool:
        t = uniconta_call_tally
        key = (t.c.day == self.day) & (t.c.username == self.username)
        with self.engine.begin() as conn:
            conn.execute(self._insert().values(day=self.day, username=self.username, calls=0, slow_calls=0,
                                               updated_at=_utcnow()).on_conflict_do_nothing())
            got = conn.execute(update(t).where(key, t.c.calls + n <= self.allowance)
                               .values(calls=t.c.calls + n, updated_at=_utcnow()))
            return got.rowcount == 1

    def _give_back(self, day: str, unused: int, slow: int) -> None:
        if not unused and not slow:
            return
        t = uniconta_call_tally
        with self.engine.begin() as conn:
            conn.execute(update(t).where(t.c.day == day, t.c.username == self.username)
                         .values(calls=t.c.calls - unused, slow_calls=t.c.slow_calls + slow,
                                 updated_at=_utcnow()))

    # -- per call --------------------------------------------------------------------------------------------
    def acquire(self) -> bool:
        """Take one call of today's allowance; ``False`` when it is spent (the call must not be sent)."""
        with self._lock:
            today = quota_day(self.clock())
            if today != self.day:               # past midnight in Denmark: a new allowance
                self._give_back(self.day, self.reserved, self.slow)
                self.day, self.reserved, self.slow, self.refused = today, 0, 0, False
            if not self.reserved and not self.unbooked:
                try:
                    if self._reserve(self.block):
                        self.reserved = self.block
                    elif self._reserve(1):          # the last few calls of the day, one at a time
                        self.reserved = 1
                    else:
                        self.refused = True
                        return False
                except (OperationalError, ProgrammingError) as exc:
                    self.unbooked = True
                    log.warning("Uniconta calls of user %s are not booked in the daily tally: the staging "
                                "database has no uniconta_call_tally table (run `tlsync deploy init`): %s",
                                self.username, type(exc).__name__)
            if self.unbooked:
                self.spent += 1
                return True
            self.reserved -= 1
            self.spent += 1
            return True

    def observe(self, seconds: float) -> None:
        """Note how long a call took (slow answers are how Uniconta's throttling shows)."""
        if seconds >= self.slow_seconds:
            with self._lock:
                self.slow += 1
                self.slow_seen += 1

    def release(self) -> None:
        """Give the unused reservation back and book the slow answers (idempotent)."""
        with self._lock:
            if self.unbooked:
                return
            self._give_back(self.day, self.reserved, self.slow)
            self.reserved = self.slow = 0

    # -- reading ---------------------------------------------------------------------------------------------
    def used_today(self) -> int:
        return tally_of(self.engine, self.username, self.day)[0]

    def remaining(self) -> int:
        return max(0, self.allowance - self.used_today())


def tally_of(engine: Engine, username: str, day: str | None = None) -> tuple[int, int]:
    """``(calls, slow calls)`` booked for ``username`` on ``day`` (default today in Denmark)."""
    t = uniconta_call_tally
    with engine.connect() as conn:
        row = conn.execute(select(t.c.calls, t.c.slow_calls).where(
            t.c.day == (day or quota_day()), t.c.username == username)).first()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def tally_report(engine: Engine, day: str | None = None) -> str:
    """One line per user for the run summaries: calls of the day against the allowance, and throttling."""
    t = uniconta_call_tally
    day = day or quota_day()
    with engine.connect() as conn:
        rows = conn.execute(select(t.c.username, t.c.calls, t.c.slow_calls).where(t.c.day == day)
                            .order_by(t.c.username)).all()
    if not rows:
        return f"Uniconta quota {day}: no calls booked"
    allowance = daily_allowance()
    parts = []
    for user, calls, slow in rows:
        text = f"user {user}: {calls:,} of {allowance:,} calls, {max(0, allowance - calls):,} left"
        if slow:
            text += (f"; {slow:,} answers slower than {slow_call_seconds():g} s — Uniconta may be throttling this "
                     "user (it slows down past 5,000 calls a day)")
        parts.append(text)
    return f"Uniconta quota {day} (Danish day): " + "; ".join(parts)


def stop_line(what: str, engine: Engine | None = None, username: str | None = None, *,
              work_left: str | None = None) -> str:
    """The one line a step stopped by the allowance says: the quota, the calls used and left, the work left for
    the next night (``work_left``, e.g. ``"1,234 project(s)"``) and that nothing is lost."""
    allowance = daily_allowance()
    used = ""
    if engine is not None and username:
        calls, _ = tally_of(engine, username)
        used = f" ({calls:,} of {allowance:,} calls of {quota_day()} used, {max(0, allowance - calls):,} left)"
    later = f"Left for the next night: {work_left}" if work_left else "What is left is done the next night"
    return (f"{what} stopped: the daily Uniconta call allowance is reached{used}; "
            f"TLSYNC_UNICONTA_DAILY_CALLS={allowance:,}. {later}; nothing is lost")
