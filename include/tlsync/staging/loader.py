"""Bulk, idempotent loading of staged records, in chunks with bounded memory.

A record is the raw payload dict of one API entity. For each chunk the loader computes the canonical JSON and
its SHA-256 ``content_hash``, then upserts on ``(tenant, natural_key)`` **only where the hash differs**, so an
inclusive cursor never creates duplicates and an unchanged record is never rewritten (issue 4).

Fast paths, one per dialect, same semantics:
- PostgreSQL: ``COPY`` of the chunk into a temporary table, then one ``INSERT … SELECT … ON CONFLICT DO UPDATE
  … WHERE content_hash IS DISTINCT``. COPY is what makes the loader several times faster than ``to_sql``.
- SQLite (embedded default): ``executemany`` of the same upsert inside one transaction per chunk.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import Engine, select

from .entities import EntitySpec, natural_key
from .tables import COMMON_COLUMNS, STAGING, snake

DEFAULT_CHUNK = 20_000
COPY_STREAMS = 2          # chunks COPYed at once, each on its own connection (PostgreSQL)


def _canonical_default(value: Any) -> str:
    if isinstance(value, (Decimal, date)):
        return str(value)
    raise TypeError(f"cannot stage a value of type {type(value).__name__}: {value!r}")


def canonical_json(payload: dict[str, Any]) -> str:
    """Deterministic JSON of a payload: sorted keys, no whitespace, UTF-8; Decimals and dates as strings.

    orjson, because this runs once per record on the hottest path of every load (4× faster than ``json``)."""
    return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS,
                        default=_canonical_default).decode("utf-8")


def content_hash(canonical: str) -> str:
    """SHA-256 of the canonical JSON: equal hash, equal record — the test for "unchanged, don't rewrite"."""
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _convert(value: Any, kind: str) -> Any:
    """Best-effort typed value for a typed column; the raw payload stays authoritative (``None`` if unparsable)."""
    if value is None or value == "":
        return None
    try:
        if kind == "str":
            return str(value)[:400]
        if kind == "int":   # an INTEGER column: a number beyond its range is unparsable here (the payload keeps it)
            number = int(value)
            return number if -2**31 <= number < 2**31 else None
        if kind == "decimal":
            return Decimal(str(value))
        if kind == "bool":
            return str(value).strip().lower() in {"1", "true", "yes"}
        if kind == "datetime":
            return value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", ""))
        if kind == "date":
            return value if isinstance(value, date) else datetime.fromisoformat(str(value).replace("Z", "")).date()
    except (ValueError, TypeError, InvalidOperation):
        return None
    raise ValueError(f"unknown column kind {kind!r}")


def _chunks(records: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _key(spec: EntitySpec, payload: dict[str, Any]) -> str:
    """The natural key; a record without one never gets this far (the quality gate quarantines it) — if it does,
    that is a bug worth a loud, specific error rather than a row keyed on nothing."""
    key = natural_key(spec, payload)
    if key is None:
        raise ValueError(f"{spec.qualified}: record without natural key {spec.key} reached the loader: {payload!r}")
    return key


_TYPED: dict[str, tuple[tuple[str, str, str], ...]] = {}


def _typed_columns(spec: EntitySpec) -> tuple[tuple[str, str, str], ...]:
    """``(API field, column name, kind)`` per typed column, computed once per spec (this is a hot path)."""
    plan = _TYPED.get(spec.qualified)
    if plan is None:
        plan = _TYPED[spec.qualified] = tuple((f, snake(f), kind) for f, kind in spec.columns.items())
    return plan


def to_rows(spec: EntitySpec, tenant: str, run_id: str, staged_at: datetime,
            records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Turn payload dicts into staging rows (common columns + typed columns). Records without key are refused."""
    typed = _typed_columns(spec)
    rows = []
    for payload in records:
        key = _key(spec, payload)
        canon = canonical_json(payload)
        row = {
            "source_system": spec.system,
            "tenant": tenant,
            "natural_key": key,
            "content_hash": content_hash(canon),
            "run_id": run_id,
            "staged_at": staged_at,
            "payload": canon,
        }
        for field, column, kind in typed:
            row[column] = _convert(payload.get(field), kind)
        rows.append(row)
    return rows


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r]")


