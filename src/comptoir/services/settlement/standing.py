"""What is paid on an invoice and what is still open: its standing, derived from the allocations that
settle it (payments and credit notes, through any dialect), and its settlements (installments)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from comptoir.domain.settlements import SettlementState, fill, schedule
from comptoir.services.masterdata import reference
from comptoir.storage.book import Book
from comptoir.storage.settlement import settling
from comptoir.storage.tables import Allocation, Document


@dataclass(frozen=True)
class Standing:
    """What is paid on an invoice, derived from its payments, and its settlements."""

    paid: Decimal
    unpaid: Decimal
    payment_ids: list[int]
    settlements: list[SettlementState]



def installments(book: Book, document: Document) -> Sequence[Mapping[str, Any]]:
    return reference.installments(book, document.payment_terms_id) if document.payment_terms_id else ()


def standing(book: Book, document: Document, as_of: date | None = None,
             settled: Sequence[Allocation] | None = None) -> Standing:
    """Paid and unpaid amounts and settlements of an invoice, counting what payments and credit notes
    settle of it, dated up to `as_of` (all by default). `settled`: the document's allocations, when
    the caller read them for several documents at once (`settled_by_document`)."""
    if settled is None:
        settled = getattr(document, "settled", None)  # read with the document (a DocumentView)
    if settled is None:
        settled = settling(book.link, book.org_id, [document.id])[document.id]
    if as_of is not None:
        settled = [a for a in settled if _credit_date(book, a) <= as_of]
    paid = sum((allocation.amount for allocation in settled), Decimal(0))
    due_date = document.due_date if document.due_date_explicit else None
    settlements = fill(schedule(document.total, document.date, installments(book, document),
                                reference.smallest_unit(book, document.currency_iso_code), due_date), paid)
    payment_ids = sorted({allocation.payment_id for allocation in settled if allocation.payment_id is not None})
    return Standing(paid, document.total - paid, payment_ids, settlements)


def standings(book: Book, documents: Sequence[Document], as_of: date | None = None) -> dict[int, Standing]:
    """The standing of each of these documents (a page of a list, the invoices of a report), by id,
    from one query of their allocations (and, with `as_of`, one of the payments and one of the credit
    notes they come from), instead of queries per document."""
    unread = [document.id for document in documents if getattr(document, "settled", None) is None]
    settled = {**settled_by_document(book, unread),
               **{document.id: document.settled for document in documents if document.id not in unread}}
    loaded = None
    if as_of is not None:  # held while the standings are computed: the session keeps rows only that long
        every = [allocation for allocations_ in settled.values() for allocation in allocations_]
        loaded = (book.payments.get_many([a.payment_id for a in every if a.payment_id is not None]),
                  book.documents.get_many([a.credit_note_id for a in every if a.credit_note_id is not None]))
    found = {document.id: standing(book, document, as_of, settled[document.id]) for document in documents}
    del loaded
    return found


def settled_by_document(book: Book, document_ids: Sequence[int]) -> dict[int, list[Any]]:
    """The allocations that settle each of these documents (AllocationViews, in the order they were
    made), by document id, in one statement."""
    return settling(book.link, book.org_id, document_ids)


def _credit_date(book: Book, allocation: Allocation) -> date:
    if allocation.payment_id is not None:
        return book.payments.get(allocation.payment_id).date
    return book.documents.get(allocation.credit_note_id).date
