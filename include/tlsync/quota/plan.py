"""A night's Uniconta calls planned by priority before the write-back spends them (issue 13, item 5).

The steps run in dependency order — customers, items, projects, invoices, expenses (:mod:`tlsync.writeback`)
— but the calls of the day are not theirs in that order: the nightly reads come first (they have run by the time
the write-back starts and are in the tally), then the **invoices** (money; an accountant waits for the drafts),
then the **master data** (customers, projects: a project that waits a night is created by the invoice that needs it,
or the next night). So before a master-data step of a legal entity starts, each step's calls are planned from
staging (no API call: :meth:`tlsync.writeback.steps.WriteStep.planned_calls`) and this module allocates what is
left of the day:

- :func:`allocate` — a pure function from the planned needs and the calls left to a :class:`NightPlan`: the
  invoices get theirs first; the master-data steps share the rest in their run order. The invoices' share is at
  least the floor ``TLSYNC_UNICONTA_INVOICE_RESERVE`` (default 1,000: it covers what the estimate cannot see — debtors,
  employees and projects an invoice creates, a crashed batch's recovery); setting it higher reserves more, 0 makes
  the reserve exactly the plan.
- :meth:`NightPlan.reserve` — what a master-data step leaves untouched (the tally's allowance for its client is the
  day's allowance minus this): before this module the fixed reserve alone, whatever the invoices needed.
- :meth:`NightPlan.line` — the one line the write-back summary shows up front and the log keeps, e.g. *"planned
  5,480 Uniconta calls, 1,200 left today: invoices first, 2,100 project(s) wait for the next night"*.

The plan is an estimate. The steps still stop cleanly at the allowance if it was low (:func:`tlsync.quota.stop_line`);
nothing depends on it being exact.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Need:
    """One step's planned Uniconta calls for one legal entity: ``calls`` for ``items`` records (``noun``, e.g.
    ``"project(s)"``); ``first``: the step has the day's priority (the invoices) over the master data."""

    step: str
    calls: int
    items: int = 0
    noun: str = "record(s)"
    first: bool = False


@dataclass(frozen=True)
class NightPlan:
    """What :func:`allocate` decided: ``budgets`` = calls each step may spend today (≤ its need), ``left`` = the
    calls left today when planned, ``floor`` = the invoices' reserve however small their plan."""

    needs: tuple[Need, ...]
    left: int
    floor: int = 0
    budgets: dict[str, int] = field(default_factory=dict)

    @property
    def planned(self) -> int:
        return sum(n.calls for n in self.needs)

    @property
    def fits(self) -> bool:
        return all(self.budgets.get(n.step, 0) >= n.calls for n in self.needs)

    def waiting(self) -> list[tuple[Need, int]]:
        """The steps that do not fit, each with about how many of its records wait for the next night (in the
        order of the day's priority: the invoices, then master data)."""
        out = []
        for n in sorted(self.needs, key=lambda n: not n.first):
            short = n.calls - self.budgets.get(n.step, 0)
            if short > 0:
                out.append((n, math.ceil(n.items * short / n.calls) if n.items else 0))
        return out

    def reserve(self) -> int:
        """Calls a master-data step leaves for the invoices: what they are planned to need, at least the floor."""
        return max(self.floor, sum(n.calls for n in self.needs if n.first))

    def line(self) -> str:
        """One line: the calls planned and left, and — when they do not fit — what waits for the next night."""
        head = f"planned {self.planned:,} Uniconta calls, {self.left:,} left today"
        parts = ", ".join(f"{n.step} {n.calls:,}" for n in self.needs)
        if self.fits:
            return f"{head}: all fit ({parts})"
        waits = [f"{items:,} {n.noun}" if items else f"{n.step} ({n.calls - self.budgets.get(n.step, 0):,} calls)"
                 for n, items in self.waiting()]
        return f"{head}: invoices first, {' and '.join(waits)} wait for the next night ({parts})"


def allocate(needs: Sequence[Need], left: int, *, floor: int = 0) -> NightPlan:
    """The day's ``left`` calls given to the steps by priority: those marked ``first`` (the invoices) in their
    order, then the others (master data) in their order; each gets at most its need. The ``first`` steps' share is
    held at ``max(floor, their need)`` before the others are served, so master data never eats into it."""
    left = max(0, int(left))
    budgets: dict[str, int] = {}
    rest = left
    for n in needs:
        if n.first:
            budgets[n.step] = min(max(0, n.calls), rest)
            rest -= budgets[n.step]
    held = max(0, min(rest, floor - sum(budgets.values())))      # the floor's part beyond the invoices' plan
    rest -= held
    for n in needs:
        if not n.first:
            budgets[n.step] = min(max(0, n.calls), rest)
            rest -= budgets[n.step]
    return NightPlan(tuple(needs), left, max(0, floor), budgets)
