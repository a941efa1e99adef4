"""The webhook outbox: an event written with the change that causes it (`emit_to`, scoped by
organization), and the due events of every organization as the delivery worker sees them.

Like the identity lookups (storage/identity.py), the worker's queries are not scoped by organization:
one worker serves every book. Every row carries its org_id, and nothing here is shown to a caller.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import bindparam, exists, insert, or_, select, update
from sqlalchemy.orm import Session

from .link import Link
from .statements import Statement
from .tables import OutboxEvent, WebhookEndpoint

PENDING = "pending"

_events, _endpoints = OutboxEvent.__table__, WebhookEndpoint.__table__
_EMITTED = ("org_id", "uuid", "partner_id", "type", "data", "source", "status", "attempts", "next_attempt_at",
            "created_at")
# One event for one partner, inserted only if the partner has a webhook endpoint: one statement.
_EMIT_TO = Statement(insert(_events).from_select(
    list(_EMITTED),
    select(*(bindparam(name, type_=_events.c[name].type) for name in _EMITTED))
    .where(exists().where(_endpoints.c.org_id == bindparam("org_id"),
                          _endpoints.c.partner_id == bindparam("partner_id")))))


def emit_to(link: Link, org_id: int, partner_id: str, event_type: str, data: str, now: datetime,
            source: str | None) -> None:
    """A pending event of this type and data (JSON text) for the partner, due now, when the partner
    has a webhook endpoint (else nothing). `source`: the server the partner talks to (None: the
    delivering worker's)."""
    _EMIT_TO.run(link, org_id=org_id, uuid=str(uuid.uuid4()), partner_id=partner_id, type=event_type, data=data,
                  source=source, status=PENDING, attempts=0, next_attempt_at=now, created_at=now)


class OutboxQueue:
    def __init__(self, session: Session) -> None:
        self.session = session

    def claim(self, now: datetime, lease_s: float, limit: int) -> tuple[str, list[OutboxEvent]]:
        """Up to `limit` pending events that are due and not leased by a live claim, leased to a new
        claim until now + lease_s. On PostgreSQL rows another worker is claiming are skipped (FOR
        UPDATE SKIP LOCKED); SQLite has one writer at a time anyway."""
        statement = (select(OutboxEvent)
                     .where(OutboxEvent.status == PENDING, OutboxEvent.next_attempt_at <= now,
                            or_(OutboxEvent.claimed_until.is_(None), OutboxEvent.claimed_until < now))
                     .order_by(OutboxEvent.next_attempt_at, OutboxEvent.id).limit(limit))
        if self.session.bind.dialect.name == "postgresql":
            statement = statement.with_for_update(skip_locked=True)
        events = list(self.session.scalars(statement))
        claim = str(uuid.uuid4())
        for event in events:
            event.claim, event.claimed_until = claim, now + timedelta(seconds=lease_s)
            event.attempts += 1
        self.session.flush()
        return claim, events

    def endpoint_url(self, event: OutboxEvent) -> str | None:
        return self.session.scalar(select(WebhookEndpoint.url).where(
            WebhookEndpoint.org_id == event.org_id, WebhookEndpoint.partner_id == event.partner_id))

    def record(self, event_id: int, claim: str, **values) -> bool:
        """Write the outcome of an attempt, if the claim still holds the event (a worker whose lease
        ran out may not overwrite the next one's); whether it did."""
        result = self.session.execute(update(OutboxEvent).where(OutboxEvent.id == event_id, OutboxEvent.claim == claim)
                                      .values(claim=None, claimed_until=None, **values))
        return bool(result.rowcount)
