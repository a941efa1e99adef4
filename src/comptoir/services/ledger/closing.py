"""Closing the books, and the balances of accounts and parties read from the ledger."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Sequence

from sqlalchemy import case, func, update

from comptoir.domain import charts
from comptoir.domain.errors import ErrorKind, fail
from comptoir.domain.ledger import DEBIT
from comptoir.services.ledger.chart import account_id_for
from comptoir.services.ledger.posting import CLOSED
from comptoir.storage.link import balance_totals
from comptoir.storage.book import Book
from comptoir.storage.tables import Entry, Transaction


def close_period(book: Book, until: date) -> int:
    """Close the books up to `until`: its transactions become Closed and nothing dated there can be
    written any more. Returns how many transactions were closed."""
    organization = book.organization_row()
    if organization.closed_until is not None and until < organization.closed_until:
        raise fail(ErrorKind.INVALID, "until", f"the books are already closed until {organization.closed_until}")
    organization.closed_until = until
    result = book.session.execute(
        update(Transaction).where(Transaction.org_id == book.org_id, Transaction.date <= until,
                                  Transaction.status != CLOSED).values(status=CLOSED))
    book.flush()
    return result.rowcount or 0


def account_balance(book: Book, account_id: int, *, until: date | None = None, party_id: int | None = None) -> Decimal:
    """Debits minus credits on one account, up to a date, optionally of one party only (the
    account's own balance is read from the maintained balances, a party's from its entries)."""
    if party_id is None:
        debit, credit = balance_totals(book.link, book.org_id, date_to=until,
                                        account_ids=[account_id]).get(account_id, (Decimal(0), Decimal(0)))
        return debit - credit
    criteria = [Entry.account_id == account_id, Entry.party_id == party_id]
    if until is not None:
        criteria.append(Entry.date <= until)
    debit = book.entries.sum(Entry.amount, Entry.way == DEBIT, *criteria)
    credit = book.entries.sum(Entry.amount, Entry.way != DEBIT, *criteria)
    return Decimal(debit) - Decimal(credit)


def receivable_balance(book: Book, party_id: int) -> Decimal:
    """What a customer owes: its entries on the receivable account."""
    return receivable_balances(book, [party_id])[party_id]


def receivable_balances(book: Book, party_ids: Sequence[int]) -> dict[int, Decimal]:
    """What each of these customers owes (its entries on the receivable account), in one query."""
    found = {party_id: Decimal(0) for party_id in party_ids}
    if not found:
        return found
    signed = case((Entry.way == DEBIT, Entry.amount), else_=-Entry.amount)
    rows = book.entries.aggregate([Entry.party_id, func.sum(signed).label("balance")],
                                  Entry.account_id == account_id_for(book, charts.RECEIVABLE),
                                  Entry.party_id.in_(list(found)), group_by=[Entry.party_id])
    for row in rows:
        found[row.party_id] = Decimal(row.balance or 0)
    return found
