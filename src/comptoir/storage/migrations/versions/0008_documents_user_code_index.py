"""an index on documents (org_id, user_code), for the check that an automatic code is free

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 05:55:00

services/codes.next_code asks whether a code is taken with `documents.org_id = ? AND user_code = ?`,
whatever the kind; the unique index (org_id, kind, user_code) cannot serve that (kind comes between),
so every new invoice read every document of its organization (26 ms at 22,000 invoices, measured by
the benchmarks: docs/performance.md). A plain index; no table is rebuilt.
"""

from __future__ import annotations

from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_documents_org_id_user_code", "documents", ["org_id", "user_code"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_documents_org_id_user_code", table_name="documents")
