"""Closing the books, and the balances of accounts and parties read from the ledger."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Mapping, Sequence

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


def receivable_balance(book: Book, party_id: int, currency: str | None = None) -> Decimal:
    """What a customer owes in a currency (the organization's when None): its entries on the
    receivable account in that currency."""
    return receivable_balances(book, [party_id], {party_id: currency})[party_id]


def receivable_balances(book: Book, party_ids: Sequence[int],
                        currencies: Mapping[int, str | None] | None = None) -> dict[int, Decimal]:
    """What each of these customers owes in its currency (`currencies`, by customer; the
    organization's by default), in one query."""
    own = book.organization.currency_iso_code
    by_currency = receivable_balances_by_currency(book, party_ids)
    return {party_id: balances.get((currencies or {}).get(party_id) or own, Decimal(0))
            for party_id, balances in by_currency.items()}


def receivable_balances_by_currency(book: Book, party_ids: Sequence[int]) -> dict[int, dict[str, Decimal]]:
    """What each of these customers owes in each currency it has entries in (by customer, then
    currency), in one query: an entry in another currency counts its amount in that currency
    (docs/currencies.md), so that a customer's euros are never added to its dollars."""
    found: dict[int, dict[str, Decimal]] = {party_id: {} for party_id in party_ids}
    if not found:
        return found
    own = book.organization.currency_iso_code
    money = func.coalesce(Entry.currency_amount, Entry.amount)
    signed = case((Entry.way == DEBIT, money), else_=-money)
    currency = func.coalesce(Entry.currency_iso_code, own).label("currency")
    rows = book.entries.aggregate([Entry.party_id, currency, func.sum(signed).label("balance")],
                                  Entry.account_id == account_id_for(book, charts.RECEIVABLE),
                                  Entry.party_id.in_(list(found)), group_by=[Entry.party_id, currency])
    for row in rows:
        found[row.party_id][row.currency] = Decimal(row.balance or 0)
    return found
