"""0003 — why a sync run failed (issue 17): ``sync_runs.reason``, the one line a give-up printed.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06

One nullable column; existing rows keep ``NULL`` (their reason was never recorded). SQLite and PostgreSQL
(``batch_alter_table`` so SQLite's copy-and-move applies there).
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('sync_runs') as batch:
        batch.add_column(sa.Column('reason', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sync_runs') as batch:
        batch.drop_column('reason')
