"""Matching written from the outside of a settlement: the invoices a credit note settles, and the
credits and debits a reconciliation matches. Either moves what a settlement settles, so the payments,
credit notes and refunds it touched are posted again: each share of their receivable side carries the
letter of what it now settles (services/settlement/lettering.py, docs/decisions/0021)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from comptoir.domain.allocations import CREDIT_NOTE, INVOICE, PAYMENT, REFUND, Link, Side
from comptoir.services.documents.sales import CREDIT_NOTES
from comptoir.services.settlement import allocations, lettering, reconciliations
from comptoir.storage.book import Book


def link_credit_note(book: Book, note: Any, links: Sequence[Link], *, field: str = "linkedInvoices") -> None:
    """The invoices the credit note settles (its own links, all of them: those not sent are removed),
    checked; the credit note posted with its receivable side lettered by them. `field`: what the
    problems name (Upflow's linkedInvoices; the invoice a OneUp credit note corrects, amends_id)."""
    side = Side(CREDIT_NOTE, note.id)
    allocations.replace(book, allocations.owned_by(side, settling=INVOICE), links, owner=side, field=field)
    CREDIT_NOTES.post_again(book, note)


def reconcile(book: Book, external_id: str, credits: Sequence[tuple[Side, Decimal]],
              debits: Sequence[tuple[Side, Decimal]]) -> None:
    """services/settlement/reconciliations.reconcile, and every settlement it touched posted again."""
    touched = reconciliations.reconcile(book, external_id, credits, debits)
    post_settlements_again(book, touched)


def post_settlements_again(book: Book, sides: Iterable[Side]) -> None:
    """Post again the payments, credit notes and refunds among these documents (invoices post the same
    whatever settles them); a transaction that comes out the same is not touched."""
    for side in sorted(set(sides), key=lambda s: (s.kind, s.id)):
        if side.kind == PAYMENT:
            lettering.post_payment(book, book.payments.get(side.id), when_changed=True)
        elif side.kind == REFUND:
            lettering.post_refund(book, book.refunds.get(side.id), when_changed=True)
        elif side.kind == CREDIT_NOTE:
            CREDIT_NOTES.post_again(book, CREDIT_NOTES.get(book, side.id), when_changed=True)
