"""Blocking (rule L1 at scale): which TimeLog customers are compared with a Uniconta debtor at all.

Why: comparing every debtor with every customer is N×M (10¹⁰ pairs at 100k × 100k). Instead each side is reduced
to a :class:`Prepared` record of normalised keys once, the TimeLog side is indexed by those keys in plain dicts,
and a debtor meets only the customers that share at least one key:

- first pass, exact keys: valid CVR / VAT number, the first seven CVR digits (``cvr7``: a TimeLog CVR keyed with
  a wrong check digit still meets the right debtor), E.164 phone, customer number (``Account`` = ``No``), e-mail
  domain, the name core (normalised name without legal form and spaces);
- second pass, only for a debtor the first pass found no candidate for, fuzzy keys: every *rare* name token
  (document frequency ≤ ``max_token_df``; "byg", "consult" are too common to block on) and zip + the first four
  letters of the name core (a sorted-neighbourhood-like window that survives typos late in the name).

A key shared by more than ``max_block`` customers (a switchboard number used by a whole group, a hosting
provider's mail domain) is dropped from blocking: it would explode the pair count and carries little evidence.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from .normalize import (
    cvr_digits,
    cvr_valid,
    email_domain,
    norm_number,
    norm_phone,
    norm_vat,
    norm_zip,
    parse_name,
)

__all__ = ["Index", "Prepared", "prepare_customer", "prepare_debtor"]


class Prepared:
    """The normalised matching keys of one record (either side)."""

    __slots__ = ("core", "cvr", "cvr_raw", "domain", "form", "key", "name", "number", "phone", "rec", "vat", "zip")

    def __init__(self, key: Any, rec: Mapping[str, Any], cvr_values: tuple[Any, ...], phone: Any, number: Any,
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
        self.name, self.form = parse_name(name)
        self.core = self.name.replace(" ", "")
        self.domain = email_domain(email)
        self.zip = norm_zip(zipcode)

    @property
    def tokens(self) -> tuple[str, ...]:
        """Name tokens of 3+ letters, unique, in order (only the fuzzy second pass of blocking needs them)."""
        return tuple(dict.fromkeys(t for t in self.name.split() if len(t) >= 3))


def prepare_debtor(rec: Mapping[str, Any]) -> Prepared:
    """A Uniconta ``DebtorClient`` row (``Account, Name, CompanyRegNo, VatNumber, Phone, ZipCode, ContactEmail``)."""
    get = rec.get
    account = get("Account")
    return Prepared(account, rec, (get("CompanyRegNo"), get("VatNumber")), get("Phone"), account, get("Name"),
                    get("ContactEmail") or get("InvoiceEmail"), get("ZipCode"))


def prepare_customer(rec: Mapping[str, Any]) -> Prepared:
    """A TimeLog ``Customer`` row (``ID, No, Name, VATNo, Phone, ZipCode, Email``)."""
    get = rec.get
    return Prepared(get("ID"), rec, (get("VATNo"),), get("Phone"), get("No"), get("Name"), get("Email"),
                    get("ZipCode"))


_FIELDS = ("vat", "cvr7", "phone", "number", "domain", "core")


def _values(p: Prepared) -> tuple[str, ...]:
    # The exact blocking keys in _FIELDS order. cvr7 = the first seven CVR digits: a keying error in the check digit
    # keeps them (the generator's and life's usual case), so a broken TimeLog CVR still meets the right debtor.
    return (p.vat, p.cvr_raw[:7], p.phone, p.number, p.domain, p.core)


def _zp(p: Prepared) -> str:
    return p.zip + ":" + p.core[:4] if p.zip and len(p.core) >= 4 else ""


class Index:
    """The TimeLog side, indexed by blocking key. ``phone_count`` tells how many customers share a phone number
    (a switchboard shared by a group is weaker evidence than a direct line: see scoring)."""

    def __init__(self, customers: Iterable[Prepared], *, max_block: int = 25, max_token_df: int = 25) -> None:
        self.customers: list[Prepared] = list(customers)
        # one plain dict per key kind (no tuple keys to allocate and hash: this runs 6 × 100k times)
        blocks: list[dict[str, list[int]]] = [{} for _ in _FIELDS]
        tokens: dict[str, list[int]] = defaultdict(list)
        for i, c in enumerate(self.customers):
            for dct, v in zip(blocks, _values(c)):
                if v:
                    lst = dct.get(v)
                    if lst is None:
                        dct[v] = [i]
                    else:
                        lst.append(i)
            for t in c.tokens:
                tokens[t].append(i)
            zp = _zp(c)
            if zp:
                tokens[zp].append(i)
        self.phone_count = {k: len(v) for k, v in blocks[_FIELDS.index("phone")].items()}
        self.blocks = [{k: v for k, v in dct.items() if len(v) <= max_block} for dct in blocks]
        self.tokens = {t: v for t, v in tokens.items() if len(v) <= max_token_df}

    def candidates(self, d: Prepared) -> list[int]:
        """Indices of the customers sharing an exact key (CVR, phone, number, e-mail domain, name) with debtor
        ``d`` (sorted, unique)."""
        found: set[int] = set()
        for dct, v in zip(self.blocks, _values(d)):
            if v:
                b = dct.get(v)
                if b:
                    found.update(b)
        return sorted(found)

    def fuzzy_candidates(self, d: Prepared, exclude: list[int]) -> list[int]:
        """The second pass, for a debtor whose exact keys found no candidate: customers sharing a rare name
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
