"""Reconciliations: a set of credits (payments, credit notes) and debits (invoices, refunds) matched
together, each with the amount it takes part with, imported by an external id and replaced as a whole
(Upflow's POST /reconcile). Sent again with nothing in it, a reconciliation is undone."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from comptoir.domain.allocations import Side, pair
from comptoir.domain.errors import ErrorKind, fail
from comptoir.domain.money import round_minor
from comptoir.services.kernel.imports import upsert
from comptoir.services.masterdata import reference
from comptoir.services.settlement import allocations
from comptoir.storage.book import Book
from comptoir.storage.tables import Reconciliation


def reconcile(book: Book, external_id: str, credits: Sequence[tuple[Side, Decimal]],
              debits: Sequence[tuple[Side, Decimal]]) -> set[Side]:
    """Match the credits against the debits (in the order given) and store the allocations this
    makes in place of the reconciliation's previous ones (emptied, the reconciliation is removed).
    The two sides must carry equal totals. The documents matched before or now: what they settle
    moved (services/documents/matching.py posts them again)."""
    credits = [(side, _rounded(book, side, amount)) for side, amount in credits]
    debits = [(side, _rounded(book, side, amount)) for side, amount in debits]
    credit_total, debit_total = sum((a for _, a in credits), Decimal(0)), sum((a for _, a in debits), Decimal(0))
    if credit_total != debit_total:
        raise fail(ErrorKind.INVALID, "amountLinked", f"the credits ({credit_total}) and the debits ({debit_total}) "
                                                      "of a reconciliation must carry the same total")
    if any(amount <= 0 for _, amount in (*credits, *debits)):
        raise fail(ErrorKind.INVALID, "amountLinked", "every amount linked should be strictly positive")
    reconciliation, _ = upsert(book, find=lambda: book.reconciliations.find(external_id=external_id),
                               update=lambda existing: existing,
                               create=lambda: book.reconciliations.add(Reconciliation(external_id=external_id)))
    touched = allocations.replace(book, allocations.owned_by(reconciliation_id=reconciliation.id),
                                  pair(credits, debits), reconciliation_id=reconciliation.id, field="reconcile")
    if not credits:
        book.reconciliations.remove(reconciliation)
    return touched


def _rounded(book: Book, side: Side, amount: Decimal) -> Decimal:
    """The amount a record takes part with, rounded half-up to its currency's minor unit (a record
    that does not exist is reported by allocations.replace)."""
    return round_minor(amount, reference.smallest_unit(book, allocations.currency_of(book, side)))
