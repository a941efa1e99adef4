"""Signed, expiring links: a small payload signed with the server's secret (itsdangerous), its
expiry inside the signed payload. Each purpose signs with its own salt, so a token made for one kind
of link (a PDF, a customer portal) is worthless as another.

The payload is signed, not encrypted: it holds ids, never secrets.
"""

from __future__ import annotations

import time
from typing import Any

from itsdangerous import BadData, URLSafeSerializer

EXPIRY = "exp"


class LinkInvalid(Exception):
    """Not a token this server signed for this purpose (tampered, truncated, another secret)."""


class LinkExpired(Exception):
    """A genuine token whose time is over; `payload` is still what was signed."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__("the link has expired")
        self.payload = payload


def sign(secret: str, purpose: str, payload: dict[str, Any], expires_at: int) -> str:
    """A URL-safe token of the payload, valid until `expires_at` (Unix seconds)."""
    return URLSafeSerializer(secret, salt=purpose).dumps({**payload, EXPIRY: int(expires_at)})


def verify(secret: str, purpose: str, token: str, now: float | None = None) -> dict[str, Any]:
    """The payload of a token signed for this purpose; LinkInvalid or LinkExpired otherwise."""
    try:
        payload = URLSafeSerializer(secret, salt=purpose).loads(token)
    except BadData:
        raise LinkInvalid() from None
    if not isinstance(payload, dict) or not isinstance(payload.get(EXPIRY), int):
        raise LinkInvalid()
    if (time.time() if now is None else now) >= payload[EXPIRY]:
        raise LinkExpired(payload)
    return payload
