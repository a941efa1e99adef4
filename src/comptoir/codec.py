"""The text formats every layer writes: JSON with exact decimals, and ISO 8601 timestamps.

Nothing here knows HTTP (that is wire.py) or the book: services write webhook payloads and stored
entries with these, dialects their answers."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import orjson
import simplejson


class MalformedJson(Exception):
    pass


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
        value = simplejson.loads(text, use_decimal=True, parse_constant=_reject_constant)
    except simplejson.JSONDecodeError as error:
        raise MalformedJson(f"{error.msg} at line {error.lineno} column {error.colno}") from error
    except RecursionError as error:
        raise MalformedJson("the JSON is nested too deeply") from error
    except (ValueError, ArithmeticError) as error:  # over 4300 digits for int(), an exponent Decimal refuses
        raise MalformedJson("a number has too many digits") from error
    _check_strings(value)
    return value


def _check_strings(value: Any) -> None:
    """Refuse strings no database can store: an escaped lone surrogate ("\\ud800") has no UTF-8 form,
    and PostgreSQL text cannot hold NUL ("\\u0000"). Keys are strings too."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                raise MalformedJson("a string holds a NUL character (\\u0000)")
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise MalformedJson("a string holds a lone surrogate (an unpaired \\ud800-\\udfff escape)") from None


def _exact(value: Any) -> Any:
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value))  # its digits as they are: 12.50 stays 12.50
    raise TypeError(f"{type(value).__name__} is not JSON")


def dump_json(data: Any) -> bytes:
    """Compact UTF-8 JSON with Decimals written as exact numbers, never through a float (orjson: the
    answers of every dialect go through here, a few times faster than a JSON library in Python)."""
    try:
        return orjson.dumps(data, default=_exact, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:
        # orjson stops at 64-bit integers; an answer may echo a longer one (an id a client sent)
        return simplejson.dumps(data, use_decimal=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def iso_timestamp(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z. SQLite hands datetimes back without their zone, which is UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def iso_instant(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with milliseconds and a Z, as OneConnect writes times (2026-04-03T14:30:00.000Z)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"
