"""Row rules in plain Python: value parsing, the checks Great Expectations cannot express per row, and wording.

GX (``suites.py``) runs the column expectations (key present / unique, enum in set, currency known, date present /
parsable / in range). This module holds what GX needs prepared or cannot do on one row:

- normalising raw wire values (TimeLog XML strings, Uniconta JSON values) into the tokens GX compares,
- parsing dates (``parse_datetime``) — the GX frame carries the parsed value, the raw one is kept for the reason,
- the typed-column ("schema") check: a value the loader would silently turn into NULL is quarantined instead,
  and so is one the staging column cannot hold (issue 17: an amount of 1e20 made PostgreSQL's COPY fail with
  "numeric field overflow" and stopped the whole night) — decimals beyond ``Numeric(18, 4)``, integers beyond
  32 bits, text longer than the ``String(400)`` column,
- control characters (NUL and the other C0 codes except tab, LF, CR) in a staged text column or a key: NUL is
  refused by PostgreSQL ("invalid byte sequence 0x00") and none belongs in a name; the record is quarantined
  (``control_character``) with its raw payload, which is stored as escaped JSON and so keeps every byte,
- invoice header amount = sum of its lines, in ``Decimal`` within a tolerance (never float),
- the CVR mod-11 checksum via ``stdnum.dk.cvr`` (a *warning*, never a quarantine),
- the readable reason texts and the rule ids.

Nothing here imports pandas or Great Expectations.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

# ---- rule ids (the short id stored in the quarantine table), most important first -----------------------------
KEY_MISSING = "key_missing"
KEY_DUPLICATE = "key_duplicate"
SCHEMA = "schema"
DATE_MISSING = "date_missing"
DATE_UNPARSABLE = "date_unparsable"
DATE_OUT_OF_RANGE = "date_out_of_range"
ENUM_INVALID = "enum_invalid"
CURRENCY_UNKNOWN = "currency_unknown"
CONTROL_CHARACTER = "control_character"
HEADER_LINES_MISMATCH = "header_lines_mismatch"
# warnings (never quarantine)
CVR_CHECKSUM = "cvr_checksum"
ORPHAN = "orphan"                       # a warning: the record points at a parent neither staged nor read tonight
ORPHAN_PARENTS: dict[str, tuple[str, str]] = {
    "uniconta.invoice_lines": ("InvoiceNumber", "uniconta.invoices"),
    "timelog.contacts": ("CustomerID", "timelog.customers"),
    "timelog.invoice_lines": ("InvoiceID", "timelog.invoices"),
}
"""Child entity → (its field naming the parent, the parent entity): a child whose parent is unknown is staged with
an ``orphan`` warning naming the parent it misses (issue 17), so a report can show it."""
REPORTED_COUNT_MISMATCH = "reported_count_mismatch"

RULE_PRIORITY: tuple[str, ...] = (
    KEY_MISSING,
    KEY_DUPLICATE,
    SCHEMA,
    CONTROL_CHARACTER,
    DATE_MISSING,
    DATE_UNPARSABLE,
    DATE_OUT_OF_RANGE,
    ENUM_INVALID,
    CURRENCY_UNKNOWN,
    HEADER_LINES_MISMATCH,
)
_RANK = {rule: i for i, rule in enumerate(RULE_PRIORITY)}

# The invoice header field compared with the sum of the invoice's lines (context.line_sums), per entity; both
# sides exclude VAT.
# - TimeLog: line ``Amount`` = Quantity x Rate x (1 - Discount/100); header ``NetAmount`` = Σ line Amount
#   (header ``Amount`` = NetAmount + VATIncluded). line_sums = Σ GetInvoiceLinesRaw ``Amount`` per ``InvoiceID``.
# - Uniconta: header ``LineAmount`` = Σ line net (``DebtorInvoiceLines.InvoiceNetAmount``); the header's
#   ``NetAmount`` is LineAmount after the end discount (EndDiscountPct), so it is *not* the sum of the lines.
#   line_sums = Σ ``InvoiceNetAmount`` per ``InvoiceNumber``.
HEADER_AMOUNT_FALLBACK: dict[str, str] = {"uniconta.invoices": "NetAmount"}
"""A header whose ``LineAmount`` is blank or 0 (older posted invoices, exports that leave it out) is compared by
``NetAmount`` instead — equal to Σ lines when the invoice has no end discount, the usual case."""


def header_amount_field(entity: str, record: dict, field: str) -> str:
    """The header field to compare with Σ lines for this record (see :data:`HEADER_AMOUNT_FALLBACK`)."""
    fallback = HEADER_AMOUNT_FALLBACK.get(entity)
    if fallback is None:
        return field
    value = record.get(field)
    try:
        blank = is_blank(value) or to_decimal(value) == 0
    except ValueError:
        return field
    return fallback if blank else field


HEADER_AMOUNT_FIELDS: dict[str, str] = {
    "timelog.invoices": "NetAmount",
    "uniconta.invoices": "LineAmount",
}

SYSTEM_NAMES = {"timelog": "TimeLog", "uniconta": "Uniconta"}

_MAX_SHOWN = 60


def rank(rule: str) -> int:
    return _RANK.get(rule, len(_RANK))


# ---- values ---------------------------------------------------------------------------------------------------
def is_blank(value: Any) -> bool:
    """Missing on the wire: ``None``, an empty/whitespace string or a float NaN."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, float):
        return math.isnan(value)
    return False


