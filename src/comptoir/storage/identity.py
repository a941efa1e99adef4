"""Lookups of identity records by their secret (a token hash, a client id).

These are the only queries not scoped by organization: a credential is how the organization is
found in the first place. Everything they return carries its org_id, and callers scope from there.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, and_, bindparam, false, or_, select, update
from sqlalchemy.orm import Session

from comptoir.domain.organizations import OrganizationFacts

from .link import Link, session_of
from .statements import Statement
from .tables import AccessToken, AuthorizationCode, Credential, OAuthClient, Organization, SigningKey

_credentials, _organizations, _tokens = Credential.__table__, Organization.__table__, AccessToken.__table__
_ORGANIZATION = tuple(_organizations.c[name] for name in OrganizationFacts.__dataclass_fields__)


@dataclass(frozen=True)
class CredentialFound:
    """A credential looked up by its public identifier, with its organization (one statement)."""

    id: int
    org_id: int
    employee_id: int | None
    secret_hash: str
    revoked_at: datetime | None
    revocation_reason: str | None
    created_at: datetime
    organization: OrganizationFacts


@dataclass(frozen=True)
class TokenFound:
    """A bearer token looked up by its digest, with its organization and whether the credential it
    was issued for (if any) is revoked (one statement)."""

    id: int
    kind: str
    org_id: int
    credential_id: int | None
    employee_id: int | None
    expires_at: datetime
    revoked_at: datetime | None
    credential_revoked: bool
    organization: OrganizationFacts


_CREDENTIAL_COLUMNS = (
    select(_credentials.c.id, _credentials.c.org_id, _credentials.c.employee_id, _credentials.c.secret_hash,
           _credentials.c.revoked_at, _credentials.c.revocation_reason, _credentials.c.created_at, *_ORGANIZATION)
    .join(_organizations, _organizations.c.id == _credentials.c.org_id)
)
# Compiled once: the first statement of nearly every request.
_CREDENTIAL = Statement(_CREDENTIAL_COLUMNS.where(_credentials.c.kind == bindparam("kind"),
                                                  _credentials.c.identifier == bindparam("identifier")))
_issuer = _credentials.alias("issuer")
_TOKEN = Statement(
    select(_tokens.c.id, _tokens.c.kind, _tokens.c.org_id, _tokens.c.credential_id, _tokens.c.employee_id,
           _tokens.c.expires_at, _tokens.c.revoked_at, _issuer.c.revoked_at.label("credential_revoked_at"),
           _issuer.c.id.label("issuer_id"), *_ORGANIZATION)
    .join(_organizations, _organizations.c.id == _tokens.c.org_id)
    .outerjoin(_issuer, _issuer.c.id == _tokens.c.credential_id)
    .where(_tokens.c.token_hash == bindparam("token_hash"))
)
_ORGANIZATION_FACTS = Statement(select(*_ORGANIZATION).where(_organizations.c.id == bindparam("org_id")))


def _organization(row: Row, start: int) -> OrganizationFacts:
    return OrganizationFacts(*row[start:start + len(_ORGANIZATION)])


def credential_with_organization(where: Link | Session, kind: str, identifier: str) -> CredentialFound | None:
    """The credential of this kind and identifier, and its organization, in one statement."""
    if "\x00" in identifier:  # no identifier holds a NUL, and PostgreSQL cannot compare text with one
        return None
    row = _CREDENTIAL.first(where, kind=kind, identifier=identifier)
    return None if row is None else CredentialFound(*row[:7], _organization(row, 7))


def credentials_with_organization(where: Link | Session, wanted: list[tuple[str, str]]) -> dict[str, CredentialFound]:
    """The credentials of these (kind, identifier) pairs that exist, with their organization, by kind,
    in one statement (a OneConnect call presents a partner's token and an integration's secret)."""
    wanted = [(kind, identifier) for kind, identifier in wanted if "\x00" not in identifier]
    if not wanted:
        return {}
    values = {f"{name}_{index}": value for index, pair in enumerate(wanted)
              for name, value in zip(("kind", "identifier"), pair)}
    rows = _credentials_of(len(wanted)).all(where, **values)
    return {row[-1]: CredentialFound(*row[:7], _organization(row, 7)) for row in rows}


@functools.cache
def _credentials_of(count: int) -> Statement:
    """The credentials of `count` (kind, identifier) pairs, with the kind of each last."""
    pairs = [and_(_credentials.c.kind == bindparam(f"kind_{index}"),
                  _credentials.c.identifier == bindparam(f"identifier_{index}")) for index in range(count)]
    return Statement(_CREDENTIAL_COLUMNS.add_columns(_credentials.c.kind).where(or_(*pairs)))


def token_with_organization(where: Link | Session, token_hash: str) -> TokenFound | None:
    """The bearer token of this digest, its organization, and its credential's revocation, in one
    statement."""
    row = _TOKEN.first(where, token_hash=token_hash)
    if row is None:
        return None
    credential_id, credential_revoked_at, issuer_id = row[3], row[7], row[8]
    credential_revoked = credential_id is not None and (issuer_id is None or credential_revoked_at is not None)
    return TokenFound(*row[:7], credential_revoked, _organization(row, 9))


_MARK_FOREIGN_MONEY = Statement(update(_organizations)
                                .where(_organizations.c.id == bindparam("org_id"),
                                       _organizations.c.holds_foreign_money.is_(false()))
                                .values(holds_foreign_money=True))


def mark_holding_foreign_money(where: Link | Session, org_id: int) -> None:
    """The organization holds money in another currency from this transaction on (nothing changes
    when it already did)."""
    _MARK_FOREIGN_MONEY.run(where, org_id=org_id)


def organization_facts(where: Link | Session, org_id: int) -> OrganizationFacts | None:
    row = _ORGANIZATION_FACTS.first(where, org_id=org_id)
    return None if row is None else OrganizationFacts(*row)


class IdentityStore:
    def __init__(self, where: Link | Session) -> None:
        self.session = session_of(where)

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
