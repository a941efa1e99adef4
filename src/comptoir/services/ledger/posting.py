"""Posting: the transaction a document generates, written and rewritten with the document. Every
transaction written here balances; closed, locked and reconciled entries never change."""

from __future__ import annotations

from datetime import date
from typing import Any, Mapping, Sequence

from comptoir.domain.errors import ErrorKind, Rule
from comptoir.domain.ledger import Posting, balance_problems, net
from comptoir.services.kernel.validation import Checks
from comptoir.services.ledger.chart import journal_id_for
from comptoir.storage.book import Book
from comptoir.storage.tables import Account, Entry, Transaction

REALIZED, FORECAST, CLOSED = "Realized", "Forecast", "Closed"


def post(book: Book, *, source_type: str, source_id: int, journal_role: str | None = None, on: date,
         piece_number: str, currency: str, postings: Sequence[Posting], journal_id: int | None = None,
         first: bool = False) -> Transaction:
    """Write (or rewrite) the transaction a document generates, in the journal of that role (or the
    journal given by id). The previous entries must still be changeable, and the new ones must balance
    and fall in the open period. `first`: the document was created in this unit of work, so it has
    no transaction yet (none is looked for)."""
    postings = net(postings)
    transaction = None if first else book.transactions.find(source_type=source_type, source_id=source_id)
    checks = Checks()
    _check_period(book, on, checks)
    accounts = _check_postings(book, postings, checks)
    if transaction is not None:
        for entry in transaction.entries:
            _check_changeable(transaction, entry, checks)
    checks.raise_if_any()
    journal_id = journal_id or journal_id_for(book, journal_role)
    if transaction is None:
        transaction = Transaction(org_id=book.org_id, source_type=source_type, source_id=source_id, status=REALIZED,
                                  transaction_code=book.counters.next("transaction"), entries=[])
    # Letterings set by hand (not the document's own number, which follows a renumbering) survive.
    kept_letterings = {(entry.account_id, entry.way): entry.lettering for entry in transaction.entries or []
                       if entry.lettering and entry.lettering != transaction.piece_number}
    transaction.date = on
    transaction.journal_id = journal_id
    transaction.piece_number = piece_number
    transaction.currency_iso_code = currency
    transaction.entries = [_entry(book, transaction, posting, accounts) for posting in postings]
    for entry in transaction.entries:
        entry.lettering = kept_letterings.get((entry.account_id, entry.way), entry.lettering)
    book.session.add(transaction)
    book.flush()
    return transaction


def unpost(book: Book, source_type: str, source_id: int) -> None:
    transaction = book.transactions.find(source_type=source_type, source_id=source_id)
    if transaction is None:
        return
    checks = Checks()
    for entry in transaction.entries:
        _check_changeable(transaction, entry, checks)
    checks.raise_if_any()
    book.transactions.remove(transaction)


def _entry(book: Book, transaction: Transaction, posting: Posting, accounts: Mapping[int, Account]) -> Entry:
    entry = Entry(org_id=book.org_id, label=posting.label[:128], amount=posting.amount, way=posting.way,
                  account_id=posting.account_id, lettering=posting.lettering, party_id=posting.party_id,
                  date=transaction.date, locked=False, reconciled=False)
    account = accounts.get(posting.account_id)
    if account is not None:  # loaded by the checks: rendering the entry needs no query
        entry.account = account
    return entry


def _check_period(book: Book, on: date | None, checks: Checks) -> None:
    closed_until = book.organization.closed_until
    if on is not None and closed_until is not None and on <= closed_until:
        checks.broken(Rule.OUTSIDE_OPEN_PERIOD, "date", f"{on} is in a closed period (closed until {closed_until})")


def _check_postings(book: Book, postings: Sequence[Posting], checks: Checks) -> dict[int, Account]:
    """Check the postings; the accounts read for it, by id (one query for those not known already:
    the chart's accounts for a role are known postable)."""
    checks.extend(balance_problems(postings))

    def known_postable(account_id: Any) -> bool:
        return _is_id(account_id) and book.recall(("postable account", account_id), False)

    unknown = [p.account_id for p in postings if _is_id(p.account_id) and not known_postable(p.account_id)]
    accounts = book.accounts.get_many(unknown) if unknown else {}
    for index, posting in enumerate(postings):
        if known_postable(posting.account_id):
            continue
        account = accounts.get(posting.account_id) if _is_id(posting.account_id) else None
        if account is None:
            checks.add(ErrorKind.INVALID, f"entries[{index}].account_id", f"no account with id {posting.account_id}")
        elif account.is_family:
            checks.broken(Rule.FAMILY_ACCOUNT, f"entries[{index}].account_id", f"{account.number} is a family account")
    return accounts


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_changeable(transaction: Transaction, entry: Entry, checks: Checks) -> None:
    if transaction.status == CLOSED:
        checks.broken(Rule.ENTRY_CLOSED, "entries", f"entry {entry.id} is closed")
    elif entry.locked:
        checks.broken(Rule.ENTRY_LOCKED, "entries", f"entry {entry.id} is locked")
    elif entry.reconciled:
        checks.broken(Rule.ENTRY_RECONCILED, "entries", f"entry {entry.id} is reconciled")
