"""The one way to read staged payloads back: :func:`payloads` (and :func:`rows`, :func:`payload`, the keys alone
:func:`natural_keys`) and the
:class:`Tenant` value type of the staging ``tenant`` column (issue 12, item 5).

Every staging table keys its rows by ``(tenant, natural_key)`` (:mod:`tlsync.staging.tables`). The tenant is one of

- a **site-level** tenant: the TimeLog site code (``SIMSITE``) for the site's own data — customers, projects,
  products, reference lists — or a Uniconta company id (``10001``) for everything of that company;
- a **legal-entity** tenant ``<site>:<legal entity>`` (``SIMSITE:1``) for TimeLog data read per legal entity
  ↔ Uniconta company pair, the invoices and their lines (rule S2).

That encoding is spelled here only: :meth:`Tenant.parse` / ``str(tenant)`` convert, and the SQL predicates
:meth:`Tenant.site_only` (every site-level tenant — the settings know a legal entity and a company, never the
Reporting site code) and :meth:`Tenant.of_legal_entity` (every ``<site>:<n>``) select without knowing the site.

Decisions recorded:

- **Exact money.** A payload comes back with every non-integer JSON number as a :class:`~decimal.Decimal`
  (``parse_float=Decimal``; the conventions: money is ``Decimal`` in anything summed or compared). A read that
  keeps a few ``fields`` of each payload (the linking refresh, 100k customers × 7 fields) parses with ``orjson``
  (~3× ``json``) and parses again with ``json`` only a payload whose kept fields hold a float or a nested value;
  a whole payload is parsed by ``json`` directly (a Uniconta record nearly always holds a float, and parsing twice
  would cost more than it saves) — unless the caller says it holds its numbers as text (``text_numbers``: TimeLog's
  invoices and lines, which the invoice backfill reads by the hundred thousand; then ``orjson`` first as for a cut
  one). Either way the result is that of ``json.loads(text, parse_float=Decimal)``.
- **Short IN lists.** A key filter is sent as ``IN`` lists of at most :data:`IN_CHUNK` keys per statement, on
  SQLite (bound-parameter limit) and PostgreSQL alike.
- **One order.** Rows come in ``natural_key`` order (then tenant): the same on every dialect, so that a read
  that keeps one payload per key across several site tenants keeps the same one.
- **Corrupt rows are errors.** Staging payloads are written by the loader only, as JSON objects; a payload that
  is not one is a damaged database and raises :class:`StagedPayloadError` naming the table and key, instead of
  being read as an empty record.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, NamedTuple

import orjson
from sqlalchemy import Engine, Select, select
from sqlalchemy.sql.elements import ColumnElement

from .tables import STAGING

IN_CHUNK = 500          # keys per IN list (one statement each)
SEPARATOR = ":"         # <site>:<legal entity>

Payload = dict[str, Any]


class StagedPayloadError(ValueError):
    """A staged payload that is not a JSON object (a damaged staging database)."""


@dataclass(frozen=True)
class Tenant:
    """One value of the staging ``tenant`` column: ``code`` (a TimeLog site code or a Uniconta company id) and,
    for TimeLog data read per legal entity, the ``legal_entity`` (``None`` for a site-level tenant)."""

    code: str
    legal_entity: int | None = None

    def __post_init__(self) -> None:
        if not self.code or SEPARATOR in self.code:
            raise ValueError(f"not a staging tenant code: {self.code!r}")
        if self.legal_entity is not None and (isinstance(self.legal_entity, bool) or self.legal_entity < 0):
            raise ValueError(f"not a legal entity id: {self.legal_entity!r}")

    @classmethod
    def parse(cls, text: str) -> Tenant:
        """``"SIMSITE"`` → site level, ``"SIMSITE:1"`` → legal entity 1 of the site, ``"10001"`` → a company."""
        code, sep, entity = str(text).rpartition(SEPARATOR)
        if not sep:
            return cls(entity)
        if not entity.isdigit():
            raise ValueError(f"not a staging tenant: {text!r} (expected <site> or <site>:<legal entity id>)")
        return cls(code, int(entity))

    @classmethod
    def company(cls, company_id: int | str) -> Tenant:
        """The tenant of a Uniconta company's staged data (the company id as text)."""
        return cls(str(int(company_id)))

    def format(self) -> str:
        """The column value: ``<code>`` or ``<code>:<legal entity>``."""
        return self.code if self.legal_entity is None else f"{self.code}{SEPARATOR}{self.legal_entity}"

    def __str__(self) -> str:
        return self.format()

    @property
    def site_level(self) -> bool:
        return self.legal_entity is None

    @property
    def site(self) -> Tenant:
        """The site-level tenant of the same site (itself when it is one)."""
        return self if self.legal_entity is None else Tenant(self.code)

    def for_legal_entity(self, legal_entity_id: int) -> Tenant:
        """``SIMSITE`` → ``SIMSITE:<legal entity>``: where the site's data of one legal entity is staged."""
        return Tenant(self.code, int(legal_entity_id))

    def where(self, column: ColumnElement[Any]) -> ColumnElement[bool]:
        return column == self.format()

    @staticmethod
    def site_only() -> TenantScope:
        """Every site-level tenant (no ``:``) — TimeLog's site data whatever the site code is."""
        return TenantScope("site")

    @staticmethod
    def of_legal_entity(legal_entity_id: int) -> TenantScope:
        """Every ``<site>:<legal entity>`` tenant of one legal entity, whatever the site code is."""
        return TenantScope("legal_entity", int(legal_entity_id))


