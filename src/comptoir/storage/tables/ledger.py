"""The ledger: accounts, journals, transactions and their entries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, SmallInteger, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..types import ExactDecimal
from .base import Base, OrgScoped, PublicUuid, Timestamped
from .rates import RATE_SCALE


class Account(OrgScoped, Timestamped, Base):
    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("org_id", "number"), UniqueConstraint("category_id", "suffix"))

    number: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    is_family: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    family_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    nature: Mapped[str] = mapped_column(String(16), nullable=False)  # asset, liability, equity, income, expense
    role: Mapped[str | None] = mapped_column(String(32))  # receivable, income, ... (posting rules)
    # A subaccount of another postable account (Quipu's accounting subcategory): its number is the
    # category's number followed by the suffix.
    category_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    suffix: Mapped[str | None] = mapped_column(String(16))


class Journal(OrgScoped, Timestamped, Base):
    __tablename__ = "journals"
    __table_args__ = (UniqueConstraint("org_id", "code"),)

    name: Mapped[str] = mapped_column(String(64), nullable=False)
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    role: Mapped[str | None] = mapped_column(String(32))


class PaymentMethod(OrgScoped, Base):
    __tablename__ = "payment_methods"

    name: Mapped[str] = mapped_column(String(64), nullable=False)


class Transaction(OrgScoped, PublicUuid, Timestamped, Base):
    """A balanced set of entries. `source_type`/`source_id` name the document that generated it;
    none for transactions written by hand."""

    __tablename__ = "transactions"
    __table_args__ = (
        UniqueConstraint("org_id", "transaction_code"),
        UniqueConstraint("org_id", "source_type", "source_id"),
        Index("ix_transactions_org_date", "org_id", "date"),
    )

    external_id: Mapped[str | None] = mapped_column(String(255))
    transaction_code: Mapped[int] = mapped_column(nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="Realized", nullable=False)
    date: Mapped[date] = mapped_column(Date, nullable=False)
    journal_id: Mapped[int] = mapped_column(ForeignKey("journals.id"), nullable=False)
    piece_number: Mapped[str] = mapped_column(String(64), nullable=False)
    currency_iso_code: Mapped[str] = mapped_column(String(4), nullable=False)
    source_type: Mapped[str | None] = mapped_column(String(32))
    source_id: Mapped[int | None] = mapped_column()

    journal: Mapped[Journal] = relationship(lazy="joined")
    entries: Mapped[list[Entry]] = relationship(back_populates="transaction", order_by="Entry.id",
                                                cascade="all, delete-orphan", lazy="selectin")


class Entry(OrgScoped, Base):
    __tablename__ = "entries"
    __table_args__ = (
        Index("ix_entries_org_account", "org_id", "account_id"),
        Index("ix_entries_org_party", "org_id", "party_id"),
        # The entries of money in another currency, few in most books and none in many: the reports'
        # foreign amounts and the revaluation read them through this index alone (migration 0020).
        Index("ix_entries_org_foreign", "org_id", "account_id", "date",
              sqlite_where=text("currency_iso_code IS NOT NULL"),
              postgresql_where=text("currency_iso_code IS NOT NULL")),
    )

    transaction_id: Mapped[int] = mapped_column(ForeignKey("transactions.id", ondelete="CASCADE"), index=True,
                                                nullable=False)
    label: Mapped[str] = mapped_column(String(128), default="", nullable=False)
    # active_history: the values before a change are always known (storage/balances.py needs them).
    amount: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False, active_history=True)
    way: Mapped[str] = mapped_column(String(6), nullable=False, active_history=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), nullable=False, active_history=True)
    lettering: Mapped[str | None] = mapped_column(String(64))
    locked: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    reconciled: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # Repeated from the transaction so that balances by account and date need no join.
    date: Mapped[date] = mapped_column(Date, nullable=False, active_history=True)
    party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"))
    # A tax entry's rate (percent) and base (the taxable amount, signed as the amount): what tax
    # returns read (docs/decisions/0023-tax-returns.md). None on other entries, and where the rate is
    # not known (a tax imported as an amount, entries written by hand).
    tax_rate: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    tax_base: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    # An entry of money in another currency than the organization's (issue 18, docs/currencies.md):
    # `amount` is in the organization's currency (what balances and what reports add), these say the
    # currency, the amount in it and the rate that converted it (1 currency = rate own currency).
    # None on an entry in the organization's currency, and on an exchange or rounding difference.
    currency_iso_code: Mapped[str | None] = mapped_column(String(3))
    currency_amount: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    rate: Mapped[Decimal | None] = mapped_column(ExactDecimal(24, RATE_SCALE))

    transaction: Mapped[Transaction] = relationship(back_populates="entries")
    account: Mapped[Account] = relationship(lazy="joined")


class AccountBalance(Base):
    """The debit and credit totals of one account over one day or one calendar month (`span`), kept
    by storage/balances.py in the same database transaction as the entries they add up: reports read
    a few of these rows instead of every entry (docs/decisions/0017). Concurrent writers of one
    account add to different `slot`s (PostgreSQL), so that they do not queue on one row; a total is
    the sum over its slots."""

    __tablename__ = "account_balances"

    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    span: Mapped[str] = mapped_column(String(5), primary_key=True)  # "day" or "month"
    first_day: Mapped[date] = mapped_column(Date, primary_key=True)  # the day, or the month's first day
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    slot: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    debit: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    credit: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
