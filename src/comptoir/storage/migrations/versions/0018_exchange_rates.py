"""exchange rates per organization, currency and day

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08 10:00:00

`exchange_rates` keeps what one unit of a currency is worth in the organization's currency from a
day on (issue 18 §1; docs/currencies.md, docs/decisions/0027-exchange-rates.md), one rate per
currency and day. Nothing else changes: no document is converted with them yet. The table is
audited like every table of the book (storage/audit.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import comptoir.storage.types
from comptoir.storage import audit

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'exchange_rates',
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('date', sa.Date(), nullable=False),
        sa.Column('rate', comptoir.storage.types.ExactDecimal(precision=24, scale=10), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('org_id', ID, nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_exchange_rates_org_id_organizations'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_rates')),
        sa.UniqueConstraint('org_id', 'currency', 'date', name=op.f('uq_exchange_rates_org_id_currency_date')),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f('ix_exchange_rates_org_id'), 'exchange_rates', ['org_id'], unique=False)
    audit.install(op.get_bind(), ['exchange_rates'])


def downgrade() -> None:
    audit.uninstall(op.get_bind(), ['exchange_rates'])
    op.drop_index(op.f('ix_exchange_rates_org_id'), table_name='exchange_rates')
    op.drop_table('exchange_rates')
