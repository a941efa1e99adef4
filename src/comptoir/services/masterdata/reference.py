"""Reference data: read-only through the APIs, seeded when the organization is created.

Because it never changes once the organization exists, what the write paths need of it (tax rates,
currencies' minor units, payment terms) is read once and kept by the process for the organization
(`Book.remember(..., lasting=True)`), instead of being looked up again by every request. A service
that ever writes these tables must stop calling these functions for what it changed. The one table
that grows is the currencies' (a rate set for a currency the book lacks adds it: services/ledger/
rates.py); rows are only added, never changed, so `currency_minor_units` looks again for one it
does not know."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from comptoir.domain import currencies
from comptoir.domain.money import CENT, minor_unit
from comptoir.services.kernel.records import ReadOnlyRecords
from comptoir.storage.book import Book
from comptoir.storage.database import UNKNOWN

CURRENCIES = ReadOnlyRecords("currencies")
TAXES = ReadOnlyRecords("taxes")
PAYMENT_TERMS = ReadOnlyRecords("payment_terms")
UNITS = ReadOnlyRecords("units")


@dataclass(frozen=True)
class Terms:
    id: int
    installments: tuple[Mapping[str, Any], ...]
    is_default: bool


def tax_rates(book: Book) -> Mapping[int, Decimal]:
    """The organization's taxes: rate by id."""
    return book.remember("tax rates", lambda: MappingProxyType({tax.id: tax.rate for tax in book.taxes.all()}),
                         lasting=True)


def minor_units(book: Book) -> Mapping[str, int]:
    """The organization's currencies as the process first read them: digits after the decimal point by
    ISO code. A book gains currencies (services/ledger/rates.py adds the currency of a rate): ask
    `currency_minor_units` about one currency, which finds those added since."""
    return book.remember("currencies", lambda: MappingProxyType(
        {currency.iso_code: currency.minor_units for currency in book.currencies.all()}), lasting=True)


def currency_minor_units(book: Book, code: Any) -> int | None:
    """The digits after the decimal point of one of the organization's currencies (ISO 4217's minor
    units, as the book keeps them: JPY 0, USD 2, BHD 3); None when it is not one of them. A currency
    is never removed and its minor units never change, but currencies are added, maybe by another
    process (`comptoir rates set`): one the process does not know yet is looked up again (one query),
    and kept once found."""
    if not isinstance(code, str):
        return None
    known = minor_units(book).get(code)
    if known is not None:
        return known
    key = ("currency", code)
    found = book.known(key, lasting=True)
    if found is UNKNOWN:
        row = book.currencies.find(iso_code=code)
        found = row.minor_units if row is not None else None
        book.keep(key, found, lasting=found is not None)  # a currency not there yet may come
    return found


def is_currency_of(book: Book, code: Any) -> bool:
    """Whether `code` is one of the organization's currencies (what a document, a payment, a bank
    account or a customer may be in)."""
    return currency_minor_units(book, code) is not None


def smallest_unit(book: Book, code: str | None) -> Decimal:
    """What an amount in this currency rounds to (issue 18 §2): its minor unit, 0.01 USD, 1 JPY, 0.001
    BHD, as the book's currencies keep it; ISO 4217's for a code the book lacks; the cent, as every
    amount was rounded before, for what is no ISO code at all (none is written so today)."""
    digits = currency_minor_units(book, code)
    if digits is None and isinstance(code, str) and currencies.is_currency(code):
        digits = currencies.minor_units(code)
    return minor_unit(digits) if digits is not None else CENT


def own_unit(book: Book) -> Decimal:
    """The minor unit of the organization's currency: what its book's amounts round to (a manual
    transaction's entries, a paysheet's amounts)."""
    return smallest_unit(book, book.organization.currency_iso_code)


def payment_terms(book: Book) -> Mapping[int, Terms]:
    """The organization's payment terms by id."""
    def load() -> Mapping[int, Terms]:
        return MappingProxyType({
            terms.id: Terms(terms.id, tuple(MappingProxyType(dict(part)) for part in terms.installments or []),
                            bool(terms.is_default))
            for terms in book.payment_terms.all()})
    return book.remember("payment terms", load, lasting=True)


def default_payment_terms_id(book: Book) -> int | None:
    return next((terms.id for terms in payment_terms(book).values() if terms.is_default), None)


def installments(book: Book, terms_id: int | None) -> tuple[Mapping[str, Any], ...]:
    """The installments of these payment terms (none when there are no such terms)."""
    terms = payment_terms(book).get(terms_id) if terms_id is not None else None
    return terms.installments if terms else ()
