"""Normalisers for the customer-matching keys of rule L1 (customer number, VAT/CVR number, phone, name).

Why: the two systems were typed by different people. The same company shows up as "DK 12 34 56 78" in TimeLog's
``VATNo`` and "12345678" in Uniconta's ``CompanyRegNo``; as "+45 12 34 56 78" and "0045-1234 5678"; as
"Ærø Byg A/S" and "AERO BYG AKTIESELSKAB". Every comparison in :mod:`tlsync.matching.scoring` works on the
canonical forms produced here, so the scorer never has to know about formatting.

All functions are pure, total (never raise on odd input) and return ``""`` for "nothing usable".

Each normaliser has a batch twin (``parse_names``, ``norm_phones``, ``cvr_digits_many``, ``email_domains``,
``norm_numbers``, ``norm_zips``) that gives exactly the same result for a whole column at once: the column is
joined into one string and case-folded / stripped of punctuation / split by legal form with a handful of C-level
``str`` and ``re`` calls instead of a dozen Python calls per record. At 100k × 100k that is the difference between
seconds and a fraction of one (the tests cross-check every twin against the one-value function).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

# phonenumbers and stdnum are imported where first needed (a foreign phone or VAT number): Danish data never
# reaches them, and importing them costs a matcher process ~0.1 s of its start-up (issue 15: process wall).

__all__ = [
    "GENERIC_EMAIL_DOMAINS",
    "LEGAL_FORMS",
    "cvr_digits",
    "cvr_digits_many",
    "cvr_valid",
    "cvr_valid_many",
    "email_domain",
    "email_domains",
    "legal_form",
    "name_core",
    "norm_cvr",
    "norm_name",
    "norm_number",
    "norm_numbers",
    "norm_phone",
    "norm_phones",
    "norm_vat",
    "norm_zip",
    "norm_zips",
    "parse_name",
    "parse_names",
]

_NON_ALNUM = re.compile(r"[^0-9A-Za-z]+")
_TOKEN = re.compile(r"[0-9a-z]+")


def norm_number(value: object) -> str:
    """A customer number (Uniconta ``Account`` / TimeLog ``No``): trimmed, case-folded, leading zeros dropped
    from all-digit numbers ("010042" and "10042" are the same number in both UIs)."""
    s = str(value or "").strip().casefold()
    if s.isdigit():
        s = s.lstrip("0") or "0"
    return s


def cvr_digits(value: object) -> str:
    """The 8 digits of a Danish CVR however written ("DK 12 34 56 78", "dk12345678", "12-34-56-78"), valid or
    not; ``""`` when it is not 8 digits after removing a DK prefix. Used to spot keying errors (a TimeLog CVR with
    a wrong check digit next to the right one in Uniconta)."""
    s = _NON_ALNUM.sub("", str(value or "")).upper()
    s = s.removeprefix("DK")
    return s if len(s) == 8 and s.isdigit() else ""


_CVR_WEIGHTS = (2, 7, 6, 5, 4, 3, 2, 1)


def cvr_valid(digits: str) -> bool:
    """The mod-11 check of ``stdnum.dk.cvr.is_valid`` for 8 plain digits, inlined: it runs for every record of
    a 100k × 100k match and stdnum's generic path costs ~10 µs a call (the tests cross-check the two)."""
    if len(digits) != 8 or not digits.isdigit() or digits[0] == "0":
        return False
    d = [ord(c) - 48 for c in digits]
    return (2 * d[0] + 7 * d[1] + 6 * d[2] + 5 * d[3] + 4 * d[4] + 3 * d[5] + 2 * d[6] + d[7]) % 11 == 0


def norm_cvr(value: object) -> str:
    """A *valid* Danish CVR number as 8 digits (mod-11 checked as ``stdnum.dk.cvr`` does), else ``""``."""
    d = cvr_digits(value)
    return d if d and cvr_valid(d) else ""


