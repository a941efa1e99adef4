"""Documents partners deposit through OneConnect (purchase and sales invoices), and the webhook
outbox that tells them what became of them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, OrgScoped, PublicUuid, Timestamped, utcnow


class ReceivedDocument(OrgScoped, PublicUuid, Timestamped, Base):
    """A partner's invoice file, with the accounting entries it came with (if any). `uuid` is the
    documentId. It is Waiting until it is booked (Accepted: its transaction has source_type
    "received_document" and source_id = id) or Refused (with the reason)."""

    __tablename__ = "received_documents"
    # externalReference is unique per integration, purchase and sales invoices alike.
    __table_args__ = (UniqueConstraint("org_id", "integration_id", "external_reference"),)

    # The integration's and the partner's public identifiers (not keys of `credentials`: a document
    # stays in the book when its credentials are deleted).
    integration_id: Mapped[str] = mapped_column(String(36), nullable=False)
    partner_id: Mapped[str] = mapped_column(String(255), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # purchase, sales
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"), nullable=False)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)  # as declared (`filename` field)
    user_email: Mapped[str | None] = mapped_column(String(255))
    comment: Mapped[str | None] = mapped_column(Text)
    external_reference: Mapped[str | None] = mapped_column(String(64))
    # The `entries` and `organization` JSON as sent, as text (numbers keep every digit).
    entries: Mapped[str | None] = mapped_column(Text)
    counterparty: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # Waiting, Accepted, Refused
    reason: Mapped[str | None] = mapped_column(Text)  # why it was refused
    party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id", ondelete="SET NULL"))
    deposited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookEndpoint(OrgScoped, Timestamped, Base):
    """Where a OneConnect partner (by client id) receives its webhooks."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (UniqueConstraint("org_id", "partner_id"),)

    partner_id: Mapped[str] = mapped_column(String(255), nullable=False)
    url: Mapped[str] = mapped_column(String(2048), nullable=False)


class OutboxEvent(OrgScoped, PublicUuid, Base):
    """One webhook event for one partner, written in the transaction of the change that caused it.
    Its CloudEvents `id` (`uuid`), `type`, `time` (`created_at`) and `data` (JSON text) are fixed at
    insert, so every attempt sends the same event. A worker claims due rows (`claimed_until` is its
    lease, `claim` its token), POSTs, then records the outcome."""

    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_events_due", "status", "next_attempt_at"),)

    partner_id: Mapped[str] = mapped_column(String(255), nullable=False)
    type: Mapped[str] = mapped_column(String(64), nullable=False)
    data: Mapped[str] = mapped_column(Text, nullable=False)
    # The CloudEvents `source`: the public URL of the server the event's request reached (None: the
    # delivering worker's own).
    source: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # pending, delivered, failed, dropped
    attempts: Mapped[int] = mapped_column(default=0, nullable=False)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claim: Mapped[str | None] = mapped_column(String(36))  # which claim may record the outcome
    last_status_code: Mapped[int | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(String(1024))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
