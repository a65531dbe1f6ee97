"""The ledger's batch statements on PostgreSQL: many rows in one statement with one array parameter per column
(``unnest``), used by :meth:`Ledger.transition_many <tlsync.ledger.store.Ledger.transition_many>` for bulk paths
such as a five-year backfill.

Why arrays: SQLAlchemy's multi-row ``INSERT`` and ``executemany`` render and bind every value of every row in
Python; at L that was most of the ledger's time in the invoice backfill (issue 18). Here a statement is compiled
once and the driver sends each column as one array. SQLite keeps SQLAlchemy's statements (the caller decides).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

CHUNK = 2000
"""Rows per statement."""

_TYPES = {"legal_entity_id": "integer", "attempts": "integer", "created_at": "timestamp", "updated_at": "timestamp",
          "at": "timestamp"}
"""PostgreSQL types of the ledger's non-text columns."""

UPDATED = ("state", "reason", "run_id", "updated_at", "target_key", "content_hash", "details", "attempts")
"""The columns a ledger transition sets (the batch update of either database)."""

_UPDATE = text(
    "UPDATE sync_ledger AS l SET state = v.state, reason = v.reason, run_id = v.run_id, "
    "updated_at = v.updated_at, target_key = v.target_key, content_hash = v.content_hash, "
    "details = v.details, attempts = v.attempts "
    "FROM unnest(CAST(:k AS text[]), CAST(:was AS text[]), CAST(:state AS text[]), CAST(:reason AS text[]), "
    "CAST(:run_id AS text[]), CAST(:updated_at AS timestamp[]), CAST(:target_key AS text[]), "
    "CAST(:content_hash AS text[]), CAST(:details AS text[]), CAST(:attempts AS integer[])) "
    "AS v(k, was, state, reason, run_id, updated_at, target_key, content_hash, details, attempts) "
    "WHERE l.domain = :domain AND l.legal_entity_id = :le AND l.source_key = v.k AND l.state = v.was")


def update_from_arrays(conn: Any, domain: str, le: int, updates: list[dict[str, Any]]) -> int:
    """Each update (``k_source_key``, ``k_was`` and the new values) applied to its ledger row only if the row is
    still in the state ``k_was`` it was read in; returns how many rows changed — fewer than ``len(updates)``
    means one changed meanwhile (the caller rolls the batch back)."""
    changed = 0
    for i in range(0, len(updates), CHUNK):
        chunk = updates[i:i + CHUNK]
        params: dict[str, Any] = {"domain": domain, "le": le, "k": [u["k_source_key"] for u in chunk],
                                  "was": [u["k_was"] for u in chunk]}
        for name in UPDATED:
            params[name] = [u[name] for u in chunk]
        changed += conn.execute(_UPDATE, params).rowcount
    return changed


def insert_from_arrays(conn: Any, table: str, rows: list[dict[str, Any]]) -> None:
    """``rows`` (dicts with the same keys, the ledger's column names) inserted into ``table`` as ``INSERT … SELECT
    * FROM unnest(arrays)``, in their order; a row whose key exists fails the statement (primary key)."""
    columns = list(rows[0])
    arrays = ", ".join(f"CAST(:{c} AS {_TYPES.get(c, 'text')}[])" for c in columns)
    stmt = text(f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({arrays})")
    for i in range(0, len(rows), CHUNK):
        chunk = rows[i:i + CHUNK]
        conn.execute(stmt, {c: [r[c] for r in chunk] for c in columns})
