"""Reference data seeded per organization: currencies, taxes, payment terms, units, price families."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import JSON, Boolean, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..types import ExactDecimal
from .base import Base, OrgScoped


class Currency(OrgScoped, Base):
    __tablename__ = "currencies"
    __table_args__ = (UniqueConstraint("org_id", "iso_code"),)

    iso_code: Mapped[str] = mapped_column(String(4), nullable=False)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    is_main_currency: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    minor_units: Mapped[int] = mapped_column(default=2, nullable=False)


class Tax(OrgScoped, Base):
    __tablename__ = "taxes"

    name: Mapped[str] = mapped_column(String(128), nullable=False)
    rate: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)


class PaymentTerm(OrgScoped, Base):
    __tablename__ = "payment_terms"

    name: Mapped[str] = mapped_column(String(64), nullable=False)
    # The settlements an invoice gets: [{"percent": "50", "days": 0, "end_of_month": false}, ...]
    installments: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)


class Unit(OrgScoped, Base):
    __tablename__ = "units"

    name: Mapped[str] = mapped_column(String(64), nullable=False)
    type: Mapped[int] = mapped_column(nullable=False)  # 1 piece ... 6 time


class PriceFamily(OrgScoped, Base):
    __tablename__ = "price_families"

    name: Mapped[str] = mapped_column(String(64), nullable=False)
