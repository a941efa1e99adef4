"""Posting: the transaction a document generates, written and rewritten with the document. Every
transaction written here balances; closed, locked and reconciled entries never change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Collection, Mapping, Sequence

from comptoir.domain import charts, conversion, currencies
from comptoir.domain.errors import ErrorKind, Rule, broken
from comptoir.domain.ledger import CREDIT, DEBIT, Posting, balance_problems, net, reversal
from comptoir.services.kernel.validation import Checks
from comptoir.services.ledger import chart, rates
from comptoir.services.ledger.chart import journal_id_for
from comptoir.storage.book import Book
from comptoir.storage.transactions import PendingTransaction

REALIZED, FORECAST, CLOSED = "Realized", "Forecast", "Closed"
# The source of a reversing transaction: the transaction it reverses (source_id). A reversed
# transaction of a document keeps its source kind with this mark (and no source id), so that the
# document (an invoice edited back to posting something, say) may post a transaction anew.
REVERSAL, REVERSED_MARK = "reversal", ":reversed"
LABEL_MAX = 128  # entries.label


@dataclass(frozen=True)
class Prepared:
    """A transaction checked and ready to be written: its header and entries (storage/transactions.py),
    and the accounts its checks read (AccountViews by id)."""

    header: dict[str, Any]
    entries: list[dict[str, Any]]
    accounts: dict[int, Any]


def prepare(book: Book, *, on: date, piece_number: str, currency: str, postings: Sequence[Posting],
            journal_role: str | None = None, journal_id: int | None = None,
            letterings: Mapping[tuple[int, str, str], str] | None = None, rate: Decimal | None = None,
            converted: bool = False) -> Prepared:
    """The transaction these postings make, checked (it balances, falls in the open period, posts to
    postable accounts), not written. `letterings`: hand-set ones to keep, by entry (`_identity`).
    Postings in another `currency` than the organization's are converted at `rate` (else the book's
    rate of the day: rates.NoRate when it has none) unless they are `converted` already."""
    postings = net(postings) if converted else in_own_currency(book, on, currency, rate, postings)
    checks = Checks()
    _check_period(book, on, checks)
    accounts = _check_postings(book, postings, checks)
    checks.raise_if_any()
    if any(posting.currency for posting in postings):  # reports read figures in other currencies from now
        book.note_foreign_money()
    return Prepared(_header(book, on, piece_number, currency, journal_role, journal_id),
                    _entries(postings, piece_number, letterings or {}), accounts)


def post(book: Book, *, source_type: str, source_id: int, journal_role: str | None = None, on: date,
         piece_number: str, currency: str, postings: Sequence[Posting], journal_id: int | None = None,
         lettered_before: Collection[str] = (), when_changed: bool = False, rate: Decimal | None = None) -> Any:
    """Write (or rewrite) the transaction a document generates, in the journal of that role (or the
    journal given by id). The previous entries must still be changeable, and the new ones must balance
    and fall in the open period. The transaction as written (a TransactionView).

    Letterings set by hand survive (`_set_by_hand`); `lettered_before`: letters the document gave its
    entries besides its number (a purchase's vendor reference as it was), which are not. `when_changed`:
    the document is posted again because another one changed what it settles (its letters may move),
    so a transaction that comes out the same is left as it is, unchecked (a closed or locked one too).
    `rate`: as `prepare`'s."""
    before = book.transaction_store.find_by_source(source_type, source_id)
    postings = in_own_currency(book, on, currency, rate, postings)
    letterings = _set_by_hand(before, postings, piece_number, lettered_before) if before is not None else {}
    if before is not None:
        if when_changed and book.transaction_store.holds(
                before, _header(book, on, piece_number, currency, journal_role, journal_id),
                _entries(postings, piece_number, letterings)):
            return before
        _check_all_changeable(before)
    prepared = prepare(book, on=on, piece_number=piece_number, currency=currency, postings=postings,
                       journal_role=journal_role, journal_id=journal_id, letterings=letterings, converted=True)
    if before is not None:
        return book.transaction_store.rewrite(before, prepared.header, prepared.entries, journal=None,
                                              accounts=prepared.accounts)
    return post_new(book, [(source_type, source_id, prepared)])[0]


def post_new(book: Book, sources: Sequence[tuple[str, int, Prepared]]) -> list[Any]:
    """Write the prepared transactions of documents that have none yet (just created), in two
    statements whatever their number."""
    transactions = [(_new_header(book, source_type, source_id, prepared), prepared.entries)
                    for source_type, source_id, prepared in sources]
    accounts = {account_id: account for _, _, prepared in sources for account_id, account in prepared.accounts.items()}
    return book.transaction_store.insert(transactions, accounts=accounts)


def pending_new(book: Book, source_type: str, prepared: Prepared) -> PendingTransaction:
    """The prepared transaction of a document about to be written: it is written with the document
    (`DocumentStore.insert(then=...)`), or after it (`write(document_id)`)."""
    return book.transaction_store.pending(_new_header(book, source_type, None, prepared), prepared.entries,
                                          accounts=prepared.accounts)


def _new_header(book: Book, source_type: str, source_id: int | None, prepared: Prepared) -> dict[str, Any]:
    return {**prepared.header, "source_type": source_type, "source_id": source_id, "status": REALIZED,
            "external_id": None, "transaction_code": book.counters.next("transaction")}


def unpost(book: Book, source_type: str, source_id: int) -> None:
    """A document no longer posts (deleted, or changed to book nothing): its transaction is reversed,
    never deleted (`reverse`)."""
    before = book.transaction_store.find_by_source(source_type, source_id)
    if before is not None:
        reverse(book, before)


def reverse(book: Book, before: Any) -> Any:
    """Cancel a posted transaction the way an accountant does: a reversing transaction, dated as it is
    (its period must be open), in its journal and under its piece number, with every entry on the
    other side. Both stay in the book; closed, locked and reconciled entries cannot be reversed. The
    reversing transaction (a TransactionView)."""
    _check_all_changeable(before)
    if reversal_of(book, before.id) is not None:
        raise broken(Rule.ENTRY_CLOSED, f"the transaction {before.id} is already reversed", "entries")
    postings = reversal(Posting(entry.account_id, entry.way, entry.amount, entry.label, entry.lettering,
                                entry.party_id, entry.tax_rate, entry.tax_base, entry.currency_iso_code,
                                entry.currency_amount, entry.rate) for entry in before.entries)
    prepared = prepare(book, on=before.date, piece_number=before.piece_number, currency=before.currency_iso_code,
                       postings=postings, journal_id=before.journal_id, converted=True)
    if before.source_type is not None:
        book.transaction_store.detach(before, before.source_type + REVERSED_MARK)
    return post_new(book, [(REVERSAL, before.id, prepared)])[0]


def reversal_of(book: Book, transaction_id: int) -> Any | None:
    """The transaction that reverses this one, if any."""
    return book.transaction_store.find_by_source(REVERSAL, transaction_id)


def _check_all_changeable(transaction: Any) -> None:
    checks = Checks()
    for entry in transaction.entries:
        _check_changeable(transaction, entry, checks)
    checks.raise_if_any()


def _header(book: Book, on: date, piece_number: str, currency: str, journal_role: str | None,
            journal_id: int | None) -> dict[str, Any]:
    return {"date": on, "journal_id": journal_id or journal_id_for(book, journal_role),
            "piece_number": piece_number, "currency_iso_code": currency}


def _entries(postings: Sequence[Posting], piece_number: str,
             letterings: Mapping[tuple[int, str, str], str]) -> list[dict[str, Any]]:
    return [entry_values(p, letterings.get(_identity(p.account_id, p.way, p.label, piece_number), p.lettering))
            for p in postings]


def _identity(account_id: int, way: str, label: str, piece_number: str) -> tuple[int, str, str]:
    """What makes an entry the same entry when its document posts again: its account, its way and its
    label (which names what a settlement's entry settles: "Payment IPAY-001 - F-2025-001"), the
    document's own number after the label's first word left out, so that a renumbered document keeps
    its entries."""
    return account_id, way, label[:LABEL_MAX].replace(f" {piece_number}", " ", 1)


def _set_by_hand(before: Any, postings: Sequence[Posting], piece_number: str,
                 lettered_before: Collection[str]) -> dict[tuple[int, str, str], str]:
    """The letterings set by hand on the entries the document posts again, by entry: those that are
    none the document gave, neither its number then (a letter that follows a renumbering), nor one of
    `lettered_before`, nor the letter the entry is posted with now. An entry no longer posted (a
    payment's share of an invoice it no longer settles) takes its lettering with it."""
    generated = {_identity(p.account_id, p.way, p.label, piece_number): p.lettering for p in postings}
    kept = {}
    for entry in before.entries:
        identity = _identity(entry.account_id, entry.way, entry.label, before.piece_number)
        if entry.lettering and identity in generated and \
                entry.lettering not in (generated[identity], before.piece_number, *lettered_before):
            kept[identity] = entry.lettering
    return kept


def entry_values(posting: Posting, lettering: str | None, *, locked: bool = False) -> dict[str, Any]:
    """The columns of a new entry (TransactionStore adds its transaction and date)."""
    return {"label": posting.label[:LABEL_MAX], "amount": posting.amount, "way": posting.way,
            "account_id": posting.account_id, "lettering": lettering, "party_id": posting.party_id,
            "locked": locked, "reconciled": False, "tax_rate": posting.tax_rate, "tax_base": posting.tax_base,
            "currency_iso_code": posting.currency, "currency_amount": posting.currency_amount,
            "rate": posting.rate}


# -- money in another currency (domain/conversion.py, docs/currencies.md) -------------------------

def in_own_currency(book: Book, on: date, currency: str, rate: Decimal | None,
                    postings: Sequence[Posting]) -> list[Posting]:
    """The postings in the organization's currency: as they are when `currency` is its own; else
    converted at `rate` (the book's rate of the day when None), with the exchange and rounding
    differences of the conversion as entries of their own."""
    postings = net(postings)
    own = book.organization.currency_iso_code
    if currency == own or not postings:
        return postings
    if rate is None:
        rate = rates.rate_on(book, currency, on)
    converted = conversion.in_own_currency(postings, currency, rate, currencies.smallest_unit(own))
    differences = [_difference(book, converted.exchange_difference, charts.EXCHANGE_GAIN, charts.EXCHANGE_LOSS,
                               f"Exchange difference {currency}"),
                   _difference(book, converted.rounding_difference, charts.ROUNDING_GAIN, charts.ROUNDING_LOSS,
                               f"Rounding difference {currency}")]
    return net([*converted.postings, *(posting for posting in differences if posting is not None)])


def _difference(book: Book, imbalance: Decimal, gain_role: str, loss_role: str, label: str) -> Posting | None:
    """The entry that balances what the converted postings miss (debits minus credits): a credit to the
    gain account when the debits exceed, a debit to the loss account when the credits do."""
    if not imbalance:
        return None
    if imbalance > 0:
        return Posting(chart.account_id_for(book, gain_role), CREDIT, imbalance, label)
    return Posting(chart.account_id_for(book, loss_role), DEBIT, -imbalance, label)


def _check_period(book: Book, on: date | None, checks: Checks) -> None:
    closed_until = book.organization.closed_until
    if on is not None and closed_until is not None and on <= closed_until:
        checks.broken(Rule.OUTSIDE_OPEN_PERIOD, "date", f"{on} is in a closed period (closed until {closed_until})")


def _check_postings(book: Book, postings: Sequence[Posting], checks: Checks, *,
                    every_account: bool = False) -> dict[int, Any]:
    """Check the postings; the accounts read for it (AccountViews), by id: one statement for those
    not known already (the chart's accounts for a role are known postable), or for all of them when
    the caller shows them (`every_account`)."""
    checks.extend(balance_problems(postings))

    def known_postable(account_id: Any) -> bool:
        return not every_account and _is_id(account_id) and book.recall(("postable account", account_id), False)

    unknown = [p.account_id for p in postings if _is_id(p.account_id) and not known_postable(p.account_id)]
    accounts = book.transaction_store.accounts(unknown) if unknown else {}
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


def _check_changeable(transaction: Any, entry: Any, checks: Checks) -> None:
    if transaction.status == CLOSED:
        checks.broken(Rule.ENTRY_CLOSED, "entries", f"entry {entry.id} is closed")
    elif entry.locked:
        checks.broken(Rule.ENTRY_LOCKED, "entries", f"entry {entry.id} is locked")
    elif entry.reconciled:
        checks.broken(Rule.ENTRY_RECONCILED, "entries", f"entry {entry.id} is reconciled")