def show(value: Any) -> str:
    """A value as it appears in a reason: quoted, shortened."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > _MAX_SHOWN:
        text = text[: _MAX_SHOWN - 1] + "…"
    return repr(text)


def token(value: Any) -> str | None:
    """Canonical text of an enum value so that TimeLog's ``"1"`` and Uniconta's ``1`` compare equal."""
    if is_blank(value):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return str(int(value))
    return str(value).strip()


def currency_token(value: Any) -> str | None:
    t = token(value)
    return None if t is None else t.upper()


def parse_datetime(value: Any) -> datetime | None:
    """Naive UTC ``datetime`` of a wire date; ``None`` when blank; ``ValueError`` when unparsable.

    Accepts ``YYYY-MM-DD`` and ISO date-times (TimeLog ``2024-03-01T00:00:00``; Uniconta's .NET 7-digit fractions,
    ``Z`` and offsets), and ``date``/``datetime`` objects. Numbers are not dates.
    """
    if is_blank(value):
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        return datetime.combine(value, time.min)
    elif isinstance(value, str):
        parsed = datetime.fromisoformat(value.strip())   # ValueError if unparsable
    else:
        raise ValueError(f"not a date: {type(value).__name__}")
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed


def to_decimal(value: Any) -> Decimal:
    """Exact ``Decimal`` of a wire amount (``"1225.0000"``, ``1225.5``, ``Decimal``); ``ValueError`` otherwise."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not an amount")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, (int, float, str)):
        try:
            result = Decimal(str(value).strip())   # str(float) keeps the shortest repr: 0.1 -> "0.1"
        except InvalidOperation:
            raise ValueError(f"not a number: {value!r}") from None
    else:
        raise ValueError(f"not a number: {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


_INT_RE = re.compile(r"[+-]?\d+")
_BOOLS = {"0", "1", "true", "false"}


TEXT_MAX = 400                          # String(400): tlsync.staging.tables
INT_MAX = 2**31 - 1                     # Integer: 32 bits on PostgreSQL
DECIMAL_LIMIT = Decimal(10) ** 14       # Numeric(18, 4): 14 digits before the point
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def control_problem(value: Any) -> str | None:
    """Why a text value must not be staged as it is: a control character (``None`` if there is none)."""
    if not isinstance(value, str):
        return None
    m = _CONTROL.search(value)
    if m is None:
        return None
    return f"contains the control character U+{ord(m.group()):04X} at position {m.start() + 1}"


def printable(value: Any) -> str:
    """A value for a reason text or a key column, control characters shown as ``\\xNN`` (never raw)."""
    text = str(value)
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text) if _CONTROL.search(text) else text


