"""organizations say whether they hold money in another currency

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-08 01:40:00

`organizations.holds_foreign_money`: set by the first entry of money in another currency written in
its book, read with the credential of every request, so that a report of a book holding none sends
no statement for figures in other currencies (docs/decisions/0029-revaluation.md). Set here for the
books that already hold such entries (those migration 0019 said were booked at rate 1, and since). The
audit trail's triggers of `organizations` are made again: setting the mark alone is not a change.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from comptoir.storage import audit

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    audit.uninstall(op.get_bind(), ['organizations'])  # made again below: the new column is not a change
    with op.batch_alter_table('organizations', recreate='never') as batch:
        batch.add_column(sa.Column('holds_foreign_money', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE organizations SET holds_foreign_money = true WHERE EXISTS ("
               "SELECT 1 FROM entries e WHERE e.org_id = organizations.id AND e.currency_iso_code IS NOT NULL)")
    audit.install(op.get_bind(), ['organizations'])


def downgrade() -> None:
    audit.uninstall(op.get_bind(), ['organizations'])  # SQLite drops no column a trigger names
    with op.batch_alter_table('organizations', recreate='never') as batch:
        batch.drop_column('holds_foreign_money')
    audit.install(op.get_bind(), ['organizations'])
