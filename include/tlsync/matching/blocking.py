"""Blocking (rule L1 at scale): which TimeLog customers are compared with a Uniconta debtor at all.

Why: comparing every debtor with every customer is N×M (10¹⁰ pairs at 100k × 100k). Instead each side is reduced
once to :class:`Columns` (one list per normalised key, row *i* = record *i*), the TimeLog side is grouped by those
keys (:class:`Index`), and a debtor meets only the customers that share at least one key:

- first pass, exact keys: valid CVR / VAT number, the first seven CVR digits (``cvr7``: a TimeLog CVR keyed with
  a wrong check digit still meets the right debtor), E.164 phone, customer number (``Account`` = ``No``), e-mail
  domain, the name core (normalised name without legal form and spaces);
- second pass, only for a debtor the first pass found no candidate for, fuzzy keys: every *rare* name token
  (document frequency ≤ ``max_token_df``; "byg", "consult" are too common to block on) and zip + the first four
  letters of the name core (a sorted-neighbourhood-like window that survives typos late in the name).

A key shared by more than ``max_block`` customers (a switchboard number used by a whole group, a hosting
provider's mail domain) is dropped from blocking: it would explode the pair count and carries little evidence.

The joins are array joins (numpy): every key kind is a :class:`_Blocks` (key → code, customers sorted by code), and
the pairs of a whole company come out of one ``repeat``/``arange`` per key kind instead of a dict lookup and a set
update per debtor. :class:`Prepared` is the same normalisation for one record, for explaining a single pair
(:func:`tlsync.matching.scoring.score_pair`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from itertools import count, repeat
from operator import itemgetter
from typing import Any

import numpy as np

from .columns import cvr_digits_many, cvr_valid_many, email_domains, norm_numbers, norm_phones, norm_zips, parse_names
from .normalize import (
    LEGAL_FORMS,
    cvr_digits,
    cvr_valid,
    email_domain,
    norm_number,
    norm_phone,
    norm_vat,
    norm_zip,
    parse_name,
)

__all__ = ["CUSTOMER_FIELDS", "Columns", "DEBTOR_FIELDS", "Index", "Prepared", "customer_columns", "debtor_columns",
           "prepare_customer", "prepare_debtor"]

# The fields of a record the matcher reads (a staged payload holds ~35; a caller may keep only these)
DEBTOR_FIELDS = ("Account", "Name", "CompanyRegNo", "VatNumber", "Phone", "ZipCode", "ContactEmail", "InvoiceEmail")
CUSTOMER_FIELDS = ("ID", "No", "Name", "VATNo", "Phone", "ZipCode", "Email")


# --- one record ----------------------------------------------------------------------------------------------

def _tax_keys(values: Sequence[Any]) -> tuple[str, str, str]:
    # (valid CVR, VAT key, raw CVR digits) from a record's tax-number fields, first usable value wins. Danish: a
    # valid CVR is the key, an invalid one only a near-miss hint (raw digits); foreign: the VAT number is the key.
    cvr = vat = raw = ""
    for v in values:
        if not v:
            continue
        digits = cvr_digits(v)
        if digits:
            raw = raw or digits
            if not cvr and cvr_valid(digits):
                cvr = digits
                vat = vat or "DK" + digits
        elif not vat:
            vat = norm_vat(v)
    return cvr, vat, raw


class Prepared:
    """The normalised matching keys of one record (either side)."""

    __slots__ = ("core", "cvr", "cvr_raw", "domain", "form", "key", "name", "number", "phone", "rec", "vat", "zip")

    def __init__(self, key: Any, rec: Mapping[str, Any], cvr_values: tuple[Any, ...], phone: Any, number: Any,
                 name: Any, email: Any, zipcode: Any) -> None:
        self.key = key
        self.rec = rec
        self.cvr, self.vat, self.cvr_raw = _tax_keys(cvr_values)
        self.phone = norm_phone(phone)
        self.number = norm_number(number)
        self.name, self.form = parse_name(name)
        self.core = self.name.replace(" ", "")
        self.domain = email_domain(email)
        self.zip = norm_zip(zipcode)

    @property
    def tokens(self) -> tuple[str, ...]:
        """Name tokens of 3+ letters, unique, in order (only the fuzzy second pass of blocking needs them)."""
        return _tokens(self.name)


def _tokens(name: str) -> tuple[str, ...]:
    return tuple(t for t in dict.fromkeys(name.split()) if len(t) >= 3)


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


# --- many records --------------------------------------------------------------------------------------------

_FORM_ID = {"": 0, **{form: i + 1 for i, form in enumerate(LEGAL_FORMS)}}


def _obj(values: list) -> np.ndarray:
    a = np.empty(len(values), dtype=object)
    a[:] = values
    return a


# The normalised keys of a record, one list per key (Columns: also as arrays) ...
_KEYS = ("cvr", "vat", "cvr_raw", "phone", "number", "name", "form", "core", "domain", "zip")
# ... with an array of each and, for these, the mask of the non-empty values
_HAS = ("cvr", "vat", "cvr_raw", "phone", "number", "core", "domain", "zip", "form")


class Columns:
    """The normalised matching keys of many records of one side, column-wise: the same values
    :class:`Prepared` holds, ``cols.name[i]`` being ``Prepared(records[i]).name``. Each key is a list (``name``)
    and a numpy object array (``name_a``) with its non-empty mask (``has_name``) for the vectorised scorer.

    Built from the normalised values of :func:`_debtor_values` / :func:`_customer_values` (``key``: the record's
    key, ``accounts``: the debtors' review accounts, and :data:`_KEYS`). Pickled, a :class:`Columns` is those lists
    only (not the records, nor the arrays, which are rebuilt): how a forked child returns the columns of its rows
    (:mod:`.parallel`); :meth:`joined` puts the parts of consecutive rows together again."""

    # the lists (row i = record i) and their arrays, set from the values (_set)
    key: list[Any]
    accounts: list[str]
    cvr: list[str]
    vat: list[str]
    cvr_raw: list[str]
    phone: list[str]
    number: list[str]
    name: list[str]
    form: list[str]
    core: list[str]
    domain: list[str]
    zip: list[str]
    key_a: np.ndarray
    cvr_a: np.ndarray
    vat_a: np.ndarray
    cvr_raw_a: np.ndarray
    phone_a: np.ndarray
    number_a: np.ndarray
    name_a: np.ndarray
    form_a: np.ndarray
    core_a: np.ndarray
    domain_a: np.ndarray
    zip_a: np.ndarray
    has_cvr: np.ndarray
    has_vat: np.ndarray
    has_cvr_raw: np.ndarray
    has_phone: np.ndarray
    has_number: np.ndarray
    has_core: np.ndarray
    has_domain: np.ndarray
    has_zip: np.ndarray
    has_form: np.ndarray
    form_id: np.ndarray

    def __init__(self, recs: list[Mapping[str, Any]], values: dict[str, list[Any]]) -> None:
        self.recs = recs
        self.codes: dict[str, np.ndarray] = {}        # Index.key_codes, for the index ``codes_of``
        self.codes_of: object = None
        self._set(values)

    def _set(self, values: dict[str, list[Any]]) -> None:
        self.n = len(values["key"])
        self.key = values["key"]
        self.accounts = values.get("accounts") or []     # debtors only: the review's account strings
        for col in _KEYS:
            setattr(self, col, values[col])
        self._arrays()

    def _arrays(self) -> None:
        for col in _KEYS:
            setattr(self, col + "_a", _obj(getattr(self, col)))
        for col in _HAS:
            setattr(self, "has_" + col, getattr(self, col + "_a") != "")
        self.key_a = _obj(self.key)
        self.form_id = np.fromiter(map(_FORM_ID.__getitem__, self.form), dtype=np.int64, count=self.n)

    def __getstate__(self) -> dict[str, Any]:
        return {"values": {col: _pack(getattr(self, col)) for col in ("key", "accounts", *_KEYS)},
                "n": self.n, "codes": self.codes}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.recs, self.codes, self.codes_of = [], state["codes"], None
        self._set({col: _unpack(v, state["n"]) for col, v in state["values"].items()})

    @classmethod
    def joined(cls, recs: list[Mapping[str, Any]], parts: list[Columns]) -> Columns:
        """The columns of ``recs`` from the parts of its consecutive rows (in order); the key codes are kept when
        every part has them (for the same index)."""
        if len(parts) == 1:
            whole = parts[0]
        else:
            whole = cls.__new__(cls)
            whole.n = sum(p.n for p in parts)
            for col in ("key", "accounts", *_KEYS):
                setattr(whole, col, [v for p in parts for v in getattr(p, col)])
            for col in (*(c + "_a" for c in _KEYS), *("has_" + c for c in _HAS), "key_a", "form_id"):
                setattr(whole, col, np.concatenate([getattr(p, col) for p in parts]))
            whole.codes = ({kind: np.concatenate([p.codes[kind] for p in parts]) for kind in parts[0].codes}
                           if all(p.codes for p in parts) else {})
            whole.codes_of = None
        whole.recs = recs
        return whole

    def zp(self) -> list[str]:
        """The zip + name-prefix key of every record (``""`` without a zip or a 4-letter name core)."""
        return [z + ":" + c[:4] if z and len(c) >= 4 else "" for z, c in zip(self.zip, self.core)]


def _pack(values: list[Any]) -> str | list[Any]:
    """A column to pickle: a list of strings as one string, one value per line (pickle writes and reads each
    string of a list separately, and remembers each one: 5× slower at 10⁵ values than one ``join`` and one
    ``split``); anything else (numbers, ``None``, a line break in a value) as the list."""
    try:
        blob = "\n".join(values)
    except TypeError:
        return values
    return blob if blob.count("\n") == len(values) - 1 else values


def _unpack(packed: str | list[Any], n: int) -> list[Any]:
    if isinstance(packed, list):
        return packed
    return packed.split("\n") if n else []


def _normalised(tax_columns: list[Sequence[Any]], phones: Sequence[Any], numbers: Sequence[Any],
                names: Sequence[Any], emails: Sequence[Any], zips: Sequence[Any]) -> dict[str, list[Any]]:
    """The :data:`_KEYS` of records from their raw fields, one batch normaliser per column."""
    n = len(phones)
    cvr, vat, raw = _tax_columns(tax_columns, n)
    name, form = parse_names(names)
    return {"cvr": cvr.tolist(), "vat": vat.tolist(), "cvr_raw": raw.tolist(), "phone": norm_phones(phones),
            "number": norm_numbers(numbers), "name": name, "form": form,
            "core": "\n".join(name).replace(" ", "").split("\n") if n else [],
            "domain": email_domains(emails), "zip": norm_zips(zips)}


def _tax_columns(columns: list[Sequence[Any]], n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_tax_keys` for every row of one or more tax-number columns (first usable column wins), as the
    arrays (valid CVR, VAT key, raw CVR digits)."""
    cvr, vat, raw = _obj([""] * n), _obj([""] * n), _obj([""] * n)
    for col in columns:
        digits = cvr_digits_many(col)
        d = _obj(digits)
        has_d = d != ""
        valid = np.array(cvr_valid_many(digits), dtype=bool)
        take = has_d & (raw == "")
        raw[take] = d[take]
        new_cvr = valid & (cvr == "")
        new_vat = new_cvr & (vat == "")
        vat[new_vat] = "DK" + d[new_vat]
        cvr[new_cvr] = d[new_cvr]
        for i in np.flatnonzero(~has_d & (vat == "")).tolist():
            if col[i]:
                vat[i] = norm_vat(col[i])              # foreign (or junk): rare, one at a time
    return cvr, vat, raw


def _fields(recs: Sequence[Mapping[str, Any]], names: tuple[str, ...]) -> tuple[list[Sequence[Any]], bool]:
    """The columns ``names`` (two or more) of ``recs`` (``None`` where a record lacks a field) and whether every
    record had every field: one C-level ``itemgetter`` tuple per record, transposed with ``zip(*…)``, when so (the
    staged payloads), ``get`` per field otherwise. (Reading each record once is 2× faster at 100k than one
    ``map(itemgetter(field), recs)`` pass per field, which reads every record's dict again for each field and
    misses the CPU caches; with the cyclic GC off, as the matcher runs, the 10⁵ tuples cost nothing more.)"""
    if not recs:
        return [() for _ in names], True
    try:
        return list(zip(*map(itemgetter(*names), recs))), True
    except (KeyError, TypeError):
        return [[r.get(f) for r in recs] for f in names], False


def _debtor_values(recs: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """The normalised keys of Uniconta ``DebtorClient`` rows (the fields of :func:`prepare_debtor`), ``key`` the
    ``Account`` and ``accounts`` the review's account strings."""
    (account, name, regno, vat, phone, zipcode, email), complete = _fields(
        recs, DEBTOR_FIELDS[:7])                      # InvoiceEmail: only where ContactEmail is empty
    if not all(email):                               # no contact e-mail: the invoice e-mail
        email = list(email)
        for i in np.flatnonzero(~_obj(email).astype(bool)).tolist():
            email[i] = recs[i].get("InvoiceEmail")
    values = _normalised([regno, vat], phone, account, name, email, zipcode)
    values["key"] = list(account)
    # the review's debtor account: str(rec.get("Account", "")), "" for a record without one
    values["accounts"] = list(map(str, account)) if complete else [str(r.get("Account", "")) for r in recs]
    return values


def _customer_values(recs: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """The normalised keys of TimeLog ``Customer`` rows (the fields of :func:`prepare_customer`), ``key`` the
    ``ID``."""
    (id_, no, name, vat, phone, zipcode, email), _ = _fields(recs, CUSTOMER_FIELDS)
    values = _normalised([vat], phone, no, name, email, zipcode)
    values["key"] = list(id_)
    return values


def debtor_columns(recs: Iterable[Mapping[str, Any]]) -> Columns:
    """Uniconta ``DebtorClient`` rows as :class:`Columns` (the fields of :func:`prepare_debtor`)."""
    rows = recs if isinstance(recs, list) else list(recs)
    return Columns(rows, _debtor_values(rows))


def customer_columns(recs: Iterable[Mapping[str, Any]]) -> Columns:
    """TimeLog ``Customer`` rows as :class:`Columns` (the fields of :func:`prepare_customer`)."""
    rows = recs if isinstance(recs, list) else list(recs)
    return Columns(rows, _customer_values(rows))


_EMPTY = np.zeros(0, dtype=np.int64)


class _Blocks:
    """The customers grouped by one kind of key: key → code, the customers of each code contiguous in
    ``members``; ``size`` counts the customers of a code, ``usable`` is 0 for a code over the block limit and for
    the empty key. ``owners[k]`` is the customer of ``keys[k]`` (default: ``k``; a customer may have several
    keys of a kind, e.g. name tokens)."""

    def __init__(self, keys: list[str], owners: np.ndarray | None, max_size: int) -> None:
        # One C-level pass (map over setdefault), no Python-level loop per key: a key's code is the position of
        # its first occurrence, so codes are sparse in [0, len(keys)), which is fine (only equality and the
        # grouping matter; every pair list is sorted before use).
        self.code: dict[str, int] = {}
        codes = np.fromiter(map(self.code.setdefault, keys, count()), dtype=np.int64, count=len(keys))
        if owners is None:
            owner = np.arange(len(keys), dtype=np.int64)
        else:                                        # one entry per (key, customer)
            n_own = int(owners.max()) + 1 if len(owners) else 1
            pair = _sorted_unique(codes * n_own + owners)
            codes, owner = pair // n_own, pair % n_own
        self.record_code = codes
        self.size = np.bincount(codes, minlength=len(keys))
        self.usable = np.where(self.size <= max_size, self.size, 0)
        if "" in self.code:
            self.usable[self.code[""]] = 0
        self.start = np.cumsum(self.size) - self.size
        self.members = owner[np.argsort(codes, kind="stable")]

    def lookup(self, keys: Iterable[str]) -> np.ndarray:
        """The code of each key, -1 when no customer has it."""
        keys = keys if isinstance(keys, list) else list(keys)
        return np.fromiter(map(self.code.get, keys, repeat(-1)), dtype=np.int64, count=len(keys))

    def join(self, codes: np.ndarray, owners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(owner, customer) index pairs for records with the given key codes (-1 = no key)."""
        m = codes >= 0
        codes, owners = codes[m], owners[m]
        cnt = self.usable[codes]
        m = cnt > 0
        codes, owners, cnt = codes[m], owners[m], cnt[m]
        total = int(cnt.sum())
        if not total:
            return _EMPTY, _EMPTY
        pos = np.repeat(self.start[codes] - (np.cumsum(cnt) - cnt), cnt) + np.arange(total, dtype=np.int64)
        return np.repeat(owners, cnt), self.members[pos]


def _unique_pairs(parts: list[tuple[np.ndarray, np.ndarray]], n_right: int) -> tuple[np.ndarray, np.ndarray]:
    if not parts:
        return _EMPTY, _EMPTY
    combined = _sorted_unique(np.concatenate([d * n_right + c for d, c in parts]))
    return combined // n_right, combined % n_right


def _sorted_unique(a: np.ndarray) -> np.ndarray:
    a = np.sort(a)
    return a[np.r_[True, a[1:] != a[:-1]]] if len(a) else a


# The exact blocking keys. cvr7 = the first seven CVR digits: a keying error in the check digit keeps them (the
# generator's and life's usual case), so a broken TimeLog CVR still meets the right debtor.
_EXACT = {
    "vat": lambda c: c.vat,
    "cvr7": lambda c: [s[:7] for s in c.cvr_raw],
    "phone": lambda c: c.phone,
    "number": lambda c: c.number,
    "domain": lambda c: c.domain,
    "core": lambda c: c.core,
}


class Index:
    """The TimeLog side, normalised and grouped by blocking key; built once, reused for every company.

    ``phone_n[i]`` tells how many customers share customer ``i``'s phone number (a switchboard shared by a group
    is weaker evidence than a direct line: see scoring); ``id_rank[i]`` orders the customers by ``str(ID)``, the
    tie-break of the candidate order."""

    def __init__(self, customers: Columns, *, max_block: int = 25, max_token_df: int = 25) -> None:
        self._build(customers, max_block, max_token_df)

    @classmethod
    def deferred(cls, records: Iterable[Mapping[str, Any]]) -> Index:
        """The index of the TimeLog ``records``, built on first use (:meth:`build`, or any attribute): a large match
        normalises its debtors in a second process meanwhile (:func:`tlsync.matching.views.match_customers`)."""
        index = cls.__new__(cls)
        index.__dict__["_records"] = records if isinstance(records, list) else list(records)
        index.__dict__["_lock"] = threading.Lock()   # two threads using it at once: one builds, the other waits
        return index

    @property
    def pending(self) -> bool:
        """Whether this index is :meth:`deferred` and not built yet."""
        return "_records" in self.__dict__

    def build(self) -> Index:
        """Build a :meth:`deferred` index now (nothing to do for any other); returns it."""
        if "_records" in self.__dict__:
            with self.__dict__["_lock"]:
                if "_records" in self.__dict__:     # (not built by another thread meanwhile)
                    self._build(customer_columns(self.__dict__["_records"]), 25, 25)
                    del self.__dict__["_records"]
        return self

    def __getattr__(self, name: str) -> Any:
        # only called for an attribute that is not set: a deferred index builds itself on first use
        if name not in ("_records", "_lock") and "_records" in self.__dict__:
            self.build()
            return object.__getattribute__(self, name)
        raise AttributeError(name)

    def _build(self, customers: Columns, max_block: int, max_token_df: int) -> None:
        self.customers = customers
        self.blocks = {kind: _Blocks(values(customers), None, max_block) for kind, values in _EXACT.items()}
        # value counts for the scorer's term frequencies (not blocking keys): raw CVR digits, zip
        self.tallies = {"raw": _Blocks(customers.cvr_raw, None, 0), "zip": _Blocks(customers.zip, None, 0)}
        def per_customer(b: _Blocks) -> Any:
            return b.size[b.record_code]

        self.phone_n = per_customer(self.blocks["phone"])
        self.vat_n = per_customer(self.blocks["vat"])
        self.domain_n = per_customer(self.blocks["domain"])
        self.core_n = per_customer(self.blocks["core"])
        self.number_n = per_customer(self.blocks["number"])
        self.cvr7_n = per_customer(self.blocks["cvr7"])
        self.raw_n = per_customer(self.tallies["raw"])
        self.zip_n = per_customer(self.tallies["zip"])
        keys, owners = _fuzzy_keys(customers, np.arange(customers.n, dtype=np.int64))
        self.fuzzy = _Blocks(keys, owners, max_token_df)
        self.id_rank = _str_rank(customers.key)
        self._domain_labels: np.ndarray | None = None

    def domain_labels(self) -> np.ndarray:
        """Each customer's e-mail domain up to its first dot, without hyphens ("hansenbyg" of "hansen-byg.dk"):
        how a domain spelt like the name is recognised (scoring). Computed on first use, for the whole column at
        once (one ``re.sub`` over the joined column instead of a ``split`` per compared pair)."""
        if self._domain_labels is None:
            domains = self.customers.domain
            labels = _FROM_FIRST_DOT.sub("", "\n".join(domains)).replace("-", "").split("\n")
            if len(labels) != len(domains):          # a line break inside a value: one at a time
                labels = [x.split(".", 1)[0].replace("-", "") for x in domains]
            self._domain_labels = _obj(labels)
        return self._domain_labels

    def phone_count(self, phone: str) -> int:
        """How many TimeLog customers have this (normalised) phone number."""
        return self.count("phone", phone)

    def count(self, kind: str, value: str) -> int:
        """How many TimeLog customers have this (normalised) key of an exact kind (``vat``, ``phone``, ``core``, …)."""
        return _tally(self.blocks[kind], value)

    def raw_count(self, digits: str) -> int:
        """How many TimeLog customers hold these 8 CVR digits (valid or not)."""
        return _tally(self.tallies["raw"], digits)

    def zip_count(self, zipcode: str) -> int:
        """How many TimeLog customers have this (normalised) postal code."""
        return _tally(self.tallies["zip"], zipcode)

    def key_codes(self, debtors: Columns) -> dict[str, np.ndarray]:
        """Per exact key kind, the code of each debtor's key in this index (-1: no customer has it); computed once
        per ``debtors``. Two records have the same key exactly when their codes agree (and the key is not empty),
        which lets the scorer compare integers instead of strings."""
        if debtors.codes_of is not self:
            debtors.codes = {kind: self.blocks[kind].lookup(values(debtors)) for kind, values in _EXACT.items()}
            debtors.codes_of = self
        return debtors.codes

    def customer_codes(self, kind: str) -> np.ndarray:
        """The code of each customer's key of that kind (see :meth:`key_codes`)."""
        return self.blocks[kind].record_code

    def exact_pairs(self, debtors: Columns) -> tuple[np.ndarray, np.ndarray]:
        """(debtor index, customer index) of every debtor–customer pair sharing an exact key, unique, sorted."""
        owners = np.arange(debtors.n, dtype=np.int64)
        parts = [self.blocks[kind].join(codes, owners) for kind, codes in self.key_codes(debtors).items()]
        return _unique_pairs(parts, max(self.customers.n, 1))

    def fuzzy_pairs(self, debtors: Columns, which: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The second pass for the debtors ``which`` (those the exact keys found no candidate for): pairs sharing
        a rare name token or zip + name prefix (a typo in the name, no shared number). Kept out of the first pass
        because at 100k × 100k these blocks hold most of the pairs and rarely change the outcome. May include
        pairs of the first pass (they score the same)."""
        keys, owners = _fuzzy_keys(debtors, which)
        return _unique_pairs([self.fuzzy.join(self.fuzzy.lookup(keys), owners)], max(self.customers.n, 1))


_FROM_FIRST_DOT = re.compile(r"\.[^\n]*")


def _tally(blocks: _Blocks, value: str) -> int:
    code = blocks.code.get(value, -1) if value else -1
    return int(blocks.size[code]) if code >= 0 else 0


def _fuzzy_keys(cols: Columns, rows: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The second-pass keys of the records ``rows``: their name tokens of 3+ letters and their zip + name prefix,
    with the record each key belongs to."""
    if len(rows) == cols.n:
        names, zps = cols.name, cols.zp()
    else:
        names = cols.name_a[rows].tolist()
        zps = [z + ":" + c[:4] if z and len(c) >= 4 else ""
               for z, c in zip(cols.zip_a[rows].tolist(), cols.core_a[rows].tolist())]
    counts = np.fromiter(map(str.count, names, repeat(" ")), dtype=np.int64, count=len(names)) + 1
    counts[np.fromiter(map(len, names), dtype=np.int64, count=len(names)) == 0] = 0
    tokens = np.array(" ".join(names).split(), dtype=object)
    long = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens)) >= 3
    token_owners = np.repeat(rows, counts)[long]
    keys = tokens[long].tolist() + zps
    return keys, np.concatenate([token_owners, rows]).astype(np.int64)


def _str_rank(keys: list[Any]) -> np.ndarray:
    """Each key's position in the order of ``str(key)`` (ties: input order)."""
    strs = [str(k) for k in keys]
    rank = np.empty(len(strs), dtype=np.int64)
    rank[sorted(range(len(strs)), key=strs.__getitem__)] = np.arange(len(strs), dtype=np.int64)
    return rank
