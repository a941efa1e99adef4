"""Bank accounts and bank entries."""

from __future__ import annotations

from typing import Any

from comptoir.services.settlement.banking import BANK_ACCOUNTS, BANK_ENTRIES, accounting_balance

from ..conventions import Filter, Resource, as_date, as_number
from ..fields import Day, Flag, Integer, Number, Text, WireModel
from .common import TIMESTAMPS, id_filter, integer_filter, number, stamps, text_filter


class BankAccountIn(WireModel):
    id: Integer | None = None
    account_number: Text(64) | None = None
    name: Text(128) | None = None
    currency: Text(4) | None = None
    linked_to_provider: Flag | None = None
    bank_balance: Number | None = None
    accounting_bank_balance: Number | None = None
    bank_balance_date: Day | None = None


def render_bank_account(bank_account: Any, book: Any) -> dict:
    return {
        "id": bank_account.id,
        "account_number": bank_account.account_number,
        "name": bank_account.name,
        "currency": bank_account.currency_iso_code,
        "linked_to_provider": bank_account.linked_to_provider,
        "bank_balance": number(bank_account.bank_balance),
        "accounting_bank_balance": number(accounting_balance(book, bank_account)),
        "bank_balance_date": bank_account.bank_balance_date.isoformat() if bank_account.bank_balance_date else None,
        "account_id": bank_account.ledger_account_id,
    }


BANK_ACCOUNTS_RESOURCE = Resource(
    path="bank_accounts", service=BANK_ACCOUNTS, render=render_bank_account, schema=BankAccountIn,
    read_only=frozenset({"id", "accounting_bank_balance", "account_id"}),
    rename={"currency": "currency_iso_code"},
    filters={**id_filter(), "name": text_filter("name"), "currency": text_filter("currency_iso_code")},
    sorts={"id": "id", "name": "name"},
)


class BankEntryIn(WireModel):
    id: Integer | None = None
    external_id: Text(255) | None = None
    bank_account_id: Integer | None = None
    posted_date: Day | None = None
    transaction_date: Day | None = None
    amount: Number | None = None
    currency_iso_code: Text(4) | None = None
    description: Text(255) | None = None
    payment_method_id: Integer | None = None


def render_bank_entry(entry: Any, _book: Any = None) -> dict:
    return {
        "id": entry.id,
        "external_id": entry.external_id,
        "bank_account_id": entry.bank_account_id,
        "posted_date": entry.posted_date.isoformat(),
        "transaction_date": entry.transaction_date.isoformat(),
        "amount": number(entry.amount),
        "currency_iso_code": entry.currency_iso_code,
        "description": entry.description,
        "payment_method_id": entry.payment_method_id,
        **stamps(entry),
    }


BANK_ENTRIES_RESOURCE = Resource(
    path="bank_entries", service=BANK_ENTRIES, render=render_bank_entry, schema=BankEntryIn, updatable=False,
    read_only=frozenset({"id", *TIMESTAMPS}),
    filters={**id_filter(), "bank_account_id": integer_filter("bank_account_id"),
             "posted_date": Filter("posted_date", as_date), "transaction_date": Filter("transaction_date", as_date),
             "amount": Filter("amount", as_number), "external_id": text_filter("external_id")},
    sorts={"id": "id", "posted_date": "posted_date", "transaction_date": "transaction_date", "amount": "amount"},
)
