"""The server's signing keys (RS256): partner tokens of OneConnect and, later, webhook signatures.
Private keys live in the database so every worker signs with the same key; the public halves are
published at /.well-known/jwks.json."""

from __future__ import annotations

import secrets
import time
from typing import Any

from joserfc import jwk, jws, jwt
from joserfc.errors import JoseError

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


def verify(database: Database, token: str) -> dict[str, Any] | None:
    """The claims of a token this server signed and that has not expired; None otherwise."""
    with database.transaction() as session:
        keys = jwk.KeySet([_import(row) for row in IdentityStore(session).signing_keys()])
    try:
        decoded = jwt.decode(token, keys, algorithms=[ALGORITHM])
    except (JoseError, ValueError):
        return None
    if int(decoded.claims.get("exp", 0)) <= int(time.time()):
        return None
    return decoded.claims
