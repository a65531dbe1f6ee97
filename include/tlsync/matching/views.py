"""The four review views of rule L2, computed from scored candidates.

- **One suggestion**: exactly one candidate, and it is *confident* (≥ ``CONFIDENT`` points, runner-up at least
  ``MARGIN`` points behind, not one of two TimeLog records with the debtor's CVR unless the customer number
  decides, and no other debtor of the same company confidently claims the same customer). This
  is the view users accept in bulk (L3 action 1/2 on 200 rows at a time, L5), so it must be precise.
- **Several suggestions**: every other debtor with at least one candidate — two or more plausible customers, *or a
  single doubtful one* (e.g. only the customer number or only a shared switchboard phone agrees). Showing a lone
  weak candidate here instead of under One keeps it in front of a human without it being bulk-linked.
- **No suggestion**: no candidate reaches ``CANDIDATE`` points.
- **Ignored**: the debtors the user ignored (L3 action 4), given as input; they are still matched so that
  linking from the Ignored view (L3) shows suggestions too.

Left side Uniconta debtor, right side TimeLog customer(s), best first.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .blocking import Index, prepare_customer, prepare_debtor
from .scoring import CANDIDATE, MARGIN, Scored, score_pair

__all__ = ["VIEWS", "MatchResult", "Suggestion", "build_index", "match_customers"]

VIEWS = ("one", "several", "none", "ignored")


@dataclass(slots=True)
class Suggestion:
    """One review row: the debtor (left) and its candidate customers (right), best first."""

    debtor_account: str
    debtor: Mapping[str, Any]
    candidates: list[Scored]
    view: str = "none"

    @property
    def best(self) -> Scored | None:
        return self.candidates[0] if self.candidates else None


@dataclass
class MatchResult:
    """The four L2 views. ``rows`` holds every debtor once, in input order; the views are filtered lists."""

    rows: list[Suggestion] = field(default_factory=list)

    def view(self, name: str) -> list[Suggestion]:
        if name not in VIEWS:
            raise ValueError(f"unknown view {name!r}; expected one of {VIEWS}")
        return [r for r in self.rows if r.view == name]

    @property
    def one(self) -> list[Suggestion]:
        return self.view("one")

    @property
    def several(self) -> list[Suggestion]:
        return self.view("several")

    @property
    def none(self) -> list[Suggestion]:
        return self.view("none")

    @property
    def ignored(self) -> list[Suggestion]:
        return self.view("ignored")

    def counts(self) -> dict[str, int]:
        c = Counter(r.view for r in self.rows)
        return {v: c.get(v, 0) for v in VIEWS}

    def links(self) -> dict[str, object]:
        """Debtor ``Account`` → TimeLog customer ``ID`` for the One suggestions."""
        return {r.debtor_account: r.best.customer_id for r in self.rows if r.view == "one" and r.best}


def build_index(customers: Iterable[Mapping[str, Any]]) -> Index:
    """Normalise and index the TimeLog customers once; pass it as ``index=`` to match several companies."""
    gc_was_enabled = gc.isenabled()
    gc.disable()          # see match_customers
    try:
        return Index(prepare_customer(c) for c in customers)
    finally:
        if gc_was_enabled:
            gc.enable()


def _doubtful_duplicate(cands: list[Scored]) -> bool:
    # Two TimeLog customers with the debtor's tax number: a duplicate inside TimeLog (an old record of the same
    # company). Only an equal customer number picks one of them without a human.
    return len(cands) > 1 and cands[0].same_tax_no and cands[1].same_tax_no and not cands[0].same_number


def match_customers(debtors: Iterable[Mapping[str, Any]], customers: Iterable[Mapping[str, Any]] = (), *,
                    index: Index | None = None, ignored: Iterable[str] = (), max_candidates: int = 5
                    ) -> MatchResult:
    """Match the Uniconta debtors of **one company** against the TimeLog customers (site-wide; a customer may be
    linked in each company it does business with, rule S2) and sort them into the four L2 views.

    ``debtors``: ``DebtorClient`` rows; ``customers``: TimeLog ``Customer`` rows (API field names, e.g. the
    ``payload`` of ``stg_uniconta_debtors`` / ``stg_timelog_customers``); ``ignored``: debtor accounts the user
    ignored; ``index``: a :func:`build_index` of the customers, reused across companies (then ``customers`` is
    not read). Deterministic: same input → same output, candidates ordered by (−score, customer ID).
    """
    if index is None:
        index = build_index(customers)
    ignored_set = {str(a) for a in ignored}
    rows: list[Suggestion] = []
    customers_ = index.customers
    gc_was_enabled = gc.isenabled()
    gc.disable()          # ~10⁶ small objects, no cycles: the cyclic GC would only rescan them (~30 % of the time)
    try:
        for rec in debtors:
            d = prepare_debtor(rec)
            exact = index.candidates(d)
            scored = [s for s in (score_pair(d, customers_[i], index) for i in exact) if s.score >= CANDIDATE]
            if not scored:
                scored += [s for s in (score_pair(d, customers_[i], index) for i in index.fuzzy_candidates(d, exact))
                           if s.score >= CANDIDATE]
            rows.append(_row(rec, scored, max_candidates))
    finally:
        if gc_was_enabled:
            gc.enable()
    _assign_views(rows, ignored_set)
    return MatchResult(rows)


def _row(rec: Mapping[str, Any], scored: list[Scored], max_candidates: int) -> Suggestion:
    scored.sort(key=lambda s: (-s.score, str(s.customer_id)))
    return Suggestion(str(rec.get("Account", "")), rec, scored[:max_candidates])


def _assign_views(rows: list[Suggestion], ignored_set: set[str]) -> None:
    # a customer confidently claimed by two debtors of the same company is doubtful for both
    claims = Counter(r.best.customer_id for r in rows if r.best and r.best.confident)
    for r in rows:
        if r.debtor_account in ignored_set:
            r.view = "ignored"
        elif not r.candidates:
            r.view = "none"
        elif (r.best.confident and claims[r.best.customer_id] == 1 and not _doubtful_duplicate(r.candidates)
              and (len(r.candidates) == 1 or r.candidates[1].score <= r.best.score - MARGIN)):
            r.view = "one"
            del r.candidates[1:]
        else:
            r.view = "several"