def norm_vat(value: str | None) -> str:
    """A tax identifier as one comparable key: ``"DK" + CVR`` for a valid Danish number (with or without the
    DK prefix, with spaces), ``"<CC><number>"`` for a valid EU VAT number (``stdnum.eu.vat``), otherwise the
    upper-cased alphanumerics when at least 6 characters long (foreign numbers stdnum does not know, e.g.
    Norwegian "...MVA" or US EINs), else ``""``. Invalid Danish numbers give ``""``: see :func:`cvr_digits`."""
    s = str(value or "").strip()
    if not s:
        return ""
    d = cvr_digits(s)
    if d:                      # 8 digits (DK or no prefix): valid → key, wrong check digit → not a usable key
        return "DK" + d if cvr_valid(d) else ""
    compact = _NON_ALNUM.sub("", s).upper()
    return _foreign_vat(compact)


@lru_cache(maxsize=65536)
def _foreign_vat(compact: str) -> str:
    if compact[:2].isalpha():
        from stdnum.eu import vat as eu_vat
        try:
            if eu_vat.is_valid(compact):
                return eu_vat.compact(compact)
        except Exception:  # noqa: BLE001 - stdnum raises on odd country codes: treat as unknown
            return compact if len(compact) >= 6 else ""
    return compact if len(compact) >= 6 else ""


_NON_DIGIT = re.compile(r"[^0-9]+")


def norm_phone(value: str | None, region: str = "DK") -> str:
    """A phone number in E.164 ("+4512345678"), Danish by default ("12 34 56 78", "0045-1234 5678",
    "(+45) 12345678" all agree); ``""`` when unparsable or impossible.

    Plain Danish numbers (8 digits, optionally behind +45 / 0045) take a fast path with the same result as
    ``phonenumbers`` (~30 µs a parse, too slow for 200k records); everything else goes through ``phonenumbers``."""
    s = str(value or "").strip()
    if not s:
        return ""
    digits = _NON_DIGIT.sub("", s)
    if len(digits) < 6:
        return ""
    if region == "DK":
        intl = "+" in s
        if len(digits) == 8 and not intl:
            return "+45" + digits
        if len(digits) == 10 and intl and digits.startswith("45"):
            return "+" + digits
        if len(digits) == 12 and not intl and digits.startswith("0045"):
            return "+" + digits[2:]
    return _parse_phone(s, region)


@lru_cache(maxsize=65536)
def _parse_phone(s: str, region: str) -> str:
    import phonenumbers
    try:
        num = phonenumbers.parse(s, region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(num):
        return ""
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


# --- names ---------------------------------------------------------------------------------------------------

_FOLD = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})

# Legal forms, canonical key → written variants (already folded, lower-case, punctuation removed). Two *different*
# known forms mean two different companies ("Hansen ApS" is not "Hansen A/S"); an absent form is "unknown".
_LEGAL_FORMS: dict[str, tuple[str, ...]] = {
    "as": ("as", "aktieselskab", "aktieselskabet"),
    "aps": ("aps", "anpartsselskab", "anpartsselskabet", "ivs", "ivaerksaetterselskab"),  # IVS became ApS (2019)
    "is": ("is", "interessentskab", "interessentskabet"),
    "ps": ("ps", "partnerselskab", "partnerselskabet"),
    "ks": ("ks", "kommanditselskab", "kommanditselskabet"),
    "amba": ("amba", "andelsselskab"),
    "fmba": ("fmba",),
    "smba": ("smba",),
    "gmbh": ("gmbh",),
    "ab": ("ab", "aktiebolag"),
    "inc": ("inc", "incorporated"),
    "ltd": ("ltd", "limited"),
    "bv": ("bv",),
}
LEGAL_FORMS = tuple(_LEGAL_FORMS)          # the canonical keys legal_form() returns
_FORM_OF = {v: k for k, vs in _LEGAL_FORMS.items() for v in vs}
_SPLIT_FORMS = {("a", "s"): "as", ("i", "s"): "is", ("k", "s"): "ks", ("p", "s"): "ps", ("a", "m", "b", "a"): "amba",
                ("g", "m", "b", "h"): "gmbh", ("b", "v"): "bv"}
