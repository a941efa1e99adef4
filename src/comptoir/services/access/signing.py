"""The server's signing keys (RS256): partner tokens of OneConnect and, later, webhook signatures.
Private keys live in the database so every worker signs with the same key; the public halves are
published at /.well-known/jwks.json."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
import time
from typing import Any

from joserfc import jwk, jws, jwt
from joserfc.errors import JoseError
from sqlalchemy.orm import Session

from comptoir.storage.link import Link
from comptoir.storage.database import Database
from comptoir.storage.identity import IdentityStore
from comptoir.storage.tables import SigningKey

ALGORITHM = "RS256"


def _import(row: SigningKey) -> jwk.RSAKey:
    return jwk.RSAKey.import_key(row.private_pem, parameters={"kid": row.kid, "use": "sig", "alg": ALGORITHM})


def active_key(database: Database) -> jwk.RSAKey:
    """The newest key, created on first use."""
    with database.transaction() as session:
        store = IdentityStore(session)
        row = store.active_signing_key()
        if row is None:
            key = jwk.RSAKey.generate_key(2048, private=True)
            row = SigningKey(kid=secrets.token_hex(8), private_pem=key.as_pem(private=True).decode())
            store.add(row)
        return _import(row)


def jwks(database: Database) -> dict:
    active_key(database)
    with database.transaction() as session:
        keys = [_import(row).as_dict(private=False) for row in IdentityStore(session).signing_keys()]
    return {"keys": [{**key, "use": "sig", "alg": ALGORITHM} for key in keys]}


def sign(database: Database, claims: dict[str, Any], lifetime_s: int) -> str:
    key = active_key(database)
    now = int(time.time())
    body = {"iat": now, "exp": now + lifetime_s, "jti": secrets.token_hex(12), **claims}
    return jwt.encode({"alg": ALGORITHM, "typ": "JWT", "kid": key.kid}, body, key)


def sign_detached(database: Database, payload: bytes) -> str:
    """A detached JWS of the payload (RFC 7515 appendix F): `<protected header>..<signature>`, RS256
    with the active key's `kid`. A receiver verifies it by putting BASE64URL(payload) between the two
    dots and checking the compact JWS with the key of that kid from /.well-known/jwks.json."""
    key = active_key(database)
    header, _, signature = jws.serialize_compact({"alg": ALGORITHM, "kid": key.kid}, payload, key).split(".")
    return f"{header}..{signature}"


# kid -> the public half of a signing key. A key never changes once created (a retired one still
# verifies the tokens it signed), so a process keeps every key it has read; a kid it does not know
# yet (a key made since, by another worker) is read again from the database.
_PUBLIC_KEYS: dict[str, jwk.RSAKey] = {}
_PUBLIC_KEYS_LOCK = threading.Lock()


def verify(where: Link | Session, token: str) -> dict[str, Any] | None:
    """The claims of a token this server signed and that has not expired; None otherwise. Reads the
    database (within the caller's unit of work) only for a key this process has not seen yet."""
    kid = _kid_of(token)
    if kid is None:
        return None
    if kid not in _PUBLIC_KEYS:
        rows = IdentityStore(where).signing_keys()
        with _PUBLIC_KEYS_LOCK:
            _PUBLIC_KEYS.update({row.kid: _import(row) for row in rows})
    key = _PUBLIC_KEYS.get(kid)
    if key is None:
        return None
    try:
        decoded = jwt.decode(token, key, algorithms=[ALGORITHM])
    except (JoseError, ValueError):
        return None
    if int(decoded.claims.get("exp", 0)) <= int(time.time()):
        return None
    return decoded.claims


def _kid_of(token: str) -> str | None:
    """The `kid` of a compact JWS's protected header, unverified (it only says which key to try)."""
    header, _, _ = token.partition(".")
    try:
        value = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    except (ValueError, binascii.Error):
        return None
    kid = value.get("kid") if isinstance(value, dict) else None
    return kid if isinstance(kid, str) and kid.isascii() and len(kid) <= 64 else None
