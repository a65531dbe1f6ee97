"""Pair scoring (rule L1): additive evidence in log-odds-like points, every point with a human-readable reason.

Why additive points with reasons instead of a trained model: the review screen (L2/L3) must say *why* a debtor is
suggested ("same CVR", "phone equal", "name 0.93"), the weights must be explainable to an accountant, and the
known traps must be vetoed explicitly rather than learned:

- two *valid* but different CVR numbers mean two companies (strong negative);
- two different *known* legal forms ("Hansen ApS" vs "Hansen A/S") mean two companies (strong negative);
- a phone shared by several TimeLog customers (a group's switchboard) counts for less than a direct line;
- an equal customer number alone is weak (number series of the two systems overlap by accident).

A pair is *confident* (may become a One suggestion) from :data:`CONFIDENT` points, a *candidate* (shown in
Several) from :data:`CANDIDATE` points; see :mod:`tlsync.matching.views` for how that turns into the four views.

Two implementations of the same rules: :func:`score_pairs` scores all candidate pairs of a company at once with
numpy and ``rapidfuzz.process.cpdist`` (the engine), :func:`score_pair` explains one pair (and is the tests'
reference for the engine). Both reduce a pair to the same evidence codes, and :func:`reasons` turns those codes
into the words shown to the user, so the two cannot disagree on wording.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from rapidfuzz.distance import Levenshtein
from rapidfuzz.fuzz import ratio, token_sort_ratio
from rapidfuzz.process import cpdist

from .blocking import Columns, Index, Prepared

__all__ = ["CANDIDATE", "CONFIDENT", "MARGIN", "PairScores", "Scored", "W", "score_pair", "score_pairs"]

# Weights (points). Tuned on the generator's M set (seed 42) and checked on other seeds and the S set.
W = {
    "cvr_equal": 12, "cvr_conflict": -12, "cvr_near": 4,
    "phone_equal": 6, "phone_shared": 3,
    "number_equal": 4,
    "domain_equal": 5,
    "zip_equal": 1, "zip_conflict": -4,
    "name_exact": 8, "name_high": 6, "name_good": 3, "name_low": -1,
    "form_conflict": -8,
}
CANDIDATE = 5      # shown as a suggestion at all
CONFIDENT = 10     # may be a One suggestion
MARGIN = 4         # … when the runner-up scores at least this much less


@dataclass(slots=True)
class Scored:
    """One suggested TimeLog customer for a debtor: its ``ID``, the points and the reasons behind them."""

    customer_id: object
    score: int
    name_similarity: float
    reasons: list[str] = field(default_factory=list)
    same_tax_no: bool = False
    same_number: bool = False

    @property
    def confident(self) -> bool:
        return self.score >= CONFIDENT


def name_similarity(a: str, b: str) -> float:
    """0..1 similarity of two normalised names: the better of plain and token-sorted Levenshtein ratio, and 1.0
    when they agree without spaces ("Nord Lys" = "Nordlys")."""
    if not a or not b:
        return 0.0
    if a.replace(" ", "") == b.replace(" ", ""):
        return 1.0
    return max(ratio(a, b), token_sort_ratio(a, b)) / 100.0


# Evidence codes of a pair: what each rule found. Points and reasons are functions of these codes alone.
TAX_NONE, TAX_SAME_CVR, TAX_SAME_VAT, TAX_CONFLICT, TAX_NEAR = range(5)
ZIP_NONE, ZIP_SAME, ZIP_DIFFERENT = range(3)


@lru_cache(maxsize=65536)
def reasons(tax: int, phone_n: int, number: bool, domain: bool, sim: float, form_pair: tuple[str, str] | None,
            zip_code: int) -> tuple[str, ...]:
    """The human-readable reasons for a pair's evidence codes, in a fixed order (tax number, phone, number,
    e-mail, name, legal form, zip). ``phone_n``: 0 = phones differ, n = equal and n TimeLog customers have it;
    ``form_pair``: (debtor form, customer form) when the legal forms of look-alike names differ."""
    out: list[str] = []
    if tax == TAX_SAME_CVR:
        out.append("same CVR")
    elif tax == TAX_SAME_VAT:
        out.append("same VAT number")
    elif tax == TAX_CONFLICT:
        out.append("different CVR")
    elif tax == TAX_NEAR:
        out.append("CVR differs by one digit (invalid check digit)")
    if phone_n > 1:
        out.append(f"phone equal (shared by {phone_n} TimeLog customers)")
    elif phone_n == 1:
        out.append("phone equal")
    if number:
        out.append("same customer number")
    if domain:
        out.append("same e-mail domain")
    if sim >= 1.0:
        out.append("same name")
    elif sim < 0.6:
        out.append(f"name differs ({sim:.2f})")
    else:
        out.append(f"name {sim:.2f}")
    if form_pair:
        out.append(f"legal form differs ({form_pair[0]} vs {form_pair[1]})")
    if zip_code == ZIP_SAME:
        out.append("same zip")
    elif zip_code == ZIP_DIFFERENT:
        out.append("different zip")
    return tuple(out)


def score_pair(d: Prepared, c: Prepared, index: Index) -> Scored:
    """Score debtor ``d`` against customer ``c`` (one pair, e.g. to explain a suggestion); the reasons list the
    evidence in a fixed order (tax number, phone, number, e-mail, name, zip). Same rules as :func:`score_pairs`."""
    pts = 0
    tax = TAX_NONE
    if d.vat and c.vat:
        if d.vat == c.vat:
            pts += W["cvr_equal"]
            tax = TAX_SAME_CVR if d.cvr else TAX_SAME_VAT
        elif d.cvr and c.cvr:
            pts += W["cvr_conflict"]
            tax = TAX_CONFLICT
    elif d.cvr_raw and c.cvr_raw and d.cvr_raw != c.cvr_raw and (not d.cvr or not c.cvr) \
            and Levenshtein.distance(d.cvr_raw, c.cvr_raw) == 1:
        pts += W["cvr_near"]
        tax = TAX_NEAR
    phone_n = 0
    if d.phone and d.phone == c.phone:
        phone_n = max(index.phone_count(c.phone), 1)
        pts += W["phone_shared"] if phone_n > 1 else W["phone_equal"]
    number = bool(d.number) and d.number == c.number
    pts += W["number_equal"] * number
    domain = bool(d.domain) and d.domain == c.domain
    pts += W["domain_equal"] * domain
    sim = name_similarity(d.name, c.name)
    pts += _name_points(sim)
    form_pair = None
    if sim >= 0.8 and d.form and c.form and d.form != c.form:   # look-alike names only: "Hansen ApS" ≠ "Hansen A/S"
        pts += W["form_conflict"]
        form_pair = (d.form, c.form)
    zip_code = ZIP_NONE
    if d.zip and c.zip:
        zip_code = ZIP_SAME if d.zip == c.zip else ZIP_DIFFERENT
        pts += W["zip_equal"] if zip_code == ZIP_SAME else W["zip_conflict"]
    return Scored(c.key, pts, round(sim, 4), list(reasons(tax, phone_n, number, domain, sim, form_pair, zip_code)),
                  tax in (TAX_SAME_CVR, TAX_SAME_VAT), number)


def _name_points(sim: float) -> int:
    if sim >= 1.0:
        return W["name_exact"]
    if sim >= 0.9:
        return W["name_high"]
    if sim >= 0.8:
        return W["name_good"]
    if sim < 0.6:
        return W["name_low"]
    return 0


@dataclass(slots=True)
class PairScores:
    """The evidence codes and points of many (debtor, customer) pairs, one array entry per pair."""

    d: np.ndarray
    c: np.ndarray
    points: np.ndarray
    tax: np.ndarray
    phone_n: np.ndarray
    number: np.ndarray
    domain: np.ndarray
    sim: np.ndarray
    form_conflict: np.ndarray
    zip_code: np.ndarray

    def take(self, sel: np.ndarray) -> PairScores:
        return PairScores(*(getattr(self, f)[sel] for f in _PAIR_FIELDS))

    @staticmethod
    def concat(parts: list[PairScores]) -> PairScores:
        return PairScores(*(np.concatenate([getattr(p, f) for p in parts]) for f in _PAIR_FIELDS))

    def scored(self, sel: np.ndarray, debtors: Columns, customers: Columns) -> list[Scored]:
        """The :class:`Scored` (with reasons) of the pairs at positions ``sel``. The reasons depend on a pair's
        evidence codes and name similarity only, so they are worded once per distinct combination (a few
        thousand at 100k × 100k) and shared; each :class:`Scored` gets its own list."""
        if not len(sel):
            return []
        p = self.take(sel)
        form_code = np.where(p.form_conflict, 1 + debtors.form_id[p.d] * 16 + customers.form_id[p.c], 0)
        code = p.tax + 5 * p.zip_code + 15 * p.number + 30 * p.domain + 60 * form_code + 60 * 512 * p.phone_n
        order = np.lexsort((p.sim, code))
        code_s, sim_s = code[order], p.sim[order]
        new = np.r_[True, (code_s[1:] != code_s[:-1]) | (sim_s[1:] != sim_s[:-1])]
        group = np.empty(len(order), dtype=np.int64)
        group[order] = np.cumsum(new) - 1
        texts, rounded = [], []
        dform, cform = debtors.form, customers.form
        for k in order[new].tolist():
            sim = float(p.sim[k])
            texts.append(reasons(int(p.tax[k]), int(p.phone_n[k]), bool(p.number[k]), bool(p.domain[k]), sim,
                                 (dform[p.d[k]], cform[p.c[k]]) if p.form_conflict[k] else None,
                                 int(p.zip_code[k])))
            rounded.append(round(sim, 4))
        text_a = np.empty(len(texts), dtype=object)
        text_a[:] = texts
        same_tax = (p.tax == TAX_SAME_CVR) | (p.tax == TAX_SAME_VAT)
        return [Scored(k, pts, r, list(t), st, nb) for k, pts, r, t, st, nb in zip(
            customers.key_a[p.c].tolist(), p.points.tolist(), np.array(rounded)[group].tolist(),
            text_a[group].tolist(), same_tax.tolist(), p.number.tolist())]


_PAIR_FIELDS = ("d", "c", "points", "tax", "phone_n", "number", "domain", "sim", "form_conflict", "zip_code")


def score_pairs(debtors: Columns, customers: Columns, index: Index, d: np.ndarray, c: np.ndarray, *,
                min_points: int | None = None) -> PairScores:
    """Score the pairs (``debtors`` row ``d[k]``, ``customers`` row ``c[k]``) all at once: the rules of
    :func:`score_pair` as array operations, the name similarity by ``cpdist`` over the pairs whose names differ.

    ``min_points``: the caller only wants pairs reaching that many points; the names of a pair that cannot reach
    it even with equal names (e.g. a different zip and nothing else) are then not compared — its ``sim`` is 0 and
    its points stay below ``min_points``. Comparing names is most of the cost of the fuzzy second pass."""
    D, C = debtors, customers
    codes = index.key_codes(D)

    def same_key(kind: str) -> np.ndarray:       # equal keys = equal codes in the index (integers, not strings)
        return codes[kind][d] == index.customer_codes(kind)[c]

    # tax numbers
    both = D.has_vat[d] & C.has_vat[c]
    same = both & same_key("vat")
    conflict = both & ~same & D.has_cvr[d] & C.has_cvr[c]
    maybe_near = np.flatnonzero(~both & D.has_cvr_raw[d] & C.has_cvr_raw[c] & ~(D.has_cvr[d] & C.has_cvr[c]))
    near = np.zeros(len(d), dtype=bool)
    if len(maybe_near):
        dr, cr = D.cvr_raw_a[d[maybe_near]], C.cvr_raw_a[c[maybe_near]]
        dist = cpdist(dr.tolist(), cr.tolist(), scorer=Levenshtein.distance, dtype=np.int32)
        near[maybe_near] = dist == 1
    tax = np.where(same, np.where(D.has_cvr[d], TAX_SAME_CVR, TAX_SAME_VAT),
                   np.where(conflict, TAX_CONFLICT, np.where(near, TAX_NEAR, TAX_NONE)))
    points = np.where(same, W["cvr_equal"], 0) + np.where(conflict, W["cvr_conflict"], 0) \
        + np.where(near, W["cvr_near"], 0)
    # phone, customer number, e-mail domain
    phone_eq = D.has_phone[d] & same_key("phone")
    phone_n = np.where(phone_eq, np.maximum(index.phone_n[c], 1), 0)
    points += np.where(phone_n > 1, W["phone_shared"], np.where(phone_n == 1, W["phone_equal"], 0))
    number = D.has_number[d] & same_key("number")
    domain = D.has_domain[d] & same_key("domain")
    points += number * W["number_equal"] + domain * W["domain_equal"]
    # name: equal cores are 1.0, empty names 0.0, the rest the better of two Levenshtein ratios
    named = D.has_core[d] & C.has_core[c]
    if min_points is not None:                   # the name adds at most name_exact; the rest can only subtract
        zips = D.has_zip[d] & C.has_zip[c]
        zip_pts = np.where(zips, np.where(D.zip_a[d] == C.zip_a[c], W["zip_equal"], W["zip_conflict"]), 0)
        named &= points + zip_pts + W["name_exact"] >= min_points
    exact = named & same_key("core")
    sim = exact.astype(np.float64)
    fuzzy = np.flatnonzero(named & ~exact)
    if len(fuzzy):
        a, b = D.name_a[d[fuzzy]].tolist(), C.name_a[c[fuzzy]].tolist()
        sim[fuzzy] = np.maximum(cpdist(a, b, scorer=ratio, dtype=np.float64),
                                cpdist(a, b, scorer=token_sort_ratio, dtype=np.float64)) / 100.0
    points += np.select([sim >= 1.0, sim >= 0.9, sim >= 0.8, sim < 0.6],
                        [W["name_exact"], W["name_high"], W["name_good"], W["name_low"]], 0)
    form_conflict = (sim >= 0.8) & D.has_form[d] & C.has_form[c] & (D.form_id[d] != C.form_id[c])
    points += form_conflict * W["form_conflict"]
    # zip
    zips = D.has_zip[d] & C.has_zip[c]
    zip_same = zips & (D.zip_a[d] == C.zip_a[c])
    zip_code = np.where(zip_same, ZIP_SAME, np.where(zips, ZIP_DIFFERENT, ZIP_NONE))
    points += np.where(zip_same, W["zip_equal"], np.where(zips, W["zip_conflict"], 0))
    return PairScores(d, c, points.astype(np.int64), tax, phone_n, number, domain, sim, form_conflict, zip_code)
