"""Blocking (rule L1 at scale): which TimeLog customers are compared with a Uniconta debtor at all.

Why: comparing every debtor with every customer is N×M (10¹⁰ pairs at 100k × 100k). Instead each side is reduced
once to :class:`~tlsync.matching.records.Columns` (one list per normalised key, row *i* = record *i*), the TimeLog
side is grouped by those keys (:class:`Index`), and a debtor meets only the customers that share at least one key:

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
update per debtor. The normalised records themselves (:class:`~tlsync.matching.records.Columns`, and
:class:`~tlsync.matching.records.Prepared` for one record, as :func:`tlsync.matching.scoring.score_pair` explains a
single pair) are in :mod:`tlsync.matching.records`; this module re-exports their names.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from itertools import count, repeat
from typing import Any

import numpy as np

from .records import (
    CUSTOMER_FIELDS,
    DEBTOR_FIELDS,
    Columns,
    Prepared,
    _obj,
    customer_columns,
    debtor_columns,
    prepare_customer,
    prepare_debtor,
)

__all__ = ["CUSTOMER_FIELDS", "Columns", "DEBTOR_FIELDS", "Index", "Prepared", "customer_columns", "debtor_columns",
           "prepare_customer", "prepare_debtor"]   # the records' names too: where callers have always found them


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
