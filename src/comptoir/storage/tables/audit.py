"""The audit trail: every change to the book's rows, written by the database itself (triggers:
storage/audit.py) in the transaction that made it, and never changed afterwards."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class AuditEvent(Base):
    """One row inserted, changed or deleted: who (`actor`: `credential:<id>`, `employee:<id>`,
    `cli`, `system`), when, which row (`subject` table, `subject_id`), the row it belongs to
    (`parent`, `parent_id`: a line's document, an entry's transaction, a transaction's source) and
    the row as JSON before and after. No foreign key: the trail outlives what it records."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_org_id_id", "org_id", "id"),
        Index("ix_audit_events_subject", "org_id", "subject", "subject_id"),
        Index("ix_audit_events_parent", "org_id", "parent", "parent_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
                                    autoincrement=True)
    org_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    action: Mapped[str] = mapped_column(String(8), nullable=False)  # insert, update, delete
    subject: Mapped[str] = mapped_column(String(64), nullable=False)
    subject_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), nullable=False)
    parent: Mapped[str | None] = mapped_column(String(64))
    parent_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
