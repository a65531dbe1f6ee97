"""0004 — the linking page's indexes (issue 14, rule L5): ``ix_link_suggestions_page``, ``ix_tlsync_customer_id``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06

``link_suggestions (company_id, view, <numeric account first>, <numeric account's length>, debtor_account)`` for the
debtors' first rows (``rank <= 1``): the page order of ``tlsync.staging.tables.account_order``. A page of 200
debtors of a view is read in index order and the read stops after the page (before: the whole view — 60,000 rows
at 100,000 debtors — was sorted on every page), and the tab counts per view are an index-only scan
(``bench/linking_page.py``). ``stg_timelog_customers (natural_key)``: the page's candidates are read by their
TimeLog ID alone (the site's tenant code is not in the settings) — an index probe each instead of a scan of every
staged customer. The expressions are written out here as ``make ddl`` renders them (a migration does
not import the code it migrates for); no row changes, ``downgrade`` drops both.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        numeric = "(debtor_account)::text ~ '^[0-9]+$'"
    else:
        numeric = "debtor_account <> '' AND debtor_account NOT GLOB '*[^0-9]*'"
    op.create_index(
        'ix_link_suggestions_page', 'link_suggestions',
        ['company_id', 'view', sa.text(f"(CASE WHEN ({numeric}) THEN 0 ELSE 1 END)"),
         sa.text(f"(CASE WHEN ({numeric}) THEN length(debtor_account) ELSE 0 END)"), 'debtor_account'],
        postgresql_where=sa.text('rank <= 1'), sqlite_where=sa.text('rank <= 1'))
    op.create_index('ix_tlsync_customer_id', 'stg_timelog_customers', ['natural_key'])


def downgrade() -> None:
    op.drop_index('ix_tlsync_customer_id', table_name='stg_timelog_customers')
    op.drop_index('ix_link_suggestions_page', table_name='link_suggestions')
