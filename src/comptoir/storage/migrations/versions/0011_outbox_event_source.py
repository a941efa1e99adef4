"""the source of a webhook event: the server the partner talks to, as the emitting request named it

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 17:00:00

A OneConnect webhook's CloudEvents `source` names the server the partner talks to, the base of its
token's `iss`. The delivery worker may run in another process, configured apart (`comptoir webhooks
run`): the event keeps the public URL of the process that emitted it, and the worker sends that
(docs/decisions/0019). Events written before have none: the worker names its own, as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_events', recreate='never') as batch:
        batch.add_column(sa.Column('source', sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox_events', recreate='never') as batch:
        batch.drop_column('source')
