"""The records of each side normalised for matching (rule L1): one record (:class:`Prepared`, for explaining a single
pair) and many, column-wise (:class:`Columns`: one list per normalised key, row *i* = record *i*) — what
:mod:`tlsync.matching.blocking` groups into its index and :mod:`tlsync.matching.scoring` compares.

A large side is normalised in two processes when a core is spare (:mod:`tlsync.matching.parallel`); both give
the same columns. Split from ``blocking.py`` (issue 15) to keep each module to one job: here the keys of a record,
there which records meet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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

__all__ = ["CUSTOMER_FIELDS", "Columns", "DEBTOR_FIELDS", "Prepared", "customer_columns", "debtor_columns",
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
