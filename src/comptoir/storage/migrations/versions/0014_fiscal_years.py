"""fiscal years, and the French chart's carry-forward and result accounts

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 19:00:00

Each organization's fiscal years begin on the first of `fiscal_year_start_month` (January by
default). On the French chart, earlier years' results are carried forward to 110000 / 119000
("Report à nouveau", credit / debit) and the year's result shows on 120000 / 129000 (profit / loss):
books made before this revision get the accounts they lack, and 120000 takes the year's-result role
it always had by its number (docs/accounting.md, "The year end").
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

NEW_PCG_ACCOUNTS = [
    ("110000", "Report à nouveau (solde créditeur)", "retained_earnings"),
    ("119000", "Report à nouveau (solde débiteur)", "retained_losses"),
    ("129000", "Résultat de l'exercice (perte)", "year_loss"),
]


def upgrade() -> None:
    with op.batch_alter_table('organizations', recreate='never') as batch:
        batch.add_column(sa.Column('fiscal_year_start_month', sa.SmallInteger(), nullable=False, server_default='1'))
    pcg = "SELECT id FROM organizations WHERE chart = 'pcg'"
    op.execute(f"UPDATE accounts SET role = 'year_profit' WHERE role = 'retained_earnings' AND number = '120000' "
               f"AND org_id IN ({pcg})")
    insert = sa.text(
        "INSERT INTO accounts (org_id, number, name, is_family, family_id, nature, role, created_at, updated_at) "
        "SELECT o.id, CAST(:number AS VARCHAR(64)), CAST(:name AS VARCHAR(128)), :is_family, "
        "(SELECT f.id FROM accounts f WHERE f.org_id = o.id AND f.number = '1' AND f.is_family = :family), "
        "'equity', CAST(:role AS VARCHAR(32)), CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM organizations o WHERE o.chart = 'pcg' "
        "AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.org_id = o.id AND a.number = CAST(:number AS VARCHAR(64)))")
    for number, name, role in NEW_PCG_ACCOUNTS:
        op.get_bind().execute(insert, {"number": number, "name": name, "role": role, "is_family": False,
                                       "family": True})


def downgrade() -> None:
    # The accounts stay (they may hold entries); only the column goes.
    with op.batch_alter_table('organizations', recreate='never') as batch:
        batch.drop_column('fiscal_year_start_month')
