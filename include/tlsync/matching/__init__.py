"""Customer matching for the linking review (rules L1, L2): Uniconta debtors (left) ↔ TimeLog customers (right).

Public API::

    match_customers(debtors, customers, *, ignored=(), index=None) -> MatchResult   # one company vs all customers
    build_index(customers) -> Index                                   # normalise + index once, reuse per company
    MatchResult.one / .several / .none / .ignored / .links() / .counts()
    Suggestion(debtor_account, debtor, candidates=[Scored(customer_id, score, name_similarity, reasons)], view)
    normalize: norm_cvr, norm_vat, cvr_digits, norm_phone, norm_name, name_core, legal_form, email_domain,
               norm_number, norm_zip

Pure Python (rapidfuzz, python-stdnum, phonenumbers); no Airflow, no database: feed it the staged payloads.
"""

from __future__ import annotations

from .normalize import (
    cvr_digits,
    email_domain,
    legal_form,
    name_core,
    norm_cvr,
    norm_name,
    norm_number,
    norm_phone,
    norm_vat,
    norm_zip,
    parse_name,
)
from .scoring import Scored
from .views import VIEWS, MatchResult, Suggestion, build_index, match_customers

__all__ = ["VIEWS", "MatchResult", "Scored", "Suggestion", "build_index", "cvr_digits", "email_domain", "legal_form",
           "match_customers", "name_core", "norm_cvr", "norm_name", "norm_number", "norm_phone", "norm_vat", "norm_zip",
           "parse_name"]
