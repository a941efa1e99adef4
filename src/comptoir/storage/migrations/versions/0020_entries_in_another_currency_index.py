"""an index of the entries in another currency

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08 12:00:00

A partial index of the entries of money in another currency than the organization's (issue 18 §4;
docs/decisions/0029-revaluation.md): the reports' foreign amounts and the revaluation read them in
one grouped query, which this index keeps as cheap as the entries it reads (none in a book that
holds no other currency), rather than a pass over every entry of the organization. No row changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

FOREIGN = sa.text('currency_iso_code IS NOT NULL')


def upgrade() -> None:
    op.create_index('ix_entries_org_foreign', 'entries', ['org_id', 'account_id', 'date'], unique=False,
                    sqlite_where=FOREIGN, postgresql_where=FOREIGN)


def downgrade() -> None:
    op.drop_index('ix_entries_org_foreign', table_name='entries')
