"""Blocking (rule L1 at scale): which TimeLog customers are compared with a Uniconta debtor at all.

Why: comparing every debtor with every customer is N×M (10¹⁰ pairs at 100k × 100k). Instead each side is reduced
to a :class:`Prepared` record of normalised keys once, the TimeLog side is indexed by those keys in plain dicts,
and a debtor meets only the customers that share at least one key:

- first pass, exact keys: valid CVR / VAT number, CVR digits (catches a TimeLog CVR keyed with a wrong check digit only when
  the other digits agree — see ``cvr7``), E.164 phone, customer number (``Account`` = ``No``), e-mail domain,
  the name core (normalised name without legal form and spaces);
- second pass (only for a debtor the first pass found no confident customer for), fuzzy keys: every *rare* name
  token (document frequency ≤ ``max_token_df``; "byg", "consult" are too common to
  block on) and zip + the first four letters of the name core (a sorted-neighbourhood-like window that survives
  typos late in the name).

A key shared by more than ``max_block`` customers (a switchboard number used by a whole group, a hosting
provider's mail domain) is dropped from blocking: it would explode the pair count and carries little evidence.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from .normalize import (cvr_digits, cvr_valid, email_domain, legal_form, norm_name, norm_number, norm_phone, norm_vat,
                        norm_zip)

__all__ = ["Prepared", "prepare_debtor", "prepare_customer", "Index"]


class Prepared:
    """The normalised matching keys of one record (either side)."""

    __slots__ = ("key", "rec", "cvr", "cvr_raw", "vat", "phone", "number", "name", "core", "form", "tokens",
                 "domain", "zip")

    def __init__(self, key: Any, rec: Mapping[str, Any], *, cvr_values: Iterable[Any], phone: Any, number: Any,
                 name: Any, email: Any, zipcode: Any) -> None:
        self.key = key
        self.rec = rec
        cvr = vat = raw = ""
        for v in cvr_values:
            if not v:
                continue
            digits = cvr_digits(v)
            if digits:                      # Danish: a valid CVR is the key, an invalid one only a near-miss hint
                raw = raw or digits
                if not cvr and cvr_valid(digits):
                    cvr = digits
                    vat = vat or "DK" + digits
            elif not vat:
                vat = norm_vat(v)
        self.cvr, self.vat, self.cvr_raw = cvr, vat, raw
        self.phone = norm_phone(phone)
        self.number = norm_number(number)
        self.name = norm_name(name)
        self.core = self.name.replace(" ", "")
        self.form = legal_form(name)
        self.tokens = tuple(dict.fromkeys(t for t in self.name.split() if len(t) >= 3))
        self.domain = email_domain(email)
        self.zip = norm_zip(zipcode)


def prepare_debtor(rec: Mapping[str, Any]) -> Prepared:
    """A Uniconta ``DebtorClient`` row (``Account, Name, CompanyRegNo, VatNumber, Phone, ZipCode, ContactEmail``)."""
    return Prepared(rec.get("Account"), rec, cvr_values=(rec.get("CompanyRegNo"), rec.get("VatNumber")),
                    phone=rec.get("Phone"), number=rec.get("Account"), name=rec.get("Name"),
                    email=rec.get("ContactEmail") or rec.get("InvoiceEmail"), zipcode=rec.get("ZipCode"))


def prepare_customer(rec: Mapping[str, Any]) -> Prepared:
    """A TimeLog ``Customer`` row (``ID, No, Name, VATNo, Phone, ZipCode, Email``)."""
    return Prepared(rec.get("ID"), rec, cvr_values=(rec.get("VATNo"),), phone=rec.get("Phone"),
                    number=rec.get("No"), name=rec.get("Name"), email=rec.get("Email"), zipcode=rec.get("ZipCode"))


def _cvr7(p: Prepared) -> tuple[str, ...]:
    # The first seven digits: a keying error in the check digit keeps them (the generator's and life's usual case).
    return (p.cvr_raw[:7],) if p.cvr_raw else ()


def _keys(p: Prepared) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if p.vat:
        out.append(("vat", p.vat))
    for c in _cvr7(p):
        out.append(("cvr7", c))
    if p.phone:
        out.append(("phone", p.phone))
    if p.number:
        out.append(("no", p.number))
    if p.domain:
        out.append(("dom", p.domain))
    if p.core:
        out.append(("core", p.core))
    return out


def _zp(p: Prepared) -> str:
    return p.zip + ":" + p.core[:4] if p.zip and len(p.core) >= 4 else ""


class Index:
    """The TimeLog side, indexed by blocking key. ``phone_count`` tells how many customers share a phone number
    (a switchboard shared by a group is weaker evidence than a direct line: see scoring)."""

    def __init__(self, customers: Iterable[Prepared], *, max_block: int = 25, max_token_df: int = 25) -> None:
        self.customers: list[Prepared] = list(customers)
        blocks: dict[tuple[str, str], list[int]] = defaultdict(list)
        tokens: dict[str, list[int]] = defaultdict(list)
        for i, c in enumerate(self.customers):
            for k in _keys(c):
                blocks[k].append(i)
            for t in c.tokens:
                tokens[t].append(i)
            zp = _zp(c)
            if zp:
                tokens[zp].append(i)
        self.phone_count = {k[1]: len(v) for k, v in blocks.items() if k[0] == "phone"}
        self.number_count = {k[1]: len(v) for k, v in blocks.items() if k[0] == "no"}
        self.blocks = {k: v for k, v in blocks.items() if len(v) <= max_block}
        self.tokens = {t: v for t, v in tokens.items() if len(v) <= max_token_df}

    def candidates(self, d: Prepared) -> list[int]:
        """Indices of the customers sharing an exact key (CVR, phone, number, e-mail domain, name) with debtor
        ``d`` (sorted, unique)."""
        found: set[int] = set()
        get = self.blocks.get
        for k in _keys(d):
            b = get(k)
            if b:
                found.update(b)
        return sorted(found)

    def fuzzy_candidates(self, d: Prepared, exclude: list[int]) -> list[int]:
        """The second pass, for a debtor whose exact keys found nobody confident: customers sharing a rare name
        token or zip + name prefix (a typo in the name, no shared number). Kept out of the first pass because at
        100k × 100k these blocks hold most of the pairs and rarely change the outcome."""
        found: set[int] = set()
        tget = self.tokens.get
        for t in (*d.tokens, _zp(d)):
            b = tget(t) if t else None
            if b:
                found.update(b)
        found.difference_update(exclude)
        return sorted(found)