_SPLIT_LAST = {parts[-1] for parts in _SPLIT_FORMS}


def _parse_name(value: str) -> tuple[str, str]:
    s = value.casefold().translate(_FOLD)
    if not s.isascii():
        s = unicodedata.normalize("NFKC", s).casefold().translate(_FOLD)
        s = "".join(ch for ch in unicodedata.normalize("NFKD", s) if not unicodedata.combining(ch))  # é → e
    tokens = _TOKEN.findall(s.replace("&", " og ").replace("+", " og "))
    form = ""
    # strip legal forms at the end (possibly split by punctuation: "a/s" → "a s", "g.m.b.h." → "g m b h")
    while len(tokens) > 1:
        last = tokens[-1]
        if last in _SPLIT_LAST:
            for parts, key in _SPLIT_FORMS.items():
                n = len(parts)
                if len(tokens) > n and tuple(tokens[-n:]) == parts:
                    form, tokens = form or key, tokens[:-n]
                    break
            else:
                break
        elif last in _FORM_OF:
            form, tokens = form or _FORM_OF[last], tokens[:-1]
        else:
            break
    return " ".join(tokens), form


def parse_name(value: object) -> tuple[str, str]:
    """``(norm_name(value), legal_form(value))`` in one go."""
    return _parse_name(str(value or ""))


def norm_name(value: object) -> str:
    """A name as comparable text: Unicode-folded, lower-case, æøå → ae/oe/aa, accents dropped, '&' → 'og',
    punctuation removed, the legal form (A/S, ApS, Aktieselskab, I/S, K/S, P/S, IVS, …) stripped."""
    return _parse_name(str(value or ""))[0]


def name_core(value: object) -> str:
    """:func:`norm_name` without spaces ("Nord Lys" = "Nordlys"): the blocking and exact-name key."""
    return norm_name(value).replace(" ", "")


def legal_form(value: object) -> str:
    """The canonical legal form of a name ("as", "aps", "is", …) or ``""`` when none is written."""
    return _parse_name(str(value or ""))[1]


GENERIC_EMAIL_DOMAINS = frozenset({
    "gmail.com", "hotmail.com", "hotmail.dk", "outlook.com", "outlook.dk", "live.dk", "live.com", "yahoo.com",
    "yahoo.dk", "icloud.com", "me.com", "mail.dk", "jubii.dk", "get2net.dk", "tdcadsl.dk", "post.tele.dk",
    "mail.tele.dk", "privat.dk", "youmail.dk", "msn.com", "protonmail.com", "proton.me"})


def email_domain(value: object) -> str:
    """The domain of an e-mail address, lower-case, ``""`` for free-mail providers (shared by strangers)."""
    s = str(value or "").strip().lower()
    if "@" not in s:
        return ""
    d = s.rsplit("@", 1)[1].strip(" .>")
    return "" if d in GENERIC_EMAIL_DOMAINS or "." not in d else d


def norm_zip(value: object) -> str:
    """A postal code without spaces, upper-case ("211 20" = "21120")."""
    return _NON_ALNUM.sub("", str(value or "")).upper()


# --- batch twins: one column at a time ------------------------------------------------------------------------

def _texts(values: Iterable[object]) -> list[str]:
    # the one-value functions all start from str(value or "")
    return [v if type(v) is str else str(v or "") for v in values]


def _column(values: Iterable[object]) -> tuple[list[str], str | None]:
    """The column as texts and as one string, one value per line; the string is ``None`` when a value itself
    holds a line break (then the caller falls back to the one-value function, which handles anything)."""
    texts = values if isinstance(values, (list, tuple)) else list(values)
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
