"""Custom fields an organization defines on its customers, invoices, credit notes and payments
(Upflow), their select options, and the values entities carry."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, OrgScoped, PublicUuid, Timestamped


class CustomField(OrgScoped, PublicUuid, Timestamped, Base):
    __tablename__ = "custom_fields"
    __table_args__ = (UniqueConstraint("org_id", "external_id"),)

    name: Mapped[str] = mapped_column(String(255), nullable=False)
    entity_type: Mapped[str] = mapped_column(String(32), nullable=False)  # CUSTOMER, INVOICE, ...
    data_type: Mapped[str] = mapped_column(String(32), nullable=False)  # STRING, SELECT, MULTI_SELECT, ...
    external_id: Mapped[str | None] = mapped_column(String(255))


class CustomFieldOption(OrgScoped, PublicUuid, Base):
    """A value of a SELECT or MULTI_SELECT field. Labels are case-sensitive: "One" and "one" are two."""

    __tablename__ = "custom_field_options"
    __table_args__ = (UniqueConstraint("org_id", "field_id", "label"),)

    field_id: Mapped[int] = mapped_column(ForeignKey("custom_fields.id", ondelete="CASCADE"), index=True,
                                          nullable=False)
    label: Mapped[str] = mapped_column(String(255), nullable=False)


class CustomFieldValue(OrgScoped, Base):
    """One value of one field on one entity, as text (a MULTI_SELECT has one row per label), so that
    lists can filter on it in SQL."""

    __tablename__ = "custom_field_values"
    __table_args__ = (Index("ix_custom_field_values_lookup", "org_id", "field_id", "value"),)

    field_id: Mapped[int] = mapped_column(ForeignKey("custom_fields.id", ondelete="CASCADE"), nullable=False)
    entity_id: Mapped[int] = mapped_column(nullable=False, index=True)  # a party, document or payment id
    value: Mapped[str] = mapped_column(String(1024), nullable=False)
