"""The levels of a (debtor, customer) pair and their words (rule L1): what :mod:`tlsync.matching.scoring` compares,
and how a reviewer reads it.

Every pair is reduced to one *level* per comparison (:data:`COMPARISONS`: tax number, phone, customer number,
e-mail domain, name, legal form, zip; level 0 = nothing to compare). :class:`PairScores` holds the levels of many
pairs as arrays (and, once :class:`tlsync.matching.scoring.Model` weighed them, their weights and probabilities);
:func:`reasons` words a pair's levels ("same CVR", "phone equal (shared by 3 TimeLog customers)", "name 0.93",
"same zip") once per distinct combination, so the array scorer and the one-pair explanation
(:func:`tlsync.matching.scoring.score_pair`) cannot disagree on wording. :class:`Scored` is what a suggestion shows.

Split from ``scoring.py`` (issue 15) to keep each module to one job: here the vocabulary, there the learning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from rapidfuzz.fuzz import ratio, token_sort_ratio

from .records import Columns

__all__ = ["COMPARISONS", "LOWEST_NAME_BOUND", "N_LEVELS", "PairScores", "Scored", "name_similarity", "reasons",
           "similarity_bound"]

# The comparisons and their levels (level 0 = nothing to compare, weight 0).
COMPARISONS = ("tax", "phone", "number", "domain", "name", "form", "zip")
TAX_NONE, TAX_SAME, TAX_SAME_INVALID, TAX_NEAR, TAX_CONFLICT, TAX_OTHER = range(6)
EQ_NONE, EQ_SAME, EQ_DIFFERENT = range(3)          # phone, number, domain, zip
DOMAIN_NAMED = 3         # the same e-mail domain, spelt like the (alike) names: no evidence beyond the name's
NAME_NONE, NAME_EXACT, NAME_92, NAME_85, NAME_70, NAME_LOW = range(6)
FORM_NONE, FORM_SAME, FORM_CONFLICT = range(3)
N_LEVELS = {"tax": 6, "phone": 3, "number": 3, "domain": 3, "name": 6, "form": 3, "zip": 3}
# Levels that carry no weight of their own (kept for the reasons): evidence that depends on another comparison.
# A company's e-mail domain is usually its name ("hansenbyg.dk"), so with alike names an equal domain adds nothing
# (Fellegi–Sunter assumes independent comparisons; counting both would count the name twice).
NEUTRAL = {"domain": DOMAIN_NAMED}
# The levels whose weight is adjusted by how common the shared value is (term frequency).
TF_LEVEL = {"tax": (TAX_SAME, TAX_SAME_INVALID), "phone": (EQ_SAME,), "domain": (EQ_SAME,), "name": (NAME_EXACT,),
            "zip": (EQ_SAME,)}


@dataclass(slots=True)
class Scored:
    """One suggested TimeLog customer for a debtor: its ``ID``, the score (match weight in bits, rounded), the
    probability that it is the debtor's company, and the reasons behind them."""

    customer_id: object
    score: int
    name_similarity: float
    reasons: list[str] = field(default_factory=list)
    same_tax_no: bool = False
    same_number: bool = False
    probability: float = 0.0


def name_similarity(a: str, b: str) -> float:
    """0..1 similarity of two normalised names: the better of plain and token-sorted Levenshtein ratio, and 1.0
    when they agree without spaces ("Nord Lys" = "Nordlys")."""
    if not a or not b:
        return 0.0
    if a.replace(" ", "") == b.replace(" ", ""):
        return 1.0
    return max(ratio(a, b), token_sort_ratio(a, b)) / 100.0


def _name_level(sim: float) -> int:
    if sim >= 1.0:
        return NAME_EXACT
    if sim >= 0.92:
        return NAME_92
    if sim >= 0.85:
        return NAME_85
    if sim >= 0.7:
        return NAME_70
    return NAME_LOW


def _rarity(n: int) -> str:
    return "" if n <= 1 else f" (shared by {n} TimeLog customers)"


