"""the audit trail: every change to the book, kept by triggers, never changed

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 19:10:00

`audit_events` receives a row for each row of the book inserted, updated or deleted, from triggers
on every audited table (storage/audit.py: PostgreSQL statement triggers with transition tables,
SQLite row triggers), with the actor the unit of work names. The trail refuses UPDATE, DELETE and
TRUNCATE (docs/decisions/0024-audit-trail.md). Books written before this revision have no history
before it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from comptoir.storage import audit

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'audit_events',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('org_id', ID, nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(length=64), nullable=False),
        sa.Column('action', sa.String(length=8), nullable=False),
        sa.Column('subject', sa.String(length=64), nullable=False),
        sa.Column('subject_id', ID, nullable=False),
        sa.Column('parent', sa.String(length=64), nullable=True),
        sa.Column('parent_id', ID, nullable=True),
        sa.Column('before', sa.Text(), nullable=True),
        sa.Column('after', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_audit_events_org_id_id', 'audit_events', ['org_id', 'id'])
    op.create_index('ix_audit_events_subject', 'audit_events', ['org_id', 'subject', 'subject_id'])
    op.create_index('ix_audit_events_parent', 'audit_events', ['org_id', 'parent', 'parent_id'])
    audit.install(op.get_bind())


def downgrade() -> None:
    audit.uninstall(op.get_bind(), audit.audited_tables())
    op.drop_table('audit_events')
