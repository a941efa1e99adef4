"""Checking API credentials. Every dialect authenticates through here."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from comptoir.auth.secrets import matches
from comptoir.storage.database import Database
from comptoir.storage.tables import Credential


@dataclass(frozen=True)
class Principal:
    """Who is calling: the organization whose book they may use, and the credential used."""

    org_id: int
    credential_id: int
    employee_id: int | None


def authenticate(database: Database, kind: str, identifier: str, secret: str) -> Principal | None:
    """The principal behind a credential of this dialect, or None when it is unknown, wrong or revoked."""
    with database.transaction() as session:
        credential = session.scalars(
            select(Credential).where(Credential.kind == kind, Credential.identifier == identifier)
        ).first()
        if credential is None or credential.revoked_at is not None or not matches(secret, credential.secret_hash):
            return None
        return Principal(credential.org_id, credential.id, credential.employee_id)