@lru_cache(maxsize=65536)
def reasons(tax: int, phone: int, phone_n: int, number: int, domain: int, sim: float, name_n: int,
            form_pair: tuple[str, str] | None, zip_code: int, tax_n: int = 1) -> tuple[str, ...]:
    """The human-readable reasons for a pair's levels, in a fixed order (tax number, phone, number, e-mail, name,
    legal form, zip). ``*_n``: how many TimeLog customers hold the shared value (a rare value says more);
    ``form_pair``: (debtor form, customer form) when the legal forms of look-alike names differ."""
    out: list[str] = []
    if tax == TAX_SAME:
        out.append("same CVR" + _rarity(tax_n))
    elif tax == TAX_SAME_INVALID:
        out.append("same CVR in both, though not a valid CVR (modulus 11)" + _rarity(tax_n))
    elif tax == TAX_CONFLICT:
        out.append("different CVR")
    elif tax == TAX_NEAR:
        out.append("CVR differs by one digit (invalid check digit)")
    elif tax == TAX_OTHER:
        out.append("different tax number")
    if phone == EQ_SAME:
        out.append("phone equal" + _rarity(phone_n))
    if number == EQ_SAME:
        out.append("same customer number")
    if domain == EQ_SAME:
        out.append("same e-mail domain")
    elif domain == DOMAIN_NAMED:
        out.append("same e-mail domain (spelt like the name)")
    if sim >= 1.0:
        out.append("same name" + _rarity(name_n))
    elif sim < 0.6:
        out.append(f"name differs ({sim:.2f})")
    else:
        out.append(f"name {sim:.2f}")
    if form_pair:
        out.append(f"legal form differs ({form_pair[0]} vs {form_pair[1]})")
    if zip_code == EQ_SAME:
        out.append("same zip")
    elif zip_code == EQ_DIFFERENT:
        out.append("different zip")
    return tuple(out)


# --- the levels of many pairs ---------------------------------------------------------------------------------

@dataclass(slots=True)
class PairScores:
    """The levels, term frequencies and (once a :class:`Model` weighed them) weights of many (debtor, customer)
    pairs, one array entry per pair. ``freq_<comparison>``: the share of TimeLog customers holding the customer's
    value (for the term-frequency levels)."""

    d: np.ndarray
    c: np.ndarray
    tax: np.ndarray
    phone: np.ndarray
    number: np.ndarray
    domain: np.ndarray
    name: np.ndarray
    form: np.ndarray
    zip: np.ndarray
    sim: np.ndarray
    n_tax: np.ndarray
    n_number: np.ndarray
    n_phone: np.ndarray
    n_domain: np.ndarray
    n_name: np.ndarray
    n_zip: np.ndarray
    weight: np.ndarray
    prob: np.ndarray

    @property
    def veto(self) -> np.ndarray:
        """Pairs that may never be a One suggestion: two valid different CVRs, two known different legal forms."""
        return (self.tax == TAX_CONFLICT) | (self.form == FORM_CONFLICT)

    @property
    def same_tax(self) -> np.ndarray:
        return self.tax == TAX_SAME

    def take(self, sel: np.ndarray) -> PairScores:
        return PairScores(*(getattr(self, f)[sel] for f in _PAIR_FIELDS))

    @staticmethod
    def concat(parts: list[PairScores]) -> PairScores:
        return PairScores(*(np.concatenate([getattr(p, f) for p in parts]) for f in _PAIR_FIELDS))

    def scored(self, sel: np.ndarray, debtors: Columns, customers: Columns) -> list[Scored]:
        """The :class:`Scored` (with reasons) of the pairs at positions ``sel``. The reasons depend on a pair's
        levels, counts and name similarity only, so they are worded once per distinct combination and shared;
        each :class:`Scored` gets its own list."""
        if not len(sel):
            return []
        p = self.take(sel)
        form_id = np.where(p.form == FORM_CONFLICT, 1 + debtors.form_id[p.d] * 16 + customers.form_id[p.c], 0)
        cols: tuple[np.ndarray, ...] = (p.tax, p.phone, np.where(p.phone == EQ_SAME, p.n_phone, 0), p.number, p.domain,
                np.where(p.name == NAME_EXACT, p.n_name, 0), form_id, p.zip, np.where(p.tax > 0, p.n_tax, 0))
        cols = tuple(np.asarray(x) for x in cols) + (p.sim,)
        order = np.lexsort(cols)
        new = np.zeros(len(order), dtype=bool)
        new[0] = True
        for x in cols:
            xs = x[order]
            new[1:] |= xs[1:] != xs[:-1]
        group = np.empty(len(order), dtype=np.int64)
        group[order] = np.cumsum(new) - 1
        first = order[new]
        texts, rounded = [], []
        dform, cform = debtors.form, customers.form
        for k in first.tolist():
            sim = float(p.sim[k])
            texts.append(_reasons_at(p, k, sim, (dform[p.d[k]], cform[p.c[k]]) if p.form[k] == FORM_CONFLICT
                                     else None))
            rounded.append(round(sim, 4))
        text_a = np.empty(len(texts), dtype=object)
        text_a[:] = texts
        return list(map(Scored, customers.key_a[p.c].tolist(), _score(p.weight).tolist(),
                        np.array(rounded)[group].tolist(), map(list, text_a[group].tolist()), p.same_tax.tolist(),
                        (p.number == EQ_SAME).tolist(), np.round(p.prob, 6).tolist()))


