"""The revaluation of open receivables and payables in other currencies at a day's rates (issue 18
§4; domain/revaluation.py, docs/currencies.md "Revaluation", docs/decisions/0029-revaluation.md).

The report says, per party, currency and account, what is open in the currency on the day, what it
is booked at in the organization's currency, what it is worth at the day's rate and the difference,
the unrealised gain or loss. `revalue` posts those differences, dated the day, in the miscellaneous
journal, and their reversal dated the next day: the next period starts again from the booked rates
(the settlements of those balances post their realised difference against what was booked), and
the book is never revalued twice. `undo` takes a revaluation out again, by reversing both."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func

from comptoir.domain import charts, currencies, received
from comptoir.domain import revaluation as arithmetic
from comptoir.domain.errors import DomainError, ErrorKind, fail
from comptoir.domain.ledger import DEBIT, reversal
from comptoir.domain.rates import NoRate
from comptoir.services.ledger import posting, rates
from comptoir.services.ledger.chart import account_id_for
from comptoir.storage.book import Book
from comptoir.storage.tables import Entry

ZERO = Decimal(0)
# The source of a revaluation's transaction, and its id: the day, as the number yyyymmdd. The book
# holds one transaction per source, so one standing revaluation per day (`revalue` checks it first;
# the unique index refuses a second one written meanwhile). An undone revaluation gives up its
# source (posting.reverse), so that the day may be revalued again.
REVALUATION = "revaluation"
JOURNAL_ROLE = "miscellaneous"
RECEIVABLE, PAYABLE = "receivable", "payable"
NO_PARTY = "(no party)"


@dataclass(frozen=True)
class Line:
    """One party's open balance in one currency on one receivable or payable account, revalued."""

    kind: str  # RECEIVABLE or PAYABLE
    party_name: str
    account_number: str
    revalued: arithmetic.Revalued

    @property
    def balance(self) -> arithmetic.OpenBalance:
        return self.revalued.balance


@dataclass(frozen=True)
class Revaluation:
    """The open foreign balances on a day, each at the day's rate of its currency. `transaction_id`:
    the revaluation posted for that day, if one stands (its entries are then among the booked values,
    which makes their differences zero)."""

    day: date
    currency: str  # the organization's
    lines: list[Line]
    transaction_id: int | None

    @property
    def booked(self) -> Decimal:
        return sum((line.balance.booked for line in self.lines), ZERO)

    @property
    def value(self) -> Decimal:
        return sum((line.revalued.value for line in self.lines), ZERO)

    @property
    def gains(self) -> Decimal:
        return sum((line.revalued.difference for line in self.lines if line.revalued.difference > 0), ZERO)

    @property
    def losses(self) -> Decimal:
        return ZERO - sum((line.revalued.difference for line in self.lines if line.revalued.difference < 0), ZERO)

    @property
    def net(self) -> Decimal:
        return self.gains - self.losses

    @property
    def differences(self) -> list[Line]:
        return [line for line in self.lines if line.revalued.difference]


@dataclass(frozen=True)
class Posted:
    """What `revalue` did: the revaluation it computed, its transaction and the reversal dated the
    next day (both None when there was nothing to revalue)."""

    revaluation: Revaluation
    transaction: Any | None = None
    reversal: Any | None = None


def revaluation(book: Book, day: date) -> Revaluation:
    """The open receivables and payables in other currencies on `day`, at its rates (NoRate naming
    every currency without a rate on or before the day)."""
    return _revaluation(book, day, book.transaction_store.find_by_source(REVALUATION, _source_id(day)))


def revalue(book: Book, day: date) -> Posted:
    """Post the unrealised differences of `day` and their reversal on the next day. Refused when a
    revaluation of that day stands already, when a currency has no rate, or when the day is in a
    closed period."""
    standing = book.transaction_store.find_by_source(REVALUATION, _source_id(day))
    if standing is not None:
        raise fail(ErrorKind.CONFLICT, "date", f"the book is already revalued on {day.isoformat()}: undo that "
                                               f"revaluation first to revalue the day again")
    found = _revaluation(book, day, None)
    moved = [line.revalued for line in found.differences]
    if not moved:
        return Posted(found)
    postings = arithmetic.postings(
        moved, account_id_for(book, charts.UNREALIZED_GAIN) if found.gains else None,
        account_id_for(book, charts.UNREALIZED_LOSS) if found.losses else None, f"Revaluation {day.isoformat()}")
    piece_number = f"REVAL-{day.isoformat()}"
    own = book.organization.currency_iso_code
    prepared = posting.prepare(book, on=day, piece_number=piece_number, currency=own, postings=postings,
                               journal_role=JOURNAL_ROLE, converted=True)
    [transaction] = posting.post_new(book, [(REVALUATION, _source_id(day), prepared)])
    following = posting.prepare(book, on=day + timedelta(days=1), piece_number=piece_number, currency=own,
                                postings=reversal(postings), journal_id=transaction.journal_id, converted=True)
    [reversed_next_day] = posting.post_new(book, [(posting.REVERSAL, transaction.id, following)])
    return Posted(found, transaction, reversed_next_day)