def _escape(text: str) -> str:
    """COPY text-format escaping, skipped for the common string that needs none (hot path)."""
    return text.translate(_COPY_ESCAPES) if _NEEDS_ESCAPE.search(text) else text


def _copy_text(value: Any) -> str:
    """One field in PostgreSQL's COPY text format (``\\N`` for NULL; backslash, tab, CR, LF escaped)."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return _escape(str(value))


def _copy_str(value: Any) -> str:
    if value is None or value == "":
        return "\\N"
    return _escape(value[:400] if isinstance(value, str) else str(value)[:400])


_INT_TEXT = re.compile(r"[-+]?\d{1,9}").fullmatch
_DECIMAL_TEXT = re.compile(r"[-+]?\d{1,14}(?:\.\d+)?").fullmatch


def _copy_number(pattern: Callable[[str], Any], kind: str) -> Callable[[Any], str]:
    """A number already written the way PostgreSQL reads it passes through as is (checked by a regular expression,
    the cheapest test on this hot path); anything else is parsed, and what does not parse becomes NULL, as on
    SQLite. The raw payload keeps the original value either way."""
    def convert(value: Any) -> str:
        if value is None or value == "":
            return "\\N"
        if isinstance(value, str) and pattern(value):
            return value
        return _copy_text(_convert(value, kind))
    return convert


def _copy_temporal(kind: str) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        if value is None or value == "":
            return "\\N"
        return _copy_text(_convert(value, kind))
    return convert


_COPY_CONVERTERS = {"str": _copy_str, "int": _copy_number(_INT_TEXT, "int"),
                    "decimal": _copy_number(_DECIMAL_TEXT, "decimal"), "date": _copy_temporal("date"),
                    "datetime": _copy_temporal("datetime"), "bool": _copy_temporal("bool")}


_FAST_TEXT = {"int": r"[-+]?+\d{1,9}+", "decimal": r"[-+]?+\d{1,14}+(?:\.\d++)?+", "str": r"[^\\\t\n\r]{1,400}+"}
"""Per column kind, a string PostgreSQL reads as is and COPY needs no escape for (numbers as the API writes them,
text without backslash, tab or line break and within the column's 400 characters). Possessive quantifiers: no
backtracking, a fifth faster on this hot path."""


def _fast_typed(spec: EntitySpec) -> tuple[Callable[[dict[str, Any]], Any], Callable[[str], Any]] | None:
    """``payload → typed columns as one COPY text fragment`` for the common record, or ``None`` when the entity has
    a column kind without a fast form (dates, booleans). One ``itemgetter``, one ``join`` and **one** regular
    expression over the joined fields replace a converter call per field (the loader's largest cost, issue 18);
    a record the expression does not pass (a missing field, a non-string, an empty or unusual value) takes the
    per-field converters, so both paths write the same row."""
    kinds = [kind for _, _, kind in _typed_columns(spec)]
    if not kinds or any(kind not in _FAST_TEXT for kind in kinds):
        return None
    fields = [field for field, _, _ in _typed_columns(spec)]
    getter = itemgetter(*fields) if len(fields) > 1 else (lambda payload, f=fields[0]: (payload[f],))
    return getter, re.compile("\t".join(_FAST_TEXT[kind] for kind in kinds)).fullmatch


def _no_match(text: str) -> None:
    """The fast path's test when there is no fast path (never called: its getter is ``None``)."""
    return None


def _key_function(spec: EntitySpec) -> Callable[[dict[str, Any]], str | None]:
    """:func:`natural_key` of the spec, with a fast path for the one-field key of almost every entity."""
    if len(spec.key) != 1:
        return lambda payload: natural_key(spec, payload)
    field = spec.key[0]

    def key(payload: dict[str, Any]) -> str | None:
        value = payload.get(field)
        if value is None:
            return None
        text = (value if value.__class__ is str else str(value)).strip()
        return text or None
    return key


def to_copy_text(spec: EntitySpec, tenant: str, run_id: str, staged_at: datetime,
                 records: Iterable[dict[str, Any]], keys: set[str] | None = None) -> tuple[str, int]:
    """The same rows as :func:`to_rows`, straight to COPY text (no intermediate dicts; this is the hot path);
    ``keys``, when given, receives every row's natural key.

    Per record: the canonical JSON is hashed as the bytes orjson returns (no re-encoding), the typed columns take
    :func:`_fast_typed`'s one-expression path when they can, and the line is one f-string."""
    converters = [(field, _COPY_CONVERTERS[kind]) for field, _, kind in _typed_columns(spec)]
    fast = _fast_typed(spec)
    getter, passes = fast if fast else (None, _no_match)
    key_of = _key_function(spec)
    head = "\t".join(_copy_text(v) for v in (spec.system, tenant))
    tail = "\t".join(_copy_text(v) for v in (run_id, staged_at.isoformat(sep=" ")))
    dumps, option, sha256 = orjson.dumps, orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, hashlib.sha256
    needs_escape = _NEEDS_ESCAPE.search
    lines: list[str] = []
    append = lines.append
    for payload in records:
        key = key_of(payload)
        if key is None:
            key = _key(spec, payload)     # raises the loud, specific error
        if keys is not None:
            keys.add(key)
        if needs_escape(key):
            key = _escape(key)
        raw = dumps(payload, option=option, default=_canonical_default)
        text = raw.decode("utf-8")
        # JSON escapes tabs and newlines itself, so only its backslashes need doubling for COPY.
        if "\\" in text:
            text = text.replace("\\", "\\\\")
        if converters:
            typed = None
            if getter is not None:
                try:
                    joined = "\t".join(getter(payload))
                    if passes(joined):
                        typed = joined
                except (KeyError, TypeError):
                    pass
            if typed is None:
                typed = "\t".join([convert(payload.get(field)) for field, convert in converters])
            append(f"{head}\t{key}\t{sha256(raw).hexdigest()}\t{tail}\t{text}\t{typed}")
        else:
            append(f"{head}\t{key}\t{sha256(raw).hexdigest()}\t{tail}\t{text}")
    lines.append("")
    return "\n".join(lines), len(lines) - 1


class StagingLoader:
    """Loads records of one entity for one tenant; returns how many rows were inserted or changed."""

    def __init__(self, engine: Engine, chunk_size: int = DEFAULT_CHUNK) -> None:
        self.engine = engine
        self.chunk_size = chunk_size

    def existing_hashes(self, spec: EntitySpec, tenant: str) -> dict[str, str]:
        """``natural_key → content_hash`` of what is staged now for ``tenant`` (used to skip unchanged rows)."""
        table = STAGING[spec.qualified]
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=50_000).execute(
                select(table.c.natural_key, table.c.content_hash).where(table.c.tenant == tenant)
            )
            return {key: digest for key, digest in result}

    def load(self, spec: EntitySpec, tenant: str, run_id: str, records: Iterable[dict[str, Any]],
             staged_at: datetime | None = None) -> int:
        staged_at = staged_at or datetime.now().replace(microsecond=0)
        if self.engine.dialect.name == "postgresql":
            return self._pipelined_postgres(spec, tenant, run_id, staged_at, records)
        return sum(self._load_generic(spec, to_rows(spec, tenant, run_id, staged_at, chunk))
                   for chunk in _chunks(records, self.chunk_size))

    def _pipelined_postgres(self, spec: EntitySpec, tenant: str, run_id: str, staged_at: datetime,
                            records: Iterable[dict[str, Any]]) -> int:
        """Build chunk *n+2*'s COPY text while the server ingests chunks *n* and *n+1* on two connections
        (psycopg releases the GIL while it waits), so Python and two PostgreSQL backends work at the same time:
        the server's COPY of one stream keeps one core busy and is the loader's limit with a single stream
        (docs/performance.md). Chunks loaded at once share no key — a chunk waits for those before it that hold
        one of its keys — so two streams never wait on each other's rows (no deadlock) and a repeated key ends
        as the later record, as when the chunks go one by one. At most three chunks are in memory."""
        written = 0
        first_load = not self._has_rows(spec, tenant)
        with ThreadPoolExecutor(max_workers=COPY_STREAMS, thread_name_prefix="copy") as pool:
            pending: deque[tuple[Future[int], set[str]]] = deque()
            for chunk in _chunks(records, self.chunk_size):
                keys: set[str] = set()
                text, n = to_copy_text(spec, tenant, run_id, staged_at, chunk, keys)
                # a key repeated in a chunk still being loaded: that chunk first, so the later record wins as it
                # does when the chunks go one by one
                while pending and (len(pending) >= COPY_STREAMS or any(not keys.isdisjoint(k) for _, k in pending)):
                    written += pending.popleft()[0].result()
                pending.append((pool.submit(self._load_postgres, spec, text, n, first_load), keys))
            while pending:
                written += pending.popleft()[0].result()
        return written

    # -- dialect paths ---------------------------------------------------------------------------------------
    @staticmethod
    def _columns(spec: EntitySpec) -> list[str]:
        return [*COMMON_COLUMNS, *(snake(f) for f in spec.columns)]

    def _upsert_sql(self, spec: EntitySpec, source: str) -> str:
        cols = self._columns(spec)
        table = STAGING[spec.qualified].name
        updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in ("tenant", "natural_key"))
        return (
            f"INSERT INTO {table} ({', '.join(cols)}) {source} "
            f"ON CONFLICT (tenant, natural_key) DO UPDATE SET {updates} "
            f"WHERE {table}.content_hash <> excluded.content_hash"
        )

    def _load_generic(self, spec: EntitySpec, rows: list[dict[str, Any]]) -> int:
        """SQLite: ``executemany`` of one ``INSERT … ON CONFLICT DO UPDATE … WHERE hash differs``."""
        from sqlalchemy.dialects.sqlite import insert

        table = STAGING[spec.qualified]
        stmt = insert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.tenant, table.c.natural_key],
            set_={c: stmt.excluded[c] for c in self._columns(spec) if c not in ("tenant", "natural_key")},
            where=table.c.content_hash != stmt.excluded.content_hash,
        )
        with self.engine.begin() as conn:
            dbapi: Any = conn.connection.dbapi_connection     # sqlite3.Connection
            before: int = dbapi.total_changes
            conn.execute(stmt, rows)
            after: int = dbapi.total_changes
            return after - before

    def _has_rows(self, spec: EntitySpec, tenant: str) -> bool:
        table = STAGING[spec.qualified]
        with self.engine.connect() as conn:
            found = conn.execute(select(table.c.natural_key).where(table.c.tenant == tenant).limit(1)).first()
            return found is not None

    def _load_postgres(self, spec: EntitySpec, copy_text: str, n: int, direct: bool) -> int:
        """COPY the chunk into a temporary table, then upsert where the hash differs. On a tenant's first load
        (nothing was staged for it — initial loads and backfills, the big ones) the chunk is COPYed straight into
        the staging table; a key repeated there makes that COPY fail as a whole, and the chunk then takes the
        upsert path, which resolves it."""
        cols = ", ".join(self._columns(spec))
        table = STAGING[spec.qualified].name
        raw = self.engine.raw_connection()
        try:
            cur = raw.cursor()
            if direct:
                try:
                    _copy(cur, f"COPY {table} ({cols}) FROM STDIN", copy_text)
                    raw.commit()
                    return n
                except Exception as exc:
                    raw.rollback()
                    if "duplicate key" not in str(exc):
                        raise
                    cur = raw.cursor()
            cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS tmp_{table} (LIKE {table} INCLUDING DEFAULTS) "
                        "ON COMMIT DELETE ROWS")
            _copy(cur, f"COPY tmp_{table} ({cols}) FROM STDIN", copy_text)
            cur.execute(self._upsert_sql(spec, f"SELECT {cols} FROM tmp_{table}"))
            written = max(cur.rowcount, 0)
            raw.commit()
            return written
        except Exception:
            raw.rollback()
            raise
        finally:
            raw.close()


def _copy(cur: Any, copy_sql: str, copy_text: str) -> None:
    if hasattr(cur, "copy_expert"):          # psycopg2
        # One read of the whole chunk: psycopg2 takes the GIL for every read, and with the default 8 KiB reads
        # the COPY thread would queue behind the thread building the next chunk thousands of times.
        cur.copy_expert(copy_sql, io.StringIO(copy_text), size=len(copy_text) + 1)
    else:                                     # psycopg 3
        with cur.copy(copy_sql) as copy:
            copy.write(copy_text)
