"""Exchange rates (issue 18 §1; docs/currencies.md): what one unit of a currency is worth in the
organization's currency, from a day on.

A rate of 1.10 for EUR on 2025-01-01 in a USD book says: 1 EUR = 1.10 USD from that day until the
next day a EUR rate is given. The organization's own currency always has rate 1 and is never given
one. Currency codes are ISO 4217's current ones (docs/decisions/0027-exchange-rates.md)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation


from .currencies import is_currency
from .errors import DomainError, ErrorKind, Problem
from .money import plain

ONE = Decimal(1)
PLACES_MAX = 10  # decimal places a rate may have (the column keeps ten: storage/tables/rates.py)
# The largest rate the book keeps: SQLite's signed 64-bit count of 10^-10 ends near 9.2 x 10^8.
RATE_MAX = Decimal(10) ** 8
SOURCES = ("manual", "import", "document")
CSV_HEADER = ("date", "currency", "rate")  # the header of a file of rates, exactly
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Rate:
    """1 `currency` = `rate` units of the organization's currency, from `day` on."""

    currency: str
    day: date
    rate: Decimal
    source: str = "manual"


class NoRate(DomainError):
    """No rate of the currency is dated on or before the day."""

    def __init__(self, currency: str, day: date) -> None:
        self.currency = currency
        self.day = day
        super().__init__([Problem(ErrorKind.INVALID, "currency",
                                  f"no exchange rate for {currency} on or before {day.isoformat()}")])


def rate_on(known_rates: Iterable[Rate], currency: str, day: date, *, own_currency: str | None = None) -> Decimal:
    """The rate of the currency on the day: that of its latest date on or before the day (1 for the
    organization's own currency); NoRate when it has none."""
    if currency == own_currency:
        return ONE
    dated = [known for known in known_rates if known.currency == currency and known.day <= day]
    if not dated:
        raise NoRate(currency, day)
    return max(dated, key=lambda known: known.day).rate


def checked_rate(currency: str, day: date, rate: Decimal, own_currency: str, source: str = "manual") -> Rate:
    """The rate, when the book may keep it; else a DomainError with every problem at once."""
    problems = [Problem(ErrorKind.INVALID, field, message)
                for field, message in (*_currency_problems(currency, own_currency), *rate_problems(rate))]
    if source not in SOURCES:
        problems.append(Problem(ErrorKind.INVALID, "source", f"must be one of {', '.join(SOURCES)}"))
    if problems:
        raise DomainError(problems)
    return Rate(currency, day, plain(rate), source)


def rate_from_text(fields: Mapping[str, str], own_currency: str, source: str = "manual") -> Rate:
    """A rate written as text (a line of a CSV file, the command line's arguments): `date`
    (YYYY-MM-DD), `currency` and `rate`; a DomainError naming every problem at once."""
    currency = (fields.get("currency") or "").strip().upper()
    day, day_problem = _day_from_text(fields.get("date") or "")
    rate, rate_problem = _rate_from_text(fields.get("rate") or "")
    problems = [Problem(ErrorKind.INVALID, field, message)
                for field, message in (day_problem, rate_problem) if message]
    try:
        checked = checked_rate(currency, day or date.min, rate if rate is not None else ONE, own_currency, source)
    except DomainError as error:
        problems += error.problems
    if problems:
        raise DomainError(problems)
    return checked


def rate_from_values(values: Sequence[str], own_currency: str, source: str = "import") -> Rate:
    """A rate from the values of a line of a file of rates, in CSV_HEADER's order."""
    if len(values) != len(CSV_HEADER):
        raise DomainError([Problem(ErrorKind.INVALID, None, f"expected {len(CSV_HEADER)} values "
                                                            f"({','.join(CSV_HEADER)}), found {len(values)}")])
    return rate_from_text(dict(zip(CSV_HEADER, values)), own_currency, source)


def _day_from_text(text: str) -> tuple[date | None, tuple[str, str | None]]:
    text = text.strip()
    try:
        if _DAY.fullmatch(text):
            return date.fromisoformat(text), ("date", None)
    except ValueError:
        pass
    return None, ("date", f"{text!r} is not a date (YYYY-MM-DD)")


def _rate_from_text(text: str) -> tuple[Decimal | None, tuple[str, str | None]]:
    text = text.strip()
    try:
        rate = Decimal(text)
    except InvalidOperation:
        return None, ("rate", f"{text!r} is not a number")
    return (rate, ("rate", None)) if rate.is_finite() else (None, ("rate", f"{text!r} is not a number"))


def require_currency(currency: str) -> None:
    """A DomainError unless `currency` is a current ISO 4217 code."""
    if not is_currency(currency):
        raise DomainError([Problem(ErrorKind.INVALID, "currency", not_a_currency(currency))])


def not_a_currency(currency: str) -> str:
    return f"{currency!r} is not an ISO 4217 currency code"


def _currency_problems(currency: str, own_currency: str) -> list[tuple[str, str]]:
    if not is_currency(currency):
        return [("currency", not_a_currency(currency))]
    if currency == own_currency:
        return [("currency", f"{currency} is the organization's currency: its rate is always 1")]
    return []


def rate_problems(rate: Decimal) -> list[tuple[str, str]]:
    """What keeps the book from keeping this rate (("rate", why), none when it may): a rate is greater
    than 0, below RATE_MAX, with at most PLACES_MAX decimal places."""
    if rate <= 0:
        return [("rate", "must be greater than 0")]
    if rate >= RATE_MAX:
        return [("rate", f"must be below {RATE_MAX:,}")]
    if -plain(rate).as_tuple().exponent > PLACES_MAX:
        return [("rate", f"has more than {PLACES_MAX} decimal places")]
    return []
