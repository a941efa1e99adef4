"""Credit notes that correct an invoice (OneUp's /credit_notes, our extension): the credit notes of
services/documents/sales.py, which may name the invoice they correct in `amends_id`, as Quipu's
amending invoices do (services/documents/book_entries.py). Such a credit note is for the invoice's
customer, in its currency, with its tax and reduce unless it says otherwise, and with its lines when
it sends none (a full credit); it settles the invoice by the smaller of its own total and what is
unpaid of the invoice, an allocation written through documents/matching.py like any other. Without
an invoice, a credit note is a credit of its customer, applied to nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import func

from comptoir.domain.allocations import CREDIT_NOTE, INVOICE, Link, Side
from comptoir.domain.errors import ErrorKind, fail
from comptoir.domain.query import ListQuery
from comptoir.services.documents import matching
from comptoir.services.documents.book_entries import full_refund_lines
from comptoir.services.documents.sales import CREDIT_NOTES, INVOICES
from comptoir.services.kernel.validation import Checks
from comptoir.services.settlement import allocations
from comptoir.services.settlement.standing import settled_by_document
from comptoir.storage.book import Book
from comptoir.storage.tables import Allocation

FIELD = "amends_id"  # the invoice a credit note corrects, as problems name it
# What a credit note takes of the invoice it corrects when it does not send its own.
FROM_INVOICE = ("customer_id", "currency_iso_code", "tax_id", "reduce_rate")


class Corrections:
    """The use cases of credit notes that may correct an invoice: those of `sales.CREDIT_NOTES`, and
    the settlement of the invoice kept in step with the credit note."""

    def get(self, book: Book, note_id: int) -> Any:
        return CREDIT_NOTES.get(book, note_id)

    def list(self, book: Book, query: ListQuery) -> tuple[Sequence[Any], bool]:
        return CREDIT_NOTES.list(book, query)

    def create(self, book: Book, fields: Mapping[str, Any]) -> Any:
        """A new credit note; with `amends_id`, for that invoice, which it settles."""
        invoice_id = fields.get(FIELD)
        if invoice_id is None:
            return CREDIT_NOTES.create(book, fields)
        invoice = _corrected(book, invoice_id)
        fields = {**{name: getattr(invoice, name) for name in FROM_INVOICE}, **fields}
        if "lines" not in fields:  # a full credit
            fields["lines"] = full_refund_lines(invoice)
        _check_same_party(invoice, fields["customer_id"], fields["currency_iso_code"])  # before a number is taken
        note = CREDIT_NOTES.create(book, fields)
        _settle(book, note, invoice)
        return CREDIT_NOTES.get(book, note.id)

    def update(self, book: Book, note_id: int, fields: Mapping[str, Any]) -> Any:
        """The credit note changed (while it is not sent), and what it settles of its invoice with it."""
        note = CREDIT_NOTES.get(book, note_id)
        if FIELD in fields and fields[FIELD] != note.amends_id:
            raise fail(ErrorKind.READ_ONLY, FIELD, "the invoice a credit note corrects cannot change")
        if note.amends_id is None:
            return CREDIT_NOTES.update(book, note.id, fields)
        # Locked first, in the one order (services/settlement/allocations.lock): the credit note, its
        # invoice and whatever else it settles.
        allocations.lock_with_counterparts(book, Side(CREDIT_NOTE, note.id), {Side(INVOICE, note.amends_id)})
        invoice = INVOICES.get(book, note.amends_id)
        changed = CREDIT_NOTES.update(book, note.id, fields, check_allocations=False)  # checked as settled next
        _check_same_party(invoice, changed.customer_id, changed.currency_iso_code)
        _settle(book, changed, invoice)
        return CREDIT_NOTES.get(book, note.id)

    def delete(self, book: Book, note_id: int) -> None:
        """The credit note deleted (while it is not sent), its transaction reversed: what it settled is
        open again."""
        CREDIT_NOTES.delete(book, note_id)


CORRECTIONS = Corrections()


def applied_amounts(book: Book, notes: Sequence[Any]) -> dict[int, Decimal]:
    """What each credit note settles (of invoices, or given back by refunds), by id, in one statement."""
    ids = [note.id for note in notes]
    found = dict(book.allocations.aggregate([Allocation.credit_note_id, func.sum(Allocation.amount)],
                                            Allocation.credit_note_id.in_(ids),
                                            group_by=[Allocation.credit_note_id])) if ids else {}
    return {note_id: Decimal(found.get(note_id) or 0) for note_id in ids}


def _corrected(book: Book, invoice_id: Any) -> Any:
    """The invoice a new credit note corrects, its row locked before anything is written (what settles
    it is about to change); a problem naming `amends_id` when there is no such invoice."""
    side = Side(INVOICE, invoice_id)
    if allocations.lock(book, {side})[side] is None:
        raise fail(ErrorKind.INVALID, FIELD, f"no invoice with id {invoice_id}")
    return INVOICES.get(book, invoice_id)


def _check_same_party(invoice: Any, customer_id: Any, currency: Any) -> None:
    """A credit note is for the customer of the invoice it corrects, in the invoice's currency (a
    missing customer or currency is the document's own problem, reported by sales.CREDIT_NOTES)."""
    checks = Checks()
    if customer_id is not None and customer_id != invoice.customer_id:
        checks.add(ErrorKind.INVALID, FIELD, f"{invoice.user_code} is an invoice of another customer "
                                             f"(customer {invoice.customer_id})")
    if currency and currency != invoice.currency_iso_code:
        checks.add(ErrorKind.INVALID, FIELD, f"{invoice.user_code} is in {invoice.currency_iso_code}, "
                                             f"not in {currency}")
    checks.raise_if_any()


def _settle(book: Book, note: Any, invoice: Any) -> None:
    """The credit note settles its invoice by what it can: the smaller of what it has left (its total
    less what it keeps settled otherwise: refunds, reconciliations) and what is open of the invoice
    (its total less what others settle of it). Its own links to invoices are replaced when they change;
    else it is posted again, when that changes its transaction."""
    side = Side(CREDIT_NOTE, note.id)
    mine = allocations.allocations_of(book, side)
    kept = sum((a.amount for a in mine if a.document_id is None or a.reconciliation_id is not None), Decimal(0))
    settled_by_others = sum((a.amount for a in settled_by_document(book, [invoice.id])[invoice.id]
                             if a.credit_note_id != note.id or a.reconciliation_id is not None), Decimal(0))
    amount = min(note.total - kept, invoice.total - settled_by_others)
    links = [Link(side, Side(INVOICE, invoice.id), amount)] if amount > 0 else []
    linked = [(a.document_id, a.amount) for a in mine if a.document_id is not None and a.reconciliation_id is None]
    if linked == [(link.debit.id, link.amount) for link in links]:
        CREDIT_NOTES.post_again(book, note, when_changed=True)
    else:
        matching.link_credit_note(book, note, links, field=FIELD)
