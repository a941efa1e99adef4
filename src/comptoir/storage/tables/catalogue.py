"""The catalogue: items (services and products) and their families."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..types import ExactDecimal
from .base import Base, OrgScoped, PublicUuid, Timestamped


class ItemFamily(OrgScoped, Timestamped, Base):
    __tablename__ = "item_families"
    __table_args__ = (UniqueConstraint("org_id", "code"),)

    name: Mapped[str] = mapped_column(String(64), nullable=False)
    code: Mapped[str] = mapped_column(String(64), nullable=False)


class Item(OrgScoped, PublicUuid, Timestamped, Base):
    __tablename__ = "items"
    __table_args__ = (UniqueConstraint("org_id", "item_number"),)

    type: Mapped[int] = mapped_column(nullable=False)  # 1 service, 2 product
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), nullable=False)
    sales_price: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(0), nullable=False)
    item_number: Mapped[str] = mapped_column(String(64), nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    family_id: Mapped[int] = mapped_column(ForeignKey("item_families.id"), nullable=False)
    private_note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    # Product-only fields; services keep the defaults and the dialect does not show them.
    purchase_price: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(0), nullable=False)
    net_weight: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(0), nullable=False)
    width: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(0), nullable=False)
    length: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(0), nullable=False)
    height: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(0), nullable=False)
    dimension_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
