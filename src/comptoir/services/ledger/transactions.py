"""Transactions through the API (OneUp's /transactions): manual ones written by hand, generated
ones edited only where the seed allows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Mapping, Sequence

from comptoir.domain.errors import ErrorKind, Rule, broken, fail
from comptoir.domain.ledger import DEBIT, Posting
from comptoir.domain.lists import replace_list
from comptoir.domain.money import round_minor
from comptoir.services.kernel.records import ReadOnlyRecords
from comptoir.services.kernel.validation import Checks, apply
from comptoir.services.ledger.chart import journal_id_for
from comptoir.services.ledger.posting import (
    CLOSED,
    REALIZED,
    _check_changeable,
    _check_period,
    _check_postings,
    _is_id,
    entry_values,
    reversal_of,
    reverse,
)
from comptoir.services.masterdata import reference
from comptoir.storage.book import Book
from comptoir.storage.tables import Entry, Transaction
from comptoir.storage.tables.base import utcnow

MANUAL_JOURNAL_ROLE = "miscellaneous"
ENTRY_FIELDS = ("label", "amount", "way", "account_id", "lettering", "locked")
GENERATED_EDITABLE = ("lettering", "locked")


@dataclass(frozen=True)
class Transactions(ReadOnlyRecords):
    """Transactions as OneUp shows them: manual ones fully editable (within the rules), generated
    ones only in their external id, letterings and locks."""

    def create(self, book: Book, fields: Mapping[str, Any]) -> Any:
        """A manual transaction, written with SQLAlchemy Core (storage/transactions.py): the hot path of
        a ledger fed by an integration. The transaction as written (a TransactionView)."""
        checks = Checks()
        main = book.organization.currency_iso_code
        currency = fields.get("currency_iso_code") or main
        if currency != main:
            checks.add(ErrorKind.INVALID, "currency_iso_code", f"new transactions are in {main} only")
        checks.required(fields.get("piece_number"), "piece_number")
        journal_id = fields.get("journal_id") or journal_id_for(book, MANUAL_JOURNAL_ROLE)
        journal = book.transaction_store.journal(journal_id) if _is_id(journal_id) else None
        if journal is None:
            checks.add(ErrorKind.INVALID, "journal", f"no {book.journals.label} with id {journal_id}")
        on = fields.get("date") or date.today()
        _check_period(book, on, checks)
        sent_entries = fields.get("entries") or []
        exponent = reference.own_unit(book)  # entries are in the organization's currency, and round to it
        postings = [_posting(sent, exponent) for sent in sent_entries]
        accounts = _check_postings(book, postings, checks, every_account=True)
        checks.raise_if_any()
        header = {"external_id": fields.get("external_id"), "status": REALIZED, "date": on, "journal_id": journal_id,
                  "piece_number": fields["piece_number"], "currency_iso_code": currency, "source_type": None,
                  "source_id": None, "transaction_code": book.counters.next("transaction")}
        entries = [entry_values(posting, posting.lettering, locked=bool(sent.get("locked")))
                   for posting, sent in zip(postings, sent_entries)]
        [transaction] = book.transaction_store.insert([(header, entries)], journal=journal, accounts=accounts)
        return transaction

    def update(self, book: Book, transaction_id: int, fields: Mapping[str, Any]) -> Transaction:
        transaction = book.transactions.lock(transaction_id) or self.get(book, transaction_id)
        header_changes = [name for name in ("external_id", "date", "journal_id", "piece_number")
                          if name in fields and fields[name] != getattr(transaction, name)]
        if transaction.status == CLOSED and header_changes:
            raise broken(Rule.ENTRY_CLOSED, "the transaction is in a closed period and cannot be edited")
        if transaction.source_type is not None:
            self._update_generated(transaction, fields, reference.own_unit(book))
        else:
            if reversal_of(book, transaction.id) is not None:  # what was cancelled stays as it was
                raise broken(Rule.ENTRY_CLOSED, f"the transaction {transaction.id} is reversed and cannot be edited")
            self._update_manual(book, transaction, fields, moves="date" in header_changes)
        if _changed(book, transaction):  # entry-only changes count as changes of the transaction
            transaction.updated_at = utcnow()
        book.flush()
        return transaction

    def delete(self, book: Book, transaction_id: int) -> None:
        """A manual transaction is cancelled by its reversal, never removed (posting.reverse): both stay
        in the book, and the trail shows who did it."""
        transaction = self.get(book, transaction_id)
        if transaction.source_type is not None:
            raise fail(ErrorKind.CONFLICT, None, f"this transaction was generated by a {transaction.source_type}; "
                                                 "delete or change the document instead")
        reverse(book, transaction)

    def _update_generated(self, transaction: Transaction, fields: Mapping[str, Any], exponent: Decimal) -> None:
        checks = Checks()
        for name in ("date", "journal_id", "piece_number", "currency_iso_code"):
            if name in fields and fields[name] != getattr(transaction, name):
                checks.add(ErrorKind.READ_ONLY, name, "cannot change on a transaction generated by a document")
        current = {entry.id: entry for entry in transaction.entries}
        if "entries" in fields:
            sent_ids = [sent.get("id") for sent in fields["entries"]]
            if sorted(i for i in sent_ids if i is not None) != sorted(current) or None in sent_ids:
                checks.add(ErrorKind.READ_ONLY, "entries", "entries cannot be added to or removed from a "
                                                           "transaction generated by a document")
            for sent in fields["entries"]:
                entry = current.get(sent.get("id"))
                if entry is None:
                    continue
                for name in ("amount", "way", "account_id"):
                    if name in sent and _differs(getattr(entry, name), sent[name], exponent):
                        checks.add(ErrorKind.READ_ONLY, f"entries[{entry.id}].{name}",
                                   "cannot change on a transaction generated by a document")
        checks.raise_if_any()
        self._apply_entry_changes(transaction, current, fields.get("entries") or [], GENERATED_EDITABLE, exponent)
        if "external_id" in fields:
            transaction.external_id = fields["external_id"]

    def _update_manual(self, book: Book, transaction: Transaction, fields: Mapping[str, Any], *,
                       moves: bool) -> None:
        checks, exponent = Checks(), reference.own_unit(book)
        on = fields.get("date") or transaction.date
        if moves:  # a new date moves every entry, sent or not
            for entry in transaction.entries:
                _check_changeable(transaction, entry, checks)
        checks.reference(fields, "journal_id", book.journals, "journal")
        if "piece_number" in fields:
            checks.required(fields["piece_number"], "piece_number")
        if fields.get("currency_iso_code") not in (None, transaction.currency_iso_code):
            checks.add(ErrorKind.INVALID, "currency_iso_code", "the currency of a transaction cannot change")
        current = {entry.id: entry for entry in transaction.entries}
        if "entries" in fields:
            changes = replace_list("entries", list(current), fields["entries"])
            checks.extend(changes.problems)
            for entry_id in changes.deleted_ids:
                _check_changeable(transaction, current[entry_id], checks)
            for entry_id, sent in changes.updated:
                if _entry_changes(current[entry_id], sent, exponent):
                    _check_changeable(transaction, current[entry_id], checks)
                self._check_unlock(current[entry_id], sent, checks)
            resulting = [_posting({**_entry_fields(current[i]), **sent}, exponent) for i, sent in changes.updated]
            resulting += [_posting(sent, exponent) for sent in changes.created]
            _check_postings(book, resulting, checks)
        _check_period(book, on, checks)  # after the entries: a closed entry is reported as closed (3003) first
        checks.raise_if_any()
        apply(transaction, fields, ("external_id", "journal_id", "piece_number"))
        transaction.date = on
        if "entries" in fields:
            for entry_id in changes.deleted_ids:
                transaction.entries.remove(current[entry_id])
            for entry_id, sent in changes.updated:
                self._apply_entry(current[entry_id], sent, ENTRY_FIELDS, exponent)
            for sent in changes.created:
                transaction.entries.append(self._new_entry(transaction, sent, exponent))
        for entry in transaction.entries:
            entry.date = on

    def _apply_entry_changes(self, transaction: Transaction, current: Mapping[int, Entry],
                             sent_entries: Sequence[Mapping[str, Any]], names: tuple[str, ...],
                             exponent: Decimal) -> None:
        checks = Checks()
        for sent in sent_entries:
            entry = current.get(sent.get("id"))
            if entry is None:
                continue
            if any(name in sent and _differs(getattr(entry, name), sent[name], exponent) for name in names):
                _check_changeable(transaction, entry, checks)
            self._check_unlock(entry, sent, checks)
        checks.raise_if_any()
        for sent in sent_entries:
            entry = current.get(sent.get("id"))
            if entry is not None:
                self._apply_entry(entry, sent, names, exponent)

    def _check_unlock(self, entry: Entry, sent: Mapping[str, Any], checks: Checks) -> None:
        if entry.locked and sent.get("locked") is False:
            checks.add(ErrorKind.READ_ONLY, f"entries[{entry.id}].locked", "a locked entry cannot be unlocked")

    def _apply_entry(self, entry: Entry, sent: Mapping[str, Any], names: tuple[str, ...], exponent: Decimal) -> None:
        for name in names:
            if name in sent:
                value = sent[name]
                if value == "" and getattr(entry, name) is None:
                    continue  # empty already (as `validation.apply`)
                setattr(entry, name, round_minor(value, exponent) if name == "amount" else value)

    def _new_entry(self, transaction: Transaction, sent: Mapping[str, Any], exponent: Decimal) -> Entry:
        """A new entry of a manual transaction being edited (through the ORM: not a hot path)."""
        values = entry_values(_posting(sent, exponent), sent.get("lettering"), locked=bool(sent.get("locked")))
        return Entry(org_id=transaction.org_id, date=transaction.date, **values)


def _changed(book: Book, transaction: Transaction) -> bool:
    """Whether the transaction or its entries hold a change not written yet (a value set to what it was
    is none: the same body sent back changes nothing)."""
    session = book.session
    return bool(session.new or session.deleted) or any(
        session.is_modified(row) for row in (transaction, *transaction.entries))


def _posting(sent: Mapping[str, Any], exponent: Decimal) -> Posting:
    """An entry sent, its amount rounded half-up to `exponent`, the organization's currency's minor unit."""
    amount = sent.get("amount")
    return Posting(account_id=sent.get("account_id"), way=sent.get("way") or DEBIT,
                   amount=round_minor(amount, exponent) if amount is not None else Decimal(0),
                   label=sent.get("label") or "", lettering=sent.get("lettering"))


def _entry_fields(entry: Entry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in ENTRY_FIELDS}


def _entry_changes(entry: Entry, sent: Mapping[str, Any], exponent: Decimal) -> bool:
    return any(name in sent and _differs(getattr(entry, name), sent[name], exponent) for name in ENTRY_FIELDS)


def _differs(current: Any, sent: Any, exponent: Decimal) -> bool:
    if isinstance(current, Decimal) and sent is not None:
        return Decimal(current) != round_minor(Decimal(sent), exponent)
    return current != sent


TRANSACTIONS = Transactions("transactions")
