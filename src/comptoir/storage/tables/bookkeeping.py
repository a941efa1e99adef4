"""What the book keeps beside its documents: numbering series, attachments, the amounts of a
paysheet, analytic categories."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..types import ExactDecimal
from .base import Base, OrgScoped, Timestamped


class NumberingSeries(OrgScoped, Timestamped, Base):
    """A sequence of document numbers with a prefix (2024-, R-). `last_number` is the counter: it is
    incremented in the transaction that numbers a document, under the row's lock, so numbers come
    out without gaps or duplicates however many requests race."""

    __tablename__ = "numbering_series"
    __table_args__ = (UniqueConstraint("org_id", "prefix"),)

    prefix: Mapped[str] = mapped_column(String(64), nullable=False)
    # invoices, simplified_invoices, additional_incomes, paysheets, tickets; none: any kind
    applicable_to: Mapped[str | None] = mapped_column(String(32))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    amending: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    applies_to: Mapped[str | None] = mapped_column(String(32))  # new_documents, existing_documents
    last_number: Mapped[int] = mapped_column(default=0, nullable=False)


class Attachment(OrgScoped, Timestamped, Base):
    """A file attached to a document (a scanned receipt, say); the bytes are a stored file's."""

    __tablename__ = "attachments"

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True,
                                             nullable=False)
    stored_file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"), nullable=False)


class PaysheetAmounts(OrgScoped, Base):
    """The amounts of a paysheet (a document of kind paysheet): what the employee is paid, what is
    withheld, what the company adds. Gross pay is derived: net + employee social security + retention."""

    __tablename__ = "paysheet_amounts"
    __table_args__ = (UniqueConstraint("document_id"),)

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), nullable=False)
    net_pay: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(0), nullable=False)
    employee_ss_amount: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(0), nullable=False)
    employee_retention: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(0), nullable=False)
    company_ss_amount: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(0), nullable=False)


class AnalyticCategory(OrgScoped, Timestamped, Base):
    """A label to analyse documents by (a project, a shop), possibly under a parent category."""

    __tablename__ = "analytic_categories"

    name: Mapped[str] = mapped_column(String(255), nullable=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("analytic_categories.id", ondelete="CASCADE"))
