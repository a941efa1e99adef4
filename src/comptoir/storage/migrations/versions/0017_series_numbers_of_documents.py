"""documents keep their place in the series that numbered them

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 22:00:00

A document numbered by Comptoir (from a numbering series, or an invoice's or credit note's automatic
code) keeps its number in that series, so that numbers run without gaps and in date order
(docs/decisions/0026-legal-numbering-and-final-invoices.md). Documents written before this revision
keep none: the first number given after it follows no date. The audit trail's
triggers of `documents` are made again so that they record the new column (storage/audit.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from comptoir.storage import audit

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('documents', recreate='never') as batch:
        batch.add_column(sa.Column('series_number', sa.Integer(), nullable=True))
    op.create_index('ix_documents_series_number', 'documents', ['org_id', 'series_id', 'series_number'])
    audit.install(op.get_bind(), ['documents'])


def downgrade() -> None:
    audit.uninstall(op.get_bind(), ['documents'])  # SQLite drops no column a trigger names
    op.drop_index('ix_documents_series_number', table_name='documents')
    with op.batch_alter_table('documents', recreate='never') as batch:
        batch.drop_column('series_number')
    audit.install(op.get_bind(), ['documents'])
