"""Settlements in the ledger, lettered: a payment posts bank (or undeposited funds) against receivable,
a refund the opposite, and their receivable side is one entry per document settled, lettered with that
document's letter, the rest under their own number (domain/lettering.py, docs/decisions/0021). What a
credit note settles is lettered the same way (services/documents/sales.py posts it). The letters
follow the allocations: whoever changes them posts the settlement again."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from comptoir.domain import charts
from comptoir.domain.allocations import CREDIT_NOTE, PAYMENT, REFUND, Side
from comptoir.domain.ledger import CREDIT, DEBIT, Posting
from comptoir.domain.lettering import Part, letter_of, parts
from comptoir.services.ledger import chart, posting
from comptoir.services.settlement import allocations
from comptoir.storage.book import Book
from comptoir.storage.settlement import counterparts
from comptoir.storage.tables import Payment, Refund


def document_letter(document: Any) -> str:
    """The letter of an invoice's (or a credit note's, a purchase's) receivable or payable entry."""
    return letter_of(document.kind, document.user_code, document.vendor_reference)


def payment_parts(book: Book, payment: Payment) -> list[Part]:
    """The payment's amount by letter: what it settles of each invoice, the rest (unapplied, or given
    back by a refund) under its own number."""
    return parts(payment.amount, _settled(book, PAYMENT, payment.id), payment.user_code)


def credit_note_parts(book: Book, note: Any) -> list[Part]:
    """The credit note's total by letter, as a payment's (`payment_parts`)."""
    return parts(note.total, _settled(book, CREDIT_NOTE, note.id), note.user_code)


def refund_parts(book: Book, refund: Refund) -> list[Part]:
    """The refund's amount by letter: the credit it gives back of each payment or credit note under
    that credit's letter (the credit and its refund sum to zero), the rest under its own number."""
    return parts(refund.amount, _settled(book, REFUND, refund.id), refund.user_code)


def _settled(book: Book, kind: str, row_id: int) -> list[tuple[str, Any, Any]]:
    """(letter, amount, rate) of each allocation of the settlement to what it settles (the rate that
    counterpart is booked at), read in one statement."""
    return [(letter_of(counterpart_kind, code, vendor_reference), amount, rate)
            for counterpart_kind, code, vendor_reference, amount, rate
            in counterparts(book.link, book.org_id, kind, row_id)]


def receivable_postings(book: Book, way: str, label: str, own_letter: str, shares: Sequence[Part],
                        party_id: int | None) -> list[Posting]:
    """One receivable entry per letter; the label of each names the document it settles, which makes
    it that entry when the settlement posts again (services/ledger/posting.py keeps the lettering set
    by hand on it)."""
    receivable = chart.account_id_for(book, charts.RECEIVABLE)
    return [Posting(receivable, way, share.amount, label if share.letter == own_letter else f"{label} - {share.letter}",
                    share.letter, party_id, rate=share.rate) for share in shares]


def post_payment(book: Book, payment: Payment, settled: Iterable[Part] | None = None, *,
                 when_changed: bool = False) -> None:
    """Bank (or undeposited funds) against receivable, lettered by what the payment settles
    (`settled`, when the caller knows it; else read from its allocations)."""
    label = f"Payment {payment.user_code}"
    shares = list(settled) if settled is not None else payment_parts(book, payment)
    posting.post(book, source_type=PAYMENT, source_id=payment.id, journal_role="bank", on=payment.date,
                 piece_number=payment.user_code, currency=payment.currency_iso_code, when_changed=when_changed,
                 rate=payment.exchange_rate,
                 postings=[Posting(cash_account(book, payment.bank_account_id), DEBIT, payment.amount, label),
                           *receivable_postings(book, CREDIT, label, payment.user_code, shares, payment.party_id)])


def post_refund(book: Book, refund: Refund, *, when_changed: bool = False) -> None:
    """Receivable (the customer's credit given back, lettered by the credits it refunds) against bank."""
    label = f"Refund {refund.user_code}"
    shares = refund_parts(book, refund)
    posting.post(book, source_type=REFUND, source_id=refund.id, journal_role="bank", on=refund.date,
                 piece_number=refund.user_code, currency=refund.currency_iso_code, when_changed=when_changed,
                 rate=refund.exchange_rate,
                 postings=[*receivable_postings(book, DEBIT, label, refund.user_code, shares, refund.party_id),
                           Posting(cash_account(book, refund.bank_account_id), CREDIT, refund.amount, label)])


def cash_account(book: Book, bank_account_id: int | None) -> int:
    """The ledger account money moves through: the bank account's own, else undeposited funds."""
    if bank_account_id is not None:
        return book.bank_accounts.get(bank_account_id).ledger_account_id
    return chart.account_for(book, charts.UNDEPOSITED).id


def refunds_of(book: Book, credit: Side) -> list[int]:
    """The refunds that give back some of this payment or credit note (their letters name it)."""
    return [a.refund_id for a in allocations.allocations_of(book, credit) if a.refund_id is not None]


def post_refunds_again(book: Book, refund_ids: Iterable[int]) -> None:
    """Post these refunds again after what they refunded changed (a payment or a credit note deleted)."""
    for refund_id in dict.fromkeys(refund_ids):
        refund = book.refunds.get(refund_id)
        if refund is not None:
            post_refund(book, refund, when_changed=True)

