"""The filters and sorts of book-entry lists (specs/quipu.md §8.3): kind, period in every format
clients send, payment status, contact, free text."""

from __future__ import annotations

import calendar
import re
from datetime import date
from typing import Any

from comptoir.domain.query import Condition, Op
from comptoir.services.documents import book_entries

from .conventions import row_id

_YEAR = re.compile(r"^(\d{4})$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(?:(\d{4})-?Q([1-4])|([1-4])Q-(\d{4}))$", re.IGNORECASE)
YEAR_DAYS_MAX = 366


def period(value: Any) -> tuple[Condition, ...]:
    """`2015`, `2016-2` or `2024-01` (a month), `2015-Q1`, `2024Q1` or `1Q-2015` (a quarter), or
    `{from, to}` less than a year apart."""
    if isinstance(value, dict):
        start, end = date.fromisoformat(value["from"]), date.fromisoformat(value["to"])
        if end < start or (end - start).days > YEAR_DAYS_MAX:
            raise ValueError("a period is at most a year")
    else:
        start, end = _named_period(str(value).strip())
    return Condition("date", Op.GTE, start), Condition("date", Op.LTE, end)


def _named_period(text: str) -> tuple[date, date]:
    if match := _YEAR.match(text):
        year = int(match.group(1))
        return date(year, 1, 1), date(year, 12, 31)
    if match := _MONTH.match(text):
        year, month = int(match.group(1)), int(match.group(2))
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    if match := _QUARTER.match(text):
        year = int(match.group(1) or match.group(4))
        quarter = int(match.group(2) or match.group(3))
        start = date(year, 3 * quarter - 2, 1)
        end_month = 3 * quarter
        return start, date(year, end_month, calendar.monthrange(year, end_month)[1])
    raise ValueError(text)


def payment_status(value: Any) -> tuple[Condition, ...]:
    """paid, or not yet: unpaid (pending and overdue), due (overdue), pending (not yet due)."""
    today = date.today()
    unpaid = Condition("paid_at", Op.EQ, None)
    return {"paid": (Condition("paid_at", Op.NOT, None),), "unpaid": (unpaid,),
            "due": (unpaid, Condition("due_date", Op.LT, today)),
            "pending": (unpaid, Condition("due_date", Op.GTE, today))}[str(value)]


def kind(value: Any) -> tuple[Condition, ...]:
    if value not in (book_entries.INCOME, book_entries.EXPENSES):
        raise ValueError(value)
    return (Condition("kind", Op.IN, book_entries.kinds_of(value)),)


_INTEGER = re.compile(r"^[+-]?\d+$")


def contact(value: Any) -> tuple[Condition, ...]:
    """The documents of this contact; an integer that names no row (0, -1, beyond any id) finds none,
    as an id of no contact does: an empty list, not a refusal. Anything else is refused."""
    found = row_id(str(value))
    if found is not None:
        return (Condition("customer_id", Op.EQ, found),)
    if _INTEGER.match(str(value).strip()):
        return (Condition("customer_id", Op.IN, ()),)
    raise ValueError(value)


ENTRY_FILTERS = {
    "kind": kind, "period": period, "payment_status": payment_status, "contact_id": contact,
    "q": lambda value: (Condition("number", Op.CONTAINS, str(value)),),  # as each shows it: Document.number
}
ENTRY_SORTS = {"number": "user_code", "issue_date": "date", "total_amount": "total",
               "total_amount_without_taxes": "subtotal"}
