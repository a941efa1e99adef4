"""Parties (customers and vendors: one row, two roles) and their contact persons."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, JsonDocument, OrgScoped, PublicUuid, Timestamped
from .organizations import Employee
from .reference import PaymentTerm, PriceFamily, Tax


class Party(OrgScoped, PublicUuid, Timestamped, Base):
    """A customer, a vendor, or both: OneUp customers and vendors, Upflow customers, Quipu contacts."""

    __tablename__ = "parties"
    __table_args__ = (
        UniqueConstraint("org_id", "customer_code"),
        UniqueConstraint("org_id", "vendor_code"),
        UniqueConstraint("org_id", "external_id"),
        Index("ix_parties_org_full_name", "org_id", "full_name"),
    )

    is_customer: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    is_vendor: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # An employee of the organization, paid through paysheets (Quipu's contacts of kind employee).
    is_employee: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), nullable=False)
    type: Mapped[int] = mapped_column(nullable=False)  # 1 company, 2 individual
    status: Mapped[int] = mapped_column(default=1, nullable=False)  # 1 customer, 2 lead
    company_name: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    first_name: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    middle_name: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    last_name: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    full_name: Mapped[str] = mapped_column(String(800), default="", nullable=False)
    address: Mapped[dict] = mapped_column(JsonDocument, default=dict, nullable=False)
    shipping_address: Mapped[dict] = mapped_column(JsonDocument, default=dict, nullable=False)
    phone_number: Mapped[str] = mapped_column(String(64), default="", nullable=False)
    email: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    website: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    payment_terms_id: Mapped[int | None] = mapped_column(ForeignKey("payment_terms.id"))
    currency_iso_code: Mapped[str] = mapped_column(String(4), nullable=False)
    sales_tax_id: Mapped[int | None] = mapped_column(ForeignKey("taxes.id"))
    customer_code: Mapped[str | None] = mapped_column(String(64))
    vendor_code: Mapped[str | None] = mapped_column(String(64))
    opt_in_email: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    notes: Mapped[str] = mapped_column(Text, default="", nullable=False)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    employee_count: Mapped[int | None] = mapped_column()
    price_family_id: Mapped[int | None] = mapped_column(ForeignKey("price_families.id"))
    taxpayer_id: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    industry: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    incorporation_status: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    rating: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    # Import key of the dialects that upsert (Upflow externalId); unique per organization.
    external_id: Mapped[str | None] = mapped_column(String(255))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id", ondelete="SET NULL"))
    # Data a dialect keeps that has no place in the core, by dialect name: {"upflow": {...}}.
    extra: Mapped[dict] = mapped_column(JsonDocument, default=dict, nullable=False)
    # When the customer's portal links were withdrawn: those issued before no longer open.
    portal_revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    contacts: Mapped[list[Contact]] = relationship(
        back_populates="party", foreign_keys="Contact.party_id", order_by="Contact.id", cascade="all, delete-orphan", lazy="selectin"
    )
    payment_terms: Mapped[PaymentTerm | None] = relationship(lazy="joined")
    sales_tax: Mapped[Tax | None] = relationship(lazy="joined")
    assigned_to: Mapped[Employee | None] = relationship(lazy="joined")
    price_family: Mapped[PriceFamily | None] = relationship(lazy="joined")


class Contact(OrgScoped, PublicUuid, Timestamped, Base):
    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("party_id", "external_id"),)

    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"), index=True, nullable=False)
    first_name: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    last_name: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    full_name: Mapped[str] = mapped_column(String(512), default="", nullable=False)
    cell_phone: Mapped[str] = mapped_column(String(128), default="", nullable=False)
    work_phone: Mapped[str] = mapped_column(String(128), default="", nullable=False)
    home_phone: Mapped[str] = mapped_column(String(128), default="", nullable=False)
    email: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    address: Mapped[dict] = mapped_column(JsonDocument, default=dict, nullable=False)
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    position: Mapped[str | None] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(255))
    extra: Mapped[dict] = mapped_column(JsonDocument, default=dict, nullable=False)

    party: Mapped[Party] = relationship(back_populates="contacts")


class ContactPosition(OrgScoped, Base):
    """The roles a contact may hold (Upflow's positions: ACCOUNTING, SALES, PAYER, PURCHASER by default)."""

    __tablename__ = "contact_positions"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    name: Mapped[str] = mapped_column(String(64), nullable=False)
