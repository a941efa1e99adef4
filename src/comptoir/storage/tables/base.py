"""Declarative base and the columns every book table shares."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Integer, MetaData, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

# Stable constraint names, so Alembic migrations name the same thing on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JsonDocument = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_uuid() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    # Ids are 64-bit on PostgreSQL. SQLite keeps INTEGER: only "INTEGER PRIMARY KEY" is its rowid.
    type_annotation_map = {int: BigInteger().with_variant(Integer(), "sqlite")}


class OrgScoped:
    """Every row of the book belongs to one organization; the repositories filter on it.

    Keeping the organization in every table (and first in composite keys) is also what lets the
    book be distributed by organization later (Citus and the like) without a redesign.
    """

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)

    @declared_attr
    def org_id(cls) -> Mapped[int]:  # noqa: N805 - SQLAlchemy declared_attr
        return mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True, nullable=False)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow, nullable=False
    )


class PublicUuid:
    """A UUID beside the integer id: dialects that speak UUIDs (Upflow, OneConnect) use it."""

    uuid: Mapped[str] = mapped_column(String(36), default=new_uuid, unique=True, nullable=False)
