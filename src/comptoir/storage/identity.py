"""Lookups of identity records by their secret (a token hash, a client id).

These are the only queries not scoped by organization: a credential is how the organization is
found in the first place. Everything they return carries its org_id, and callers scope from there.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .tables import AccessToken, AuthorizationCode, Credential, OAuthClient, SigningKey


class IdentityStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def credential(self, kind: str, identifier: str) -> Credential | None:
        if "\x00" in identifier:  # no identifier holds a NUL, and PostgreSQL cannot compare text with one
            return None
        return self.session.scalars(
            select(Credential).where(Credential.kind == kind, Credential.identifier == identifier)).first()

    def client(self, client_id: str) -> OAuthClient | None:
        if "\x00" in client_id:
            return None
        return self.session.scalars(select(OAuthClient).where(OAuthClient.client_id == client_id)).first()

    def code(self, code_hash: str, *, lock: bool = False) -> AuthorizationCode | None:
        statement = select(AuthorizationCode).where(AuthorizationCode.code_hash == code_hash)
        return self.session.scalars(statement.with_for_update() if lock else statement).first()

    def token(self, token_hash: str) -> AccessToken | None:
        return self.session.scalars(select(AccessToken).where(AccessToken.token_hash == token_hash)).first()

    def refresh_token(self, refresh_hash: str, *, lock: bool = False) -> AccessToken | None:
        statement = select(AccessToken).where(AccessToken.refresh_hash == refresh_hash)
        return self.session.scalars(statement.with_for_update() if lock else statement).first()

    def active_signing_key(self) -> SigningKey | None:
        return self.session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None))
                                    .order_by(SigningKey.id.desc())).first()

    def signing_keys(self) -> list[SigningKey]:
        return list(self.session.scalars(select(SigningKey).order_by(SigningKey.id)))

    def add(self, row) -> None:
        self.session.add(row)
        self.session.flush()


def is_active(expires_at: datetime, revoked_at: datetime | None, now: datetime) -> bool:
    if revoked_at is not None:
        return False
    if expires_at.tzinfo is None:  # SQLite hands timestamps back without their zone, which is UTC
        expires_at = expires_at.replace(tzinfo=now.tzinfo)
    return expires_at > now
