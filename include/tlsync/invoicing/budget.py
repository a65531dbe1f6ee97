"""Uniconta's daily call quota, shared by every run of one UTC day.

Uniconta allows 5,000 calls per user per day. The client counts the calls of one process
(:class:`~tlsync.clients._http.CallCounter`, ``UnicontaClient.calls_used``) and refuses a call *before* spending
it when its budget is used up. What one process cannot know is what earlier runs of the same day spent, so the
transfer keeps a tally per UTC day in the sync ledger (domain ``uniconta_calls``, legal entity 0 — the quota is per
user, not per company; key = the date; ``details.calls`` = calls spent by tlsync's writers that day). At the start
of a run the client's budget is cut to what is left of the day; at the end (and after every batch) the run adds
what it spent. ``TLSYNC_UNICONTA_DAILY_CALLS`` sets the daily allowance (default 5,000).
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

from tlsync.ledger import DONE, Ledger

DOMAIN = "uniconta_calls"
SYSTEM = "Uniconta"
DEFAULT_DAILY = 5000


def daily_allowance() -> int:
    return int(os.environ.get("TLSYNC_UNICONTA_DAILY_CALLS") or DEFAULT_DAILY)


def today() -> str:
    return datetime.now(timezone.utc).date().isoformat()


def spent_today(ledger: Ledger, day: str | None = None) -> int:
    entry = ledger.get(DOMAIN, 0, day or today())
    return int(entry.details.get("calls", 0)) if entry else 0


class DayBudget:
    """Binds a client's counter to what is left of today's quota and books what the run spends."""

    def __init__(self, ledger: Ledger, client, *, allowance: int | None = None) -> None:
        self.ledger = ledger
        self.client = client
        self.day = today()
        self.allowance = allowance if allowance is not None else daily_allowance()
        self.booked_at = client.calls_used          # counter reading already booked
        counter = client.counter
        left = max(0, self.allowance - spent_today(ledger, self.day))
        cap = counter.get(SYSTEM) + left
        current = self._before = counter.budgets.get(SYSTEM, None)
        counter.budgets[SYSTEM] = cap if current is None else min(current, cap)

    def close(self) -> None:
        """Book what is left and give the client its own budget back (it may serve another day's run)."""
        self.book()
        if self._before is None:
            self.client.counter.budgets.pop(SYSTEM, None)
        else:
            self.client.counter.budgets[SYSTEM] = self._before

    @property
    def remaining(self) -> int:
        return self.client.calls_remaining or 0

    def book(self) -> int:
        """Add the calls spent since the last booking to today's tally; returns today's total."""
        used = self.client.calls_used
        delta, self.booked_at = used - self.booked_at, used
        day = today()
        if day != self.day:          # the run crossed midnight UTC: the new day starts from what is spent now
            self.day = day
        current = self.ledger.get(DOMAIN, 0, day)
        total = (int(current.details.get("calls", 0)) if current else 0) + delta
        if delta or current is None:
            self.ledger.transition(DOMAIN, 0, day, DONE, action="spend", details={"calls": total},
                                   after={"calls": delta})
        return total
