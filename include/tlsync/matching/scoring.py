"""Pair scoring (rule L1): Fellegi–Sunter match weights learned from the data being matched, with reasons.

Why: the review screen (L2/L3) must say *why* a debtor is suggested ("same CVR", "phone equal (shared by 3 TimeLog
customers)", "name 0.93", "same zip"), and every pair that lands under Several instead of One is a row an
administrator checks by hand before the integration can be activated (rule S8). Hand-set points (the first
version) could not weigh evidence by how rare it is: an exact rare name with the same postal code scored one point
short of One, an identical CVR that fails the modulus-11 check scored nothing. So (issue 15):

- every pair is reduced to one *level* per comparison (:data:`COMPARISONS`: tax number, phone, customer number,
  e-mail domain, name, legal form, zip), level 0 meaning "nothing to compare" (a value missing on a side);
- the probabilities of each level among true pairs (*m*) and the share of true pairs (λ) are estimated **per
  run** by expectation maximisation on the blocked candidate pairs (the two-class mixture of Fellegi and Sunter,
  as splink does), smoothed towards the prior in :data:`PRIOR` (pseudo-counts), so a tiny company still gets
  sensible weights and a large one learns its own; the E-step is the per-debtor posterior of the views
  (:func:`debtor_posterior`: a debtor has at most one twin);
- the probability of each level among *other* pairs (*u*): for an equal value of a blocking key
  (:data:`KEY_LEVELS`: CVR, invalid CVR digits, phone, e-mail domain, name) the rate of *coincidences* — a debtor
  sharing the value with a customer that is not its twin — counted by the same EM among the candidates and split
  by term frequency, u(v) = u(level) × n_v / n̄ (a switchboard shared by a group or a name held twice counts less,
  a unique CVR or name more); for the zip the share of customers holding it; for the rest a random sample of pairs;
- a pair's **match weight** is Σ log₂(m/u) over its non-null levels;
- the probability that a candidate is *the* debtor's company weighs it against the debtor's other candidates and
  against "no twin at all" (:func:`debtor_posterior`); :mod:`tlsync.matching.views` turns it into the four views.

Two explicit vetoes stay, not learned: two *valid* but different CVR numbers, and two different *known* legal forms
of look-alike names ("Hansen ApS" vs "Hansen A/S"), mean two companies — such a pair may be shown under Several but
is never a One suggestion (:attr:`PairScores.veto`).

Two implementations of the comparisons: :func:`compare_pairs` (all candidate pairs of a company at once, numpy and
``rapidfuzz.process.cpdist``) and :func:`score_pair` (one pair, to explain it; the tests' reference for the array
code). Both produce the same levels, :class:`Model` weighs them, and :func:`reasons` words them, so the two cannot
disagree on wording. The levels, :class:`PairScores`, :class:`Scored` and the words live in
:mod:`tlsync.matching.levels` (re-exported here); this module compares and learns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from rapidfuzz.distance import Levenshtein
from rapidfuzz.fuzz import ratio, token_sort_ratio
from rapidfuzz.process import cpdist

from .blocking import Index
from .levels import (
    COMPARISONS,
    DOMAIN_NAMED,
    EQ_DIFFERENT,
    EQ_NONE,
    EQ_SAME,
    FORM_CONFLICT,
    FORM_NONE,
    FORM_SAME,
    LOWEST_NAME_BOUND,
    N_LEVELS,
    NAME_70,
    NAME_85,
    NAME_92,
    NAME_EXACT,
    NAME_LOW,
    NAME_NONE,
    TAX_CONFLICT,
    TAX_NEAR,
    TAX_NONE,
    TAX_OTHER,
    TAX_SAME,
    TAX_SAME_INVALID,
    PairScores,
    Scored,
    _eq_level,
    _name_level,
    _reasons_at,
    _score,
    name_similarity,
    reasons,  # noqa: F401 - re-exported (the words of a pair's levels, as before the split)
    similarity_bound,
)
from .parallel import threads
from .records import Columns, Prepared

__all__ = ["COMPARISONS", "P_CANDIDATE", "P_ONE", "Model", "PairScores", "Scored", "compare_pairs",
           "debtor_posterior", "fit_model", "random_pairs", "score_pair", "score_pairs"]

# Prior m / u of levels 1..: m among true pairs, u among *random* (debtor, customer) pairs — except for
# U_FROM_CANDIDATES, whose u is among the candidate pairs. The data moves m (EM) and u (a random sample) away from
# these; the prior matters only for a small company.
PRIOR: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "tax": ((0.85, 0.03, 0.05, 0.002, 0.068), (1e-5, 1e-5, 1e-4, 0.98, 0.01989)),
    "phone": ((0.8, 0.2), (1e-5, 0.99999)),
    "number": ((0.5, 0.5), (0.05, 0.95)),
    "domain": ((0.7, 0.3), (1e-5, 0.99999)),
    "name": ((0.5, 0.2, 0.15, 0.1, 0.05), (1e-5, 1e-4, 5e-4, 5e-3, 0.99439)),
    "form": ((0.97, 0.03), (0.6, 0.4)),
    "zip": ((0.9, 0.1), (2e-3, 0.998)),
}
EM_ITERATIONS = 25

P_CANDIDATE = 0.001      # a pair at least this probable among the debtor's candidates is shown (One or Several)
P_ONE = 0.98             # a One suggestion: at least this probable among the debtor's candidates (see views)


def compare_pairs(debtors: Columns, customers: Columns, index: Index, d: np.ndarray, c: np.ndarray, *,
                  levels_only: bool = False) -> PairScores:
    """The levels of the pairs (``debtors`` row ``d[k]``, ``customers`` row ``c[k]``), all at once: the rules of
    :func:`score_pair` as array operations, the name similarity by ``cpdist`` over the pairs whose names differ.
    Weights and probabilities are zero until a :class:`Model` weighs the pairs.

    ``levels_only``: only the levels are wanted (the random pairs of :func:`fit_model`), not the similarity of
    names that cannot reach the lowest name level: a pair whose letters alone (:func:`~.levels.similarity_bound`) keep
    it below 0.7 gets similarity 0 without ``cpdist`` — the same levels, for ~94 % of random pairs."""
    D, C = debtors, customers
    codes = index.key_codes(D)

    def same_key(kind: str) -> np.ndarray:       # equal keys = equal codes in the index (integers, not strings)
        return codes[kind][d] == index.customer_codes(kind)[c]

    # tax numbers: a valid key on both sides (same / conflict between two valid CVRs / other), else raw digits
    both = D.has_vat[d] & C.has_vat[c]
    same = both & same_key("vat")
    conflict = both & ~same & D.has_cvr[d] & C.has_cvr[c]
    raw_both = D.has_cvr_raw[d] & C.has_cvr_raw[c]
    raw_same = raw_both & (D.cvr_raw_a[d] == C.cvr_raw_a[c])
    same_invalid = ~same & raw_same
    maybe_near = np.flatnonzero(raw_both & ~raw_same & ~(D.has_cvr[d] & C.has_cvr[c]))
    near = np.zeros(len(d), dtype=bool)
    if len(maybe_near):
        dr, cr = D.cvr_raw_a[d[maybe_near]], C.cvr_raw_a[c[maybe_near]]
        near[maybe_near] = cpdist(dr.tolist(), cr.tolist(), scorer=Levenshtein.distance, dtype=np.int32) == 1
    any_d = D.has_vat[d] | D.has_cvr_raw[d]
    any_c = C.has_vat[c] | C.has_cvr_raw[c]
    tax = np.select([same, same_invalid, near, conflict, any_d & any_c],
                    [TAX_SAME, TAX_SAME_INVALID, TAX_NEAR, TAX_CONFLICT, TAX_OTHER], TAX_NONE).astype(np.int8)
    n_tax = np.select([same, same_invalid, near], [index.vat_n[c], index.raw_n[c], index.cvr7_n[c]], 0)
    phone = _eq_level(D.has_phone[d], C.has_phone[c], same_key("phone"))
    number = _eq_level(D.has_number[d], C.has_number[c], same_key("number"))
    domain = _eq_level(D.has_domain[d], C.has_domain[c], same_key("domain"))
    # name: equal cores are 1.0, the rest the better of two Levenshtein ratios
    named = D.has_core[d] & C.has_core[c]
    exact = named & same_key("core")
    sim = exact.astype(np.float64)
    fuzzy = np.flatnonzero(named & ~exact)
    if len(fuzzy) and levels_only:
        fuzzy = fuzzy[similarity_bound(D.name_a[d[fuzzy]].tolist(), C.name_a[c[fuzzy]].tolist()) >= LOWEST_NAME_BOUND]
    if len(fuzzy):
        a, b = D.name_a[d[fuzzy]].tolist(), C.name_a[c[fuzzy]].tolist()
        workers = threads()                      # every core only when one is idle (.parallel.threads)
        sim[fuzzy] = np.maximum(cpdist(a, b, scorer=ratio, dtype=np.float64, workers=workers),
                                cpdist(a, b, scorer=token_sort_ratio, dtype=np.float64, workers=workers)) / 100.0
    name = np.where(named, np.select([sim >= 1.0, sim >= 0.92, sim >= 0.85, sim >= 0.7],
                                     [NAME_EXACT, NAME_92, NAME_85, NAME_70], NAME_LOW), NAME_NONE).astype(np.int8)
    named_domain = np.flatnonzero((domain == EQ_SAME) & ((name == NAME_EXACT) | (name == NAME_92)))
    if len(named_domain):
        cn = c[named_domain]
        labels = index.domain_labels()[cn]
        spelt = ((labels == D.core_a[d[named_domain]]) | (labels == C.core_a[cn])).astype(bool)
        domain[named_domain[spelt]] = DOMAIN_NAMED
    forms = (sim >= 0.8) & D.has_form[d] & C.has_form[c]
    form = np.where(forms, np.where(D.form_id[d] == C.form_id[c], FORM_SAME, FORM_CONFLICT),
                    FORM_NONE).astype(np.int8)
    zips = D.has_zip[d] & C.has_zip[c]
    zip_level = _eq_level(D.has_zip[d], C.has_zip[c], zips & (D.zip_a[d] == C.zip_a[c]))
    zero = np.zeros(len(d), dtype=np.float64)
    return PairScores(d, c, tax, phone, number, domain, name, form, zip_level, sim, n_tax.astype(np.int64),
                      np.where(number == EQ_SAME, index.number_n[c], 0),
                      np.where(phone == EQ_SAME, index.phone_n[c], 0),
                      np.where(domain >= EQ_SAME, index.domain_n[c], 0),
                      np.where(name == NAME_EXACT, index.core_n[c], 0),
                      np.where(zip_level == EQ_SAME, index.zip_n[c], 0),
                      zero, zero.copy())


# --- the model ------------------------------------------------------------------------------------------------

# The levels weighed by how common the shared value is (term frequency); the pair array holding that count.
TF_LEVELS = {("tax", TAX_SAME): "n_tax", ("tax", TAX_SAME_INVALID): "n_tax", ("tax", TAX_NEAR): "n_tax",
             ("phone", EQ_SAME): "n_phone", ("domain", EQ_SAME): "n_domain",
             ("name", NAME_EXACT): "n_name", ("zip", EQ_SAME): "n_zip"}
# Of those, the equal values of a blocking key: every pair sharing one is a candidate, so how often a debtor shares
# the value with a customer that is *not* its twin (a coincidence) is counted among the candidates — EM's expected
# non-matching pairs at the level, per (debtor, customer) pair — and split by term frequency: u(v) = u_level ×
# n_v / n̄, n̄ the mean count of the values of those coincidences. The share of customers holding the value
# (n_v / N, the textbook term-frequency u) assumes a non-matching debtor draws its name or CVR from the customers'
# values; a unique name or CVR of a debtor without twin almost never recurs among the customers, so that u was
# ~1/N where the data show ~10⁻⁸ and an exact rare name alone could never reach One. zip is no blocking key: its
# u stays the share of customers holding the zip.
KEY_LEVELS = tuple(k for k in TF_LEVELS if k[0] != "zip")
COINCIDENCE_PSEUDO = 1.0   # coincidences assumed at every key level on top of the counted (and of PRIOR's u)
TF_POPULATION = 10_000
# Comparisons whose u is learned by EM on the candidate pairs instead of from random pairs: two systems' customer
# number series may overlap by accident (Uniconta's 10001… next to TimeLog's 10001…), which shows only among the
# pairs that share a number, not in the value frequencies.
U_FROM_CANDIDATES = ("number",)
U_SAMPLE = 50_000        # random (debtor, customer) pairs for the u of the other levels
M_PSEUDO = 50.0          # weight of PRIOR's m, in pairs, per comparison (a tiny company stays near the prior)
U_PSEUDO = 10_000.0      # weight of PRIOR's u in random pairs (the sample holds U_SAMPLE)
U_PSEUDO_CANDIDATES = 50.0   # … and in candidate pairs, for U_FROM_CANDIDATES
TWIN_SHARE_PRIOR = 0.5   # prior share of debtors with a TimeLog twin, smoothed by 10 debtors


@dataclass
class Model:
    """Fellegi–Sunter parameters of one match: per comparison the m probabilities of levels 1.. (EM on the
    candidate pairs), the u probabilities (for :data:`KEY_LEVELS` the u of a value held by one customer, learned
    by EM from the coincidences among the candidates; the zip's from its value frequencies; a random sample of
    pairs for the others), and λ, the probability that a random (debtor, customer) pair is a true pair."""

    m: dict[str, np.ndarray]
    u: dict[str, np.ndarray]
    lam: float
    n_customers: int

    @classmethod
    def prior(cls, n_customers: int = 1, n_debtors: int = 1) -> Model:
        m = {k: np.array(v[0]) for k, v in PRIOR.items()}
        u = {k: np.array(v[1]) for k, v in PRIOR.items()}
        return cls(m, u, TWIN_SHARE_PRIOR / max(n_customers, 1), max(n_customers, 1))

    @classmethod
    def fit(cls, pairs: PairScores, sample: PairScores, n_debtors: int, n_customers: int,
            iterations: int = EM_ITERATIONS) -> Model:
        """u of the non-key levels from ``sample`` (random pairs), then m, λ and the u of :data:`KEY_LEVELS`
        and :data:`U_FROM_CANDIDATES` by EM on the candidate ``pairs``, each smoothed towards :data:`PRIOR`."""
        model = cls.prior(n_customers, n_debtors)
        for k in COMPARISONS:
            lv = getattr(sample, k).astype(np.int64)
            counts = np.bincount(lv, minlength=N_LEVELS[k] + 1)[1:N_LEVELS[k]].astype(np.float64)
            model.u[k] = (counts + U_PSEUDO * np.array(PRIOR[k][1])) / (counts.sum() + U_PSEUDO)
        if not len(pairs.d):
            return model
        # EM on the distinct level combinations (a few thousand), not on every pair: per iteration one weighted
        # bincount over the pairs. The term-frequency part of a weight does not change between iterations.
        levels = {k: getattr(pairs, k).astype(np.int64) for k in COMPARISONS}
        bases = [N_LEVELS[k] + 1 for k in COMPARISONS]                 # + NEUTRAL
        codes, inv = np.unique(np.ravel_multi_index([levels[k] for k in COMPARISONS], bases), return_inverse=True)
        inv = inv.reshape(-1)
        of_code = dict(zip(COMPARISONS, np.unravel_index(codes, bases)))
        tf_extra = model._weights(pairs, levels) - model._table_weights(of_code)[inv]    # fixed: u ∝ n_v
        # the pairs at each key level and the count of their value, for the coincidence u (KEY_LEVELS)
        key_at = {kl: np.flatnonzero(levels[kl[0]] == kl[1]) for kl in KEY_LEVELS}
        key_n = {kl: np.maximum(getattr(pairs, TF_LEVELS[kl])[at], 1).astype(np.float64) for kl, at in key_at.items()}
        all_pairs = float(n_debtors) * float(max(n_customers, 1))
        for _ in range(iterations):
            # E-step: the probability that the pair is *the* debtor's twin among its candidates (a debtor has at
            # most one), as the views decide: a TimeLog duplicate sharing the evidence takes half, not all, so
            # neither m nor the share of debtors with a twin is counted twice
            p = debtor_posterior(pairs.d, model._table_weights(of_code)[inv] + tf_extra, model, n_debtors)
            sp = np.bincount(inv, weights=p, minlength=len(codes))
            before = np.concatenate([model.m[k] for k in COMPARISONS])
            for k in COMPARISONS:
                mp = np.bincount(of_code[k], weights=sp, minlength=N_LEVELS[k] + 1)[1:N_LEVELS[k]]
                model.m[k] = (mp + M_PSEUDO * np.array(PRIOR[k][0])) / (mp.sum() + M_PSEUDO)
            before_u = np.array([model.u[k][lv - 1] for k, lv in KEY_LEVELS])
            for (k, lv), at in key_at.items():
                other = 1.0 - p[at]                  # the expected coincidences at the level, and their counts
                u_level = (other.sum() + COINCIDENCE_PSEUDO + U_PSEUDO * PRIOR[k][1][lv - 1]) / (all_pairs + U_PSEUDO)
                n_mean = ((float((other * key_n[(k, lv)]).sum()) + COINCIDENCE_PSEUDO)
                          / (other.sum() + COINCIDENCE_PSEUDO))
                model.u[k][lv - 1] = u_level / n_mean
            after_u = np.array([model.u[k][lv - 1] for k, lv in KEY_LEVELS])
            if U_FROM_CANDIDATES:
                sq = np.bincount(inv, weights=1.0 - p, minlength=len(codes))
                for k in U_FROM_CANDIDATES:
                    uq = np.bincount(of_code[k], weights=sq, minlength=N_LEVELS[k] + 1)[1:N_LEVELS[k]]
                    model.u[k] = (uq + U_PSEUDO_CANDIDATES * np.array(PRIOR[k][1])) / \
                        (uq.sum() + U_PSEUDO_CANDIDATES)
            # the expected number of true pairs among the candidates, as a share of the debtors (smoothed)
            twins = (p.sum() + 10 * TWIN_SHARE_PRIOR) / (n_debtors + 10)
            lam = float(np.clip(min(twins, 0.999) / max(n_customers, 1), 1e-12, 0.5))
            moved = max(float(np.abs(np.concatenate([model.m[k] for k in COMPARISONS]) - before).max()),
                        abs(lam - model.lam) / model.lam, float(np.abs(np.log(after_u / before_u)).max()) / 100)
            model.lam = lam
            if moved < 1e-5:
                break
        return model

    def _table_weights(self, of_code: dict[str, np.ndarray]) -> np.ndarray:
        """Σ log₂(m/u) of each level combination (``of_code``: the level of each comparison per combination),
        term frequencies left out."""
        total = np.zeros(len(of_code[COMPARISONS[0]]))
        for k in COMPARISONS:
            total += np.r_[0.0, np.log2(self.m[k] / self.u[k]), 0.0][of_code[k]]
        return total

    def _u_tf(self, counts: np.ndarray, prior_u: float) -> np.ndarray:
        return (np.maximum(counts, 1) + TF_POPULATION * prior_u) / (self.n_customers + TF_POPULATION)

    def _weights(self, pairs: PairScores, levels: dict[str, np.ndarray]) -> np.ndarray:
        total = np.zeros(len(pairs.d))
        for k in COMPARISONS:
            table = np.r_[0.0, np.log2(self.m[k] / self.u[k]), 0.0]     # the last: NEUTRAL, no weight
            lv = levels[k]
            part = table[lv]
            for (kk, level), col in TF_LEVELS.items():
                if kk == k:
                    at = lv == level
                    if not at.any():
                        continue
                    if (kk, level) in KEY_LEVELS:        # u(v) = u(a value held by one customer) × n_v
                        part[at] -= np.log2(np.maximum(getattr(pairs, col)[at], 1))
                    else:
                        u = self._u_tf(getattr(pairs, col)[at], _TF_PRIOR_U[(k, level)])
                        part[at] = np.log2(self.m[k][level - 1]) - np.log2(u)
            total += part
        return total

    def weigh(self, pairs: PairScores) -> PairScores:
        """Fill in ``weight`` (bits) and ``prob`` (the pair's posterior on its own) of ``pairs``; returns them."""
        levels = {k: getattr(pairs, k).astype(np.int64) for k in COMPARISONS}
        pairs.weight = self._weights(pairs, levels)
        pairs.prob = _logistic(pairs.weight + self.prior_bits)
        return pairs

    @property
    def twin_share(self) -> float:
        """ρ: the estimated share of debtors that have a TimeLog twin (λ × the number of customers)."""
        return min(self.lam * self.n_customers, 0.999)

    @property
    def prior_bits(self) -> float:
        """log₂ of the prior odds that a random (debtor, customer) pair is a true pair."""
        return math.log2(self.lam / (1 - self.lam))

    def describe(self) -> dict[str, object]:
        """The fitted parameters as plain numbers (for logs and docs): λ, and per level m, u and log₂(m/u) (for a
        term-frequency level u is that of a value held by one customer)."""
        out: dict[str, object] = {"lambda": self.lam, "prior_bits": round(self.prior_bits, 2),
                                  "twin_share": round(self.twin_share, 4)}
        for k in COMPARISONS:
            u = self.u[k].copy()
            for kk, level in TF_LEVELS:
                if kk == k and (kk, level) not in KEY_LEVELS:
                    u[level - 1] = float(self._u_tf(np.array([1]), _TF_PRIOR_U[(k, level)])[0])
            out[k] = [(round(float(a), 5), float(f"{b:.3g}"), round(math.log2(a / b), 2)) for a, b in zip(self.m[k], u)]
        return out


# prior share of a population holding one value of a term-frequency level (CVR: one company; a phone: a few; …)
_TF_PRIOR_U = {("tax", TAX_SAME): 1e-6, ("tax", TAX_SAME_INVALID): 1e-6, ("tax", TAX_NEAR): 1e-5,
               ("phone", EQ_SAME): 1e-6, ("domain", EQ_SAME): 1e-6,
               ("name", NAME_EXACT): 1e-5, ("zip", EQ_SAME): 1e-3}


def random_pairs(n_debtors: int, n_customers: int, size: int = U_SAMPLE, seed: int = 0) -> tuple[np.ndarray,
                                                                                                    np.ndarray]:
    """Random (debtor, customer) index pairs for estimating u: every pair when there are few, else ``size``
    drawn with a fixed seed (same input, same model)."""
    if n_debtors * n_customers <= size:
        d, c = np.divmod(np.arange(n_debtors * n_customers, dtype=np.int64), max(n_customers, 1))
        return d, c
    rng = np.random.default_rng(seed)
    return rng.integers(0, n_debtors, size, dtype=np.int64), rng.integers(0, n_customers, size, dtype=np.int64)


def debtor_posterior(d: np.ndarray, weight: np.ndarray, model: Model, n_debtors: int | None = None) -> np.ndarray:
    """The probability that each pair's customer is *the* debtor's company, given all of the debtor's compared
    candidates (``d``: the debtor of each pair, no pair twice) and that a debtor has at most one TimeLog twin: with
    λ the prior of a pair and ρ = λ·(number of customers) the share of debtors that have a twin at all,
    λ·2^w_k / ((1 − ρ) + Σ_j λ·2^w_j). A close runner-up lowers the best's probability, a lone strong candidate
    keeps it; customers sharing no key with the debtor are taken as no match (they are not compared)."""
    if not len(d):
        return np.zeros(0)
    a = np.exp2(np.clip(weight + np.log2(model.lam), -200, 200))
    total = np.bincount(d, weights=a, minlength=n_debtors or int(d.max()) + 1)
    return a / (max(1.0 - model.twin_share, 1e-3) + total[d])


def _logistic(bits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp2(-np.clip(bits, -60, 60)))


def fit_model(debtors: Columns, customers: Columns, index: Index, pairs: PairScores) -> Model:
    """The model of one match: u from random pairs of these debtors and customers, m and λ from ``pairs``."""
    sample = compare_pairs(debtors, customers, index, *random_pairs(debtors.n, customers.n), levels_only=True)
    return Model.fit(pairs, sample, debtors.n, customers.n)


def score_pairs(debtors: Columns, customers: Columns, index: Index, d: np.ndarray, c: np.ndarray, *,
                model: Model | None = None) -> tuple[PairScores, Model]:
    """Compare and weigh the pairs; the model is fitted on them unless given."""
    pairs = compare_pairs(debtors, customers, index, d, c)
    model = model or fit_model(debtors, customers, index, pairs)
    return model.weigh(pairs), model


# --- one pair -------------------------------------------------------------------------------------------------

def score_pair(d: Prepared, c: Prepared, index: Index, model: Model) -> Scored:
    """Score debtor ``d`` against customer ``c`` (one pair, e.g. to explain a suggestion) with ``model``: the
    same levels, weight and reasons as :func:`compare_pairs` + :meth:`Model.weigh`."""
    tax, tax_n = TAX_NONE, 0
    if d.vat and c.vat and d.vat == c.vat:
        tax, tax_n = TAX_SAME, index.count("vat", c.vat)
    elif d.cvr_raw and c.cvr_raw and d.cvr_raw == c.cvr_raw:
        tax, tax_n = TAX_SAME_INVALID, index.raw_count(c.cvr_raw)
    elif d.cvr_raw and c.cvr_raw and not (d.cvr and c.cvr) and Levenshtein.distance(d.cvr_raw, c.cvr_raw) == 1:
        tax, tax_n = TAX_NEAR, index.count("cvr7", c.cvr_raw[:7])
    elif d.vat and c.vat and d.cvr and c.cvr:
        tax = TAX_CONFLICT
    elif (d.vat or d.cvr_raw) and (c.vat or c.cvr_raw):
        tax = TAX_OTHER

    def eq(a: str, b: str) -> int:
        return EQ_NONE if not (a and b) else (EQ_SAME if a == b else EQ_DIFFERENT)

    phone, number, domain, zip_level = eq(d.phone, c.phone), eq(d.number, c.number), eq(d.domain, c.domain), \
        eq(d.zip, c.zip)
    sim = name_similarity(d.name, c.name) if d.core and c.core else 0.0
    name = _name_level(sim) if d.core and c.core else NAME_NONE
    if domain == EQ_SAME and name in (NAME_EXACT, NAME_92) and \
            c.domain.split(".", 1)[0].replace("-", "") in (d.core, c.core):
        domain = DOMAIN_NAMED
    form = FORM_NONE
    if sim >= 0.8 and d.form and c.form:
        form = FORM_SAME if d.form == c.form else FORM_CONFLICT
    def one(v: Any) -> Any:
        return np.array([v])

    pairs = PairScores(one(0), one(0), one(tax), one(phone), one(number), one(domain), one(name), one(form),
                       one(zip_level), one(sim), one(tax_n),
                       one(index.count("number", c.number) if number == EQ_SAME else 0),
                       one(index.count("phone", c.phone) if phone == EQ_SAME else 0),
                       one(index.count("domain", c.domain) if domain in (EQ_SAME, DOMAIN_NAMED) else 0),
                       one(index.count("core", c.core) if name == NAME_EXACT else 0),
                       one(index.zip_count(c.zip) if zip_level == EQ_SAME else 0), one(0.0), one(0.0))
    model.weigh(pairs)
    return Scored(c.key, int(_score(pairs.weight)[0]), round(sim, 4),
                  list(_reasons_at(pairs, 0, sim, (d.form, c.form) if form == FORM_CONFLICT else None)),
                  tax == TAX_SAME, number == EQ_SAME, round(float(pairs.prob[0]), 6))
