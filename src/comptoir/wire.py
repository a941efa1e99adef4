"""HTTP plumbing every dialect shares: bounded body reading and exact JSON.

Dialects turn the exceptions raised here into their own error format.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timezone
from typing import Any

import simplejson
from starlette.requests import Request


class BodyTooLarge(Exception):
    def __init__(self, limit_bytes: int) -> None:
        super().__init__(f"the body is larger than {limit_bytes} bytes")
        self.limit_bytes = limit_bytes


class MalformedJson(Exception):
    pass


async def read_body(request: Request, limit_bytes: int) -> bytes:
    """The request body, refused as soon as it grows past the limit: a large body is never held
    in memory whole. A Content-Length over the limit is refused before reading anything."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit_bytes:
        raise BodyTooLarge(limit_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit_bytes:
            raise BodyTooLarge(limit_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def _reject_constant(name: str) -> Any:
    raise MalformedJson(f"{name} is not a number JSON allows")


def parse_json(raw: bytes) -> Any:
    """Parse JSON with every non-integer number as an exact Decimal. NaN and Infinity are refused,
    and so is nesting deeper than the interpreter's recursion limit. When a key repeats, the last
    value wins."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedJson("the body is not UTF-8") from error
    try:
        return simplejson.loads(text, use_decimal=True, parse_constant=_reject_constant)
    except simplejson.JSONDecodeError as error:
        raise MalformedJson(f"{error.msg} at line {error.lineno} column {error.colno}") from error
    except RecursionError as error:
        raise MalformedJson("the JSON is nested too deeply") from error


def dump_json(data: Any) -> bytes:
    """JSON with Decimals written as exact numbers, never through a float."""
    return simplejson.dumps(data, use_decimal=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")



def basic_credentials(authorization: str) -> tuple[str, str] | None:
    """The user and password of an `Authorization: Basic ...` header, or None. Standard and URL-safe
    Base64 are both read (Quipu's docs mention the URL-safe one); padding may be missing."""
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    padded = encoded.strip() + "=" * (-len(encoded.strip()) % 4)
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            user, separator, password = decode(padded).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        if separator:
            return user, password
    return None


def iso_timestamp(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z. SQLite hands datetimes back without their zone, which is UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
