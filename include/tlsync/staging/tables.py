"""SQLAlchemy 2 Core tables for staging, built from the entity registry, plus the bookkeeping tables.

One staging table per :class:`~tlsync.staging.entities.EntitySpec` (``stg_<system>_<entity>``) with the columns
every staged row keeps (issue 4): source system, tenant (TimeLog site code or Uniconta company id), the natural
key, a SHA-256 content hash of the canonical payload, the run that staged it and when, the raw payload as JSON,
and the spec's typed columns in snake_case. The primary key is ``(tenant, natural_key)``: staging holds the latest
version of each record, and an unchanged record is never rewritten (its hash is compared first).

The same metadata creates the schema on SQLite (embedded default) and PostgreSQL; ``sql/`` holds the DDL
rendered from it for both dialects (``make ddl``; a test keeps the files in sync).
"""

from __future__ import annotations

import re

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    func,
)

from .entities import ENTITIES, EntitySpec

metadata = MetaData()

_TYPES = {
    "str": lambda: String(400),
    "int": lambda: Integer(),
    "decimal": lambda: Numeric(18, 4, asdecimal=True),
    "date": lambda: Date(),
    "datetime": lambda: DateTime(),
    "bool": lambda: Boolean(),
}

COMMON_COLUMNS = ("source_system", "tenant", "natural_key", "content_hash", "run_id", "staged_at", "payload")


def snake(name: str) -> str:
    """``"VATIncluded"`` → ``"vat_included"``, ``"CustomerID"`` → ``"customer_id"``."""
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    return s.lower()


def _staging_table(spec: EntitySpec) -> Table:
    typed = [Column(snake(f), _TYPES[t](), nullable=True) for f, t in spec.columns.items()]
    return Table(
        spec.table,
        metadata,
        Column("source_system", String(16), nullable=False),
        Column("tenant", String(64), primary_key=True),
        Column("natural_key", String(200), primary_key=True),
        Column("content_hash", String(64), nullable=False),
        Column("run_id", String(64), nullable=False),
        Column("staged_at", DateTime, nullable=False),
        Column("payload", Text, nullable=False),
        *typed,
        comment=f"{spec.system} {spec.source} staged by tlsync (key: {', '.join(spec.key)})",
    )


STAGING: dict[str, Table] = {spec.qualified: _staging_table(spec) for spec in ENTITIES}

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("started_at", DateTime, nullable=False, server_default=func.now()),
    Column("finished_at", DateTime),
    Column("status", String(16), nullable=False),  # running | success | failed
    Column("calls", JSON),                          # API calls spent per system
    comment="One row per sync run: status and API calls spent per system",
)

run_entity_counts = Table(
    "run_entity_counts",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("entity", String(64), primary_key=True),
    Column("tenant", String(64), primary_key=True),
    Column("extracted", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("staged", Integer, nullable=False),
    Column("quarantined", Integer, nullable=False),
    Column("warnings", Integer, nullable=False, default=0),
    comment="Run summary per entity and tenant; extracted = unchanged + staged + quarantined",
)

watermarks = Table(
    "watermarks",
    metadata,
    Column("entity", String(64), primary_key=True),
    Column("tenant", String(64), primary_key=True),
    Column("high_water", DateTime, nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("updated_at", DateTime, nullable=False),
    comment="Incremental cursors; advanced only when the whole run succeeds",
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False, index=True),
    Column("entity", String(64), nullable=False),
    Column("tenant", String(64), nullable=False),
    Column("natural_key", String(200)),
    Column("rule", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("quarantined_at", DateTime, nullable=False),
    comment="Rows the quality gate refused, with the rule, a readable reason and the raw payload",
)


link_suggestions = Table(
    "link_suggestions",
    metadata,
    Column("company_id", String(64), primary_key=True),
    Column("debtor_account", String(200), primary_key=True),
    Column("rank", Integer, primary_key=True),            # 0 = the debtor's row without candidates
    Column("view", String(16), nullable=False),            # one | several | none | ignored (rule L2)
    Column("debtor_name", String(400)),
    Column("customer_id", String(64)),
    Column("customer_name", String(400)),
    Column("score", Integer),
    Column("reasons", Text),                               # JSON list of readable reasons
    Column("computed_at", DateTime, nullable=False),
    comment="Customer-linking suggestions per Uniconta debtor (rules L1/L2), recomputed after each staging",
)


def create_all(engine) -> None:
    """Create every table that does not exist yet (idempotent)."""
    metadata.create_all(engine)