def _reasons_at(p: PairScores, k: int, sim: float, form_pair: tuple[str, str] | None) -> tuple[str, ...]:
    return reasons(int(p.tax[k]), int(p.phone[k]), int(p.n_phone[k]), int(p.number[k]), int(p.domain[k]), sim,
                   int(p.n_name[k]), form_pair, int(p.zip[k]), int(p.n_tax[k]))


def _score(weight: np.ndarray) -> np.ndarray:
    """The displayed score: the match weight in bits, rounded half away from zero."""
    return (np.sign(weight) * np.floor(np.abs(weight) + 0.5)).astype(np.int64)


_PAIR_FIELDS = ("d", "c", "tax", "phone", "number", "domain", "name", "form", "zip", "sim", "n_tax", "n_number",
                "n_phone", "n_domain", "n_name", "n_zip", "weight", "prob")


def _eq_level(has_d: np.ndarray, has_c: np.ndarray, same: np.ndarray) -> np.ndarray:
    return np.where(has_d & has_c, np.where(same, EQ_SAME, EQ_DIFFERENT), EQ_NONE).astype(np.int8)


# the lowest similarity a level tells apart (NAME_70; the legal forms are compared from 0.8), less a margin for
# the float arithmetic of the bound and of rapidfuzz
LOWEST_NAME_BOUND = 0.7 - 1e-6
# the byte → letter class of the bound: one class each for a-z, 0-9 and the space (what normalised names hold),
# one for anything else (merging letters into a class only loosens the bound)
_LETTER_CLASS = np.full(256, 37, dtype=np.int32)
_LETTER_CLASS[np.frombuffer(b"abcdefghijklmnopqrstuvwxyz0123456789 ", dtype=np.uint8)] = np.arange(37)


def similarity_bound(a: list[str], b: list[str], chunk: int = 8192) -> np.ndarray:
    """An upper bound of ``max(ratio, token_sort_ratio) / 100`` of each pair ``(a[k], b[k])``, from the letters
    alone: both are 2·LCS / (len a + len b) (of the names, or of their tokens sorted, which hold the same letters
    when single-spaced, as normalised names are), and a common subsequence holds each letter at most as often as
    the name that has fewer of it. Letter counts per name by ``bincount``, ``chunk`` pairs at a time (all 50,000
    of the model's pairs at once cost more in page faults than the counting, and ~30 MB of temporary arrays)."""
    bound = np.ones(len(a), dtype=np.float64)     # (a chunk that is not plain ASCII lines keeps 1: compared)
    for first in range(0, len(a), chunk):
        n = min(chunk, len(a) - first)
        counts, lengths = [], []
        for names in (a[first:first + n], b[first:first + n]):
            blob = "\n".join(names)
            if not blob.isascii() or blob.count("\n") != n - 1:
                break
            raw = np.frombuffer(blob.encode("ascii"), dtype=np.uint8)
            breaks = raw == 10
            key = (np.cumsum(breaks, dtype=np.int32) * 38 + _LETTER_CLASS[raw])[~breaks]   # name × 38 + class
            counts.append(np.bincount(key, minlength=n * 38).reshape(n, 38))
            lengths.append(np.bincount(key // 38, minlength=n))
        else:
            total = lengths[0] + lengths[1]
            common = np.minimum(counts[0], counts[1]).sum(axis=1)
            np.divide(2.0 * common, total, out=bound[first:first + n], where=total > 0)
    return bound
