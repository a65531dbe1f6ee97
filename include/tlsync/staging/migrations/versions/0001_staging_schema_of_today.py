"""0001 — the staging schema as it was when the migrations were introduced (issue 11 item 4, issue 12 item 1).

Revision ID: 0001
Revises: (none)
Create Date: 2026-12-06

Every table of :mod:`tlsync.staging.tables` as of this revision — the staging tables of every entity (with the
``row_id`` cursor column of Uniconta's posted classes, docs/staging-cursors.md), run bookkeeping, quarantine, the
deletions audit (docs/staging-deletions.md), customer-linking suggestions and links, the sync ledger and its write
leases (``write_leases``, which ``tlsync.ledger.lease`` used to create on first use) — and
their indexes, among them the invoice transfer's ``(tenant, invoice_date)`` and ``(tenant, invoice_id)`` indexes
that ``tlsync.invoicing.source.ensure_indexes`` used to create with raw SQL.

**Adoption.** Databases created before the migrations (``create_all`` plus the add-missing-column helpers; no
``alembic_version``) are brought to this shape without losing a row: a table that exists is kept as it is, the two
columns that were added to existing databases by hand-written helpers are added where missing — ``row_id``
(filled from each stored payload's ``RowId``) and ``run_entity_counts.removed`` (0) — and missing indexes are
created (``IF NOT EXISTS``: the invoice indexes keep the names ``ensure_indexes`` gave them). On an empty
database this is a plain ``CREATE TABLE`` of everything. Later revisions are ordinary (docs/staging-migrations.md).
Written for SQLite and PostgreSQL; the table list is frozen here, not read from the live metadata.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: staging tables of the entities read with the RowId cursor (docs/staging-cursors.md)
ROW_ID_TABLES = ('stg_uniconta_gl_transactions', 'stg_uniconta_invoice_lines', 'stg_uniconta_invoices')


def _existing() -> set[str]:
    return set(sa.inspect(op.get_bind()).get_table_names())


def _create_table(name: str, *columns: Any, comment: str | None = None, **kw: Any) -> None:
    """``CREATE TABLE`` unless an adopted database has it already (its missing columns: :func:`_add_missing`; its
    comment is set, where the database keeps comments)."""
    if name not in _existing():
        op.create_table(name, *columns, comment=comment, **kw)
    elif comment and op.get_bind().dialect.supports_comments:
        op.create_table_comment(name, comment)


def _create_index(name: str, table: str, columns: list[str]) -> None:
    op.create_index(name, table, columns, unique=False, if_not_exists=True)


def _columns(table: str) -> set[str]:
    return {c['name'] for c in sa.inspect(op.get_bind()).get_columns(table)}


def _add_missing() -> None:
    """The columns the removed helpers ``add_missing_cursor_columns`` / ``add_missing_count_columns`` added."""
    bind = op.get_bind()
    if 'removed' not in _columns('run_entity_counts'):
        op.add_column('run_entity_counts', sa.Column('removed', sa.Integer(), server_default='0', nullable=False))
    for name in ROW_ID_TABLES:
        if 'row_id' in _columns(name):
            continue
        op.add_column(name, sa.Column('row_id', sa.Integer(), nullable=True))
        table = sa.table(name, sa.column('tenant'), sa.column('natural_key'), sa.column('payload'),
                         sa.column('row_id'))
        values = []
        for tenant, key, payload in bind.execute(sa.select(table.c.tenant, table.c.natural_key, table.c.payload)):
            rid = json.loads(payload).get('RowId')
            if isinstance(rid, (int, str)) and str(rid).strip().lstrip('-').isdigit():
                values.append({'t': tenant, 'k': key, 'r': int(rid)})
        if values:
            bind.execute(sa.update(table).where(table.c.tenant == sa.bindparam('t'),
                                                table.c.natural_key == sa.bindparam('k'))
                         .values(row_id=sa.bindparam('r')), values)


def upgrade() -> None:
    _create_table('customer_links',
    sa.Column('legal_entity_id', sa.Integer(), nullable=False),
    sa.Column('debtor_account', sa.String(length=200), nullable=False),
    sa.Column('company_id', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('legal_entity_id', 'debtor_account'),
    comment='Uniconta debtor ⇄ TimeLog customer links and ignored debtors per legal entity (rules L2/L3)'
    )
    _create_index('ix_customer_links_customer', 'customer_links', ['legal_entity_id', 'customer_id'])

    _create_table('ledger_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('domain', sa.String(length=32), nullable=False),
    sa.Column('legal_entity_id', sa.Integer(), nullable=False),
    sa.Column('source_key', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=48), nullable=False),
    sa.Column('state_before', sa.String(length=24), nullable=True),
    sa.Column('state_after', sa.String(length=24), nullable=False),
    sa.Column('target_key', sa.String(length=200), nullable=True),
    sa.Column('before', sa.Text(), nullable=True),
    sa.Column('after', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('run_id', sa.String(length=64), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    comment='Append-only audit of every ledger transition, with before/after values'
    )
    _create_index('ix_ledger_events_record', 'ledger_events', ['domain', 'legal_entity_id', 'source_key'])

    _create_table('link_suggestions',
    sa.Column('company_id', sa.String(length=64), nullable=False),
    sa.Column('debtor_account', sa.String(length=200), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('view', sa.String(length=16), nullable=False),
    sa.Column('debtor_name', sa.String(length=400), nullable=True),
    sa.Column('customer_id', sa.String(length=64), nullable=True),
    sa.Column('customer_name', sa.String(length=400), nullable=True),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('reasons', sa.Text(), nullable=True),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('company_id', 'debtor_account', 'rank'),
    comment='Customer-linking suggestions per Uniconta debtor (rules L1/L2), recomputed after each staging'
    )
    _create_table('quarantine',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('entity', sa.String(length=64), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=True),
    sa.Column('rule', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('quarantined_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    comment='Rows the quality gate refused, with the rule, a readable reason and the raw payload'
    )
    _create_index('ix_quarantine_run_id', 'quarantine', ['run_id'])

    _create_table('run_entity_counts',
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('entity', sa.String(length=64), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('extracted', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('staged', sa.Integer(), nullable=False),
    sa.Column('quarantined', sa.Integer(), nullable=False),
    sa.Column('warnings', sa.Integer(), nullable=False),
    sa.Column('removed', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('run_id', 'entity', 'tenant'),
    comment='Run summary per entity and tenant; extracted = unchanged + staged + quarantined'
    )
    _create_table('staging_deletions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('entity', sa.String(length=64), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('staged_run_id', sa.String(length=64), nullable=True),
    sa.Column('staged_at', sa.DateTime(), nullable=True),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('deleted_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    comment='Append-only audit of staged rows removed because a complete full read no longer had them '
            '(docs/staging-deletions.md)'
    )
    _create_index('ix_staging_deletions_entity', 'staging_deletions', ['entity', 'tenant', 'natural_key'])
    _create_index('ix_staging_deletions_run', 'staging_deletions', ['run_id'])

    _create_table('staging_vanished',
    sa.Column('entity', sa.String(length=64), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('misses', sa.Integer(), nullable=False),
    sa.Column('first_run_id', sa.String(length=64), nullable=False),
    sa.Column('last_run_id', sa.String(length=64), nullable=False),
    sa.Column('first_missing_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('entity', 'tenant', 'natural_key'),
    comment='Staged rows missing from a complete full read but kept by the safety valve, until a later read '
            'confirms them gone (TLSYNC_PRUNE_CONFIRM_READS) or has them again (docs/staging-deletions.md)'
    )
    _create_table('stg_timelog_contacts',
    sa.Column('source_system', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('staged_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('tenant', 'natural_key'),
    comment='timelog GetContactsRaw staged by tlsync (key: ID)'
    )
    _create_table('stg_timelog_customers',
    sa.Column('source_system', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('staged_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('no', sa.String(length=400), nullable=True),
    sa.Column('name', sa.String(length=400), nullable=True),
    sa.Column('vat_no', sa.String(length=400), nullable=True),
    sa.Column('last_modified_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('tenant', 'natural_key'),
    comment='timelog GetCustomersRaw staged by tlsync (key: ID)'
    )
    _create_table('stg_timelog_employees',
    sa.Column('source_system', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('staged_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('initials', sa.String(length=400), nullable=True),
    sa.Column('email', sa.String(length=400), nullable=True),
    sa.PrimaryKeyConstraint('tenant', 'natural_key'),
    comment='timelog GetEmployeesRaw staged by tlsync (key: ID)'
    )
    _create_table('stg_timelog_expense_types',
    sa.Column('source_system', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('staged_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('expense_type_name', sa.String(length=400), nullable=True),
    sa.Column('account_no', sa.String(length=400), nullable=True),
    sa.Column('product_no', sa.String(length=400), nullable=True),
    sa.PrimaryKeyConstraint('tenant', 'natural_key'),
    comment='timelog expense-type staged by tlsync (key: ExpenseTypeID)'
    )
    _create_table('stg_timelog_expenses',
    sa.Column('source_system', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('staged_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('tenant', 'natural_key'),
    comment='timelog GetExpensesRaw staged by tlsync (key: ID)'
    )
    _create_table('stg_timelog_hourly_rates',
    sa.Column('source_system', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('staged_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('name', sa.String(length=400), nullable=True),
    sa.PrimaryKeyConstraint('tenant', 'natural_key'),
    comment='timelog GetHourlyRatesRaw staged by tlsync (key: ID)'
    )
    _create_table('stg_timelog_invoice_line_details',
    sa.Column('source_system', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('staged_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=True),
    sa.Column('invoice_line_id', sa.Integer(), nullable=True),
    sa.Column('registration_type', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('tenant', 'natural_key'),
    comment='timelog GetInvoiceLineDetailsRaw staged by tlsync (key: ID)'
    )
    _create_index('ix_tlsync_invdetail_invoice', 'stg_timelog_invoice_line_details', ['tenant', 'invoice_id'])

    _create_table('stg_timelog_invoice_lines',
    sa.Column('source_system', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('staged_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=True),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('rate', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('amount', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('product_no', sa.String(length=400), nullable=True),
    sa.PrimaryKeyConstraint('tenant', 'natural_key'),
    comment='timelog GetInvoiceLinesRaw staged by tlsync (key: ID)'
    )
    _create_index('ix_tlsync_invline_invoice', 'stg_timelog_invoice_lines', ['tenant', 'invoice_id'])

    _create_table('stg_timelog_invoices',
    sa.Column('source_system', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('staged_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('invoice_number', sa.String(length=400), nullable=True),
    sa.Column('invoice_date', sa.DateTime(), nullable=True),
    sa.Column('status', sa.Integer(), nullable=True),
    sa.Column('type', sa.Integer(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('legal_entity_id', sa.Integer(), nullable=True),
    sa.Column('currency_abb', sa.String(length=400), nullable=True),
    sa.Column('net_amount', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('vat_included', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('amount', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('external_invoice_no', sa.String(length=400), nullable=True),
    sa.PrimaryKeyConstraint('tenant', 'natural_key'),
    comment='timelog GetInvoicesRaw staged by tlsync (key: ID)'
    )
    _create_index('ix_tlsync_inv_tenant_date', 'stg_timelog_invoices', ['tenant', 'invoice_date'])

    _create_table('stg_timelog_legal_entities',
    sa.Column('source_system', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('staged_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('name', sa.String(length=400), nullable=True),
    sa.Column('currency_iso', sa.String(length=400), nullable=True),
    sa.PrimaryKeyConstraint('tenant', 'natural_key'),
    comment='timelog GetLegalEntitiesRaw staged by tlsync (key: ID)'
    )
    _create_table('stg_timelog_mileage',
    sa.Column('source_system', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('staged_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('tenant', 'natural_key'),
    comment='timelog GetMileageRaw staged by tlsync (key: ID)'
    )
    _create_table('stg_timelog_products',
    sa.Column('source_system', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('staged_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('product_number', sa.String(length=400), nullable=True),
    sa.Column('product_name', sa.String(length=400), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=True),
    sa.PrimaryKeyConstraint('tenant', 'natural_key'),
    comment='timelog product staged by tlsync (key: ProductNumberID)'
    )
    _create_table('stg_timelog_project_categories',
    sa.Column('source_system', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('staged_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('name', sa.String(length=400), nullable=True),
    sa.PrimaryKeyConstraint('tenant', 'natural_key'),
    comment='timelog GetProjectCategoriesShortList staged by tlsync (key: ID)'
    )
    _create_table('stg_timelog_project_types',
    sa.Column('source_system', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('staged_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('name', sa.String(length=400), nullable=True),
    sa.PrimaryKeyConstraint('tenant', 'natural_key'),
    comment='timelog GetProjectTypesShortList staged by tlsync (key: ID)'
    )
    _create_table('stg_timelog_projects',
    sa.Column('source_system', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('staged_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('no', sa.String(length=400), nullable=True),
    sa.Column('name', sa.String(length=400), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('tenant', 'natural_key'),
    comment='timelog GetProjectsRaw staged by tlsync (key: ID)'
    )
    _create_table('stg_timelog_task_types',
    sa.Column('source_system', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('staged_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('name', sa.String(length=400), nullable=True),
    sa.PrimaryKeyConstraint('tenant', 'natural_key'),
    comment='timelog GetTaskTypesShortList staged by tlsync (key: ID)'
    )
    _create_table('stg_timelog_tasks',
    sa.Column('source_system', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('staged_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('tenant', 'natural_key'),
    comment='timelog GetTasksRaw staged by tlsync (key: ID)'
    )
    _create_table('stg_uniconta_companies',
    sa.Column('source_system', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('staged_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('name', sa.String(length=400), nullable=True),
    sa.PrimaryKeyConstraint('tenant', 'natural_key'),
    comment='uniconta CompanyClient staged by tlsync (key: CompanyId)'
    )
    _create_table('stg_uniconta_debtor_groups',
    sa.Column('source_system', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('staged_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('name', sa.String(length=400), nullable=True),
    sa.PrimaryKeyConstraint('tenant', 'natural_key'),
    comment='uniconta DebtorGroupClient staged by tlsync (key: Group)'
    )
    _create_table('stg_uniconta_debtors',
    sa.Column('source_system', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('staged_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('name', sa.String(length=400), nullable=True),
    sa.Column('company_reg_no', sa.String(length=400), nullable=True),
    sa.Column('phone', sa.String(length=400), nullable=True),
    sa.PrimaryKeyConstraint('tenant', 'natural_key'),
    comment='uniconta DebtorClient staged by tlsync (key: Account)'
    )
    _create_table('stg_uniconta_employees',
    sa.Column('source_system', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('staged_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('name', sa.String(length=400), nullable=True),
    sa.PrimaryKeyConstraint('tenant', 'natural_key'),
    comment='uniconta EmployeeClient staged by tlsync (key: Number)'
    )
    _create_table('stg_uniconta_gl_accounts',
    sa.Column('source_system', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('staged_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('name', sa.String(length=400), nullable=True),
    sa.PrimaryKeyConstraint('tenant', 'natural_key'),
    comment='uniconta GLAccountClient staged by tlsync (key: Account)'
    )
    _create_table('stg_uniconta_gl_transactions',
    sa.Column('source_system', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('staged_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('account', sa.String(length=400), nullable=True),
    sa.Column('date', sa.Date(), nullable=True),
    sa.Column('amount', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('row_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('tenant', 'natural_key'),
    comment='uniconta GLTransClient staged by tlsync (key: RowId)'
    )
    _create_table('stg_uniconta_invoice_lines',
    sa.Column('source_system', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('staged_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('item', sa.String(length=400), nullable=True),
    sa.Column('invoice_qty', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('sales_price', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('row_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('tenant', 'natural_key'),
    comment='uniconta DebtorInvoiceLines staged by tlsync (key: InvoiceNumber, LineNumber)'
    )
    _create_table('stg_uniconta_invoices',
    sa.Column('source_system', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('staged_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('account', sa.String(length=400), nullable=True),
    sa.Column('date', sa.Date(), nullable=True),
    sa.Column('net_amount', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('total_amount', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('currency', sa.String(length=400), nullable=True),
    sa.Column('row_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('tenant', 'natural_key'),
    comment='uniconta DebtorInvoiceClient staged by tlsync (key: InvoiceNumber)'
    )
    _create_table('stg_uniconta_items',
    sa.Column('source_system', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('staged_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('name', sa.String(length=400), nullable=True),
    sa.Column('sales_price1', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.PrimaryKeyConstraint('tenant', 'natural_key'),
    comment='uniconta InvItemClient staged by tlsync (key: Item)'
    )
    _create_table('stg_uniconta_layout_groups',
    sa.Column('source_system', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('staged_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('tenant', 'natural_key'),
    comment='uniconta DebtorLayoutGroupClient staged by tlsync (key: Name)'
    )
    _create_table('stg_uniconta_order_lines',
    sa.Column('source_system', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('staged_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('item', sa.String(length=400), nullable=True),
    sa.Column('qty', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('price', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.PrimaryKeyConstraint('tenant', 'natural_key'),
    comment='uniconta DebtorOrderLineClient staged by tlsync (key: OrderNumber, LineNumber)'
    )
    _create_table('stg_uniconta_orders',
    sa.Column('source_system', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('staged_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('account', sa.String(length=400), nullable=True),
    sa.PrimaryKeyConstraint('tenant', 'natural_key'),
    comment='uniconta DebtorOrderClient staged by tlsync (key: OrderNumber)'
    )
    _create_table('stg_uniconta_payment_terms',
    sa.Column('source_system', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('staged_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('name', sa.String(length=400), nullable=True),
    sa.PrimaryKeyConstraint('tenant', 'natural_key'),
    comment='uniconta PaymentTermClient staged by tlsync (key: Payment)'
    )
    _create_table('stg_uniconta_project_categories',
    sa.Column('source_system', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('staged_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('name', sa.String(length=400), nullable=True),
    sa.PrimaryKeyConstraint('tenant', 'natural_key'),
    comment='uniconta PrCategoryClient staged by tlsync (key: Number)'
    )
    _create_table('stg_uniconta_project_groups',
    sa.Column('source_system', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('staged_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('name', sa.String(length=400), nullable=True),
    sa.PrimaryKeyConstraint('tenant', 'natural_key'),
    comment='uniconta ProjectGroupClient staged by tlsync (key: Group)'
    )
    _create_table('stg_uniconta_projects',
    sa.Column('source_system', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('staged_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('name', sa.String(length=400), nullable=True),
    sa.Column('account', sa.String(length=400), nullable=True),
    sa.PrimaryKeyConstraint('tenant', 'natural_key'),
    comment='uniconta ProjectClient staged by tlsync (key: Number)'
    )
    _create_table('stg_uniconta_vat_zones',
    sa.Column('source_system', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('natural_key', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('staged_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('name', sa.String(length=400), nullable=True),
    sa.PrimaryKeyConstraint('tenant', 'natural_key'),
    comment='uniconta GLVatClient staged by tlsync (key: Vat)'
    )
    _create_table('sync_ledger',
    sa.Column('domain', sa.String(length=32), nullable=False),
    sa.Column('legal_entity_id', sa.Integer(), nullable=False),
    sa.Column('source_key', sa.String(length=200), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('target_key', sa.String(length=200), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('details', sa.Text(), nullable=True),
    sa.Column('run_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('domain', 'legal_entity_id', 'source_key'),
    comment='Current state of every record tlsync writes, keyed by the source record; makes writes idempotent'
    )
    _create_table('sync_runs',
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('calls', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('run_id'),
    comment='One row per sync run: status and API calls spent per system'
    )
    _create_table('watermarks',
    sa.Column('entity', sa.String(length=64), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('high_water', sa.DateTime(), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('entity', 'tenant'),
    comment='Incremental cursors; advanced only when the whole run succeeds'
    )
    _create_table('write_leases',
    sa.Column('domain', sa.String(length=64), nullable=False),
    sa.Column('legal_entity_id', sa.Integer(), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=250), nullable=True),
    sa.Column('what', sa.String(length=64), nullable=True),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('acquired_at', sa.DateTime(), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('domain', 'legal_entity_id'),
    comment='One writer at a time per legal entity and ledger domain: who holds it, since when, last heartbeat '
            '(tlsync.ledger.lease)'
    )
    _add_missing()


def downgrade() -> None:
    op.drop_table('write_leases')
    op.drop_table('watermarks')
    op.drop_table('sync_runs')
    op.drop_table('sync_ledger')
    op.drop_table('stg_uniconta_vat_zones')
    op.drop_table('stg_uniconta_projects')
    op.drop_table('stg_uniconta_project_groups')
    op.drop_table('stg_uniconta_project_categories')
    op.drop_table('stg_uniconta_payment_terms')
    op.drop_table('stg_uniconta_orders')
    op.drop_table('stg_uniconta_order_lines')
    op.drop_table('stg_uniconta_layout_groups')
    op.drop_table('stg_uniconta_items')
    op.drop_table('stg_uniconta_invoices')
    op.drop_table('stg_uniconta_invoice_lines')
    op.drop_table('stg_uniconta_gl_transactions')
    op.drop_table('stg_uniconta_gl_accounts')
    op.drop_table('stg_uniconta_employees')
    op.drop_table('stg_uniconta_debtors')
    op.drop_table('stg_uniconta_debtor_groups')
    op.drop_table('stg_uniconta_companies')
    op.drop_table('stg_timelog_tasks')
    op.drop_table('stg_timelog_task_types')
    op.drop_table('stg_timelog_projects')
    op.drop_table('stg_timelog_project_types')
    op.drop_table('stg_timelog_project_categories')
    op.drop_table('stg_timelog_products')
    op.drop_table('stg_timelog_mileage')
    op.drop_table('stg_timelog_legal_entities')
    op.drop_table('stg_timelog_invoices')
    op.drop_table('stg_timelog_invoice_lines')
    op.drop_table('stg_timelog_invoice_line_details')
    op.drop_table('stg_timelog_hourly_rates')
    op.drop_table('stg_timelog_expenses')
    op.drop_table('stg_timelog_expense_types')
    op.drop_table('stg_timelog_employees')
    op.drop_table('stg_timelog_customers')
    op.drop_table('stg_timelog_contacts')
    op.drop_table('staging_vanished')
    op.drop_table('staging_deletions')
    op.drop_table('run_entity_counts')
    op.drop_table('quarantine')
    op.drop_table('link_suggestions')
    op.drop_table('ledger_events')
    op.drop_table('customer_links')