@dataclass(frozen=True)
class TenantScope:
    """A set of tenants selected without naming them: see :meth:`Tenant.site_only` and
    :meth:`Tenant.of_legal_entity`."""

    kind: Literal["site", "legal_entity"]
    legal_entity: int | None = None

    def where(self, column: ColumnElement[Any]) -> ColumnElement[bool]:
        """The SQL predicate on a ``tenant`` column."""
        if self.kind == "site":
            return column.not_like(f"%{SEPARATOR}%")
        return column.like(f"%{SEPARATOR}{self.legal_entity}")

    def __contains__(self, tenant: object) -> bool:
        """The same test in Python, on a tenant or its column value."""
        parsed = tenant if isinstance(tenant, Tenant) else Tenant.parse(str(tenant))
        if self.kind == "site":
            return parsed.site_level
        return parsed.legal_entity == self.legal_entity


Tenants = Tenant | TenantScope | None
"""What a read takes: one tenant, a scope of tenants, or ``None`` for every tenant."""


class Staged(NamedTuple):
    """One staged row as read back."""

    tenant: str
    key: str
    payload: Payload


_INEXACT = frozenset({float, dict, list})   # a JSON number orjson made a float, or a value that may hold one
_decimal_loads = json.JSONDecoder(parse_float=Decimal).decode


def _exact(raw: str | bytes) -> Any:
    try:
        return _decimal_loads(raw if isinstance(raw, str) else raw.decode("utf-8"))
    except ValueError:
        return None


def loads(raw: str | bytes, fields: Sequence[str] | None = None, *, text_numbers: bool = False) -> Payload:
    """A payload text as a dict with exact Decimals (the same as ``json.loads(raw, parse_float=Decimal)``), cut
    to ``fields`` when given (the fields it has of them). A whole payload is parsed by ``json`` at once; a cut one
    by ``orjson`` first, and again by ``json`` only when a kept field is a float or a nested value.
    ``text_numbers``: the payload is one that holds its non-integer numbers as text (TimeLog's Reporting records:
    invoices, lines, line details) — parsed whole by ``orjson`` first as well, and by ``json`` only when a value
    turns out to be a float or nested (the invoice transfer's reads: 3× faster, the same dict)."""
    if fields is not None or text_numbers:
        try:
            value: Any = orjson.loads(raw)
        except orjson.JSONDecodeError:
            value = None
        if type(value) is dict:
            kept: Payload = value if fields is None else {k: value[k] for k in fields if k in value}
            for v in kept.values():
                if type(v) in _INEXACT:
                    break
            else:
                return kept
    value = _exact(raw)
    if not isinstance(value, dict):
        raise StagedPayloadError("a staged payload is not a JSON object")
    return value if fields is None else {k: value[k] for k in fields if k in value}


def _statements(entity: str, tenant: Tenants, keys: Iterable[str | int] | None, by: str) -> Iterator[Select[Any]]:
    table = STAGING[entity]
    query = select(table.c.tenant, table.c.natural_key, table.c.payload)
    if tenant is not None:
        query = query.where(tenant.where(table.c.tenant))
    if keys is None or by == "natural_key":
        query = query.order_by(table.c.natural_key, table.c.tenant)
    if keys is None:
        yield query
        return
    column = table.c[by]    # by a typed column: no ORDER BY — SQLite would walk the primary key instead of its index
    wanted: list[Any] = sorted({str(k) for k in keys}) if by == "natural_key" else sorted(set(keys), key=str)
    for start in range(0, len(wanted), IN_CHUNK):
        yield query.where(column.in_(wanted[start:start + IN_CHUNK]))