def undo(book: Book, day: date) -> list[Any]:
    """Take the revaluation of `day` out of the book: its reversal of the next day is reversed, then
    the revaluation itself (posting.reverse: each cancelled by a transaction of its own date, nothing
    deleted). The day may then be revalued again. The transactions written."""
    standing = book.transaction_store.find_by_source(REVALUATION, _source_id(day))
    if standing is None:
        raise fail(ErrorKind.CONFLICT, "date", f"no revaluation of {day.isoformat()} stands in the book: none was "
                                               f"posted, or it was undone already")
    following = posting.reversal_of(book, standing.id)
    written = [posting.reverse(book, following)] if following is not None else []
    return [*written, posting.reverse(book, standing)]


def _source_id(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def _revaluation(book: Book, day: date, standing: Any | None) -> Revaluation:
    kinds = _party_accounts(book)
    balances = _open_balances(book, day, list(kinds))
    day_rates = _rates(book, day, sorted({balance.currency for balance in balances}))
    names = _party_names(book, [balance.party_id for balance in balances])
    accounts = book.accounts_by_id()
    exponent = currencies.smallest_unit(book.organization.currency_iso_code)
    lines = [Line(kinds[balance.account_id], names.get(balance.party_id, NO_PARTY),
                  accounts[balance.account_id].number,
                  arithmetic.revalued(balance, day_rates[balance.currency], exponent)) for balance in balances]
    lines.sort(key=lambda line: (line.kind != RECEIVABLE, line.party_name, line.balance.currency,
                                 line.account_number))
    return Revaluation(day, book.organization.currency_iso_code, lines,
                       None if standing is None else standing.id)


def _party_accounts(book: Book) -> dict[int, str]:
    """The receivable and payable accounts (by id: which of the two), as the aged receivables and
    OneConnect's imports know them: the chart's, and on the French chart every 41 and 40 account."""
    chart = book.organization.chart
    found = {}
    for account in book.accounts_by_id().values():
        if account.is_family:
            continue
        if received.is_party_account(account, received.SALES, chart):
            found[account.id] = RECEIVABLE
        elif received.is_party_account(account, received.PURCHASE, chart):
            found[account.id] = PAYABLE
    return found


def _open_balances(book: Book, day: date, account_ids: Sequence[int]) -> list[arithmetic.OpenBalance]:
    """Each party's balance in each other currency on each of these accounts up to `day`, in one
    grouped query over the entries in another currency (storage: the partial index of those entries).
    A balance of nothing in its currency is not open: it is left out, whatever cents of the
    organization's currency its settlements' rounding left booked."""
    if not account_ids:
        return []
    money = case((Entry.way == DEBIT, Entry.currency_amount), else_=-Entry.currency_amount)
    value = case((Entry.way == DEBIT, Entry.amount), else_=-Entry.amount)
    rows = book.entries.aggregate(
        [Entry.account_id, Entry.party_id, Entry.currency_iso_code, func.sum(money).label("open_amount"),
         func.sum(value).label("booked")],
        Entry.currency_iso_code.isnot(None), Entry.account_id.in_(list(account_ids)), Entry.date <= day,
        group_by=[Entry.account_id, Entry.party_id, Entry.currency_iso_code])
    balances = [arithmetic.OpenBalance(row.account_id, row.party_id, row.currency_iso_code,
                                       Decimal(row.open_amount or 0), Decimal(row.booked or 0)) for row in rows]
    return [balance for balance in balances if balance.open_amount]


def _rates(book: Book, day: date, codes: Sequence[str]) -> dict[str, Decimal]:
    """The rate of each currency on the day (one indexed query each: a book holds a few currencies);
    a DomainError naming every currency without one."""
    found, missing = {}, []
    for code in codes:
        try:
            found[code] = rates.rate_on(book, code, day)
        except NoRate as error:
            missing.extend(error.problems)
    if missing:
        raise DomainError(missing)
    return found


def _party_names(book: Book, party_ids: Sequence[int | None]) -> dict[int, str]:
    known = [party_id for party_id in party_ids if party_id is not None]
    return {party_id: party.full_name for party_id, party in book.parties.get_many(known).items()} if known else {}
