"""The numbers of documents: numbering series (Quipu's numbering_series, a prefix and a counter) and
the automatic codes of the documents the law numbers (invoices and credit notes: CINV-001, CCN-001).

Such a number is taken by incrementing its counter in the transaction that numbers the document: the
UPDATE holds the counter's row until that transaction ends, so concurrent requests queue on it
(PostgreSQL; SQLite has one writer anyway), and a request that fails rolls its increment back with
everything else. Numbers thus come out without gaps and without duplicates, and in the order of the
commits, which lets a new number be checked against the one before it: a date earlier than that
document's is refused (numbers run in date order within a series). A draft gives its number back when
it is deleted or renumbered, which only the last number of its series may do. The rules and their
sources, per country: docs/decisions/0026-legal-numbering-and-final-invoices.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import update

from comptoir.domain.codes import CODE_PREFIXES, format_code
from comptoir.domain.documents import SEQUENCED
from comptoir.domain.errors import ErrorKind, NotFound, Rule, broken, fail
from comptoir.domain.query import ListQuery
from comptoir.services.kernel.codes import ATTEMPTS_MAX, next_code
from comptoir.services.kernel.references import ensure_unreferenced
from comptoir.services.kernel.validation import Checks, apply
from comptoir.storage.book import Book
from comptoir.storage.tables import NumberingSeries

APPLICABLE_TO = ("invoices", "simplified_invoices", "additional_incomes", "paysheets", "tickets")
APPLIES_TO = ("new_documents", "existing_documents")
FIELDS = ("prefix", "applicable_to", "is_default", "amending", "applies_to")
PREFIX_LENGTH_MAX = 64


def number_document(book: Book, document: Any, *, with_transaction: bool) -> None:
    """Give a new document its number (`user_code`): the next of its numbering series when it names
    one, else the next automatic code of its kind, gap-free for the kinds the law numbers. A number
    of a series (`series_number`) is refused a date before the document numbered just before it.
    `with_transaction`: the document posts a transaction, whose number is taken in the same round
    trip where it can be."""
    with_numbers = ("transaction",) if with_transaction else ()
    if document.series_id is not None:
        document.user_code, document.series_number = _next_of_series(book, document.series_id)
        check_date_order(book, document, new=True)
    elif document.kind in SEQUENCED:
        document.user_code, document.series_number, before = _next_sequenced_code(book, document.kind, with_numbers)
        _check_dates(document, before, None)
    else:
        document.user_code = next_code(book, document.kind, book.documents, "user_code", with_numbers=with_numbers)


def _next_sequenced_code(book: Book, kind: str, with_numbers: Sequence[str]) -> tuple[str, int, Any]:
    """The next free automatic code of `kind`, its number, and the date and code of the document
    numbered before it: the number taken in the unit's transaction (held until it ends, given back by
    a rollback); numbers a user already took by hand skipped (the code exists: no gap). `with_numbers`:
    counters of which the caller takes a number next, taken first, outside the transaction where
    they can be."""
    for other in with_numbers:
        book.counters.reserve(other, 1)
    for _ in range(ATTEMPTS_MAX):
        number = book.counters.next_held(kind)
        code = format_code(CODE_PREFIXES[kind], number)
        taken, before = book.document_store.code_and_previous(kind, code, number)
        if not taken:
            return code, number, before
    raise RuntimeError(f"no free {kind} code after {ATTEMPTS_MAX} tries")


def check_date_order(book: Book, document: Any, *, new: bool = False) -> None:
    """Refuse a date of a numbered document that would put it out of its series' date order: before
    the date of the document numbered just before it, or (a draft re-dated, not `new`) after the date
    of the one just after."""
    if document.series_number is None:
        return
    store = book.document_store
    before = store.series_neighbour(document.kind, document.series_id, document.series_number)
    after = None if new else store.series_neighbour(document.kind, document.series_id, document.series_number,
                                                      later=True)
    _check_dates(document, before, after)


def _check_dates(document: Any, before: tuple[date, str] | None, after: tuple[date, str] | None) -> None:
    if before is not None and document.date < before[0]:
        raise broken(Rule.NUMBER_DATE_ORDER, f"{document.user_code} would be dated {document.date}, before "
                     f"{before[1]} of {before[0]}: numbers of a series follow the order of their dates", "date")
    if after is not None and document.date > after[0]:
        raise broken(Rule.NUMBER_DATE_ORDER, f"{document.user_code} would be dated {document.date}, after "
                     f"{after[1]} of {after[0]}: numbers of a series follow the order of their dates", "date")


def give_back_number(book: Book, document: Any) -> None:
    """The number of a draft deleted or renumbered, given back to its series: which only the series'
    last number can be, else the numbering would have a gap (the next document takes it again)."""
    if document.series_number is None:
        return
    if document.series_id is not None:
        given_back = book.session.execute(
            update(NumberingSeries)
            .where(NumberingSeries.org_id == book.org_id, NumberingSeries.id == document.series_id,
                   NumberingSeries.last_number == document.series_number)
            .values(last_number=NumberingSeries.last_number - 1).returning(NumberingSeries.id)).first() is not None
    else:
        given_back = book.counters.give_back(document.kind, document.series_number)
    if not given_back:
        raise broken(Rule.NUMBER_IN_SEQUENCE, f"{document.user_code} is not the last number of its series: "
                     "deleting or renumbering it would leave a gap in the numbering")


def _next_of_series(book: Book, series_id: int) -> tuple[str, int]:
    """The next number of the series, prefix included ("2024-" and 7 give "2024-7"), and the number."""
    statement = (update(NumberingSeries)
                 .where(NumberingSeries.org_id == book.org_id, NumberingSeries.id == series_id)
                 .values(last_number=NumberingSeries.last_number + 1)
                 .returning(NumberingSeries.prefix, NumberingSeries.last_number))
    row = book.session.execute(statement).one_or_none()
    if row is None:
        raise NotFound("numbering series", series_id)
    prefix, number = row
    return f"{prefix}{number}", number


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

