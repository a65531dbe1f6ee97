"""OData query options as Uniconta's OData feed accepts them: ``$filter``, ``$orderby``, ``$top``, ``$skip``,
``$select``.

``$filter`` grammar (OData v2/v4 as used against ``odata.uniconta.com``)::

    expr       := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := unary ("and" unary)*
    unary      := "not" unary | "(" expr ")" | comparison | boolcall
    comparison := value ("eq"|"ne"|"gt"|"ge"|"lt"|"le") value
    value      := Field | literal | call
    literal    := 'text' ('' escapes a quote) | 123 | -1.5 | 1.5m | true | false | null
                | datetime'2024-01-01T00:00:00' | datetimeoffset'…' | 2024-01-01 | 2024-01-01T00:00:00
    call       := startswith(v, v) | endswith(v, v) | contains(v, v) | substringof(v, v) | tolower(v) | toupper(v)
                | trim(v) | length(v) | year(v) | month(v) | day(v)

Documented choices:
- Operators and keywords are lower case, as in the OData spec and Uniconta's examples; ``AND`` is a parse error.
- Property names are case-sensitive and must be properties of the class (``LegalIdent`` on ``DebtorClient`` is a
  400, as on a real OData service).
- String comparison is ordinal and case-sensitive (OData semantics); ``Account le '3000'`` compares text.
- A number literal compared with a text field compares numerically when the text is a number (and never matches
  otherwise); a text literal compared with a number field is read as a number.
- ``datetime'…'`` compares against date fields by instant; a date-only value means midnight.
- ``null``: ``eq null`` matches absent/empty values, every ordering comparison with a null is false.
- At most 40 ``or`` per filter (Uniconta's documented server limit of 40 OR-values) — more is a 400.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_OR = 40


class ODataError(ValueError):
    """A malformed query option; the message names the option and the position."""


# ---------------------------------------------------------------------------------------------------- tokenizer
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<typed>(?:datetimeoffset|datetime|guid|time|date)'(?:[^']|'')*')
  | (?P<str>'(?:[^']|'')*')
  | (?P<dt>\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?)(?![\w.])
  | (?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[mMdDfFlL]?)(?![\w.])
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:/[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<punct>[(),])
    """,
    re.VERBOSE,
)

COMPARE_OPS = ("eq", "ne", "gt", "ge", "lt", "le")
KEYWORDS = frozenset(["and", "or", "not", *COMPARE_OPS])


@dataclass
class Tok:
    kind: str  # name, lit, punct, end
    value: Any
    pos: int
    text: str


def parse_datetime(text: str) -> datetime:
    """Parse an ISO date or date-time into a naive UTC datetime (raises ValueError)."""
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), datetime.min.time())
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc).replace(tzinfo=None)
    return dt


def _tokenize(src: str) -> list[Tok]:
    toks: list[Tok] = []
    pos = 0
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        if not m:
            raise ODataError(f"Syntax error at position {pos} in $filter: unexpected {src[pos:pos + 12]!r}")
        kind = m.lastgroup
        text = m.group()
        if kind == "ws":
            pass
        elif kind == "str":
            toks.append(Tok("lit", text[1:-1].replace("''", "'"), pos, text))
        elif kind == "typed":
            prefix, _, rest = text.partition("'")
            body = rest[:-1].replace("''", "'")
            if prefix in ("datetime", "datetimeoffset", "date"):
                try:
                    toks.append(Tok("lit", parse_datetime(body), pos, text))
                except ValueError:
                    raise ODataError(f"Syntax error at position {pos} in $filter: "
                                     f"bad {prefix} literal {text}") from None
            else:
                toks.append(Tok("lit", body, pos, text))
        elif kind == "dt":
            try:
                toks.append(Tok("lit", parse_datetime(text), pos, text))
            except ValueError:
                raise ODataError(f"Syntax error at position {pos} in $filter: bad date literal {text}") from None
        elif kind == "num":
            body = text.rstrip("mMdDfFlL")
            toks.append(Tok("lit", Decimal(body), pos, text))
        elif kind == "name":
            if text in ("true", "false"):
                toks.append(Tok("lit", text == "true", pos, text))
            elif text == "null":
                toks.append(Tok("lit", None, pos, text))
            else:
                toks.append(Tok("name", text, pos, text))
        else:
            toks.append(Tok("punct", text, pos, text))
        pos = m.end()
    toks.append(Tok("end", None, len(src), "end of expression"))
    return toks


