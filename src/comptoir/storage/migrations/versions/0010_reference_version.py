"""the version of an organization's reference data (its chart of accounts and journals)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 09:00:00

Every commit that writes accounts or journals adds one to `organizations.reference_version`, which
a request reads with its credential (the same statement): a process keeps the chart it read for an
organization for as long as the version it was read at stands (storage/reference.py,
docs/decisions/0018-request-path.md). A new column with a default: no table is rebuilt.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('organizations', recreate='never') as batch:
        batch.add_column(sa.Column('reference_version', sa.BigInteger(), nullable=False, server_default='0'))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN in place (SQLite 3.35+), never a copy of the table: on SQLite,
    # dropping the old `organizations` would cascade its deletion to every row of every organization.
    with op.batch_alter_table('organizations', recreate='never') as batch:
        batch.drop_column('reference_version')
