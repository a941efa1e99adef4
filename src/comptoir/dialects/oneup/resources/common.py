"""Pieces several OneUp resources share: timestamps, compact references, filters."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from comptoir.codec import iso_timestamp
from comptoir.domain.money import plain

from ..conventions import Filter, as_date, as_integer, as_text

TIMESTAMPS = frozenset({"created_at", "updated_at"})


def timestamp(value: datetime | None) -> str | None:
    return iso_timestamp(value)


def number(value: Decimal | None) -> Decimal | None:
    """A number as OneUp shows a double: no trailing zeros (1140.2, 199)."""
    return None if value is None else plain(value)


def stamps(row: Any) -> dict:
    return {"created_at": timestamp(row.created_at), "updated_at": timestamp(row.updated_at)}


def employee_ref(employee: Any) -> dict | None:
    if employee is None:
        return None
    return {"id": employee.id, "first_name": employee.first_name, "last_name": employee.last_name,
            "user_code": employee.user_code}


def id_filter() -> dict[str, Filter]:
    return {"id": Filter("id", as_integer)}


def stamp_filters() -> dict[str, Filter]:
    return {"created_at": Filter("created_at", as_date), "updated_at": Filter("updated_at", as_date)}


def text_filter(attribute: str) -> Filter:
    return Filter(attribute, as_text)


def integer_filter(attribute: str) -> Filter:
    return Filter(attribute, as_integer)