# ------------------------------------------------------------------------------------------------------ values
def _to_decimal(v: Any) -> Decimal | None:
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, Decimal):
        return v
    if isinstance(v, int):
        return Decimal(v)
    if isinstance(v, float):
        return Decimal(repr(v))
    if isinstance(v, str):
        try:
            return Decimal(v.strip())
        except InvalidOperation:
            return None
    return None


def _to_datetime(v: Any) -> datetime | None:
    if isinstance(v, datetime):
        return v
    if isinstance(v, str) and v:
        try:
            return parse_datetime(v)
        except ValueError:
            return None
    return None


def _compare(op: str, left: Any, right: Any) -> bool:
    """OData comparison with light coercion towards the literal's type (see module doc)."""
    if left is None or right is None:
        both_null = (left is None or left == "") and (right is None or right == "")
        if op == "eq":
            return both_null
        if op == "ne":
            return not both_null
        return False
    if isinstance(right, datetime) or isinstance(left, datetime):
        a, b = _to_datetime(left), _to_datetime(right)
    elif isinstance(right, bool) or isinstance(left, bool):
        a, b = left, right
        if not (isinstance(a, bool) and isinstance(b, bool)):
            return op == "ne"
    elif isinstance(right, (Decimal, int, float)) or isinstance(left, (Decimal, int, float)):
        a, b = _to_decimal(left), _to_decimal(right)
    else:
        a, b = str(left), str(right)
    if a is None or b is None:
        return op == "ne"
    if op == "eq":
        return a == b
    if op == "ne":
        return a != b
    if op == "gt":
        return a > b
    if op == "ge":
        return a >= b
    if op == "lt":
        return a < b
    return a <= b


# ------------------------------------------------------------------------------------------------------ parser
Getter = Callable[[dict], Any]


def _str_fn(fn: Callable[[str, str], bool]) -> Callable[[Any, Any], Any]:
    def call(a: Any, b: Any) -> Any:
        if a is None or b is None:
            return False
        return fn(str(a), str(b))
    return call


