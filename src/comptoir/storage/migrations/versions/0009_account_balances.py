"""maintained balances: debit and credit totals per account and day, and per account and month

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 09:00:00

The trial balance summed every entry of the organization at each call (70 ms at 100,000 entries,
linear in the book: docs/performance.md). `account_balances` keeps the totals, written in the same
transaction as the entries (storage/balances.py, docs/decisions/0017-maintained-balances.md); this
migration creates the table and fills it from the entries already written (slot 0). A new table:
no existing table is rebuilt.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import comptoir.storage.types

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('account_balances',
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('span', sa.String(length=5), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('slot', sa.SmallInteger(), nullable=False),
    sa.Column('debit', comptoir.storage.types.ExactDecimal(precision=24, scale=6), nullable=False),
    sa.Column('credit', comptoir.storage.types.ExactDecimal(precision=24, scale=6), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_account_balances_account_id_accounts'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_account_balances_org_id_organizations'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', 'span', 'first_day', 'account_id', 'slot', name=op.f('pk_account_balances')),
    sqlite_autoincrement=True
    )
    # The totals of the entries written so far. Amounts are NUMERIC on PostgreSQL and integer
    # millionths on SQLite: the sums are of the stored values, in the same unit, on both.
    month = ("CAST(date_trunc('month', date) AS DATE)" if op.get_bind().dialect.name == "postgresql"
             else "date(date, 'start of month')")
    for span, first_day in (("day", "date"), ("month", month)):
        op.execute(
            "INSERT INTO account_balances (org_id, span, first_day, account_id, slot, debit, credit) "
            f"SELECT org_id, '{span}', {first_day}, account_id, 0, "
            "SUM(CASE WHEN way = 'debit' THEN amount ELSE 0 END), SUM(CASE WHEN way <> 'debit' THEN amount ELSE 0 END) "
            f"FROM entries GROUP BY org_id, {first_day}, account_id")


def downgrade() -> None:
    op.drop_table('account_balances')
