"""The four review views of rule L2, computed from scored candidates.

- **One suggestion**: the best candidate is at least ``P_ONE`` (0.98) probable to be *the* debtor's company among
  all its compared candidates (:func:`_debtor_posterior`: a close runner-up lowers it, a lone strong candidate
  keeps it), no veto (two valid different CVRs, two different known legal forms), not one of two TimeLog records
  with the debtor's CVR unless the customer number decides, and no other debtor of the same company confidently
  claims the same customer. This is the view users accept in bulk (L3 action 1/2 on 200 rows at a time, L5), so
  it must be precise.
- **Several suggestions**: every other debtor with at least one candidate of probability ≥ ``P_CANDIDATE`` — two
  or more plausible customers, *or a single doubtful one* (e.g. only the customer number or only a shared
  switchboard phone agrees). Showing a lone weak candidate here instead of under One keeps it in front of a human
  without it being bulk-linked.
- **No suggestion**: no candidate reaches ``P_CANDIDATE``.
- **Ignored**: the debtors the user ignored (L3 action 4), given as input; they are still matched so that
  linking from the Ignored view (L3) shows suggestions too.

Left side Uniconta debtor, right side TimeLog customer(s), best first.

How it runs (all of a company at once, column-wise): normalise the debtors (:func:`debtor_columns`), join them to
the customer index on the exact keys, compare every pair (:func:`compare_pairs`), learn the Fellegi–Sunter model of
this match from those pairs and a random sample (:func:`fit_model`, see :mod:`tlsync.matching.scoring`), run the
fuzzy second pass for the debtors left without a likely candidate, turn the weights into per-debtor probabilities,
sort the kept pairs by (debtor, −weight, str(customer ID)), decide the views on arrays, and only then build the
Python objects a reviewer sees: one :class:`Suggestion` per debtor, one :class:`Scored` with its reasons per shown
candidate. ``MatchResult.model`` holds the learned parameters (``model.describe()``).
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import parallel
from .blocking import Index
from .parallel import in_child, worthwhile
from .records import Columns, customer_columns, debtor_columns
from .scoring import (
    P_CANDIDATE,
    P_ONE,
    Model,
    PairScores,
    Scored,
    compare_pairs,
    debtor_posterior,
    fit_model,
)

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
    model: Model | None = None         # the Fellegi–Sunter parameters learned for this match (m, u, λ)

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
    """Normalise and index the TimeLog customers once; pass it as ``index=`` to match several companies.

    A large index (:func:`~tlsync.matching.parallel.worthwhile`) is built by the first match that uses it, while a
    second process normalises that match's debtors (:func:`match_customers`); the result is the same."""
    records = customers if isinstance(customers, list) else list(customers)
    if len(records) >= parallel.MIN_ROWS and parallel.processes() >= 2:
        return Index.deferred(records)
    with _no_gc():
        return Index(customer_columns(records))


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
    recs = debtors if isinstance(debtors, list) else list(debtors)
    with _no_gc():
        D = _debtor_columns(recs, index)
        C = index.customers
        accounts = D.accounts
        # the levels of every pair sharing an exact key; the model (m, u, λ) is learned from them, per run
        exact = compare_pairs(D, C, index, *index.exact_pairs(D))
        model = fit_model(D, C, index, exact)
        model.weigh(exact)
        found = np.zeros(D.n, dtype=bool)
        found[exact.d[exact.prob >= P_CANDIDATE]] = True
        second = model.weigh(compare_pairs(D, C, index, *index.fuzzy_pairs(D, np.flatnonzero(~found))))
        pairs = PairScores.concat([exact, second])
        _debtor_posterior(pairs, model)
        # a TimeLog customer holding the debtor's CVR is always shown: two of them are a duplicate inside TimeLog
        # (an old record of the same company) that a human must resolve, however much likelier one of them looks
        kept = pairs.take(np.flatnonzero((pairs.prob >= P_CANDIDATE) | (pairs.same_tax & (pairs.prob > 0))))
        # best first: by debtor, −score, str(customer ID); then the first max_candidates of each debtor
        kept = kept.take(np.lexsort((kept.c, index.id_rank[kept.c], -kept.weight, kept.d)))
        first = np.flatnonzero(np.r_[True, kept.d[1:] != kept.d[:-1]]) if len(kept.d) else kept.d
        rank = np.arange(len(kept.d)) - np.repeat(first, np.diff(np.r_[first, len(kept.d)]))
        kept = kept.take(np.flatnonzero(rank < max_candidates))
        rank = rank[rank < max_candidates]
        views = _assign_views(kept, rank, D.n, len(C.key), [a in ignored_set for a in accounts])
        # the objects: a One row shows its single candidate, the others all of theirs
        show = np.flatnonzero((rank == 0) | (views[kept.d] != _ONE))
        # (kept is sorted by debtor: each debtor's shown candidates are one slice of the Scored list)
        scored = kept.scored(show, D, C)
        bounds = np.searchsorted(kept.d[show], np.arange(D.n + 1)).tolist()
        candidates = list(map(scored.__getitem__, map(slice, bounds[:-1], bounds[1:])))
        rows = list(map(Suggestion, accounts, D.recs, candidates, map(VIEWS.__getitem__, views.tolist())))
    return MatchResult(rows, model)


