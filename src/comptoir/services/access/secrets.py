"""Secrets are random, shown once, and stored as SHA-256 digests.

A 256-bit random key cannot be guessed from its digest, so a slow password hash (bcrypt, argon2)
would add latency to every API call without adding safety; see docs/decisions/0004-credentials.md.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_secret() -> str:
    return secrets.token_hex(32)  # hex: safe in shells, URLs and headers


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def matches(secret: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(secret), stored_digest)
