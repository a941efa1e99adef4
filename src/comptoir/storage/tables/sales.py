"""Sales documents (orders, invoices, credit notes) with their lines; payments and refunds; the
allocations that say which credit settles which debit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cache

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    case,
    false,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from comptoir.domain.documents import PURCHASES, printed_number

from ..types import ExactDecimal
from .base import Base, JsonDocument, OrgScoped, PublicUuid, Timestamped
from .parties import Contact, Party
from .rates import RATE_SCALE
from .reference import PaymentTerm


class Document(OrgScoped, PublicUuid, Timestamped, Base):
    """A sales order, an invoice or a credit note; on the purchase side, a purchase invoice, a vendor
    credit or a paysheet (docs/decisions/0013). Totals are computed from the lines when they are written.

    `customer_id` holds the document's party whatever its side: the customer of a sales document, the
    vendor of a purchase document, the employee of a paysheet (`party_id` names it so)."""

    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("org_id", "kind", "user_code"),
        UniqueConstraint("org_id", "kind", "external_id"),
        # Automatic codes are checked for being free by (org_id, user_code), whatever the kind
        # (services/codes.next_code): without this index that check reads every document of the book.
        Index("ix_documents_org_id_user_code", "org_id", "user_code"),
        # A series' numbers in order: the one before a new number, whose date it may not precede
        # (services/documents/numbering.py).
        Index("ix_documents_series_number", "org_id", "series_id", "series_number"),
    )

    # sales_order, invoice, credit_note; purchase_invoice, vendor_credit, paysheet
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
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
    # The rate the document is booked at when its currency is not the organization's (1 currency =
    # rate own currency; issue 18): taken when it is written, kept while its date and currency are.
    exchange_rate: Mapped[Decimal | None] = mapped_column(ExactDecimal(24, RATE_SCALE))
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
    # Income tax withheld (Spanish IRPF), the sum of the lines' retentions; the total is net of it.
    retention_amount: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(0), server_default="0",
                                                      nullable=False)
    # Tax and retention computed line by line (Quipu) rather than once per tax rate (OneUp).
    taxes_per_line: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), nullable=False)
    # The numbering series the number came from, when it came from one.
    series_id: Mapped[int | None] = mapped_column(ForeignKey("numbering_series.id"))
    # Its place in the series that numbered it (its numbering series, else its kind's automatic codes)
    # when Comptoir gave the number: such numbers run without gaps and in date order (ADR 0026).
    series_number: Mapped[int | None] = mapped_column(Integer)
    # A purchase document's number as its vendor printed it (the user code is our own).
    vendor_reference: Mapped[str | None] = mapped_column(String(255))
    # The day the document was settled in full, when it was declared paid without a payment record.
    paid_at: Mapped[date | None] = mapped_column(Date)
    # The document a credit note (or vendor credit) amends.
    amends_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), index=True)
    # The form a sales or purchase invoice takes where it differs from a full invoice: simplified_invoice,
    # additional_income, ticket (Quipu's resources); none for a full invoice.
    form: Mapped[str | None] = mapped_column(String(32))
    # The ledger account lines post to when they name none (Quipu's accounting (sub)category).
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))

    customer: Mapped[Party] = relationship(lazy="joined")
    billing_contact: Mapped[Contact | None] = relationship(foreign_keys=[billing_contact_id], lazy="joined")
    shipping_contact: Mapped[Contact | None] = relationship(foreign_keys=[shipping_contact_id], lazy="joined")
    payment_terms: Mapped[PaymentTerm | None] = relationship()  # read by id (services/reference.py)
    lines: Mapped[list[DocumentLine]] = relationship(back_populates="document", order_by="DocumentLine.position",
                                                     cascade="all, delete-orphan", lazy="selectin")

    @classmethod
    def loading(cls) -> tuple:
        """How the repositories load documents: the customer in the same query, but none of the
        customer's own relationships (its terms, tax, employee, price family, contacts: four more
        joins and a query), which no rendering of a document reads; they load if ever read."""
        return _document_loading()

    @property
    def party_id(self) -> int:
        return self.customer_id

    @hybrid_property
    def number(self) -> str | None:
        """domain/documents.printed_number, and the same in a query (a list filtered by number)."""
        return printed_number(self.kind, self.user_code, self.vendor_reference)

    @number.inplace.expression
    @classmethod
    def _number(cls) -> ColumnElement[str]:
        return case((cls.kind.in_(PURCHASES), cls.vendor_reference), else_=cls.user_code)


@cache
def _document_loading() -> tuple:
    return (joinedload(Document.customer).lazyload("*"),)


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

    # A rate given on the line itself (Quipu's vat_percent), used instead of a tax of the book.
    tax_rate: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    retention_rate: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(0), server_default="0",
                                                    nullable=False)
    # The share (percent) of the tax a purchase may deduct, the rest being an expense; none: all of it.
    deductible_tax_rate: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    # Computed with `total` (the line's base) on documents whose taxes are computed per line.
    tax_amount: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(0), server_default="0", nullable=False)
    retention_amount: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(0), server_default="0",
                                                      nullable=False)
    # Data a dialect keeps on the line, by dialect name.
    extra: Mapped[dict] = mapped_column(JsonDocument, default=dict, nullable=False)

    document: Mapped[Document] = relationship(back_populates="lines")


class Payment(OrgScoped, PublicUuid, Timestamped, Base):
    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("org_id", "user_code"), UniqueConstraint("org_id", "external_id"))

    user_code: Mapped[str] = mapped_column(String(64), nullable=False)
    party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"), index=True)
    date: Mapped[date] = mapped_column(Date, nullable=False)
    amount: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    currency_iso_code: Mapped[str] = mapped_column(String(4), nullable=False)
    exchange_rate: Mapped[Decimal | None] = mapped_column(ExactDecimal(24, RATE_SCALE))  # as Document's
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
    exchange_rate: Mapped[Decimal | None] = mapped_column(ExactDecimal(24, RATE_SCALE))  # as Document's
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
