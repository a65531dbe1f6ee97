"""Uniconta reads: the query options of an OData read — ``$filter`` and ``$orderby`` — built safely.

- :class:`Field` / :class:`Filter` build ``$filter`` expressions: strings are quoted with embedded quotes doubled
  (OData's escaping, so a customer called ``O'Brien ApS`` cannot break or widen a query), dates and datetimes are
  rendered as OData v2 ``datetime'YYYY-MM-DDTHH:MM:SS'`` literals (the form Uniconta documents), and ``None`` as
  ``null``. Operators: ``eq ne gt ge lt le`` combined with ``and`` / ``or``; at most
  :attr:`Field.MAX_OR_VALUES` OR-values in one filter (Uniconta's server limit).
- :func:`render_orderby` renders ``$orderby`` (``"Name"``, ``"-Date"`` for descending, or ``("Date", "desc")``).
- :func:`check_name` admits only field and class names (letters, digits, ``_``), so no name can carry an operator.

Pure text building, no HTTP: the reader that sends these is :class:`~.odata.ODataReader` (split from
:mod:`.odata` for issue 12, which re-exports these names: ``from tlsync.clients.uniconta.odata import Field``
keeps working).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

__all__ = ["Field", "Filter", "FilterLike", "OrderLike", "check_name", "literal", "render_filter",
           "render_orderby"]


def literal(value: Any) -> str:
    """Render a Python value as an OData literal.

    ``str`` → ``'O''Brien'`` (quotes doubled); ``datetime``/``date`` → ``datetime'2024-01-31T00:00:00'``;
    ``bool`` → ``true``/``false``; ``None`` → ``null``; numbers as written (``Decimal`` without exponent);
    an :class:`~enum.Enum` by its value.
    """
    if value is None:
        return "null"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise ValueError("Uniconta datetimes are local and naive; pass a naive datetime")
        return f"datetime'{value.replace(microsecond=0).isoformat(timespec='seconds')}'"
    if isinstance(value, date):
        return f"datetime'{value.isoformat()}T00:00:00'"
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite number: {value}")
        return format(value, "f")
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"cannot render {type(value).__name__} as an OData literal")


def check_name(name: str) -> str:
    """``name`` itself if it is a Uniconta field or class name (letters, digits, ``_``), else :class:`ValueError`."""
    if not name or not all(c.isalnum() or c == "_" for c in name):
        raise ValueError(f"not a Uniconta field name: {name!r}")
    return name


class Filter:
    """A ``$filter`` expression. Combine with ``&`` (and) and ``|`` (or); ``str(f)`` renders it."""

    __slots__ = ("_text", "_compound")

    def __init__(self, text: str, *, compound: bool = False) -> None:
        self._text = text
        self._compound = compound

    def _operand(self) -> str:
        return f"({self._text})" if self._compound else self._text

    def __and__(self, other: Filter) -> Filter:
        return Filter(f"{self._operand()} and {other._operand()}", compound=True)

    def __or__(self, other: Filter) -> Filter:
        return Filter(f"{self._operand()} or {other._operand()}", compound=True)

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"Filter({self._text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Filter) and other._text == self._text

    def __hash__(self) -> int:
        return hash(self._text)

    @staticmethod
    def all(*parts: Filter) -> Filter:
        """``a and b and …``"""
        if not parts:
            raise ValueError("Filter.all() needs at least one part")
        out = parts[0]
        for p in parts[1:]:
            out = out & p
        return out

    @staticmethod
    def any(*parts: Filter) -> Filter:
        """``a or b or …`` (Uniconta allows at most 40 OR-values in one filter; see :func:`Field.in_`)."""
        if not parts:
            raise ValueError("Filter.any() needs at least one part")
        out = parts[0]
        for p in parts[1:]:
            out = out | p
        return out


class Field:
    """A field in a filter: ``Field("Date") >= date(2024, 1, 1)`` → ``Date ge datetime'2024-01-01T00:00:00'``."""

    MAX_OR_VALUES = 40  # "The maximum number of OR's in a filter run on the uniconta server is 40."

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = check_name(name)

    def _cmp(self, op: str, value: Any) -> Filter:
        return Filter(f"{self.name} {op} {literal(value)}")

    def __eq__(self, value: Any) -> Filter:  # type: ignore[override]
        return self._cmp("eq", value)

    def __ne__(self, value: Any) -> Filter:  # type: ignore[override]
        return self._cmp("ne", value)

    def __gt__(self, value: Any) -> Filter:
        return self._cmp("gt", value)

    def __ge__(self, value: Any) -> Filter:
        return self._cmp("ge", value)

    def __lt__(self, value: Any) -> Filter:
        return self._cmp("lt", value)

    def __le__(self, value: Any) -> Filter:
        return self._cmp("le", value)

    __hash__ = None  # type: ignore[assignment]

    def between(self, low: Any, high: Any) -> Filter:
        """``low <= field <= high`` (inclusive, like Uniconta's ``a..b`` ranges)."""
        lower: Filter = self >= low
        upper: Filter = self <= high
        return lower & upper

    def in_(self, values: Sequence[Any]) -> Filter:
        """``field eq v1 or field eq v2 …`` — at most :attr:`MAX_OR_VALUES` values (Uniconta's server limit);
        split longer lists into several reads."""
        if not values:
            raise ValueError("in_() needs at least one value")
        if len(values) > self.MAX_OR_VALUES:
            raise ValueError(f"Uniconta allows at most {self.MAX_OR_VALUES} OR-values per filter; got {len(values)}")
        return Filter.any(*(self == v for v in values))


FilterLike = Filter | str | Mapping[str, Any] | None
"""A :class:`Filter`, a raw ``$filter`` string (taken as is — build it with :class:`Field` when it holds data),
or a mapping ``{field: value}`` meaning equality on every item, joined by ``and``."""


def render_filter(flt: FilterLike) -> str | None:
    if flt is None:
        return None
    if isinstance(flt, Filter):
        return str(flt)
    if isinstance(flt, str):
        return flt or None
    parts = [Field(k) == v for k, v in flt.items()]
    return str(Filter.all(*parts)) if parts else None


OrderLike = str | Sequence[str | tuple[str, str]] | None


def render_orderby(order: OrderLike) -> str | None:
    """``"Name"`` → ``Name asc``; ``"-Date"`` → ``Date desc``; ``[("Date", "desc"), "Account"]`` → both.
    A string that already contains ``asc``/``desc`` or a comma is checked and passed through."""
    if order is None:
        return None
    items: list[str | tuple[str, str]]
    if isinstance(order, str):
        items = [p.strip() for p in order.split(",") if p.strip()]
    else:
        items = list(order)
    out = []
    for item in items:
        if isinstance(item, tuple):
            name, direction = item
        else:
            bits = item.split()
            if len(bits) == 2:
                name, direction = bits
            elif item.startswith("-"):
                name, direction = item[1:], "desc"
            else:
                name, direction = item, "asc"
        direction = direction.lower()
        if direction not in ("asc", "desc"):
            raise ValueError(f"order direction must be asc or desc, not {direction!r}")
        out.append(f"{check_name(name)} {direction}")
    return ", ".join(out) or None