def type_problem(value: Any, kind: str) -> str | None:
    """Why a non-blank value does not fit a typed staging column (``None`` if it fits)."""
    if kind == "str":
        if isinstance(value, (dict, list)):
            return "is not a text value"
        if isinstance(value, str) and len(value) > TEXT_MAX:
            return f"is {len(value):,} characters long; staging holds at most {TEXT_MAX}"
        return None
    if kind == "int":
        if isinstance(value, bool):
            return "is not an integer"
        if isinstance(value, (int, float, Decimal)) or (isinstance(value, str) and _INT_RE.fullmatch(value.strip())):
            try:
                number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
            except InvalidOperation:
                return "is not an integer"
            if not number.is_finite() or number != number.to_integral_value():
                return "is not an integer"
            if abs(number) > INT_MAX:
                return f"is beyond the integers staging holds (±{INT_MAX:,})"
            return None
        return "is not an integer"
    if kind == "decimal":
        try:
            number = to_decimal(value)
        except ValueError:
            return "is not a number"
        if abs(number) >= DECIMAL_LIMIT:
            return "is beyond the amounts staging holds (18 digits, 4 of them decimals: below ±10^14)"
        return None
    if kind == "bool":
        if isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)):
            return None
        if isinstance(value, str) and value.strip().lower() in _BOOLS:
            return None
        return "is not a boolean"
    if kind in ("date", "datetime"):
        try:
            parse_datetime(value)
        except (ValueError, TypeError, OverflowError):
            return "is not a parsable date"
        return None
    raise ValueError(f"unknown column kind {kind!r}")


# ---- invoice header = sum of lines ----------------------------------------------------------------------------
def header_lines_problem(field: str, header_raw: Any, line_sum: Decimal | None, tolerance: Decimal,
                         *, header_typed: bool) -> str | None:
    """Problem text when the header amount differs from the sum of its lines by more than ``tolerance``.

    ``line_sum`` ``None`` means no line of this invoice was extracted (a sum of 0). ``header_typed``: the field is
    a typed ``decimal`` column, so an unparsable value is already reported by the schema rule.
    """
    if is_blank(header_raw):
        return f"{field} is missing, so it cannot be compared with the sum of its lines"
    try:
        header = to_decimal(header_raw)
    except ValueError:
        return None if header_typed else f"{field} {show(header_raw)} is not a number"
    lines = Decimal(0) if line_sum is None else Decimal(line_sum)
    diff = header - lines
    if abs(diff) <= tolerance:
        return None
    if line_sum is None:
        return f"{field} {_amount(header)} but no lines were extracted for it (tolerance {tolerance})"
    return (f"{field} {_amount(header)} differs from the sum of its lines {_amount(lines)} "
            f"(difference {_amount(diff)}, tolerance {tolerance})")


def _amount(value: Decimal) -> str:
    """Amounts with at least 2 decimals, trailing wire zeros trimmed: ``1225.0000`` → ``1225.00``."""
    q = value.normalize()
    exponent = q.as_tuple().exponent                      # "n"/"N"/"F" for NaN and infinity: shown as they are
    if isinstance(exponent, int) and exponent > -2:
        q = value.quantize(Decimal("0.01"))
    return f"{q:f}"


# ---- CVR (warning) --------------------------------------------------------------------------------------------
_DANISH_COUNTRIES = {"dk", "dnk", "denmark", "danmark"}
_FOREIGN_PREFIX = re.compile(r"[A-Z]{2}")


def cvr_problem(value: Any, country: Any = None) -> str | None:
    """Why a CVR field value fails the Danish CVR check (length, digits, mod-11 checksum); ``None`` if fine.

    Blank values are fine (the field is optional). Skipped, since not Danish: a value with another country's
    two-letter VAT prefix (``SE5560…``), or a record whose ``Country`` is a text naming another country.
    """
    from stdnum import exceptions as stdnum_exceptions
    from stdnum.dk import cvr

    if is_blank(value):
        return None
    if isinstance(country, str) and country.strip() and country.strip().lower() not in _DANISH_COUNTRIES:
        return None
    number = cvr.compact(str(value))
    if _FOREIGN_PREFIX.match(number):
        return None
    try:
        cvr.validate(number)
    except stdnum_exceptions.InvalidChecksum:
        return "fails the CVR mod-11 checksum"
    except stdnum_exceptions.InvalidLength:
        return "is not 8 digits long, so it is not a valid CVR number"
    except stdnum_exceptions.ValidationError:
        return "is not a valid CVR number (8 digits, not starting with 0)"
    return None


# ---- wording --------------------------------------------------------------------------------------------------
def record_label(entity_name: str) -> str:
    """``"invoice_lines"`` → ``"invoice line"``, ``"companies"`` → ``"company"``, ``"mileage"`` → ``"mileage"``."""
    words = entity_name.split("_")
    last = words[-1]
    if last.endswith("ies"):
        last = last[:-3] + "y"
    elif last.endswith("s") and not last.endswith("ss"):
        last = last[:-1]
    return " ".join([*words[:-1], last])
