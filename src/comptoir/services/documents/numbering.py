"""Numbering series: prefixes and counters that number documents (Quipu's numbering_series).

A number is taken by incrementing the series' counter in the transaction that numbers the document:
the UPDATE locks the series' row until that transaction ends, so concurrent requests queue on it
(PostgreSQL; SQLite has one writer anyway), and a request that fails rolls its increment back with
everything else. Numbers thus come out without gaps and without duplicates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import update

from comptoir.domain.errors import ErrorKind, NotFound, fail
from comptoir.domain.query import ListQuery
from comptoir.services.kernel.references import ensure_unreferenced
from comptoir.services.kernel.validation import Checks, apply
from comptoir.storage.book import Book
from comptoir.storage.tables import NumberingSeries

APPLICABLE_TO = ("invoices", "simplified_invoices", "additional_incomes", "paysheets", "tickets")
APPLIES_TO = ("new_documents", "existing_documents")
FIELDS = ("prefix", "applicable_to", "is_default", "amending", "applies_to")
PREFIX_LENGTH_MAX = 64


def number_from_series(book: Book, series_id: int) -> str:
    """The next number of the series, prefix included ("2024-" and 7 give "2024-7")."""
    statement = (update(NumberingSeries)
                 .where(NumberingSeries.org_id == book.org_id, NumberingSeries.id == series_id)
                 .values(last_number=NumberingSeries.last_number + 1)
                 .returning(NumberingSeries.prefix, NumberingSeries.last_number))
    row = book.session.execute(statement).one_or_none()
    if row is None:
        raise NotFound("numbering series", series_id)
    prefix, number = row
    return f"{prefix}{number}"


def get(book: Book, series_id: int) -> NumberingSeries:
    return book.numbering_series.require(series_id)


def list_series(book: Book, query: ListQuery) -> tuple[Sequence[NumberingSeries], bool]:
    return book.numbering_series.list(query)


def count(book: Book, query: ListQuery) -> int:
    return book.numbering_series.count_matching(query.conditions)


def in_use(book: Book, series: NumberingSeries) -> bool:
    return book.documents.exists(series_id=series.id)


def create(book: Book, fields: Mapping[str, Any]) -> NumberingSeries:
    series = NumberingSeries(is_default=False, amending=False, last_number=0)
    _write(series, fields, creating=True)
    return book.numbering_series.add(series)


def update_series(book: Book, series_id: int, fields: Mapping[str, Any]) -> NumberingSeries:
    series = get(book, series_id)
    if "prefix" in fields and fields["prefix"] != series.prefix:
        raise fail(ErrorKind.READ_ONLY, "prefix", "cannot change once the series exists")
    _write(series, fields, creating=False)
    book.flush()
    return series


def delete(book: Book, series_id: int) -> None:
    series = get(book, series_id)
    ensure_unreferenced(book, NumberingSeries, series.id, "numbering series")
    book.numbering_series.remove(series)


def _write(series: NumberingSeries, fields: Mapping[str, Any], *, creating: bool) -> None:
    checks = Checks()
    if creating or "prefix" in fields:
        checks.required(fields.get("prefix"), "prefix")
        if len(fields.get("prefix") or "") > PREFIX_LENGTH_MAX:
            checks.add(ErrorKind.INVALID, "prefix", f"is longer than {PREFIX_LENGTH_MAX} characters")
    for name, allowed in (("applicable_to", APPLICABLE_TO), ("applies_to", APPLIES_TO)):
        value = fields.get(name)
        if value is not None and value not in allowed:
            checks.add(ErrorKind.INVALID, name, f"should be one of {', '.join(allowed)}")
    checks.raise_if_any()
    apply(series, fields, FIELDS)

