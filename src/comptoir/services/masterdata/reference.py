"""Reference data: read-only through the APIs, seeded when the organization is created.

Because it never changes once the organization exists, what the write paths need of it (tax rates,
currencies' minor units, payment terms) is read once and kept by the process for the organization
(`Book.remember(..., lasting=True)`), instead of being looked up again by every request. A service
that ever writes these tables must stop calling these functions for what it changed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from comptoir.services.kernel.records import ReadOnlyRecords
from comptoir.storage.book import Book

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
    """The organization's currencies: digits after the decimal point by ISO code."""
    return book.remember("currencies", lambda: MappingProxyType(
        {currency.iso_code: currency.minor_units for currency in book.currencies.all()}), lasting=True)


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
