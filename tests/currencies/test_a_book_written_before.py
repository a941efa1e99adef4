"""Issue 18 §5: a book written before migration 0019 keeps every figure: its entries, trial balance,
maintained balances, invoices' open amounts and its customers' balances are what they were. Its
entries in the organization's currency keep the columns 0019 adds null; a EUR invoice it booked
unconverted (1 EUR as 1 USD, the bug 0019 ends) and its payment say so: their entries carry EUR, their
amount in it and rate 1, and the documents rate 1, so that the customer still owes euros.

The book is written through the app, then taken down to revision 0018: what 0019 added is dropped,
and the EUR invoice, booked at a rate of 1 and its rate deleted, holds exactly the rows that 0018's
code wrote for it. Then up to the newest revision, and read again (as tests/test_balances.py does
for revision 0008)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, text

from comptoir.app import create_app
from comptoir.services.tenancy.organizations import NewOrganization, create_organization
from comptoir.storage.database import alembic_config, make_engine
from comptoir.storage.tables import Base
from tests.conftest import empty_database, make_context
from tests.helpers import OneUpClient, set_rates
from tests.oneup.sales_support import customer, item, tax_id
from tests.upflow.conftest import UpflowClient

D = Decimal
ADDED_BY_0019 = {"entries": ("currency_iso_code", "currency_amount", "rate"), "documents": ("exchange_rate",),
                 "payments": ("exchange_rate",), "refunds": ("exchange_rate",)}
# The rows whose figures must not move, with the columns they had at 0018 (None: every column; the
# audit trail and the timestamps aside).
KEPT = {"transactions": ("id", "date", "journal_id", "piece_number", "currency_iso_code", "source_type", "source_id"),
        "entries": ("id", "transaction_id", "account_id", "way", "amount", "lettering", "party_id", "label", "date"),
        "account_balances": None,
        "documents": ("id", "kind", "user_code", "currency_iso_code", "subtotal", "tax_amount", "total",
                      "customer_id"),
        "payments": ("id", "user_code", "amount", "currency_iso_code", "party_id"),
        "refunds": ("id", "user_code", "amount", "currency_iso_code", "party_id"),
        "payment_allocations": None}


@pytest.fixture
def database_url_of_the_test(tmp_path) -> Iterator[str]:
    yield from empty_database(tmp_path)


def _write_the_book(url: str, data_dir) -> tuple[NewOrganization, dict]:
    """At the newest revision: a USD invoice (121.00) paid 40.00 through OneUp, 15.00 USD received
    through Upflow and refunded, and a EUR invoice (121.00) for a customer who pays in euros, paid
    50.00 EUR through Upflow, booked at a rate of 1 (as 0018 booked it). The organization and what its
    dialects showed."""
    context = make_context(url, data_dir)
    context.database.migrate()
    org = create_organization(context.database, "Written Before")
    set_rates(context, org.id, {"EUR": "1"}, since="2024-01-01")
    try:
        with TestClient(create_app(context=context)) as client:
            oneup, upflow = OneUpClient(client, org), UpflowClient(client, org)
            dollars = _invoice(oneup, customer(oneup, "Dollar Buyer"), "2024-03-01")
            oneup.ok("POST", "/payments", {"invoice_id": dollars["id"], "amount": 40, "date": "2024-03-10"})
            _given_back(upflow)
            euros = _invoice(oneup, customer(oneup, "Euro Buyer", currency_iso_code="EUR"), "2024-03-05")
            assert euros["currency_iso_code"] == "EUR"
            [seen] = [row for row in upflow.ok("GET", "/invoices")["invoices"] if row["customId"] == euros["user_code"]]
            upflow.ok("POST", "/payments", {"externalId": "P-EUR", "currency": "EUR", "amount": 5000,
                                            "validatedAt": "2024-03-15", "customer": {"id": seen["customer"]["id"]},
                                            "linkedInvoices": [{"id": seen["id"], "amountLinked": 5000}]})
            return org, _shown(oneup, upflow)
    finally:
        context.database.dispose()


def _given_back(upflow: UpflowClient) -> None:
    """15.00 USD received from the customer, applied to nothing, and refunded."""
    [buyer] = [c for c in upflow.ok("GET", "/customers")["customers"] if c["name"] == "Dollar Buyer"]
    upflow.ok("POST", "/payments", {"externalId": "P-USD", "currency": "USD", "amount": 1500,
                                    "validatedAt": "2024-03-20", "customer": {"id": buyer["id"]}})
    upflow.ok("POST", "/refunds", {"externalId": "R-USD", "currency": "USD", "amount": 1500,
                                   "validatedAt": "2024-03-25", "customer": {"id": buyer["id"]},
                                   "linkedPayments": [{"externalId": "P-USD", "amountLinked": 1500}]})


def _invoice(oneup: OneUpClient, buyer: dict, on: str) -> dict:
    work = item(oneup, f"Work for {buyer['full_name']}", "110")
    return oneup.ok("POST", "/invoices", {"customer_id": buyer["id"], "date": on,
                                          "tax_id": tax_id(oneup, "10% Federal Tax"),
                                          "order_lines": [{"item_id": work["id"], "quantity": 1}]})


def _shown(oneup: OneUpClient, upflow: UpflowClient) -> dict:
    """What the dialects show of the book that comes from its documents and its dollar customer: the
    figures a book of one currency has."""
    return {"invoices": sorted((i["user_code"], i["currency_iso_code"], i["total"], i["paid"], i["unpaid"])
                               for i in oneup.ok("GET", "/invoices")),
            "upflow": sorted((i["customId"], i["currency"], i["grossAmount"], i["amountOutstanding"], i["state"])
                             for i in upflow.ok("GET", "/invoices")["invoices"]),
            "dollar_balance": [c["balance"] for c in upflow.ok("GET", "/customers")["customers"]
                               if c["name"] == "Dollar Buyer"]}


def _to_0018(connection, url: str, org_id: int) -> None:
    """Down to 0018; the EUR rate deleted: a book of 0018 converted nothing and needed none."""
    config = alembic_config(url)
    config.attributes["connection"] = connection
    command.downgrade(config, "0018")
    connection.execute(text("DELETE FROM exchange_rates WHERE org_id = :org"), {"org": org_id})


def _rows(connection, org_id: int) -> dict[str, list[tuple]]:
    """The KEPT columns of the organization's rows, typed (amounts as Decimal on both databases)."""
    found = {}
    for name, columns in KEPT.items():
        table = Base.metadata.tables[name]
        selected = list(table.c) if columns is None else [table.c[column] for column in columns]
        found[name] = [tuple(row) for row in connection.execute(
            select(*selected).where(table.c.org_id == org_id).order_by(*table.primary_key))]
    return found


