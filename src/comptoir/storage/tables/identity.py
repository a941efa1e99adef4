"""Identity: OAuth clients, authorization codes, access tokens and the server's signing keys.

OAuth clients are applications registered once for the whole server (any organization's users may
authorize them), so they carry no organization. Codes and tokens belong to the organization whose
user granted them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, OrgScoped, utcnow


class OAuthClient(Base):
    __tablename__ = "oauth_clients"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    secret_hash: Mapped[str] = mapped_column(String(128), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    redirect_uris: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuthorizationCode(OrgScoped, Base):
    """A single-use, short-lived code. Only its hash is kept."""

    __tablename__ = "authorization_codes"

    code_hash: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    client_id: Mapped[str] = mapped_column(String(64), nullable=False)
    credential_id: Mapped[int | None] = mapped_column(ForeignKey("credentials.id", ondelete="CASCADE"))
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(Text, nullable=False)
    scope: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    code_challenge: Mapped[str | None] = mapped_column(String(255))
    code_challenge_method: Mapped[str | None] = mapped_column(String(16))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AccessToken(OrgScoped, Base):
    """A bearer token of any dialect (OneUp OAuth2, Quipu client credentials). Hashes only."""

    __tablename__ = "access_tokens"

    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    refresh_hash: Mapped[str | None] = mapped_column(String(128), unique=True)
    client_id: Mapped[str] = mapped_column(String(64), nullable=False)
    credential_id: Mapped[int | None] = mapped_column(ForeignKey("credentials.id", ondelete="CASCADE"))
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    refresh_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SigningKey(Base):
    """RSA keys the server signs JWTs and webhooks with; the public halves are at /.well-known/jwks.json."""

    __tablename__ = "signing_keys"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    private_pem: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


