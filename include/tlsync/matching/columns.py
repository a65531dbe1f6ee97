"""The batch twins of :mod:`.normalize`: each normaliser of rule L1 applied to a whole column at once.

Why: :mod:`.blocking` normalises every record of both sides (100k × 100k in ``bench/matching.py``), and a dozen
Python calls per record is seconds. Each twin (``parse_names``, ``norm_phones``, ``cvr_digits_many``,
``cvr_valid_many``, ``email_domains``, ``norm_numbers``, ``norm_zips``) joins the column into one string, one value
per line, and case-folds / strips punctuation / splits by legal form with a handful of C-level ``str``, ``re`` and
numpy calls — a fraction of a second.

Decision: a twin gives *exactly* the one-value function's result for every value (the tests cross-check every twin
against it, ``tests/matching/test_matching_engine.py``); whatever the column trick cannot handle (a value holding a
line break, non-ASCII text, foreign phone numbers) goes to the one-value function. The rules themselves — what a
legal form is, which e-mail domains are generic, the CVR check — live only in :mod:`.normalize`; this module
imports them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import cast

from .normalize import (
    _CVR_WEIGHTS,
    _FOLD,
    _FORM_OF,
    _SPLIT_FORMS,
    GENERIC_EMAIL_DOMAINS,
    _parse_name,
    _parse_phone,
    cvr_digits,
    cvr_valid,
    email_domain,
    norm_number,
    norm_phone,
    norm_zip,
)

__all__ = ["cvr_digits_many", "cvr_valid_many", "email_domains", "norm_numbers", "norm_phones", "norm_zips",
           "parse_names"]

def _texts(values: Iterable[object]) -> list[str]:
    # the one-value functions all start from str(value or "")
    return [v if type(v) is str else str(v or "") for v in values]


def _column(values: Iterable[object]) -> tuple[list[str], str | None]:
    """The column as texts and as one string, one value per line; the string is ``None`` when a value itself
    holds a line break (then the caller falls back to the one-value function, which handles anything)."""
    # typed as strings unchecked: join raises TypeError on anything else, and then _texts converts the column
    texts = cast("list[str]", values if isinstance(values, (list, tuple)) else list(values))
    try:
        blob = "\n".join(texts)           # the usual case: all strings already
    except TypeError:
        texts = _texts(texts)
        blob = "\n".join(texts)
    if not texts or blob.count("\n") != len(texts) - 1:
        return _texts(texts), None
    return texts, blob


def _byte_set(keep: str) -> bytes:
    return bytes(c for c in range(256) if chr(c) not in keep)


_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_DROP_NON_ALNUM = _byte_set(_ALNUM + "\n")           # bytes.translate(None, …) deletes these
_DROP_NON_DIGIT = _byte_set("0123456789\n")
_NON_ALNUM_NL = re.compile(r"[^0-9A-Za-z\n]+")
_NON_DIGIT_NL = re.compile(r"[^0-9\n]+")


def _without(blob: str, drop: bytes, pattern: re.Pattern[str]) -> str:
    # the column with the characters outside a set removed, line breaks kept (bytes.translate for ASCII, re else)
    if blob.isascii():
        return blob.encode("ascii").translate(None, drop).decode("ascii")
    return pattern.sub("", blob)


# one match per line of "\n" + blob: the 8 digits of a CVR (optionally behind DK) filling the line, else nothing
_LINE_CVR = re.compile(r"\n(?:[Dd][Kk])?([0-9]{8}(?![^\n]))?")


def _per_line(pattern: re.Pattern[str], blob: str, n: int) -> list[str] | None:
    found = pattern.findall("\n" + blob)
    return found if len(found) == n else None


def cvr_digits_many(values: Iterable[object]) -> list[str]:
    """:func:`cvr_digits` of every value."""
    texts, blob = _column(values)
    if blob is None:
        return [cvr_digits(t) for t in texts]
    found = _per_line(_LINE_CVR, _without(blob, _DROP_NON_ALNUM, _NON_ALNUM_NL), len(texts))
    return found if found is not None else [cvr_digits(t) for t in texts]


def norm_phones(values: Iterable[object], region: str = "DK") -> list[str]:
    """:func:`norm_phone` of every value: the Danish fast paths of :func:`norm_phone` as array operations (digit
    count, a "+" on the line, the leading digits), ``phonenumbers`` for the rest."""
    texts, blob = _column(values)
    if blob is None or region != "DK" or not blob.isascii():
        return [norm_phone(t, region) for t in texts]
    import numpy as np
    raw = blob.encode("ascii")
    digits = raw.translate(None, _DROP_NON_DIGIT)
    n = len(texts)
    a = np.frombuffer(raw, dtype=np.uint8)
    plus = np.zeros(n, dtype=bool)
    plus[np.cumsum(a == 10)[a == 43]] = True                 # line number of every "+"
    b = np.frombuffer(digits + b"\n\n\n\n", dtype=np.uint8)
    ends = np.flatnonzero(b[:len(digits) + 1] == 10)           # the line break after each line (one appended)
    starts = np.r_[0, ends[:-1] + 1]
    lens = ends - starts
    s45 = (b[starts] == 52) & (b[starts + 1] == 53)            # "45…" (the padding keeps the indices in range)
    s0045 = (b[starts] == 48) & (b[starts + 1] == 48) & (b[starts + 2] == 52) & (b[starts + 3] == 53)
    lines = np.empty(n, dtype=object)
    lines[:] = digits.decode("ascii").split("\n")
    out = np.full(n, "", dtype=object)
    local = (lens == 8) & ~plus
    intl = (lens == 10) & plus & s45
    out[local] = "+45" + lines[local]
    out[intl] = "+" + lines[intl]
    for i in np.flatnonzero((lens == 12) & ~plus & s0045).tolist():
        out[i] = "+" + lines[i][2:]
    for i in np.flatnonzero((lens >= 6) & ~local & ~intl & ~((lens == 12) & ~plus & s0045)).tolist():
        out[i] = _parse_phone(texts[i].strip(), region)
    return out.tolist()


_ASCII_SPACE = re.compile(r"[\t\x0b\x0c\r\x1c-\x1f ]")      # str.isspace() in ASCII, less the line break
_LEADING_ZEROS = re.compile(r"\n0+(?=[0-9]+(?![^\n]))")    # of an all-digit line, keeping its last digit


def norm_numbers(values: Iterable[object]) -> list[str]:
    """:func:`norm_number` of every value."""
    texts, blob = _column(values)
    if blob is None or not blob.isascii():
        return [norm_number(t) for t in texts]
    blob = blob.lower()                          # = casefold() in ASCII
    if _ASCII_SPACE.search(blob):
        blob = "\n".join(s.strip() for s in blob.split("\n"))
    return _LEADING_ZEROS.sub("\n", "\n" + blob)[1:].split("\n")


def norm_zips(values: Iterable[object]) -> list[str]:
    """:func:`norm_zip` of every value."""
    texts, blob = _column(values)
    if blob is None:
        return [norm_zip(t) for t in texts]
    if blob.isascii():
        return blob.encode("ascii").translate(None, _DROP_NON_ALNUM).upper().decode("ascii").split("\n")
    return _NON_ALNUM_NL.sub("", blob).upper().split("\n")


# one match per line of "\n" + blob: what follows the last "@" (nothing for a line without "@"); "@"-free pieces
# up to each "@", so re never backtracks
_LINE_DOMAIN = re.compile(r"\n(?:[^\n@]*@)+([^\n@]*)|\n")
# what .rstrip().strip(" .>") removes at a line's end (ASCII whitespace and " .>") and at its start (" .>")
_END_CHARS = frozenset(b" .>\t\x0b\x0c\r\x1c\x1d\x1e\x1f")
_START_CHARS = frozenset(b" .>")


def _untidy_edges(joined: str) -> bool:
    """Whether a line of ``joined`` ("\\n" + lines + "\\n") starts or ends with what the strips remove."""
    if not joined.isascii():
        return True
    import numpy as np
    a = np.frombuffer(joined.encode("ascii"), dtype=np.uint8)
    nl = np.flatnonzero(a == 10)
    return bool(np.isin(a[nl[1:] - 1], list(_END_CHARS)).any() or np.isin(a[nl[:-1] + 1], list(_START_CHARS)).any())


def email_domains(values: Iterable[object]) -> list[str]:
    """:func:`email_domain` of every value."""
    texts, blob = _column(values)
    if blob is None:
        return [email_domain(t) for t in texts]
    low = blob.lower()
    found = _after_last_at(low, len(texts)) if low.isascii() else _per_line(_LINE_DOMAIN, low, len(texts))
    if found is None:
        return [email_domain(t) for t in texts]
    if _untidy_edges("\n" + "\n".join(found) + "\n"):
        found = [x.rstrip().strip(" .>") for x in found]
    generic = GENERIC_EMAIL_DOMAINS
    return ["" if d in generic or "." not in d else d for d in found]


def _after_last_at(blob: str, n: int) -> list[str] | None:
    # Every ASCII line cut to what follows its last "@" ("" without one), as one byte mask: keep the line breaks
    # and, per line with an "@", the bytes from its last "@" (exclusive) to the line's end.
    import numpy as np
    raw = blob.encode("ascii")
    a = np.frombuffer(raw, dtype=np.uint8)
    at = np.flatnonzero(a == 64)
    breaks = a == 10
    nl = np.flatnonzero(breaks)
    if not len(at):
        return [""] * n
    end = np.r_[nl, len(raw)][np.searchsorted(nl, at)]         # the end of each "@"'s line
    last = np.r_[end[1:] != end[:-1], True]                    # "@"s come sorted: the last one of each line
    marks = np.zeros(len(raw) + 1, dtype=np.int8)
    marks[at[last] + 1] += 1
    marks[end[last]] -= 1
    keep = breaks | (np.cumsum(marks[:-1], dtype=np.int8) > 0)
    found = a[keep].tobytes().decode("ascii").split("\n")
    return found if len(found) == n else None


def _trie_regex(words: Iterable[str]) -> str:
    """An alternation of literal ``words`` as a prefix tree (``a(?:s|ps|…)``): ``re`` tries alternatives one by
    one, so a flat list of ~40 legal forms would be tried ~40 times at every line."""
    trie: dict = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict) -> str:
        alts = [re.escape(ch) + emit(sub) for ch, sub in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = "(?:" + "|".join(alts) + ")"
        return body + "?" if "" in node else body

    return emit(trie)


# Legal-form stripping on a whole column: every line reversed ("x y a s" → "s a y x"), so the forms to strip are a
# run at the *start* of the line, which ``re`` finds with one cheap ``^`` test per position instead of trying the
# forms at every word. Right-to-left stripping is unambiguous (no split form starts, reversed, with a token that is
# itself a form), so "the longest run of forms, leaving at least one token" is exactly what _parse_name strips, and
# the first form of the reversed run is the one it keeps.
_WRITTEN_FORM = {**_FORM_OF, **{" ".join(parts): key for parts, key in _SPLIT_FORMS.items()}}
_REV_FORM = {w[::-1].encode(): key for w, key in _WRITTEN_FORM.items()}
_F_REV = _trie_regex(w.decode() for w in _REV_FORM).encode()
# (the pattern starts at the line break before a line: ``re`` finds a literal first character with a fast scan)
_REV_FIRST_FORM = re.compile(rb"\n(?:(" + _F_REV + rb") (?:" + _F_REV + rb" )*(?=[^\n]))?")
# bytes → itself for [0-9a-z] and the line break, a space for everything else (the tokens of _TOKEN)
_TOKEN_BYTES = bytes(c if (48 <= c <= 57 or 97 <= c <= 122 or c == 10) else 32 for c in range(256))
_FOLD_PAIRS = tuple((k if isinstance(k, str) else chr(k), v) for k, v in _FOLD.items())


def parse_names(values: Iterable[object]) -> tuple[list[str], list[str]]:
    """:func:`parse_name` of every value, as two lists (names, legal forms)."""
    texts, blob = _column(values)
    if blob is None:
        pairs = [_parse_name(t) for t in texts]
        return [p[0] for p in pairs], [p[1] for p in pairs]
    blob = blob.casefold()
    for k, v in _FOLD_PAIRS:
        if k in blob:
            blob = blob.replace(k, v)
    slow: list[int] = []
    if not blob.isascii():                       # rare: accents, other scripts, emoji → the one-value function
        lines = blob.split("\n")
        slow = [i for i, line in enumerate(lines) if not line.isascii()]
        for i in slow:
            lines[i] = ""
        blob = "\n".join(lines)
    if "&" in blob or "+" in blob:
        blob = blob.replace("&", " og ").replace("+", " og ")
    b = blob.encode("ascii").translate(_TOKEN_BYTES)
    while b"  " in b:
        b = b.replace(b"  ", b" ")
    b = b.replace(b" \n", b"\n").replace(b"\n ", b"\n").strip(b" ")
    rev = b"\n" + b[::-1]
    # one pass: split at every line start ("\n" + the longest run of forms leaving a token: what is stripped),
    # which keeps the run's first form (the captured group, None without one) between the stripped lines
    parts = _REV_FIRST_FORM.split(rev)
    firsts = parts[1::2]
    if len(firsts) != len(texts):                # cannot happen (one match per line); be total anyway
        pairs = [_parse_name(t) for t in texts]
        return [p[0] for p in pairs], [p[1] for p in pairs]
    names = (b"\n" + b"\n".join(parts[2::2]))[:0:-1].decode("ascii").split("\n")
    rev_form = _REV_FORM
    forms = [rev_form[f] if f else "" for f in reversed(firsts)]
    for i in slow:
        names[i], forms[i] = _parse_name(texts[i])
    return names, forms


def cvr_valid_many(digits: list[str]) -> list[bool]:
    """:func:`cvr_valid` of every value (the mod-11 check done as one matrix product)."""
    import numpy as np
    lens = np.fromiter(map(len, digits), dtype=np.int64, count=len(digits))
    eight = lens == 8
    joined = "".join(digits)
    if not ((lens == 0) | eight).all() or not joined.isascii() or not (joined.isdigit() or not joined):
        return [cvr_valid(d) for d in digits]      # not the "" / 8 digits that cvr_digits_many gives: one by one
    m = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(-1, 8).astype(np.int64) - 48
    valid = np.zeros(len(digits), dtype=bool)
    valid[eight] = ((m @ np.array(_CVR_WEIGHTS, dtype=np.int64)) % 11 == 0) & (m[:, 0] != 0)
    return valid.tolist()