def _by_account(connection, org_id: int) -> dict[str, tuple[Decimal, Decimal]]:
    """Debits and credits of each account, added from the entries themselves."""
    entries, accounts = Base.metadata.tables["entries"], Base.metadata.tables["accounts"]
    rows = connection.execute(select(accounts.c.number, entries.c.way, entries.c.amount)
                              .join_from(entries, accounts, accounts.c.id == entries.c.account_id)
                              .where(entries.c.org_id == org_id))
    found: dict[str, list[Decimal]] = {}
    for number, way, amount in rows:
        pair = found.setdefault(number, [D(0), D(0)])
        pair[way != "debit"] += amount
    return {number: (debit, credit) for number, (debit, credit) in found.items()}


def test_a_book_written_before_0019_keeps_every_figure(database_url_of_the_test, tmp_path):
    url = database_url_of_the_test
    org, shown = _write_the_book(url, tmp_path / "data")
    engine = make_engine(url)  # with the functions the audit trail's triggers call on SQLite
    try:
        with engine.begin() as connection:
            _to_0018(connection, url, org.id)
            assert "currency_amount" not in {column["name"] for column in inspect(connection).get_columns("entries")}
            before, sums = _rows(connection, org.id), _by_account(connection, org.id)
        assert sums["11100"] == (D(121) + D(121) + D(15), D(40) + D(50) + D(15))  # euros in dollars, unconverted
    finally:
        engine.dispose()

    context = make_context(url, tmp_path / "data")
    context.database.migrate()
    try:
        with context.database.engine.begin() as connection:
            assert _rows(connection, org.id) == before
            assert _by_account(connection, org.id) == sums
            for table, columns in ADDED_BY_0019.items():
                rows = Base.metadata.tables[table]
                values = connection.execute(select(rows.c.currency_iso_code, *(rows.c[name] for name in columns))
                                            .where(rows.c.org_id == org.id)).all() \
                    if table != "entries" else _entries_as_0019_left_them(connection, org.id)
                assert values and all(value is None for row in values if row[0] == "USD" for value in row[1:]), \
                    (table, values)
                assert all(row[-1] == 1 for row in values if row[0] == "EUR"), (table, values)  # booked at 1
            assert {row[0] for row in _entries_as_0019_left_them(connection, org.id)} == {"USD", "EUR"}
        with TestClient(create_app(context=context)) as client:
            _read_at_the_newest_revision(OneUpClient(client, org), UpflowClient(client, org), shown, sums)
    finally:
        context.database.dispose()


