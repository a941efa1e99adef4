"""Files kept for the book (uploaded PDFs, partners' documents, attachments). The bytes live in the
file store (services/files.py); the row says what they are."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, OrgScoped, PublicUuid, Timestamped


class StoredFile(OrgScoped, PublicUuid, Timestamped, Base):
    __tablename__ = "stored_files"

    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    content_type: Mapped[str] = mapped_column(String(128), nullable=False)
    byte_size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    # Where the store keeps the bytes, relative to its root.
    storage_key: Mapped[str] = mapped_column(String(255), nullable=False)
