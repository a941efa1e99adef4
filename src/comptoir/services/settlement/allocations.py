"""Allocations: which credit (a payment, a credit note) settles which debit (an invoice, a refund),
and by how much. Every writer of allocations (a payment's linked invoices, a credit note's, a refund's
linked payments and credit notes, a reconciliation) goes through `replace`, so the rules live here
once: both sides belong to the same customer and currency, and no document is allocated beyond its
amount, even when requests race (the rows of every document involved are locked first)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement

from comptoir.domain.allocations import CREDIT_NOTE, CREDITS, DEBITS, INVOICE, PAYMENT, REFUND, Link, Side
from comptoir.domain.errors import ErrorKind, Rule
from comptoir.domain.money import plain, round_minor
from comptoir.services.kernel.validation import Checks
from comptoir.services.masterdata import reference
from comptoir.storage.book import Book
from comptoir.storage.tables import Allocation, Payment

# The allocation column that holds each kind of document.
COLUMNS = {PAYMENT: "payment_id", CREDIT_NOTE: "credit_note_id", INVOICE: "document_id", REFUND: "refund_id"}
LABELS = {PAYMENT: "payment", CREDIT_NOTE: "credit note", INVOICE: "invoice", REFUND: "refund"}


@dataclass(frozen=True)
class Party:
    """What the allocation rules need to know of a document."""

    label: str
    customer_id: int | None
    currency: str
    amount: Decimal
    date: date


def column(kind: str) -> Any:
    return getattr(Allocation, COLUMNS[kind])


def owned_by(side: Side | None = None, *, reconciliation_id: int | None = None,
             settling: str | None = None) -> tuple[ColumnElement[bool], ...]:
    """The allocations a document sets itself (not those of a reconciliation), or those of one
    reconciliation; `settling`: only those that settle a record of that kind (a credit note's links
    to invoices, not to refunds)."""
    if side is None:
        return (Allocation.reconciliation_id == reconciliation_id,)
    owned = (column(side.kind) == side.id, Allocation.reconciliation_id.is_(None))
    return (*owned, column(settling).is_not(None)) if settling else owned


def allocated(book: Book, side: Side) -> Decimal:
    """How much of a document is allocated, by every writer."""
    return book.allocations.sum(Allocation.amount, column(side.kind) == side.id) or Decimal(0)


def _party_of_document(side: Side, document: Any) -> Party:
    return Party(f"{LABELS[side.kind]} {document.user_code}", document.customer_id, document.currency_iso_code,
                 document.total, document.date)


def currency_of(book: Book, side: Side) -> str | None:
    """The currency of the document on either side (None when there is no such document)."""
    if side.kind in (INVOICE, CREDIT_NOTE):
        row = book.documents.get(side.id)
    else:
        row = (book.payments if side.kind == PAYMENT else book.refunds).get(side.id)
    return row.currency_iso_code if row is not None else None


def allocations_of(book: Book, side: Side) -> Sequence[Allocation]:
    return book.allocations.all(column(side.kind) == side.id)


def lock_with_counterparts(book: Book, side: Side, others: Iterable[Side] = ()) -> None:
    """Lock a document, every document allocated against it now, and `others` (those it is about to
    be allocated against), in the one fixed order."""
    kinds = DEBITS if side.kind in CREDITS else CREDITS
    lock(book, {side, *others, *(side_of(a, kinds) for a in allocations_of(book, side))})


def side_of(allocation: Allocation, kinds: Iterable[str]) -> Side:
    """The credit (kinds=CREDITS) or the debit (kinds=DEBITS) of an allocation."""
    kind = next(kind for kind in kinds if getattr(allocation, COLUMNS[kind]) is not None)
    return Side(kind, getattr(allocation, COLUMNS[kind]))


def replace(book: Book, criteria: Sequence[ColumnElement[bool]], links: Sequence[Link], *,
            owner: Side | None = None, reconciliation_id: int | None = None, field: str = "links") -> set[Side]:
    """Replace the allocations selected by `criteria` with `links`, checked; nothing is written
    when a rule is broken (the caller's transaction is rolled back by the DomainError). The `owner`
    (the document whose links these are) is checked even when it has no links left. The documents
    on either side of the allocations replaced or written (their letters may move: settlement/lettering.py)."""
    current = book.allocations.all(*criteria)
    sides = {link.credit for link in links} | {link.debit for link in links} | ({owner} if owner else set())
    sides |= {side_of(a, CREDITS) for a in current} | {side_of(a, DEBITS) for a in current}
    documents = lock(book, sides)
    _forget_loaded(book, sides)
    checks = Checks()
    for link in links:
        _check_link(book, link, documents, checks, field)
    checks.raise_if_any()
    for allocation in current:
        book.allocations.remove(allocation)
    for link in links:  # both sides in one currency (_check_link): the amount rounds to its minor unit
        amount = round_minor(link.amount, _unit(book, documents[link.credit]))
        book.allocations.add(Allocation(amount=amount, reconciliation_id=reconciliation_id,
                                        **{COLUMNS[link.credit.kind]: link.credit.id,
                                           COLUMNS[link.debit.kind]: link.debit.id}))
    book.flush()
    for side, document in documents.items():
        _check_fits(book, side, document, checks, field, counterparts=side == owner)
    checks.raise_if_any()
    _forget_loaded(book, sides)
    return sides


def check(book: Book, side: Side, field: str, changed: Any = None, current: Sequence[Any] | None = None) -> None:
    """After a document changed (its amount, customer or currency), every allocation of it must still
    hold: nothing allocated beyond its amount, every counterpart of the same customer and currency.
    `changed`: the document as it now is, when the caller holds its row locked (not read again);
    `current`: its allocations, when the caller read them with its row held."""
    document = _party_of_document(side, changed) if changed is not None else _party(book, side)
    if document is None:
        return
    checks = Checks()
    _check_fits(book, side, document, checks, field, counterparts=True, current=current)
    checks.raise_if_any()


def _unit(book: Book, document: Party) -> Decimal:
    """The minor unit of the document's currency, what an amount allocated of it rounds to."""
    return reference.smallest_unit(book, document.currency)


def _check_fits(book: Book, side: Side, document: Party, checks: Checks, field: str, *, counterparts: bool,
                current: Sequence[Any] | None = None) -> None:
    if counterparts and current is None:
        current = allocations_of(book, side)  # read once, for the total and the counterparts
    total = sum((a.amount for a in current), Decimal(0)) if current is not None else allocated(book, side)
    if total > document.amount:
        checks.add(ErrorKind.CONFLICT, field, f"{plain(total)} {document.currency} would be allocated on "
                                              f"{document.label}, more than its {plain(document.amount)}")
    if not counterparts:
        return
    kinds = DEBITS if side.kind in CREDITS else CREDITS
    for allocation in current:
        other = _party(book, side_of(allocation, kinds))
        if other is not None and (other.customer_id, other.currency) != (document.customer_id, document.currency):
            checks.add(ErrorKind.CONFLICT, field, f"{document.label} is linked to {other.label}: both must stay "
                                                  "with one customer and one currency")


def _forget_loaded(book: Book, sides: Iterable[Side]) -> None:
    """Payments keep their allocations in a loaded collection: reload it after a change."""
    for side in sides:
        if side.kind == PAYMENT:
            payment = book.session.get(Payment, side.id)
            if payment is not None:
                book.session.expire(payment, ["allocations"])


def _check_link(book: Book, link: Link, documents: dict[Side, Party | None], checks: Checks, field: str) -> None:
    credit, debit = documents.get(link.credit), documents.get(link.debit)
    for side, document in ((link.credit, credit), (link.debit, debit)):
        if document is None:
            checks.add(ErrorKind.INVALID, field, f"no {LABELS[side.kind]} with id {side.id}")
    if credit is None or debit is None:
        return
    if round_minor(link.amount, _unit(book, credit)) <= 0:
        checks.add(ErrorKind.INVALID, field, "an allocated amount should be strictly positive")
    if credit.customer_id != debit.customer_id:
        checks.add(ErrorKind.INVALID, field, f"{credit.label} and {debit.label} belong to different customers")
    if credit.currency != debit.currency:
        checks.add(ErrorKind.INVALID, field, f"{credit.label} is in {credit.currency}, {debit.label} in "
                                             f"{debit.currency}")
    if link.credit.kind == PAYMENT and link.debit.kind == INVOICE and credit.date < debit.date:
        checks.broken(Rule.PAYMENT_BEFORE_DOCUMENT, field, f"{credit.label} is dated before {debit.label}")


def lock(book: Book, sides: Iterable[Side]) -> dict[Side, Party | None]:
    """Each document, its row locked, in one fixed order. Writers lock every document they will touch
    this way before writing anything (and before posting, which locks the transaction counter), so that
    two requests cannot each hold a row the other waits for."""
    documents: dict[Side, Party | None] = {}
    for side in sorted(sides, key=lambda s: (COLUMNS[s.kind], s.id)):
        documents[side] = _party(book, side)
    return documents


def _party(book: Book, side: Side) -> Party | None:
    if side.kind in (INVOICE, CREDIT_NOTE):
        document = book.documents.lock(side.id)
        if document is None or document.kind != side.kind:
            return None
        return _party_of_document(side, document)
    repository = book.payments if side.kind == PAYMENT else book.refunds
    row = repository.lock(side.id)
    if row is None:
        return None
    return Party(f"{LABELS[side.kind]} {row.user_code}", row.party_id, row.currency_iso_code, row.amount, row.date)
