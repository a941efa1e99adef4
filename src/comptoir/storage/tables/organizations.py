"""Organizations, their API credentials, employees and per-organization counters."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, DateTime, ForeignKey, SmallInteger, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, OrgScoped, PublicUuid, Timestamped, utcnow


class Organization(PublicUuid, Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    slug: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    currency_iso_code: Mapped[str] = mapped_column(String(4), nullable=False)
    country: Mapped[str] = mapped_column(String(2), nullable=False)
    chart: Mapped[str] = mapped_column(String(16), nullable=False, default="default")
    # Transactions dated on or before this day are closed: nothing dated there can be written.
    closed_until: Mapped[date | None] = mapped_column(Date)
    fiscal_year_start_month: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=1, server_default="1")
    # When the organization was closed (the company, not a period): its credentials are refused.
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    # One more at every commit that writes its accounts or journals (storage/reference.py).
    reference_version: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default="0")
    # Set, in the same transaction, by the first entry of money in another currency it is written
    # (services/ledger/posting.py); never unset, as entries are never deleted.
    holds_foreign_money: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                                      server_default=false())


class Employee(OrgScoped, Timestamped, Base):
    __tablename__ = "employees"
    __table_args__ = (UniqueConstraint("org_id", "user_code"),)

    first_name: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    last_name: Mapped[str] = mapped_column(String(255), nullable=False)
    email: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    user_code: Mapped[str] = mapped_column(String(64), nullable=False)


class Credential(OrgScoped, Base):
    """One API credential of one dialect. Only a hash of the secret is kept."""

    __tablename__ = "credentials"
    __table_args__ = (UniqueConstraint("kind", "identifier"),)

    kind: Mapped[str] = mapped_column(String(32), nullable=False)  # oneup, upflow, quipu, oneconnect, ...

    identifier: Mapped[str] = mapped_column(String(255), nullable=False)  # email, key or client id
    secret_hash: Mapped[str] = mapped_column(String(128), nullable=False)
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revocation_reason: Mapped[str | None] = mapped_column(String(255))


class Counter(Base):
    """The last number handed out per organization and key (user codes such as CUS-002)."""

    __tablename__ = "counters"

    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(nullable=False, default=0)
