"""Accounts, journals and accounting transactions."""

from __future__ import annotations

from typing import Any

from comptoir.services.ledger.chart import ACCOUNTS, JOURNALS
from comptoir.services.ledger.transactions import TRANSACTIONS

from ..conventions import Filter, Resource, as_date, as_text, core_fields
from ..fields import Day, Flag, Integer, Number, Ref, Text, TextChoice, WireModel
from .common import TIMESTAMPS, id_filter, integer_filter, number, stamps, text_filter


class AccountIn(WireModel):
    id: Integer | None = None
    number: Text(64) | None = None
    name: Text(128) | None = None
    is_family: Flag | None = None
    family_id: Integer | None = None


def render_account(account: Any, _book: Any = None) -> dict:
    return {"id": account.id, "number": account.number, "name": account.name, "is_family": account.is_family,
            "family_id": account.family_id}


ACCOUNTS_RESOURCE = Resource(
    path="accounts", service=ACCOUNTS, render=render_account, schema=AccountIn,
    read_only=frozenset({"id", "is_family"}),
    filters={**id_filter(), "number": text_filter("number"), "name": text_filter("name"),
             "family_id": integer_filter("family_id")},
    sorts={"id": "id", "number": "number", "name": "name"},
)


class JournalIn(WireModel):
    id: Integer | None = None
    name: Text(64) | None = None
    code: Text(64) | None = None


def render_journal(journal: Any, _book: Any = None) -> dict:
    return {"id": journal.id, "name": journal.name, "code": journal.code}


JOURNALS_RESOURCE = Resource(
    path="journals", service=JOURNALS, render=render_journal, schema=JournalIn,
    filters={**id_filter(), "name": text_filter("name"), "code": text_filter("code")},
    sorts={"id": "id", "name": "name", "code": "code"},
)


class EntryIn(WireModel):
    id: Integer | None = None
    label: Text(128) | None = None
    amount: Number | None = None
    way: TextChoice("debit", "credit") | None = None
    account_id: Integer | None = None
    account_label: str | None = None
    lettering: Text(64) | None = None
    locked: Flag | None = None


def entry_fields(entry: EntryIn) -> dict:
    fields = core_fields(entry, skip=frozenset({"id", "account_label"}))
    if entry.id is not None:
        fields["id"] = entry.id
    return fields


class TransactionIn(WireModel):
    id: Integer | None = None
    external_id: Text(255) | None = None
    transaction_code: Integer | None = None
    status: str | None = None
    date: Day | None = None
    journal_id: Integer | None = None
    journal: Ref | None = None
    piece_number: Text(64) | None = None
    currency_iso_code: Text(4) | None = None
    entries: list[EntryIn] | None = None
    created_at: str | None = None
    updated_at: str | None = None


def account_label(account: Any) -> str:
    return f"{account.number}  ( {account.name} )"


def render_entry(entry: Any) -> dict:
    """An entry; `tax_rate` and `tax_base` (our extension, read-only): a tax entry's rate and the
    taxable amount it was computed on, null on other entries (docs/decisions/0023-tax-returns.md).
    `amount` is in the company's currency (what balances); `currency_iso_code`, `currency_amount` and
    `exchange_rate` (our extension, read-only) say the money in another currency it converts, null on
    an entry in the company's currency (docs/currencies.md)."""
    return {"id": entry.id, "label": entry.label, "amount": number(entry.amount), "way": entry.way,
            "account_id": entry.account_id, "account_label": account_label(entry.account),
            "lettering": entry.lettering, "locked": entry.locked, "tax_rate": number(entry.tax_rate),
            "tax_base": number(entry.tax_base), "currency_iso_code": entry.currency_iso_code,
            "currency_amount": number(entry.currency_amount), "exchange_rate": number(entry.rate)}


def render_transaction(transaction: Any, _book: Any = None) -> dict:
    journal = transaction.journal
    return {
        "id": transaction.id,
        "external_id": transaction.external_id,
        "transaction_code": transaction.transaction_code,
        "status": transaction.status,
        "date": transaction.date.isoformat(),
        "journal_id": journal.id,
        "journal": {"id": journal.id, "name": journal.name, "code": journal.code},
        "piece_number": transaction.piece_number,
        "currency_iso_code": transaction.currency_iso_code,
        "entries": [render_entry(entry) for entry in transaction.entries],
        **stamps(transaction),
    }


TRANSACTIONS_RESOURCE = Resource(
    path="transactions", service=TRANSACTIONS, render=render_transaction, schema=TransactionIn,
    read_only=frozenset({"id", "transaction_code", "status", "entries[].account_label", "entries[].tax_rate",
                         "entries[].tax_base", *TIMESTAMPS}),
    refs={"journal": "journal_id"},
    nested={"entries": lambda entries: [entry_fields(entry) for entry in entries or []]},
    filters={**id_filter(), "date": Filter("date", as_date), "journal_id": integer_filter("journal_id"),
             "status": Filter("status", as_text), "piece_number": text_filter("piece_number"),
             "external_id": text_filter("external_id"), "transaction_code": integer_filter("transaction_code"),
             "created_at": Filter("created_at", as_date)},
    sorts={"id": "id", "date": "date", "transaction_code": "transaction_code", "piece_number": "piece_number",
           "created_at": "created_at"},
)
