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

How it runs (all of a company at once, column-wise): normalise the debtors (:func:`debtor_columns`), join them to
the customer index on the exact keys, score every pair with numpy (:func:`score_pairs`), run the fuzzy second pass
for the debtors left without a candidate, sort the kept pairs by (debtor, −score, str(customer ID)), decide the
views on arrays, and only then build the Python objects a reviewer sees: one :class:`Suggestion` per debtor, one
:class:`Scored` with its reasons per shown candidate.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .blocking import Index, customer_columns, debtor_columns
from .scoring import CANDIDATE, CONFIDENT, MARGIN, TAX_SAME_CVR, TAX_SAME_VAT, PairScores, Scored, score_pairs

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
    with _no_gc():
        return Index(customer_columns(customers))


class _no_gc:
    # ~10⁵–10⁶ small objects and no cycles: the cyclic GC would only rescan them (~30 % of the time)
    def __enter__(self) -> None:
        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self.was_enabled:
            gc.enable()


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
    with _no_gc():
        D = debtor_columns(debtors)
        C = index.customers
        accounts = D.accounts
        exact = score_pairs(D, C, index, *index.exact_pairs(D), min_points=CANDIDATE)
        kept = exact.take(np.flatnonzero(exact.points >= CANDIDATE))
        found = np.zeros(D.n, dtype=bool)
        found[kept.d] = True
        second = score_pairs(D, C, index, *index.fuzzy_pairs(D, np.flatnonzero(~found)), min_points=CANDIDATE)
        kept = PairScores.concat([kept, second.take(np.flatnonzero(second.points >= CANDIDATE))])
        # best first: by debtor, −score, str(customer ID); then the first max_candidates of each debtor
        kept = kept.take(np.lexsort((kept.c, index.id_rank[kept.c], -kept.points, kept.d)))
        first = np.flatnonzero(np.r_[True, kept.d[1:] != kept.d[:-1]]) if len(kept.d) else kept.d
        rank = np.arange(len(kept.d)) - np.repeat(first, np.diff(np.r_[first, len(kept.d)]))
        kept = kept.take(np.flatnonzero(rank < max_candidates))
        rank = rank[rank < max_candidates]
        views = _assign_views(kept, rank, D.n, len(C.key), [a in ignored_set for a in accounts])
        # the objects: a One row shows its single candidate, the others all of theirs
        show = np.flatnonzero((rank == 0) | (views[kept.d] != _ONE))
        candidates: list[list[Scored]] = [[] for _ in range(D.n)]
        for d, s in zip(kept.d[show].tolist(), kept.scored(show, D, C)):
            candidates[d].append(s)
        rows = [Suggestion(a, r, cs, VIEWS[v]) for a, r, cs, v in zip(accounts, D.recs, candidates, views.tolist())]
    return MatchResult(rows)


_ONE, _SEVERAL, _NONE, _IGNORED = range(4)          # indices into VIEWS


def _assign_views(kept: PairScores, rank: np.ndarray, n_debtors: int, n_customers: int, ignored: list[bool]
                  ) -> np.ndarray:
    """The view of every debtor (index into :data:`VIEWS`) from its ranked candidates ``kept`` (rank 0 = best)."""
    best, second = rank == 0, rank == 1
    n_cands = np.bincount(kept.d, minlength=n_debtors)
    best_c = np.full(n_debtors, -1, dtype=np.int64)
    best_pts = np.zeros(n_debtors, dtype=np.int64)
    best_c[kept.d[best]] = kept.c[best]
    best_pts[kept.d[best]] = kept.points[best]
    same_tax = (kept.tax == TAX_SAME_CVR) | (kept.tax == TAX_SAME_VAT)
    best_tax = np.zeros(n_debtors, dtype=bool)
    best_tax[kept.d[best]] = same_tax[best]
    best_number = np.zeros(n_debtors, dtype=bool)
    best_number[kept.d[best]] = kept.number[best]
    second_pts = np.full(n_debtors, np.iinfo(np.int64).min, dtype=np.int64)
    second_pts[kept.d[second]] = kept.points[second]
    second_tax = np.zeros(n_debtors, dtype=bool)
    second_tax[kept.d[second]] = same_tax[second]
    confident = (n_cands > 0) & (best_pts >= CONFIDENT)
    # a customer confidently claimed by two debtors of the same company is doubtful for both
    claims = np.bincount(best_c[confident], minlength=n_customers)
    claimed_once = np.zeros(n_debtors, dtype=bool)
    claimed_once[confident] = claims[best_c[confident]] == 1
    # two TimeLog customers with the debtor's tax number: a duplicate inside TimeLog (an old record of the same
    # company); only an equal customer number picks one of them without a human
    duplicate = (n_cands > 1) & best_tax & second_tax & ~best_number
    one = confident & claimed_once & ~duplicate & ((n_cands == 1) | (second_pts <= best_pts - MARGIN))
    views = np.where(n_cands == 0, _NONE, np.where(one, _ONE, _SEVERAL))
    views[np.asarray(ignored, dtype=bool)] = _IGNORED
    return views
