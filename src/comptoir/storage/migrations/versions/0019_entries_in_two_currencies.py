"""entries in two currencies, documents booked at a rate

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 00:00:00

An entry of money in another currency than the organization's keeps, beside its amount in the
organization's currency, the currency, the amount in it and the rate that converted it; a document,
a payment or a refund in another currency keeps the rate it is booked at (issue 18 §2; docs/currencies.md,
docs/decisions/0028-postings-in-two-currencies.md). The columns are added empty: an entry written
before is in the organization's currency, its figures unchanged. The audit trail's triggers of both tables
are made again so that they record the new columns (storage/audit.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import comptoir.storage.types
from comptoir.storage import audit

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

BOOKED_AT_A_RATE = ['documents', 'payments', 'refunds']


def _rate() -> comptoir.storage.types.ExactDecimal:
    return comptoir.storage.types.ExactDecimal(precision=24, scale=10)


def upgrade() -> None:
    with op.batch_alter_table('entries', recreate='never') as batch:
        batch.add_column(sa.Column('currency_iso_code', sa.String(length=3), nullable=True))
        batch.add_column(sa.Column('currency_amount', comptoir.storage.types.ExactDecimal(), nullable=True))
        batch.add_column(sa.Column('rate', _rate(), nullable=True))
    for table in BOOKED_AT_A_RATE:
        with op.batch_alter_table(table, recreate='never') as batch:
            batch.add_column(sa.Column('exchange_rate', _rate(), nullable=True))
    audit.install(op.get_bind(), ['entries', *BOOKED_AT_A_RATE])


def downgrade() -> None:
    audit.uninstall(op.get_bind(), ['entries', *BOOKED_AT_A_RATE])  # SQLite drops no column a trigger names
    for table in BOOKED_AT_A_RATE:
        with op.batch_alter_table(table, recreate='never') as batch:
            batch.drop_column('exchange_rate')
    with op.batch_alter_table('entries', recreate='never') as batch:
        batch.drop_column('rate')
        batch.drop_column('currency_amount')
        batch.drop_column('currency_iso_code')
    audit.install(op.get_bind(), ['entries', *BOOKED_AT_A_RATE])
