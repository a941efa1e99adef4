"""Sales documents (orders, invoices, credit notes) with their lines; payments and refunds; the
allocations that say which credit settles which debit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..types import ExactDecimal
from .base import Base, JsonDocument, OrgScoped, PublicUuid, Timestamped
from .parties import Contact, Party
from .reference import PaymentTerm


class Document(OrgScoped, PublicUuid, Timestamped, Base):
    """A sales order, an invoice or a credit note. Totals are computed from the lines when they are written."""

    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("org_id", "kind", "user_code"),
        UniqueConstraint("org_id", "kind", "external_id"),
    )

    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # sales_order, invoice, credit_note
    customer_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True, nullable=False)
    billing_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    shipping_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    user_code: Mapped[str] = mapped_column(String(64), nullable=False)
    po_number: Mapped[str] = mapped_column(String(64), default="", nullable=False)
    date: Mapped[date] = mapped_column(Date, nullable=False)
    # The due date shown and filtered on: the one sent, or else the last settlement's.
    due_date: Mapped[date | None] = mapped_column(Date)
    due_date_explicit: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    tax_id: Mapped[int | None] = mapped_column(ForeignKey("taxes.id"))
    currency_iso_code: Mapped[str] = mapped_column(String(4), nullable=False)
    reduce_rate: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(0), nullable=False)
    public_note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    private_note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    shipping_date: Mapped[date | None] = mapped_column(Date)
    payment_terms_id: Mapped[int | None] = mapped_column(ForeignKey("payment_terms.id"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"))
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    subtotal: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(0), nullable=False)
    reduce_amount: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(0), nullable=False)
    tax_amount: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(0), nullable=False)
    total: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(0), nullable=False)
    # Set when the document was imported with its tax amount rather than tax rates (Upflow).
    fixed_tax_amount: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    delivery_status: Mapped[int] = mapped_column(default=1, nullable=False)
    sent: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # A sales order points at the invoice it became; the invoice back at its order.
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    external_id: Mapped[str | None] = mapped_column(String(255))
    extra: Mapped[dict] = mapped_column(JsonDocument, default=dict, nullable=False)
    # The document's own PDF when one was uploaded (Upflow); else the PDF is printed from the book.
    pdf_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id", ondelete="SET NULL"))

    customer: Mapped[Party] = relationship(lazy="joined")
    billing_contact: Mapped[Contact | None] = relationship(foreign_keys=[billing_contact_id], lazy="joined")
    shipping_contact: Mapped[Contact | None] = relationship(foreign_keys=[shipping_contact_id], lazy="joined")
    payment_terms: Mapped[PaymentTerm | None] = relationship(lazy="joined")
    lines: Mapped[list[DocumentLine]] = relationship(back_populates="document", order_by="DocumentLine.position",
                                                     cascade="all, delete-orphan", lazy="selectin")


class DocumentLine(OrgScoped, Base):
    __tablename__ = "document_lines"

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True,
                                             nullable=False)
    position: Mapped[int] = mapped_column(nullable=False)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    unit_price_wt: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    discount_rate: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(0), nullable=False)
    tax_id: Mapped[int | None] = mapped_column(ForeignKey("taxes.id"))
    is_taxable: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    total: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))

    document: Mapped[Document] = relationship(back_populates="lines")


class Payment(OrgScoped, PublicUuid, Timestamped, Base):
    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("org_id", "user_code"), UniqueConstraint("org_id", "external_id"))

    user_code: Mapped[str] = mapped_column(String(64), nullable=False)
    party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"), index=True)
    date: Mapped[date] = mapped_column(Date, nullable=False)
    amount: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    currency_iso_code: Mapped[str] = mapped_column(String(4), nullable=False)
    payment_method_id: Mapped[int | None] = mapped_column(ForeignKey("payment_methods.id"))
    bank_reference: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    bank_account_id: Mapped[int | None] = mapped_column(ForeignKey("bank_accounts.id"))
    external_id: Mapped[str | None] = mapped_column(String(255))
    extra: Mapped[dict] = mapped_column(JsonDocument, default=dict, nullable=False)

    allocations: Mapped[list[Allocation]] = relationship(
        back_populates="payment", order_by="Allocation.id", cascade="all, delete-orphan", lazy="selectin")


class Refund(OrgScoped, PublicUuid, Timestamped, Base):
    """Money paid back to a customer: the opposite of a payment (Upflow's refunds)."""

    __tablename__ = "refunds"
    __table_args__ = (UniqueConstraint("org_id", "user_code"), UniqueConstraint("org_id", "external_id"))

    user_code: Mapped[str] = mapped_column(String(64), nullable=False)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True, nullable=False)
    date: Mapped[date] = mapped_column(Date, nullable=False)
    amount: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    currency_iso_code: Mapped[str] = mapped_column(String(4), nullable=False)
    bank_account_id: Mapped[int | None] = mapped_column(ForeignKey("bank_accounts.id"))
    external_id: Mapped[str | None] = mapped_column(String(255))
    extra: Mapped[dict] = mapped_column(JsonDocument, default=dict, nullable=False)


class Reconciliation(OrgScoped, PublicUuid, Timestamped, Base):
    """A set of allocations imported together (Upflow's POST /reconcile), replaced as a whole."""

    __tablename__ = "reconciliations"
    __table_args__ = (UniqueConstraint("org_id", "external_id"),)

    external_id: Mapped[str] = mapped_column(String(255), nullable=False)


class Allocation(OrgScoped, Base):
    """The part of one credit (a payment or a credit note) that settles one debit (an invoice or a
    refund). Allocations only match amounts; the ledger postings are the documents' own.

    The table keeps the name it had when only payments were allocated to invoices."""

    __tablename__ = "payment_allocations"
    __table_args__ = (
        CheckConstraint("(payment_id IS NULL) <> (credit_note_id IS NULL)", name="one_credit"),
        CheckConstraint("(document_id IS NULL) <> (refund_id IS NULL)", name="one_debit"),
    )

    # The credit: a payment or a credit note.
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="CASCADE"), index=True)
    credit_note_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    # The debit: an invoice (document_id) or a refund.
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), index=True)
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id", ondelete="CASCADE"), index=True)
    amount: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    # Set when the allocation came from a reconciliation rather than from its payment or credit note.
    reconciliation_id: Mapped[int | None] = mapped_column(ForeignKey("reconciliations.id", ondelete="CASCADE"),
                                                          index=True)

    payment: Mapped[Payment | None] = relationship(back_populates="allocations")


class BankAccount(OrgScoped, Timestamped, Base):
    __tablename__ = "bank_accounts"

    account_number: Mapped[str] = mapped_column(String(64), default="", nullable=False)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    currency_iso_code: Mapped[str] = mapped_column(String(4), nullable=False)
    linked_to_provider: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    bank_balance: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(0), nullable=False)
    bank_balance_date: Mapped[date | None] = mapped_column(Date)
    ledger_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), nullable=False)


class BankEntry(OrgScoped, Timestamped, Base):
    __tablename__ = "bank_entries"
    __table_args__ = (UniqueConstraint("org_id", "external_id"),)

    external_id: Mapped[str | None] = mapped_column(String(255))
    bank_account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"), index=True, nullable=False)
    posted_date: Mapped[date] = mapped_column(Date, nullable=False)
    transaction_date: Mapped[date] = mapped_column(Date, nullable=False)
    amount: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    currency_iso_code: Mapped[str] = mapped_column(String(4), nullable=False)
    description: Mapped[str] = mapped_column(String(255), nullable=False)
    payment_method_id: Mapped[int | None] = mapped_column(ForeignKey("payment_methods.id"))
