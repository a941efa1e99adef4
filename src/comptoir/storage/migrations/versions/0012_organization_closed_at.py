"""when an organization was closed (the company closed on the accounting side)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 17:10:00

A closed organization's credentials are refused in every dialect, and its OneConnect integrations
answer SMB_CLOSED once, then are revoked (docs/decisions/0019). Reopening clears the column.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('organizations', recreate='never') as batch:
        batch.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # In place, never a copy of `organizations` (whose drop would cascade to every book: 0010).
    with op.batch_alter_table('organizations', recreate='never') as batch:
        batch.drop_column('closed_at')
