"""API credentials of every dialect: issuing them (secrets shown once, stored hashed), checking
them, and revoking them.

| kind | identifier (public half) | secret | used as |
|---|---|---|---|
| oneup | API email | API key | HTTP Basic on /oneup/v1 |
| upflow | API key | API secret | X-Api-Key and X-Api-Secret headers |
| quipu | app id | app secret | HTTP Basic on POST /quipu/oauth/token, then a Bearer token |
| oneconnect | client id | client secret | form body of POST /oneconnect/oauth2/token, then a Bearer JWT |
| oneconnect_integration | integration id (UUID) | integration secret | x-oneconnect-api-key header |
| web | email | password (scrypt) | the OAuth sign-in page |
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy.orm import Session

from comptoir.domain.errors import ErrorKind, fail
from comptoir.domain.organizations import Principal
from comptoir.services.access import webhooks
from comptoir.services.access.secrets import digest, matches, new_secret
from comptoir.storage.link import Link
from comptoir.storage.book import Book
from comptoir.storage.database import Database
from comptoir.storage.identity import (
    CredentialFound,
    IdentityStore,
    credential_with_organization,
    credentials_with_organization,
)
from comptoir.storage.tables import Credential

ISSUABLE = ("oneup", "upflow", "quipu", "oneconnect", "oneconnect_integration")
# A OneConnect partner is not the company: its credentials still get tokens when the organization is
# closed, so that its integration can answer SMB_CLOSED (dialects/oneconnect/security.py).
PARTNER = "oneconnect"
ORGANIZATION_CLOSED = "the organization is closed"


@dataclass(frozen=True)
class Check:
    """The outcome of checking a credential: who it is, or why not (a revoked one says why)."""

    principal: Principal | None
    revoked_reason: str | None = None


def authenticate(database: Database, kind: str, identifier: str, secret: str) -> Principal | None:
    """The principal behind a credential of this dialect, or None when it is unknown, wrong or
    revoked, checked in a transaction of its own (for callers outside a unit of work: token endpoints)."""
    with database.transaction() as session:
        return verify(session, kind, identifier, secret).principal


def verify(where: Link | Session, kind: str, identifier: str, secret: str) -> Check:
    """Check a credential of this dialect with one statement of the caller's transaction (the first
    of a request's unit of work), which also reads its organization."""
    credential = credential_with_organization(where, kind, identifier)
    if credential is None or not matches(secret, credential.secret_hash):
        return Check(None)
    if credential.revoked_at is not None:
        return Check(None, credential.revocation_reason or "revoked")
    if credential.organization.closed_at is not None and kind != PARTNER:
        return Check(None, ORGANIZATION_CLOSED)
    return Check(Principal(credential.org_id, credential.id, credential.employee_id, credential.organization))


def issue(session, org_id: int, kind: str, *, employee_id: int | None = None, identifier: str | None = None) -> dict:
    """A new credential of a dialect; returns its public and secret halves (the secret, once)."""
    if kind not in ISSUABLE:
        raise fail(ErrorKind.INVALID, "kind", f"one of {', '.join(ISSUABLE)}")
    identifier = identifier or _identifier(kind, org_id)
    secret = new_secret()
    IdentityStore(session).add(Credential(org_id=org_id, kind=kind, identifier=identifier, secret_hash=digest(secret),
                                          employee_id=employee_id))
    return {"identifier": identifier, "secret": secret}


def _identifier(kind: str, org_id: int) -> str:
    if kind == "oneup":
        return f"api_{org_id}_{secrets.randbelow(10**6):06d}@api.comptoir.local"
    if kind == "oneconnect_integration":
        return str(uuid.uuid4())
    return secrets.token_hex(16)


def revoke(database: Database, org_id: int, kind: str, identifier: str, reason: str = "revoked", *,
           source: str | None = None) -> datetime:
    """`revoke_in` in a transaction of its own (the CLI). When it was revoked."""
    with database.transaction() as session:
        return revoke_in(Book(session, org_id), kind, identifier, reason, source=source)


def revoke_in(book: Book, kind: str, identifier: str, reason: str = "revoked", *, source: str | None = None) -> datetime:
    """Revoke one credential of the book's organization; later calls with it are refused with the
    reason. When it was revoked (now, or earlier if it already was). `source`: the server the revoking
    request reached, named by the Revocation webhook (None from the command line)."""
    credential = IdentityStore(book.session).credential(kind, identifier)
    if credential is None or credential.org_id != book.org_id:
        raise fail(ErrorKind.NOT_FOUND, "identifier", f"no {kind} credential {identifier} in this organization")
    if credential.revoked_at is None:
        credential.revoked_at = datetime.now(timezone.utc)
        credential.revocation_reason = reason
        if kind == "oneconnect_integration":  # the partners hear of it (outbox, same transaction)
            webhooks.revocation(book, identifier, reason, credential.revoked_at, source)
    book.session.flush()
    return credential.revoked_at


def states(where: Link | Session, wanted: list[tuple[str, str]]) -> dict[str, CredentialFound]:
    """Credentials of different kinds, as they are now (revoked or not), with their organization, by
    kind, in one statement; their secrets are not checked (`secret_matches`)."""
    return credentials_with_organization(where, wanted)


def secret_matches(secret: str, credential: CredentialFound) -> bool:
    return matches(secret, credential.secret_hash)
