"""tax entries carry their rate and base

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 10:00:00

Tax entries say the rate their tax was computed at and its base (the taxable amount), for tax returns
(docs/decisions/0023-tax-returns.md). Entries written before this revision keep neither: returns
show their tax by the rate their account says, or as tax of no known rate.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import comptoir.storage.types

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('entries', recreate='never') as batch:
        batch.add_column(sa.Column('tax_rate', comptoir.storage.types.ExactDecimal(precision=24, scale=6), nullable=True))
        batch.add_column(sa.Column('tax_base', comptoir.storage.types.ExactDecimal(precision=24, scale=6), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('entries', recreate='never') as batch:
        batch.drop_column('tax_base')
        batch.drop_column('tax_rate')
