"""Bank accounts (each with its own ledger account) and bank entries (statement lines)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from comptoir.domain import charts
from comptoir.domain.errors import ErrorKind, Rule, broken, fail
from comptoir.domain.ledger import CREDIT, DEBIT, Posting
from comptoir.domain.money import round_minor
from comptoir.services.kernel.records import ReadOnlyRecords
from comptoir.services.kernel.references import ensure_unreferenced
from comptoir.services.kernel.validation import Checks, apply
from comptoir.services.ledger import chart, closing, posting
from comptoir.services.masterdata import reference
from comptoir.storage.book import Book
from comptoir.storage.tables import Account, BankAccount, BankEntry

BANK_ENTRY = "bank_entry"
BANK_ACCOUNT_FIELDS = ("account_number", "name", "currency_iso_code", "linked_to_provider", "bank_balance",
                       "bank_balance_date")


@dataclass(frozen=True)
class BankAccounts(ReadOnlyRecords):
    def create(self, book: Book, fields: Mapping[str, Any]) -> BankAccount:
        bank_account = BankAccount(currency_iso_code=book.organization.currency_iso_code, linked_to_provider=False,
                                   account_number="")
        self._write(book, bank_account, fields)
        bank_account.ledger_account_id = self._open_ledger_account(book, fields["name"]).id
        return book.bank_accounts.add(bank_account)

    def update(self, book: Book, bank_account_id: int, fields: Mapping[str, Any]) -> BankAccount:
        bank_account = self.get(book, bank_account_id)
        if fields.get("currency_iso_code") not in (None, bank_account.currency_iso_code) and \
                book.bank_entries.exists(bank_account_id=bank_account.id):
            raise fail(ErrorKind.INVALID, "currency_iso_code", "the currency of an account with entries cannot change")
        self._write(book, bank_account, fields)
        book.flush()
        return bank_account

    def delete(self, book: Book, bank_account_id: int) -> None:
        bank_account = self.get(book, bank_account_id)
        ensure_unreferenced(book, BankAccount, bank_account.id, "bank account")
        ledger_account = book.accounts.get(bank_account.ledger_account_id)
        book.bank_accounts.remove(bank_account)
        ensure_unreferenced(book, Account, ledger_account.id, "bank account")  # its entries, once it is gone
        book.accounts.remove(ledger_account)

    def _write(self, book: Book, bank_account: BankAccount, fields: Mapping[str, Any]) -> None:
        checks = Checks()
        currency = fields.get("currency_iso_code")
        if currency is not None and not reference.is_currency_of(book, currency):
            checks.add(ErrorKind.INVALID, "currency_iso_code", f"{currency} is not one of the organization's currencies")
        apply(bank_account, fields, BANK_ACCOUNT_FIELDS)
        checks.required(bank_account.name, "name")
        checks.raise_if_any()

    def _open_ledger_account(self, book: Book, name: str) -> Account:
        family = chart.account_for(book, charts.BANK_FAMILY)
        siblings = book.accounts.count(Account.family_id == family.id)
        number = f"{family.number}{siblings + 1:03d}"
        while book.accounts.exists(number=number):
            siblings += 1
            number = f"{family.number}{siblings + 1:03d}"
        return book.accounts.add(Account(number=number, name=name[:128], nature=family.nature, family_id=family.id,
                                         is_family=False))


def accounting_balance(book: Book, bank_account: BankAccount):
    return closing.account_balance(book, bank_account.ledger_account_id)


@dataclass(frozen=True)
class BankEntries(ReadOnlyRecords):
    def create(self, book: Book, fields: Mapping[str, Any]) -> BankEntry:
        checks = Checks()
        for name in ("bank_account_id", "posted_date", "transaction_date", "amount", "description"):
            checks.required(fields.get(name), name)
        checks.raise_if_any()
        bank_account = book.bank_accounts.get(fields["bank_account_id"])
        if bank_account is None:
            raise fail(ErrorKind.INVALID, "bank_account_id", f"no bank account with id {fields['bank_account_id']}")
        amount = round_minor(fields["amount"], reference.smallest_unit(book, bank_account.currency_iso_code))
        if amount == 0:
            raise broken(Rule.ZERO_BANK_ENTRY, "bank entries with a zero amount are not recorded", "amount")
        currency = fields.get("currency_iso_code")
        if currency not in (None, bank_account.currency_iso_code):
            checks.add(ErrorKind.INVALID, "currency_iso_code", f"the bank account is in {bank_account.currency_iso_code}")
        checks.reference(fields, "payment_method_id", book.payment_methods)
        checks.raise_if_any()
        entry = BankEntry(external_id=fields.get("external_id"), bank_account_id=bank_account.id,
                          posted_date=fields["posted_date"], transaction_date=fields["transaction_date"], amount=amount,
                          currency_iso_code=bank_account.currency_iso_code, description=fields["description"],
                          payment_method_id=fields.get("payment_method_id") or book.payment_methods.all()[0].id)
        book.bank_entries.add(entry)
        self._post(book, entry, bank_account)
        return entry

    def delete(self, book: Book, entry_id: int) -> None:
        entry = self.get(book, entry_id)
        posting.unpost(book, BANK_ENTRY, entry.id)
        book.bank_entries.remove(entry)

    def reconcile(self, book: Book, entry_id: int) -> BankEntry:
        """Mark the bank side of the entry's transaction as reconciled with the statement (our
        extension): from then on it can be neither changed nor deleted."""
        entry = self.get(book, entry_id)
        transaction = book.transactions.find(source_type=BANK_ENTRY, source_id=entry.id)
        bank_ledger_id = book.bank_accounts.get(entry.bank_account_id).ledger_account_id
        for ledger_entry in transaction.entries:
            if ledger_entry.account_id == bank_ledger_id:
                ledger_entry.reconciled = True
        book.flush()
        return entry

    def _post(self, book: Book, entry: BankEntry, bank_account: BankAccount) -> None:
        """Money in: debit the bank, credit the suspense account until it is matched; money out the other way."""
        bank_side, other_side = (DEBIT, CREDIT) if entry.amount > 0 else (CREDIT, DEBIT)
        amount = abs(entry.amount)
        suspense = chart.account_for(book, charts.SUSPENSE).id
        posting.post(book, source_type=BANK_ENTRY, source_id=entry.id, journal_role="bank", on=entry.transaction_date,
                     piece_number=entry.external_id or f"BANK-{entry.id}", currency=entry.currency_iso_code,
                     postings=[Posting(bank_account.ledger_account_id, bank_side, amount, entry.description),
                              Posting(suspense, other_side, amount, entry.description)])


def is_reconciled(book: Book, entry: BankEntry) -> bool:
    transaction = book.transactions.find(source_type=BANK_ENTRY, source_id=entry.id)
    return bool(transaction and any(e.reconciled for e in transaction.entries))


BANK_ACCOUNTS = BankAccounts("bank_accounts")
BANK_ENTRIES = BankEntries("bank_entries")
