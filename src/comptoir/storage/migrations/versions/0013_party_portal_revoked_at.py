"""when a customer's portal links were withdrawn

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 17:20:00

A portal link is signed, not stored; it carries when it was issued. `comptoir portal revoke` sets
this column: links the customer was given before it no longer open (docs/decisions/0019).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('parties', recreate='never') as batch:
        batch.add_column(sa.Column('portal_revoked_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('parties', recreate='never') as batch:
        batch.drop_column('portal_revoked_at')
