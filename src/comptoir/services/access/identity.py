"""Identity use cases: web logins, OAuth clients, authorization codes and bearer tokens.

Secrets of every kind are random, shown once and stored hashed; tokens and codes are looked up by
their hash. Expired or revoked tokens authenticate nobody.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from sqlalchemy.orm import Session

from comptoir.domain.errors import ErrorKind, fail
from comptoir.domain.organizations import Principal
from comptoir.services.access.passwords import hash_password, new_password, verify_password
from comptoir.services.access.secrets import digest, matches, new_secret
from comptoir.storage.link import Link
from comptoir.storage.database import Database
from comptoir.storage.identity import IdentityStore, is_active, token_with_organization
from comptoir.storage.tables import AccessToken, AuthorizationCode, Credential, OAuthClient

WEB = "web"
ONEUP_ACCESS_TOKEN_S = 3600
ONEUP_REFRESH_TOKEN_S = 30 * 24 * 3600
AUTHORIZATION_CODE_S = 60


def now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class NewClient:
    client_id: str
    client_secret: str
    name: str
    redirect_uris: list[str]


# -- web logins (people) -----------------------------------------------------------------------

@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password(new_password())


def create_web_login(session, org_id: int, employee_id: int, email: str) -> str:
    """A login for the OAuth pages; returns the password, shown once."""
    password = new_password()
    IdentityStore(session).add(Credential(org_id=org_id, kind=WEB, identifier=email.lower(),
                                          secret_hash=hash_password(password), employee_id=employee_id))
    return password


def log_in(database: Database, email: str, password: str) -> Principal | None:
    with database.transaction() as session:
        credential = IdentityStore(session).credential(WEB, email.strip().lower())
        if credential is None or credential.revoked_at is not None:
            verify_password(password, _dummy_hash())  # one scrypt either way: timing tells nothing
            return None
        if not verify_password(password, credential.secret_hash):
            return None
        return Principal(credential.org_id, credential.id, credential.employee_id)


# -- OAuth clients -----------------------------------------------------------------------------

def register_client(database: Database, name: str, redirect_uris: list[str]) -> NewClient:
    name = name.strip()
    uris = [uri.strip() for uri in redirect_uris if uri.strip()]
    if not name:
        raise fail(ErrorKind.MISSING, "name", "an OAuth client needs a name")
    if not uris or any(not uri.startswith(("https://", "http://")) for uri in uris):
        raise fail(ErrorKind.INVALID, "redirect_uri", "give at least one absolute http(s) redirect URI")
    client_id = secrets.token_hex(16)
    client_secret = new_secret()
    with database.transaction() as session:
        IdentityStore(session).add(OAuthClient(client_id=client_id, secret_hash=digest(client_secret), name=name,
                                               redirect_uris=uris))
    return NewClient(client_id, client_secret, name, uris)


def revoke_client(database: Database, client_id: str) -> None:
    with database.transaction() as session:
        client = IdentityStore(session).client(client_id)
        if client is None:
            raise fail(ErrorKind.NOT_FOUND, "client_id", f"no OAuth client {client_id}")
        client.revoked_at = now()


def find_client(session, client_id: str | None) -> OAuthClient | None:
    if not client_id:
        return None
    client = IdentityStore(session).client(client_id)
    return client if client is not None and client.revoked_at is None else None


def client_secret_matches(client: OAuthClient, secret: str) -> bool:
    return matches(secret, client.secret_hash)


# -- authorization codes -----------------------------------------------------------------------

def save_code(session, code: str, *, client_id: str, principal: Principal, redirect_uri: str, scope: str,
              code_challenge: str | None, code_challenge_method: str | None) -> None:
    IdentityStore(session).add(AuthorizationCode(
        org_id=principal.org_id, code_hash=digest(code), client_id=client_id, credential_id=principal.credential_id,
        employee_id=principal.employee_id,
        redirect_uri=redirect_uri, scope=scope or "", code_challenge=code_challenge,
        code_challenge_method=code_challenge_method, expires_at=now() + timedelta(seconds=AUTHORIZATION_CODE_S)))


def usable_code(session, code: str, client_id: str) -> AuthorizationCode | None:
    """The code if it is this client's, unused and unexpired; locked so two exchanges cannot both win.

    A code of this client presented again after it was exchanged means that someone else holds it
    too (RFC 6749 §4.1.2): every token its user granted this client is revoked, the ones issued from
    this code included (a token does not remember its code, so the whole grant goes)."""
    row = IdentityStore(session).code(digest(code), lock=True)
    if row is None or row.client_id != client_id:
        return None
    if row.used_at is not None:
        revoke_grant(session, "oneup", org_id=row.org_id, client_id=row.client_id, credential_id=row.credential_id,
                     employee_id=row.employee_id)
        return None
    return row if is_active(row.expires_at, None, now()) else None


def spend_code(row: AuthorizationCode) -> None:
    row.used_at = now()


# -- bearer tokens -----------------------------------------------------------------------------

def save_token(session, kind: str, *, access_token: str, refresh_token: str | None, expires_in_s: int,
               client_id: str, principal: Principal, scope: str, refresh_expires_in_s: int | None = None) -> None:
    issued = now()
    IdentityStore(session).add(AccessToken(
        org_id=principal.org_id, kind=kind, token_hash=digest(access_token),
        refresh_hash=digest(refresh_token) if refresh_token else None, client_id=client_id,
        credential_id=principal.credential_id, employee_id=principal.employee_id, scope=scope or "",
        issued_at=issued, expires_at=issued + timedelta(seconds=expires_in_s),
        refresh_expires_at=issued + timedelta(seconds=refresh_expires_in_s) if refresh_expires_in_s else None))


def usable_refresh_token(session, refresh_token: str, client_id: str) -> AccessToken | None:
    """The refresh token if it is this client's, unrevoked, unexpired, and its user's sign-in is not revoked.

    A revoked refresh token of this client presented again (one already rotated, most often) means
    that it leaked (OAuth 2.0 Security BCP, refresh token rotation): every token its user granted this
    client is revoked, the one that replaced it included."""
    row = IdentityStore(session).refresh_token(digest(refresh_token), lock=True)
    if row is None or row.client_id != client_id:
        return None
    if row.revoked_at is not None:
        revoke_grant(session, row.kind, org_id=row.org_id, client_id=row.client_id, credential_id=row.credential_id,
                     employee_id=row.employee_id)
        return None
    if row.credential_id is not None:
        credential = session.get(Credential, row.credential_id)
        if credential is None or credential.revoked_at is not None:
            return None
    return row if row.refresh_expires_at is None or is_active(row.refresh_expires_at, None, now()) else None


def revoke_token(row: AccessToken) -> None:
    row.revoked_at = now()


def revoke_grant(session, kind: str, *, org_id: int, client_id: str, credential_id: int | None,
                 employee_id: int | None) -> int:
    """Revoke every live token one user (credential and employee) granted one client. Returns how many."""
    from sqlalchemy import update

    def same(column, value):
        return column.is_(None) if value is None else column == value

    statement = update(AccessToken).where(
        AccessToken.org_id == org_id, AccessToken.kind == kind, AccessToken.client_id == client_id,
        same(AccessToken.credential_id, credential_id), same(AccessToken.employee_id, employee_id),
        AccessToken.revoked_at.is_(None))
    return session.execute(statement.values(revoked_at=now()).execution_options(synchronize_session=False)).rowcount or 0


def principal_of_token(row: AccessToken) -> Principal:
    return Principal(row.org_id, row.credential_id, row.employee_id)


@dataclass(frozen=True)
class BearerCheck:
    principal: Principal | None
    known: bool  # a token we issued, even if no longer active


def check_bearer(database: Database, kind: str, token: str) -> BearerCheck:
    """`verify_bearer` in a transaction of its own (for callers outside a unit of work)."""
    with database.transaction() as session:
        return verify_bearer(session, kind, token)


def verify_bearer(where: Link | Session, kind: str, token: str) -> BearerCheck:
    """Who a bearer token stands for, if it is one of ours of this dialect, active, and its
    credential is not revoked: one statement of the caller's transaction (the first of a request's
    unit of work), which also reads its organization."""
    row = token_with_organization(where, digest(token))
    if row is None or row.kind != kind:
        return BearerCheck(None, False)
    if not is_active(row.expires_at, row.revoked_at, now()) or row.credential_revoked \
            or row.organization.closed_at is not None:
        return BearerCheck(None, True)
    return BearerCheck(Principal(row.org_id, row.credential_id, row.employee_id, row.organization), True)


def revoke_tokens_of(database: Database, *, client_id: str | None = None, token: str | None = None) -> int:
    """Revoke one token, or every token of a client. Returns how many were revoked."""
    from sqlalchemy import update

    with database.transaction() as session:
        statement = update(AccessToken).where(AccessToken.revoked_at.is_(None))
        if token is not None:
            statement = statement.where(AccessToken.token_hash == digest(token))
        if client_id is not None:
            statement = statement.where(AccessToken.client_id == client_id)
        return session.execute(statement.values(revoked_at=now())).rowcount or 0