def rows(engine: Engine, entity: str, tenant: Tenants = None, keys: Iterable[str | int] | None = None, *,
         by: str = "natural_key", fields: Sequence[str] | None = None) -> Iterator[Staged]:
    """The staged rows of ``entity`` (``"timelog.customers"``) of ``tenant`` (a :class:`Tenant`, a
    :class:`TenantScope`, or ``None`` for all), optionally only those whose ``by`` column (the natural key, or a
    typed column such as ``invoice_id``) is one of ``keys``; each payload cut to ``fields`` when given. Every row,
    also the same key under several tenants, in natural-key order (per IN chunk when ``keys`` are given)."""
    table = STAGING[entity].name
    in_python = keys is not None and by != "natural_key"     # see _statements: each chunk sorted here
    with engine.connect() as conn:
        for statement in _statements(entity, tenant, keys, by):
            result = conn.execute(statement)
            parts = ([sorted(result.all(), key=lambda r: (r[1], r[0]))] if in_python else result.partitions(5000))
            for part in parts:
                for row_tenant, key, raw in part:
                    try:
                        parsed = loads(raw, fields)
                    except StagedPayloadError:
                        raise StagedPayloadError(f"{table} row {row_tenant}/{key}: the payload is not a JSON object; "
                                                 f"the staging database is damaged (stage it again)") from None
                    yield Staged(str(row_tenant), str(key), parsed)


def payloads(engine: Engine, entity: str, tenant: Tenants = None, keys: Iterable[str | int] | None = None, *,
             by: str = "natural_key", fields: Sequence[str] | None = None) -> dict[str, Payload]:
    """``{natural key: payload}`` of :func:`rows` (in natural-key order; of a key staged under several of the
    tenants read, the one of the last tenant in text order)."""
    return {r.key: r.payload for r in rows(engine, entity, tenant, keys, by=by, fields=fields)}


def payload(engine: Engine, entity: str, tenant: Tenants, key: str | int) -> Payload | None:
    """One staged payload by natural key (``None`` when not staged); with ``tenant`` ``None`` the key alone is
    looked up (an index probe on tables that index it, e.g. TimeLog customers)."""
    found = payloads(engine, entity, tenant, [str(key)])
    return found.get(str(key))


def natural_keys(engine: Engine, entity: str, tenant: Tenants = None) -> list[str]:
    """The natural keys of ``entity``'s staged rows of ``tenant``, without reading their payloads (natural-key
    order; a key staged under several of the tenants read comes once per tenant)."""
    table = STAGING[entity]
    query = select(table.c.natural_key)
    if tenant is not None:
        query = query.where(tenant.where(table.c.tenant))
    with engine.connect() as conn:
        return [str(k) for k in conn.execute(query.order_by(table.c.natural_key, table.c.tenant)).scalars()]


def staged_times(engine: Engine, entity: str, tenant: Tenants, keys: Iterable[str | int]) -> dict[str, datetime]:
    """``{natural key: staged_at}`` of some staged records of ``tenant`` (of the last tenant in text order when a
    key is staged under several), without reading their payloads."""
    table = STAGING[entity]
    query = select(table.c.natural_key, table.c.staged_at)
    if tenant is not None:
        query = query.where(tenant.where(table.c.tenant))
    query = query.order_by(table.c.natural_key, table.c.tenant)
    wanted = sorted({str(k) for k in keys})
    out: dict[str, datetime] = {}
    with engine.connect() as conn:
        for start in range(0, len(wanted), IN_CHUNK):
            for key, at in conn.execute(query.where(table.c.natural_key.in_(wanted[start:start + IN_CHUNK]))):
                if at is not None:
                    out[str(key)] = at
    return out


def tenants(engine: Engine, entity: str, scope: Tenants = None) -> list[Tenant]:
    """The distinct tenants ``entity`` has staged rows of (in ``scope``), sorted."""
    table = STAGING[entity]
    query = select(table.c.tenant).distinct()
    if scope is not None:
        query = query.where(scope.where(table.c.tenant))
    with engine.connect() as conn:
        return [Tenant.parse(t) for t in sorted(conn.execute(query).scalars())]
