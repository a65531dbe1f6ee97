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

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Engine, select, text

from .entities import EntitySpec, natural_key
from .tables import COMMON_COLUMNS, STAGING, snake

DEFAULT_CHUNK = 20_000


def canonical_json(payload: dict[str, Any]) -> str:
    """Deterministic JSON of a payload: sorted keys, no whitespace; Decimals and dates as strings."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def content_hash(canonical: str) -> str:
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _convert(value: Any, kind: str) -> Any:
    """Best-effort typed value for a typed column; the raw payload stays authoritative (``None`` if unparsable)."""
    if value is None or value == "":
        return None
    try:
        if kind == "str":
            return str(value)[:400]
        if kind == "int":
            return int(value)
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


def _chunks(records: Iterable[dict], size: int) -> Iterator[list[dict]]:
    chunk: list[dict] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def to_rows(spec: EntitySpec, tenant: str, run_id: str, staged_at: datetime, records: Iterable[dict]) -> list[dict]:
    """Turn payload dicts into staging rows (common columns + typed columns). Records without key are refused."""
    rows = []
    for payload in records:
        key = natural_key(spec, payload)
        if key is None:
            raise ValueError(f"{spec.qualified}: record without natural key {spec.key} reached the loader: {payload!r}")
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
        for field, kind in spec.columns.items():
            row[snake(field)] = _convert(payload.get(field), kind)
        rows.append(row)
    return rows


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

    def load(self, spec: EntitySpec, tenant: str, run_id: str, records: Iterable[dict],
             staged_at: datetime | None = None) -> int:
        staged_at = staged_at or datetime.now().replace(microsecond=0)
        written = 0
        for chunk in _chunks(records, self.chunk_size):
            rows = to_rows(spec, tenant, run_id, staged_at, chunk)
            if self.engine.dialect.name == "postgresql":
                written += self._load_postgres(spec, rows)
            else:
                written += self._load_generic(spec, rows)
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

    def _load_generic(self, spec: EntitySpec, rows: list[dict]) -> int:
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
            dbapi = conn.connection.dbapi_connection
            before = dbapi.total_changes
            conn.execute(stmt, rows)
            return dbapi.total_changes - before

    def _load_postgres(self, spec: EntitySpec, rows: list[dict]) -> int:
        cols = self._columns(spec)
        table = STAGING[spec.qualified]
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        for row in rows:
            writer.writerow([_csv_value(row[c]) for c in cols])
        buf.seek(0)
        tmp = f"tmp_{table.name}"
        raw = self.engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {tmp} (LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")
            copy_sql = f"COPY {tmp} ({', '.join(cols)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
            if hasattr(cur, "copy_expert"):          # psycopg2
                cur.copy_expert(copy_sql, buf)
            else:                                     # psycopg 3
                with cur.copy(copy_sql) as copy:
                    copy.write(buf.getvalue())
            cur.execute(self._upsert_sql(spec, f"SELECT {', '.join(cols)} FROM {tmp}"))
            written = cur.rowcount
            raw.commit()
            return max(written, 0)
        except Exception:
            raw.rollback()
            raise
        finally:
            raw.close()


def _csv_value(value: Any) -> Any:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return value
