"""SQLAlchemy 2 Core tables for staging, built from the entity registry, plus the bookkeeping tables.

One staging table per :class:`~tlsync.staging.entities.EntitySpec` (``stg_<system>_<entity>``) with the columns
every staged row keeps (issue 4): source system, tenant (TimeLog site code or Uniconta company id), the natural
key, a SHA-256 content hash of the canonical payload, the run that staged it and when, the raw payload as JSON,
and the spec's typed columns in snake_case. The primary key is ``(tenant, natural_key)``: staging holds the latest
version of each record, and an unchanged record is never rewritten (its hash is compared first).

The schema is owned by the Alembic migrations in ``tlsync/staging/migrations`` (applied by
:func:`tlsync.staging.migrate.upgrade`, never by opening an engine); this metadata is what the migrations must
produce — a test compares the two on SQLite and PostgreSQL, and ``sql/`` holds the DDL rendered from it for both
dialects (``make ddl``; a test keeps the files in sync). Every index a query relies on is declared here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    case,
    func,
    literal_column,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement, Grouping
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.type_api import TypeEngine

from .entities import ENTITIES, EntitySpec

metadata = MetaData()

_TYPES: dict[str, Callable[[], TypeEngine[Any]]] = {
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
    typed: list[Column[Any]] = [Column(snake(f), _TYPES[t](), nullable=True) for f, t in spec.columns.items()]
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

# The invoice transfer reads a legal entity's booked invoices month by month and then the lines and line details
# of one batch of invoices (tlsync.invoicing.source); these indexes keep both reads cheap on a five-year history.
Index("ix_tlsync_inv_tenant_date", STAGING["timelog.invoices"].c.tenant, STAGING["timelog.invoices"].c.invoice_date)
Index("ix_tlsync_invline_invoice", STAGING["timelog.invoice_lines"].c.tenant,
      STAGING["timelog.invoice_lines"].c.invoice_id)
Index("ix_tlsync_invdetail_invoice", STAGING["timelog.invoice_line_details"].c.tenant,
      STAGING["timelog.invoice_line_details"].c.invoice_id)
# TimeLog customers are read by their ID alone (the site's tenant code is not in the settings): the linking page's
# 200 candidates, ``tlsync.linking.store.staged_customer`` — an index probe each, not a scan (migration 0004).
Index("ix_tlsync_customer_id", STAGING["timelog.customers"].c.natural_key)

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("started_at", DateTime, nullable=False, server_default=func.now()),
    Column("finished_at", DateTime),
    Column("status", String(16), nullable=False),  # running | success | failed
    Column("calls", JSON),                          # API calls spent per system
    Column("reason", Text),                         # a failed run: the one line its give-up printed
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
    # rows of a fully read entity that vanished from the source and were moved to staging_deletions
    Column("removed", Integer, nullable=False, default=0, server_default="0"),
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

staging_deletions = Table(
    "staging_deletions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False),           # the run whose complete full read no longer had it
    Column("entity", String(64), nullable=False),
    Column("tenant", String(64), nullable=False),
    Column("natural_key", String(200), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("staged_run_id", String(64)),                    # the run that last staged the removed version
    Column("staged_at", DateTime),
    Column("payload", Text, nullable=False),                # the last staged payload, as it was
    Column("deleted_at", DateTime, nullable=False),
    Index("ix_staging_deletions_entity", "entity", "tenant", "natural_key"),
    Index("ix_staging_deletions_run", "run_id"),
    comment="Append-only audit of staged rows removed because a complete full read no longer had them "
            "(docs/staging-deletions.md)",
)

staging_vanished = Table(
    "staging_vanished",
    metadata,
    Column("entity", String(64), primary_key=True),
    Column("tenant", String(64), primary_key=True),
    Column("natural_key", String(200), primary_key=True),
    Column("misses", Integer, nullable=False),              # complete full reads (runs) in a row without it
    Column("first_run_id", String(64), nullable=False),
    Column("last_run_id", String(64), nullable=False),
    Column("first_missing_at", DateTime, nullable=False),
    comment="Staged rows missing from a complete full read but kept by the safety valve, until a later read "
            "confirms them gone (TLSYNC_PRUNE_CONFIRM_READS) or has them again (docs/staging-deletions.md)",
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


class digits_only(FunctionElement[bool]):
    """SQL: the text is made of ASCII digits only and is not empty — ``~ '^[0-9]+$'`` on PostgreSQL, ``GLOB`` on
    SQLite, rendered with literals (no bound parameters), so that a query and an index built from it are the same
    expression to the planner (``ix_link_suggestions_page``)."""

    type = Boolean()
    name = "digits_only"
    inherit_cache = True


@compiles(digits_only, "postgresql")
def _digits_only_postgresql(element: digits_only, compiler: SQLCompiler, **kw: Any) -> str:
    return f"(({compiler.process(next(iter(element.clauses)), **kw)})::text ~ '^[0-9]+$')"


@compiles(digits_only)
def _digits_only_sqlite(element: digits_only, compiler: SQLCompiler, **kw: Any) -> str:
    arg = compiler.process(next(iter(element.clauses)), **kw)
    return f"({arg} <> '' AND {arg} NOT GLOB '*[^0-9]*')"


def account_order(column: ColumnElement[Any]) -> list[ColumnElement[Any]]:
    """ORDER BY of the linking views (``tlsync.linking.view_rows``' order in SQL): numeric accounts first by value
    (by length, then text — the same for digits without leading zeros), then the others by text."""
    numeric = digits_only(column)
    zero: ColumnElement[Any] = literal_column("0")
    one: ColumnElement[Any] = literal_column("1")
    return [Grouping(case((numeric, zero), else_=one)), Grouping(case((numeric, func.length(column)), else_=zero)),
            column]


# The linking page (issue 14, rule L5): a view's page of 200 debtors (their first row, rank ≤ 1) in page order is
# read from this index — ORDER BY … LIMIT 200 stops after the page instead of sorting the whole view, and the tab
# counts per view are an index-only scan. Migration 0004. Alembic cannot compare it (PostgreSQL pretty-prints a CASE
# over several lines): ``migrate.differences`` leaves it out and tests/plugins/test_pages_queries.py checks that it
# exists and that the page's query uses it.
EXPRESSION_INDEXES = frozenset({"ix_link_suggestions_page"})
Index("ix_link_suggestions_page", link_suggestions.c.company_id, link_suggestions.c.view,
      *account_order(link_suggestions.c.debtor_account),
      postgresql_where=link_suggestions.c.rank <= literal_column("1"),
      sqlite_where=link_suggestions.c.rank <= literal_column("1"))


# ---- the sync ledger (every write idempotent through it) -------------------------------------------------------

sync_ledger = Table(
    "sync_ledger",
    metadata,
    Column("domain", String(32), primary_key=True),         # customer_link | debtor | customer | invoice | …
    Column("legal_entity_id", Integer, primary_key=True),   # 0 for site-wide records
    Column("source_key", String(200), primary_key=True),    # the source record's stable key (e.g. invoice GUID)
    Column("state", String(24), nullable=False),            # pending | in_flight | done | failed | ignored | …
    Column("target_key", String(200)),                      # the written record's key in the other system
    Column("content_hash", String(64)),                     # hash of what was last written (skip unchanged)
    Column("reason", Text),                                 # why failed / ignored / waiting for review
    Column("attempts", Integer, nullable=False, default=0),
    Column("details", Text),                                # JSON, never a secret
    Column("run_id", String(64)),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    comment="Current state of every record tlsync writes, keyed by the source record; makes writes idempotent",
)

ledger_events = Table(
    "ledger_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("domain", String(32), nullable=False),
    Column("legal_entity_id", Integer, nullable=False),
    Column("source_key", String(200), nullable=False),
    Column("action", String(48), nullable=False),
    Column("state_before", String(24)),
    Column("state_after", String(24), nullable=False),
    Column("target_key", String(200)),
    Column("before", Text),                                 # JSON: the values before the write
    Column("after", Text),                                  # JSON: the values written
    Column("reason", Text),
    Column("run_id", String(64)),
    Column("actor", String(100), nullable=False),
    Column("at", DateTime, nullable=False),
    Index("ix_ledger_events_record", "domain", "legal_entity_id", "source_key"),
    comment="Append-only audit of every ledger transition, with before/after values",
)

customer_links = Table(
    "customer_links",
    metadata,
    Column("legal_entity_id", Integer, primary_key=True),
    Column("debtor_account", String(200), primary_key=True),   # Uniconta DebtorClient.Account
    Column("company_id", String(64), nullable=False),          # Uniconta company of the legal entity (S2)
    Column("customer_id", String(64)),                         # TimeLog customer ID; NULL while ignored
    Column("state", String(16), nullable=False),               # linked | ignored
    Column("action", String(32), nullable=False),              # timelog_wins | uniconta_wins | imported | ignored
    Column("run_id", String(64)),
    Column("actor", String(100)),
    Column("updated_at", DateTime, nullable=False),
    Index("ix_customer_links_customer", "legal_entity_id", "customer_id"),
    comment="Uniconta debtor ⇄ TimeLog customer links and ignored debtors per legal entity (rules L2/L3)",
)

write_leases = Table(
    "write_leases",
    metadata,
    Column("domain", String(64), primary_key=True),
    Column("legal_entity_id", Integer, primary_key=True),
    Column("owner", String(64), nullable=False),          # random token of the holding Lease
    Column("run_id", String(250)),
    Column("what", String(64)),                            # e.g. "transferred", for the message
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("acquired_at", DateTime, nullable=False),       # UTC
    Column("heartbeat_at", DateTime, nullable=False),      # UTC
    comment="One writer at a time per legal entity and ledger domain: who holds it, since when, last heartbeat "
            "(tlsync.ledger.lease)",
)

uniconta_call_tally = Table(
    "uniconta_call_tally",
    metadata,
    Column("day", String(10), primary_key=True),           # the quota's day: the Danish calendar date (YYYY-MM-DD)
    Column("username", String(200), primary_key=True),     # Uniconta's quota is per user
    Column("calls", Integer, nullable=False, server_default="0"),       # spent or reserved by tlsync that day
    Column("slow_calls", Integer, nullable=False, server_default="0"),  # answered slower than the threshold
    Column("updated_at", DateTime, nullable=False),         # UTC
    comment="Uniconta calls per user and Danish day, booked by every task before each call (tlsync.quota)",
)
