"""Exchange rates of an organization: one per currency and day (issue 18 §1; domain/rates.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Date, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..types import ExactDecimal
from .base import Base, OrgScoped, Timestamped

RATE_SCALE = 10  # decimal places a rate keeps (domain/rates.PLACES_MAX)


class ExchangeRate(OrgScoped, Timestamped, Base):
    """1 `currency` = `rate` units of the organization's currency from `date` on. Setting a rate again
    for the same day replaces it; the unique constraint is also the index that finds the latest rate
    on or before a day."""

    __tablename__ = "exchange_rates"
    __table_args__ = (UniqueConstraint("org_id", "currency", "date"),)

    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    date: Mapped[date] = mapped_column(Date, nullable=False)
    rate: Mapped[Decimal] = mapped_column(ExactDecimal(24, RATE_SCALE), nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False)  # manual, import, document
