"""0002 — the Uniconta call tally (issue 13): calls per user and Danish day, booked by every task (tlsync.quota).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06

A new table only; no existing row changes. SQLite and PostgreSQL.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('uniconta_call_tally',
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('username', sa.String(length=200), nullable=False),
    sa.Column('calls', sa.Integer(), server_default='0', nullable=False),
    sa.Column('slow_calls', sa.Integer(), server_default='0', nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'username'),
    comment='Uniconta calls per user and Danish day, booked by every task before each call (tlsync.quota)'
    )


def downgrade() -> None:
    op.drop_table('uniconta_call_tally')