def _unary_fn(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def call(a: Any) -> Any:
        return None if a is None else fn(a)
    return call


def _dt_part(attr: str) -> Callable[[Any], Any]:
    def call(a: Any) -> Any:
        dt = _to_datetime(a)
        return None if dt is None else Decimal(getattr(dt, attr))
    return call


FUNCTIONS: dict[str, tuple[int, Callable[..., Any]]] = {
    "startswith": (2, _str_fn(lambda a, b: a.startswith(b))),
    "endswith": (2, _str_fn(lambda a, b: a.endswith(b))),
    "contains": (2, _str_fn(lambda a, b: b in a)),
    "substringof": (2, _str_fn(lambda a, b: a in b)),
    "tolower": (1, _unary_fn(lambda a: str(a).lower())),
    "toupper": (1, _unary_fn(lambda a: str(a).upper())),
    "trim": (1, _unary_fn(lambda a: str(a).strip())),
    "length": (1, _unary_fn(lambda a: Decimal(len(str(a))))),
    "year": (1, _dt_part("year")),
    "month": (1, _dt_part("month")),
    "day": (1, _dt_part("day")),
}


@dataclass
class Filter:
    """A compiled ``$filter``: ``predicate(row) -> bool``; ``key_eq`` holds top-level ``Field eq literal``
    conjuncts (used to answer key lookups from the index)."""

    text: str
    predicate: Callable[[dict], bool]
    key_eq: dict[str, Any]
    fields: set[str]


class _Parser:
    def __init__(self, src: str, known: Callable[[str], bool], cls: str,
                 aliases: dict[str, str] | None = None) -> None:
        self.aliases = aliases or {}
        self.src = src
        self.toks = _tokenize(src)
        self.i = 0
        self.known = known
        self.cls = cls
        self.fields: set[str] = set()
        self.or_count = 0

    # helpers
    def peek(self) -> Tok:
        return self.toks[self.i]

    def take(self) -> Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def fail(self, tok: Tok, expected: str) -> ODataError:
        return ODataError(f"Syntax error at position {tok.pos} in $filter: expected {expected}, found {tok.text!r}")

    def is_kw(self, tok: Tok, word: str) -> bool:
        return tok.kind == "name" and tok.value == word

    # grammar
    def parse(self) -> tuple[Callable[[dict], bool], dict[str, Any]]:
        node = self.or_expr()
        if self.peek().kind != "end":
            raise self.fail(self.peek(), "'and', 'or' or end of expression")
        if self.or_count > MAX_OR:
            raise ODataError(f"Too many OR values in $filter: {self.or_count} (Uniconta allows at most {MAX_OR})")
        pred, key_eq = node
        return pred, key_eq

    def or_expr(self) -> tuple[Callable[[dict], bool], dict[str, Any]]:
        parts = [self.and_expr()]
        while self.is_kw(self.peek(), "or"):
            self.take()
            self.or_count += 1
            parts.append(self.and_expr())
        if len(parts) == 1:
            return parts[0]
        preds = [p for p, _ in parts]
        return (lambda row: any(p(row) for p in preds)), {}

    def and_expr(self) -> tuple[Callable[[dict], bool], dict[str, Any]]:
        parts = [self.unary()]
        while self.is_kw(self.peek(), "and"):
            self.take()
            parts.append(self.unary())
        if len(parts) == 1:
            return parts[0]
        key_eq: dict[str, Any] = {}
        for _, k in parts:
            key_eq.update(k)
        preds = [p for p, _ in parts]
        return (lambda row: all(p(row) for p in preds)), key_eq

    def unary(self) -> tuple[Callable[[dict], bool], dict[str, Any]]:
        tok = self.peek()
        if self.is_kw(tok, "not"):
            self.take()
            inner, _ = self.unary()
            return (lambda row: not inner(row)), {}
        if tok.kind == "punct" and tok.value == "(":
            # Either a parenthesised boolean expression or a parenthesised value in a comparison;
            # we only support the former (OData services rarely need the latter).
            self.take()
            node = self.or_expr()
            close = self.take()
            if close.kind != "punct" or close.value != ")":
                raise self.fail(close, "')'")
            return node
        return self.comparison()

    def comparison(self) -> tuple[Callable[[dict], bool], dict[str, Any]]:
        left_tok = self.peek()
        left, left_field = self.value()
        op_tok = self.peek()
        if op_tok.kind == "name" and op_tok.value in COMPARE_OPS:
            self.take()
            right_tok = self.peek()
            right, right_field = self.value()
            op = op_tok.value
            key_eq: dict[str, Any] = {}
            if op == "eq" and left_field and right_tok.kind == "lit":
                key_eq[left_field] = right_tok.value
            return (lambda row: _compare(op, left(row), right(row))), key_eq
        # a bare boolean value: a function like startswith(...) or a bool field
        if left_tok.kind == "name" and (left_tok.value in FUNCTIONS or left_field):
            return (lambda row: left(row) is True), {}
        raise self.fail(op_tok, "a comparison operator (eq, ne, gt, ge, lt, le)")

    def value(self) -> tuple[Getter, str | None]:
        tok = self.take()
        if tok.kind == "lit":
            v = tok.value
            return (lambda row: v), None
        if tok.kind == "name" and tok.value not in KEYWORDS:
            nxt = self.peek()
            if nxt.kind == "punct" and nxt.value == "(":
                return self.call(tok), None
            name = tok.value
            if not self.known(name):
                raise ODataError(f"Could not find a property named '{name}' on type "
                                 f"'Uniconta.ClientTools.DataModel.{self.cls}' (position {tok.pos} in $filter)")
            name = self.aliases.get(name, name)
            self.fields.add(name)
            return (lambda row: row.get(name)), name
        raise self.fail(tok, "a property name or a literal")

    def call(self, name_tok: Tok) -> Getter:
        fn_name = name_tok.value
        if fn_name not in FUNCTIONS:
            raise ODataError(f"Unknown function '{fn_name}' at position {name_tok.pos} in $filter")
        arity, fn = FUNCTIONS[fn_name]
        self.take()  # (
        args: list[Getter] = []
        while True:
            getter, _ = self.value()
            args.append(getter)
            tok = self.take()
            if tok.kind == "punct" and tok.value == ",":
                continue
            if tok.kind == "punct" and tok.value == ")":
                break
            raise self.fail(tok, "',' or ')'")
        if len(args) != arity:
            raise ODataError(f"Function '{fn_name}' takes {arity} argument(s), got {len(args)} "
                             f"(position {name_tok.pos} in $filter)")
        if arity == 1:
            a0 = args[0]
            return lambda row: fn(a0(row))
        a0, a1 = args
        return lambda row: fn(a0(row), a1(row))


def parse_filter(src: str, known: Callable[[str], bool], cls: str,
                 aliases: dict[str, str] | None = None) -> Filter:
    """Compile ``$filter`` text; raises :class:`ODataError` with a position on any mistake. ``aliases`` maps a
    served field name to the stored one (e.g. ``PrimaryKeyId`` → ``RowId``); ``known`` judges the served names."""
    if not src.strip():
        raise ODataError("Empty $filter")
    p = _Parser(src, known, cls, aliases)
    pred, key_eq = p.parse()
    return Filter(src, pred, key_eq, p.fields)


# ----------------------------------------------------------------------------------------------------- orderby
def parse_orderby(src: str, known: Callable[[str], bool], cls: str,
                  aliases: dict[str, str] | None = None) -> list[tuple[str, bool]]:
    """``"Name asc, Account desc"`` → ``[("Name", False), ("Account", True)]`` (second = descending)."""
    keys: list[tuple[str, bool]] = []
    for part in src.split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise ODataError(f"Invalid $orderby clause {part.strip()!r}: expected 'Property [asc|desc]'")
        if not known(words[0]):
            raise ODataError(f"Could not find a property named '{words[0]}' on type "
                             f"'Uniconta.ClientTools.DataModel.{cls}' in $orderby")
        keys.append(((aliases or {}).get(words[0], words[0]), len(words) == 2 and words[1] == "desc"))
    return keys


def sort_key(v: Any) -> tuple:
    """Total order over mixed JSON values: nulls first (as SQL Server), then bools, numbers, text."""
    if v is None or v == "":
        return (0, 0)
    if isinstance(v, bool):
        return (1, v)
    if isinstance(v, (int, float, Decimal)):
        return (2, v)
    return (3, str(v))


def sort_rows(rows: list[dict], keys: list[tuple[str, bool]]) -> list[dict]:
    """Stable multi-key sort (least significant key first); ``rows`` arrive in RowId order."""
    out = list(rows)
    for name, desc in reversed(keys):
        out.sort(key=lambda r, n=name: sort_key(r.get(n)), reverse=desc)
    return out


def parse_select(src: str, known: Callable[[str], bool], cls: str,
                 aliases: dict[str, str] | None = None) -> list[str]:
    names = [s.strip() for s in src.split(",") if s.strip()]
    if not names:
        raise ODataError("Empty $select")
    for n in names:
        if n != "*" and not known(n):
            raise ODataError(f"Could not find a property named '{n}' on type "
                             f"'Uniconta.ClientTools.DataModel.{cls}' in $select")
    return [] if "*" in names else [(aliases or {}).get(n, n) for n in names]


def parse_nonneg_int(name: str, value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise ODataError(f"Invalid value for {name}: {value!r} is not an integer") from None
    if n < 0:
        raise ODataError(f"Invalid value for {name}: must not be negative")
    return n
