"""tax entries carry their rate and base

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08 10:00:00

Tax entries say the rate their tax was computed at and its base (the taxable amount), for tax returns
(docs/decisions/0023-tax-returns.md). Entries written before this revision keep neither: returns
show their tax by the rate their account says, or as tax of no known rate. The audit trail's
triggers of `entries` are made again so that they record the new columns (storage/audit.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import comptoir.storage.types
from comptoir.storage import audit

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('entries', recreate='never') as batch:
        batch.add_column(sa.Column('tax_rate', comptoir.storage.types.ExactDecimal(precision=24, scale=6), nullable=True))
        batch.add_column(sa.Column('tax_base', comptoir.storage.types.ExactDecimal(precision=24, scale=6), nullable=True))
    audit.install(op.get_bind(), ['entries'])


def downgrade() -> None:
    audit.uninstall(op.get_bind(), ['entries'])  # SQLite drops no column a trigger names
    with op.batch_alter_table('entries', recreate='never') as batch:
        batch.drop_column('tax_base')
        batch.drop_column('tax_rate')
    audit.install(op.get_bind(), ['entries'])