def _entries_as_0019_left_them(connection, org_id: int) -> list[tuple]:
    """(transaction currency, entry currency, currency amount, rate) of each entry, the currency amount
    checked equal to the amount where 0019 set one."""
    entries, transactions = Base.metadata.tables["entries"], Base.metadata.tables["transactions"]
    rows = connection.execute(select(transactions.c.currency_iso_code, entries.c.currency_iso_code,
                                     entries.c.currency_amount, entries.c.rate, entries.c.amount)
                              .join_from(entries, transactions, transactions.c.id == entries.c.transaction_id)
                              .where(entries.c.org_id == org_id)).all()
    for transaction_currency, currency, currency_amount, _, amount in rows:
        assert currency == (None if transaction_currency == "USD" else transaction_currency)
        assert currency is None or D(currency_amount) == D(amount)
    return [(transaction_currency, currency, currency_amount, rate)
            for transaction_currency, currency, currency_amount, rate, _ in rows]


def _read_at_the_newest_revision(oneup: OneUpClient, upflow: UpflowClient, shown: dict,
                                 sums: dict[str, tuple[Decimal, Decimal]]) -> None:
    """Through the dialects: the same invoices' figures and dollar balance, the euro customer still
    owing its euros; the trial balance of the entries' own sums, balanced; the aged receivables of
    each customer in its currency."""
    assert _shown(oneup, upflow) == shown
    trial = oneup.ok("GET", "/reports/trial_balance?date=2024-12-31")
    assert {line["number"]: (line["debit"], line["credit"]) for line in trial["accounts"]} == sums
    assert trial["total_debit"] == trial["total_credit"] and trial["total_balance"] == 0
    # Its euros, said booked at 1, are beside the receivable (the book is marked as holding them: 0021).
    [receivable] = [line for line in trial["accounts"] if line["number"] == "11100"]
    assert [figures["currency"] for figures in receivable["foreign"]] == ["EUR"]
    assert [c["balance"] for c in upflow.ok("GET", "/customers")["customers"] if c["name"] == "Euro Buyer"] == [7100]
    aged = oneup.ok("GET", "/reports/aged_receivables?date=2024-12-31")
    assert [(row["name"], row["currency_iso_code"], row["unapplied"], row["total"]) for row in aged["customers"]] == [
        ("Dollar Buyer", "USD", 0, D(81)), ("Euro Buyer", "EUR", 0, D(71))]
    euros_at_one = aged["totals_by_currency"]["EUR"]["total"]  # booked at a rate of 1
    assert aged["totals"]["total"] + euros_at_one == sums["11100"][0] - sums["11100"][1]
