"""Refunds: money paid back to a customer, the opposite of a payment. A refund is posted receivable
against bank (services/settlement/lettering.py), and settles (through allocations) the payments or
credit notes it gives back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from comptoir.services.kernel.codes import next_code
from comptoir.services.kernel.imports import upsert
from comptoir.services.kernel.records import ReadOnlyRecords
from comptoir.services.ledger import posting
from comptoir.services.settlement import allocations, lettering
from comptoir.services.settlement.payments import write_movement
from comptoir.storage.book import Book
from comptoir.storage.tables import Refund

REFUND = "refund"


class Refunds(ReadOnlyRecords):
    """`fields`: party_id, amount, currency_iso_code, date, extra, and optionally bank_account_id (the
    bank account the money leaves from) and `links`, the (kind, id, amount) of each payment or credit
    note refunded (kind "payment" or "credit_note")."""

    def create(self, book: Book, fields: Mapping[str, Any]) -> Refund:
        refund = Refund(user_code=next_code(book, REFUND, book.refunds, "user_code"), extra={},
                        external_id=fields.get("external_id"))
        self._write(book, refund, fields)
        book.refunds.add(refund)
        self._link(book, refund, fields)
        self._post(book, refund)
        return refund

    def update(self, book: Book, refund_id: int, fields: Mapping[str, Any]) -> Refund:
        allocations.lock_with_counterparts(book, allocations.Side(REFUND, refund_id), {
            allocations.Side(kind, credit_id) for kind, credit_id, _ in fields.get("links") or []})
        refund = self.get(book, refund_id)
        current = {"party_id": refund.party_id, "date": refund.date, "amount": refund.amount,
                   "currency_iso_code": refund.currency_iso_code}
        self._write(book, refund, {**current, **fields})
        book.flush()
        self._link(book, refund, fields)
        self._post(book, refund)
        return refund

    def delete(self, book: Book, refund_id: int) -> None:
        refund = self.get(book, refund_id)
        posting.unpost(book, REFUND, refund.id)
        book.allocations.delete_where(allocations.column(REFUND) == refund.id)
        book.refunds.remove(refund)

    def _write(self, book: Book, refund: Refund, fields: Mapping[str, Any]) -> None:
        write_movement(book, refund, fields)

    def _link(self, book: Book, refund: Refund, fields: Mapping[str, Any]) -> None:
        side = allocations.Side(REFUND, refund.id)
        if "links" in fields:
            links = [allocations.Link(allocations.Side(kind, credit_id), side, amount)
                     for kind, credit_id, amount in fields["links"] or []]
        else:
            links = [allocations.Link(allocations.side_of(a, allocations.CREDITS), side, a.amount)
                     for a in book.allocations.all(*allocations.owned_by(side))]
        allocations.replace(book, allocations.owned_by(side), links, owner=side, field="linkedPayments")

    def _post(self, book: Book, refund: Refund) -> None:
        lettering.post_refund(book, refund)


def import_refund(book: Book, external_id: str, fields: Mapping[str, Any]) -> tuple[Refund, bool]:
    """Create the refund with this external id, or update it (exactly once: services/imports.py)."""
    return upsert(book, find=lambda: book.refunds.find(external_id=external_id),
                  update=lambda existing: REFUNDS.update(book, existing.id, fields),
                  create=lambda: REFUNDS.create(book, {**fields, "external_id": external_id}))


REFUNDS = Refunds("refunds")
