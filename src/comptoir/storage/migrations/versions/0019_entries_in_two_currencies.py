"""entries in two currencies, documents booked at a rate

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 00:00:00

An entry of money in another currency than the organization's keeps, beside its amount in the
organization's currency, the currency, the amount in it and the rate that converted it; a document,
a payment or a refund in another currency keeps the rate it is booked at (issue 18 §2; docs/currencies.md,
docs/decisions/0028-postings-in-two-currencies.md). No figure changes: an entry written before in the
organization's currency keeps the new columns null; one of a document in another currency, which
was booked unconverted, says so (its currency, its amount in it, rate 1). The audit trail's triggers of both tables
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
    # The audit trail's triggers are made again for the new columns; the rows said to be booked at 1
    # in between are the migration's doing, not a person's: no event records them.
    audit.uninstall(op.get_bind(), ['entries', *BOOKED_AT_A_RATE])
    _booked_at_one(op.get_bind())
    audit.install(op.get_bind(), ['entries', *BOOKED_AT_A_RATE])


# Before this revision a document in another currency than its organization's was booked unconverted:
# each unit of it as one unit of the organization's currency, a rate of 1. That is said now, figures
# unchanged: its entries carry their currency, their amount in it (the amount they have) and rate 1,
# and the document, payment or refund rate 1. Its customer's balance stays in its currency, later
# payments settle it at that rate (the realised difference comes out then) and a revaluation values
# it at the day's rate. Entries and rows in the organization's currency are left null.
_FOREIGN_TRANSACTION = """
    SELECT t.currency_iso_code FROM transactions t JOIN organizations o ON o.id = t.org_id
    WHERE t.id = entries.transaction_id AND t.currency_iso_code <> o.currency_iso_code"""


def _booked_at_one(connection) -> None:
    one = 10 ** 10 if connection.dialect.name == 'sqlite' else 1  # ExactDecimal(scale=10) on SQLite: 10^-10 units
    connection.execute(sa.text(f"""
        UPDATE entries SET currency_iso_code = ({_FOREIGN_TRANSACTION}), currency_amount = amount, rate = :one
        WHERE currency_iso_code IS NULL AND EXISTS ({_FOREIGN_TRANSACTION})"""), {"one": one})
    for table, kinds in (('documents', "AND kind IN ('invoice', 'credit_note', 'purchase_invoice', 'vendor_credit')"),
                         ('payments', ''), ('refunds', '')):
        connection.execute(sa.text(f"""
            UPDATE {table} SET exchange_rate = :one
            WHERE exchange_rate IS NULL {kinds} AND currency_iso_code <> (
                SELECT o.currency_iso_code FROM organizations o WHERE o.id = {table}.org_id)"""), {"one": one})


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
