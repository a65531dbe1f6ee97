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
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rapidfuzz.distance import Levenshtein
from rapidfuzz.fuzz import ratio, token_sort_ratio

from .blocking import Index, Prepared

__all__ = ["CANDIDATE", "CONFIDENT", "MARGIN", "Scored", "W", "score_pair"]

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


def score_pair(d: Prepared, c: Prepared, index: Index) -> Scored:
    """Score debtor ``d`` against customer ``c``; the reasons list the evidence in a fixed order (tax number, phone, number, e-mail, name, zip)."""
    pts = 0
    reasons: list[str] = []
    # tax numbers
    if d.vat and c.vat:
        if d.vat == c.vat:
            pts += W["cvr_equal"]
            reasons.append("same CVR" if d.cvr else "same VAT number")
        elif d.cvr and c.cvr:
            pts += W["cvr_conflict"]
            reasons.append("different CVR")
    elif d.cvr_raw and c.cvr_raw and d.cvr_raw != c.cvr_raw and (not d.cvr or not c.cvr) \
            and Levenshtein.distance(d.cvr_raw, c.cvr_raw) == 1:
        pts += W["cvr_near"]
        reasons.append("CVR differs by one digit (invalid check digit)")
    # phone
    if d.phone and d.phone == c.phone:
        shared = index.phone_count.get(c.phone, 1)
        if shared > 1:
            pts += W["phone_shared"]
            reasons.append(f"phone equal (shared by {shared} TimeLog customers)")
        else:
            pts += W["phone_equal"]
            reasons.append("phone equal")
    # customer number
    if d.number and d.number == c.number:
        pts += W["number_equal"]
        reasons.append("same customer number")
    # e-mail domain
    if d.domain and d.domain == c.domain:
        pts += W["domain_equal"]
        reasons.append("same e-mail domain")
    # name
    sim = name_similarity(d.name, c.name)
    if sim >= 1.0:
        pts += W["name_exact"]
        reasons.append("same name")
    elif sim >= 0.9:
        pts += W["name_high"]
        reasons.append(f"name {sim:.2f}")
    elif sim >= 0.8:
        pts += W["name_good"]
        reasons.append(f"name {sim:.2f}")
    elif sim < 0.6:
        pts += W["name_low"]
        reasons.append(f"name differs ({sim:.2f})")
    else:
        reasons.append(f"name {sim:.2f}")
    if sim >= 0.8 and d.form and c.form and d.form != c.form:   # look-alike names only: "Hansen ApS" ≠ "Hansen A/S"
        pts += W["form_conflict"]
        reasons.append(f"legal form differs ({d.form} vs {c.form})")
    # zip
    if d.zip and c.zip:
        if d.zip == c.zip:
            pts += W["zip_equal"]
            reasons.append("same zip")
        else:
            pts += W["zip_conflict"]
            reasons.append("different zip")
    return Scored(c.key, pts, round(sim, 4), reasons, bool(d.vat) and d.vat == c.vat,
                  bool(d.number) and d.number == c.number)
