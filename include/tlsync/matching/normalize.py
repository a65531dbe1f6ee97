"""Normalisers for the customer-matching keys of rule L1 (customer number, VAT/CVR number, phone, name).

Why: the two systems were typed by different people. The same company shows up as "DK 12 34 56 78" in TimeLog's
``VATNo`` and "12345678" in Uniconta's ``CompanyRegNo``; as "+45 12 34 56 78" and "0045-1234 5678"; as
"Ærø Byg A/S" and "AERO BYG AKTIESELSKAB". Every comparison in :mod:`tlsync.matching.scoring` works on the
canonical forms produced here, so the scorer never has to know about formatting.

All functions are pure, total (never raise on odd input) and return ``""`` for "nothing usable".

Each normaliser has a batch twin in :mod:`.columns` (``parse_names``, ``norm_phones``, ``cvr_digits_many``,
``email_domains``, ``norm_numbers``, ``norm_zips``) that gives exactly the same result for a whole column at once:
the column is joined into one string and case-folded / stripped of punctuation / split by legal form with a handful
of C-level ``str`` and ``re`` calls instead of a dozen Python calls per record. At 100k × 100k that is the
difference between seconds and a fraction of one (the tests cross-check every twin against the one-value function).
The rules (legal forms, generic e-mail domains, the CVR check) are written here once; the twins import them.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# phonenumbers and stdnum are imported where first needed (a foreign phone or VAT number): Danish data never
# reaches them, and importing them costs a matcher process ~0.1 s of its start-up (issue 15: process wall).

__all__ = [
    "GENERIC_EMAIL_DOMAINS",
    "LEGAL_FORMS",
    "cvr_digits",
    "cvr_valid",
    "email_domain",
    "legal_form",
    "name_core",
    "norm_cvr",
    "norm_name",
    "norm_number",
    "norm_phone",
    "norm_vat",
    "norm_zip",
    "parse_name",
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


_CVR_WEIGHTS = (2, 7, 6, 5, 4, 3, 2, 1)        # the mod-11 weights (cvr_valid_many in .columns multiplies by them)


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