_ONE, _SEVERAL, _NONE, _IGNORED = range(4)          # indices into VIEWS


def _debtor_columns(recs: list[Mapping[str, Any]], index: Index) -> Columns:
    """The debtors' :class:`Columns`, and ``index`` built. When the index is still to be built (deferred by
    :func:`build_index`) and the company is large, the debtors are normalised by a forked child while this
    process builds the index (:func:`~tlsync.matching.parallel.in_child`): the two are independent, and each is
    about a third of a large match."""
    if index.pending and worthwhile(len(recs)):
        D, _ = in_child(lambda: debtor_columns(recs), index.build)
        D.recs = recs                   # the columns come back without their records (Columns.__getstate__)
        return D
    index.build()
    return debtor_columns(recs)


def _debtor_posterior(pairs: PairScores, model: Model) -> None:
    """Each pair's probability among its debtor's candidates (:func:`debtor_posterior`); the fuzzy pass may
    repeat a pair of the first pass, which counts once."""
    if not len(pairs.d):
        return
    dedup = np.unique(pairs.d * (int(pairs.c.max()) + 1) + pairs.c, return_index=True)[1]
    pairs.prob = np.zeros(len(pairs.d))
    pairs.prob[dedup] = debtor_posterior(pairs.d[dedup], pairs.weight[dedup], model)


def _assign_views(kept: PairScores, rank: np.ndarray, n_debtors: int, n_customers: int, ignored: list[bool]
                  ) -> np.ndarray:
    """The view of every debtor (index into :data:`VIEWS`) from its ranked candidates ``kept`` (rank 0 = best)."""
    best, second = rank == 0, rank == 1

    def per_debtor(values: np.ndarray, at: np.ndarray, empty: object) -> np.ndarray:
        out = np.full(n_debtors, empty, dtype=values.dtype)
        out[kept.d[at]] = values[at]
        return out

    n_cands = np.bincount(kept.d, minlength=n_debtors)
    best_c = per_debtor(kept.c, best, -1)
    best_p = per_debtor(kept.prob, best, 0.0)
    best_veto = per_debtor(kept.veto, best, False)
    best_tax = per_debtor(kept.same_tax, best, False)
    best_number = per_debtor(kept.number == 1, best, False)
    second_tax = per_debtor(kept.same_tax, second, False)
    confident = (n_cands > 0) & (best_p >= P_ONE) & ~best_veto
    # a customer confidently claimed by two debtors of the same company is doubtful for both
    claims = np.bincount(best_c[confident], minlength=n_customers)
    claimed_once = np.zeros(n_debtors, dtype=bool)
    claimed_once[confident] = claims[best_c[confident]] == 1
    # two TimeLog customers with the debtor's tax number: a duplicate inside TimeLog (an old record of the same
    # company); only an equal customer number picks one of them without a human
    duplicate = (n_cands > 1) & best_tax & second_tax & ~best_number
    one = confident & claimed_once & ~duplicate
    views = np.where(n_cands == 0, _NONE, np.where(one, _ONE, _SEVERAL))
    views[np.asarray(ignored, dtype=bool)] = _IGNORED
    return views
