"""Exchange rates of an organization's book (issue 18 §1; domain/rates.py, docs/currencies.md): set
one, import a file of them (all or nothing), list them (whole, or a page of them for an API), find
the rate of a currency on a day, the rate a document or a payment is booked at
(services/ledger/posting.py converts with it), and keep the rates documents carry (OneConnect's
`currencyRate`) for days the book has none.

This is also where a book gains a currency (issue 18 §2): a rate set or imported for a currency the
organization lacks adds it to its currencies, with ISO 4217's name and minor units, so that
documents, payments, customers and bank accounts may then be in it (they may only be in the
organization's currencies, and what is in a currency needs a rate to be booked anyway)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from comptoir.domain import currencies, rates
from comptoir.domain.errors import DomainError, ErrorKind, Problem
from comptoir.domain.query import ListQuery
from comptoir.storage.book import Book

WRITE_CHUNK = 1000  # rates written per round trip by an import


def set_rate(book: Book, currency: str, day: date, rate: Decimal, source: str = "manual") -> rates.Rate:
    """Set the rate of the currency from `day` on (replacing one set for that day)."""
    return _kept(book, rates.checked_rate(currency, day, rate, _own_currency(book), source))


def set_rate_from_text(book: Book, fields: Mapping[str, str], source: str = "manual") -> rates.Rate:
    """`set_rate` with the date, currency and rate written as text (the command line's)."""
    return _kept(book, rates.rate_from_text(fields, _own_currency(book), source))


def import_rates(book: Book, rows: Iterable[tuple[int, Sequence[str]]],
                 written: Callable[[int], None] | None = None) -> int:
    """Import rates given as the text values of a file's lines (rates.CSV_HEADER's order), each with
    its line number: all of them, or none when any line is
    refused (a DomainError naming every refused line and why). A currency and day given twice: the
    later line wins. `written(count)` is told as each chunk is written. How many were imported."""
    own, parsed, problems = _own_currency(book), [], []
    for line, values in rows:
        try:
            parsed.append(rates.rate_from_values(values, own, "import"))
        except DomainError as error:
            problems.append(Problem(ErrorKind.INVALID, f"line {line}", error.describe()))
    if problems:
        raise DomainError(problems)
    _add_currencies(book, [rate.currency for rate in parsed])
    for start in range(0, len(parsed), WRITE_CHUNK):
        chunk = parsed[start:start + WRITE_CHUNK]
        book.exchange_rates.put(chunk)
        if written is not None:
            written(len(chunk))
    return len(parsed)


def list_rates(book: Book, currency: str | None = None, date_from: date | None = None,
               date_to: date | None = None) -> list[rates.Rate]:
    """The organization's rates by currency and date, within the bounds given (inclusive)."""
    return book.exchange_rates.listed(currency.upper() if currency else None, date_from, date_to)


def page_of_rates(book: Book, query: ListQuery) -> tuple[list[rates.Rate], bool]:
    """One page of the organization's rates (conditions on currency, date, rate and source; by
    currency and date unless the query orders otherwise), and whether another page follows."""
    return book.exchange_rates.page(query)


def rate_in_force(book: Book, currency: str, day: date) -> rates.Rate | None:
    """The rate of the currency in force on the day, with its own date and source: the latest on or
    before the day (rates.NoRate when there is none); None for the organization's own currency,
    whose rate is always 1. A DomainError when `currency` is no ISO 4217 code."""
    if currency == _own_currency(book):
        return None
    rates.require_currency(currency)
    found = book.exchange_rates.latest(currency, day)
    if not found:
        raise rates.NoRate(currency, day)
    return found[0]


def has_rate_on(book: Book, currency: str, day: date) -> bool:
    """Whether the book has a rate of the currency in force on the day (its own currency always has)."""
    return currency == _own_currency(book) or bool(book.exchange_rates.latest(currency, day))


def keep_document_rates(book: Book, carried: Sequence[rates.Rate]) -> None:
    """Keep rates documents carried (source "document") for their currency and day, where the book
    has none of that day: a rate of that day set meanwhile is never overwritten (the caller asked
    `has_rate_on` first; this holds even against a concurrent writer)."""
    if carried:
        _add_currencies(book, [rate.currency for rate in carried])
        book.exchange_rates.put_new(carried)


def rate_on(book: Book, currency: str, day: date) -> Decimal:
    """The rate of the currency on the day: its latest on or before the day (one indexed query), 1 for
    the organization's own currency; rates.NoRate when there is none."""
    own = _own_currency(book)
    found = [] if currency == own else book.exchange_rates.latest(currency, day)
    return rates.rate_on(found, currency, day, own_currency=own)


def booking_rate(book: Book, currency: str, day: date) -> Decimal | None:
    """The rate money in the currency is booked at on the day: None in the organization's own currency
    (its amounts are booked as they are), else the book's rate of the day (rates.NoRate when none)."""
    return None if currency == _own_currency(book) else rate_on(book, currency, day)


def kept_or_new_rate(book: Book, row: Any, currency: str | None, day: date | None, *, same: bool) -> Decimal | None:
    """The rate a document or a payment (`row`, with its `exchange_rate`) is booked at: the one it has
    while it keeps its currency and date (`same`: a rate set again later does not move what is booked),
    else the book's rate of its new day."""
    if currency is None or day is None:
        return None
    if same and row.exchange_rate is not None:
        return row.exchange_rate
    return booking_rate(book, currency, day)


def _kept(book: Book, rate: rates.Rate) -> rates.Rate:
    _add_currencies(book, [rate.currency])
    book.exchange_rates.put([rate])
    return rate


def _add_currencies(book: Book, codes: Iterable[str]) -> None:
    """The currencies of these rates added to the organization's when it lacks them, named as ISO
    4217 names them, with ISO's minor units (what their amounts round to). They were checked as ISO
    codes already (rates.checked_rate); one the book has is left as it is (one query for the check,
    and one statement when there is a currency to add)."""
    missing = sorted(set(codes) - {currency.iso_code for currency in book.currencies.all()})
    if missing:
        book.currencies.add_missing([(code, currencies.currency_name(code), currencies.minor_units(code))
                                     for code in missing])


def _own_currency(book: Book) -> str:
    return book.organization.currency_iso_code
