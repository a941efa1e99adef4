"""Maintained balances (storage/balances.py, account_balances): after any mix of writes, each day and
month total is exactly the sum of its entries, on SQLite and on PostgreSQL; through the APIs, through
savepoints rolled back or released, after failed requests, under concurrent writers (PostgreSQL), and
after the migration that creates the table from the entries already written."""

from __future__ import annotations

import os
import random
import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from alembic import command
from sqlalchemy import func, select

from comptoir.services.kernel.unit_of_work import open_book
from comptoir.services.ledger.transactions import TRANSACTIONS
from comptoir.services.tenancy.organizations import create_organization
from comptoir.storage import balances
from comptoir.storage.link import balance_totals
from comptoir.storage.database import Database, alembic_config
from comptoir.storage.tables import Account, AccountBalance, Entry, Transaction

from .balance_support import assert_balances_match
from .conftest import _postgres_database
from .helpers import OneUpClient, book_snapshot
from .upflow.conftest import UpflowClient

D = Decimal


def check(context, org_id: int) -> None:
    with context.database.transaction() as session:
        assert_balances_match(session, org_id)


def chart(oneup: OneUpClient) -> dict[str, int]:
    return {account["number"]: account["id"] for account in oneup.ok("GET", "/accounts?limit=1000")}


def line(account_id: int, way: str, amount) -> dict:
    return {"account_id": account_id, "way": way, "amount": D(str(amount)), "label": "test"}


# -- which rows add up to a range --------------------------------------------------------------

def test_the_pieces_of_a_range_cover_each_of_its_days_once():
    universe = [date(2023, 12, 20) + timedelta(days=n) for n in range(430)]
    bounds = [None, date(2023, 12, 20), date(2024, 1, 1), date(2024, 1, 31), date(2024, 2, 1), date(2024, 2, 28),
              date(2024, 2, 29), date(2024, 3, 1), date(2024, 3, 15), date(2024, 12, 31), date(2025, 1, 1),
              date(2025, 2, 10)]
    bounds += random.Random(5).sample(universe, 25)
    for date_from in bounds:
        for date_to in bounds:
            covered: list[date] = []
            for span, low, high in balances.pieces(date_from, date_to):
                for day in universe:
                    first_day = day if span == "day" else day.replace(day=1)
                    if (low is None or first_day >= low) and (high is None or first_day <= high):
                        covered.append(day)
            expected = [day for day in universe
                        if (date_from is None or day >= date_from) and (date_to is None or day <= date_to)]
            assert sorted(covered) == expected, (date_from, date_to, balances.pieces(date_from, date_to))


def test_the_pieces_reach_the_ends_of_the_calendar():
    assert balances.pieces(date.max - timedelta(days=3), None) == [("day", date.max - timedelta(days=3), date.max)]
    assert balances.pieces(None, date.min + timedelta(days=3)) == [("day", date.min, date.min + timedelta(days=3))]
    assert balances.pieces(None, date.max) == [("month", None, date(9999, 12, 1))]
    assert balances.pieces(date(2024, 5, 2), date(2024, 5, 1)) == []


# -- through the APIs --------------------------------------------------------------------------

def test_the_balances_follow_every_write_through_the_apis(client, context, org):
    oneup, upflow = OneUpClient(client, org), UpflowClient(client, org)
    accounts = chart(oneup)
    bank = oneup.ok("POST", "/bank_accounts", {"name": "Main bank"})
    customer = oneup.ok("POST", "/customers", {"type": 1, "company_name": "ACME"})
    item = oneup.ok("POST", "/items", {"type": 1, "name": "Consulting"})
    [tax] = [t for t in oneup.ok("GET", "/taxes") if t["name"] == "10% Federal Tax"]

    def invoice(on: str, quantity, price, **fields) -> dict:
        return oneup.ok("POST", "/invoices", {"customer_id": customer["id"], "date": on, "order_lines": [
            {"item_id": item["id"], "quantity": D(str(quantity)), "unit_price_wt": D(str(price)), **fields}]})

    capital = oneup.ok("POST", "/transactions", {"piece_number": "CAPITAL", "date": "2025-01-02", "entries": [
        line(bank["account_id"], "debit", 1000), line(accounts["30100"], "credit", 1000)]})
    check(context, org.id)
    # Amounts, accounts and the date of a manual transaction change; entries are added and removed.
    debit, credit = capital["entries"]
    oneup.ok("PUT", f"/transactions/{capital['id']}", {"entries": [
        {"id": debit["id"], "amount": 1500}, {"id": credit["id"], "amount": 1200},
        line(accounts["30100"], "credit", 300)]})
    check(context, org.id)
    moved = oneup.ok("PUT", f"/transactions/{capital['id']}", {"date": "2025-02-28"})
    check(context, org.id)
    kept = moved["entries"][0]
    oneup.ok("PUT", f"/transactions/{capital['id']}", {"entries": [
        {"id": kept["id"], "account_id": accounts["10900"]}, line(accounts["30100"], "credit", 1500)]})
    check(context, org.id)

    first = invoice("2025-01-10", 2, 50, tax_id=tax["id"])
    second = invoice("2025-01-31", 1, "200.35")
    check(context, org.id)
    # New lines, a new date: the generated transaction is rewritten.
    oneup.ok("PUT", f"/invoices/{first['id']}", {"date": "2025-01-20", "order_lines": [  # before the next number
        {"item_id": item["id"], "quantity": 3, "unit_price_wt": D("33.33")}]})
    check(context, org.id)
    payment = oneup.ok("POST", "/payments", {"invoice_id": second["id"], "amount": 60, "bank_id": bank["id"],
                                             "date": "2025-02-01"})
    check(context, org.id)
    oneup.ok("POST", "/bank_entries", {"bank_account_id": bank["id"], "posted_date": "2025-03-10",
                                       "transaction_date": "2025-03-10", "amount": D("-12.5"), "description": "Fees"})
    check(context, org.id)

    # A request refused leaves the balances as they were (as every other row).
    before = book_snapshot(context, org.id)
    refused = oneup.post("/transactions", {"piece_number": "BAD", "date": "2025-01-05", "entries": [
        line(accounts["60100"], "debit", 10), line(bank["account_id"], "credit", 9)]})
    assert refused.status_code == 422, refused.text
    assert book_snapshot(context, org.id) == before

    # Bulk deletion: one savepoint per id; the invoice with a payment is refused, its entries stay.
    third = invoice("2025-04-15", 1, 80)
    result = oneup.ok("DELETE", f"/invoices?ids={third['id']},{second['id']}")
    assert (result["success_count"], result["error_count"]) == (1, 1), result
    check(context, org.id)
    oneup.ok("DELETE", f"/payments/{payment['id']}")
    oneup.ok("DELETE", f"/invoices/{second['id']}")
    oneup.ok("DELETE", f"/transactions/{capital['id']}")
    check(context, org.id)

    # Upflow: an invoice created, then updated with a new amount, then deleted.
    upflow.ok("POST", "/customers", {"externalId": "C-1", "name": "Globex"})
    body = {"externalId": "U-1", "customId": "U-1", "issuedAt": "2025-05-05", "dueDate": "2025-06-05", "currency": "USD",
            "netAmount": 10_000, "grossAmount": 12_000, "customer": {"externalId": "C-1"}}
    upflow.ok("POST", "/invoices", body)
    check(context, org.id)
    upflow.ok("POST", "/invoices", {**body, "netAmount": 20_000, "grossAmount": 24_000, "issuedAt": "2025-06-30",
                               "dueDate": "2025-07-30"})
    check(context, org.id)
    assert upflow.delete("/invoices/external:U-1").status_code == 204
    check(context, org.id)

    # The reports read them: the trial balance equals the transactions a client reads back.
    trial = oneup.ok("GET", "/reports/trial_balance?date=2025-12-31")
    sums: dict[int, list[Decimal]] = {}
    for transaction in oneup.ok("GET", "/transactions?limit=1000"):
        for entry in transaction["entries"]:
            sums.setdefault(entry["account_id"], [D(0), D(0)])[0 if entry["way"] == "debit" else 1] += entry["amount"]
    assert {row["account_id"]: [row["debit"], row["credit"]] for row in trial["accounts"]} == \
        {account: totals for account, totals in sums.items() if any(totals)}

    # A deleted transaction is reversed (issue 17 §8): its account's totals hold both sides, and the
    # account, holding entries, stays.
    postage = oneup.ok("POST", "/accounts", {"number": "56200", "name": "Postage", "family_id": accounts["50000"]})
    used = oneup.ok("POST", "/transactions", {"piece_number": "STAMPS", "date": "2025-07-01", "entries": [
        line(postage["id"], "debit", 3), line(bank["account_id"], "credit", 3)]})
    oneup.ok("DELETE", f"/transactions/{used['id']}")
    assert oneup.delete(f"/accounts/{postage['id']}").status_code == 422
    check(context, org.id)
    [row] = [row for row in oneup.ok("GET", "/reports/trial_balance?date=2025-12-31")["accounts"]
             if row["account_id"] == postage["id"]]
    assert (row["debit"], row["credit"], row["balance"]) == (D(3), D(3), D(0))


# -- transactions and savepoints ---------------------------------------------------------------

def _transfer(book, on: date, amount, debit_id: int, credit_id: int, piece: str = "T") -> Transaction:
    return TRANSACTIONS.create(book, {"piece_number": piece, "date": on, "entries": [
        line(debit_id, "debit", amount), line(credit_id, "credit", amount)]})


def _two_accounts(book) -> tuple[int, int]:
    postable = sorted(a.id for a in book.accounts.all(Account.is_family.is_(False)))
    return postable[0], postable[1]


class Abandon(Exception):
    pass


def test_a_savepoint_rolled_back_takes_its_changes_with_it_and_one_released_keeps_them(context):
    org = create_organization(context.database, "Savepoints")
    with open_book(context.database, org.id) as book:
        first, second = _two_accounts(book)
        kept = _transfer(book, date(2025, 1, 5), 10, first, second)
        try:
            with book.session.begin_nested():
                _transfer(book, date(2025, 1, 5), 20, first, second)
                with book.session.begin_nested():  # released into the savepoint rolled back
                    _transfer(book, date(2025, 2, 5), 40, first, second)
                TRANSACTIONS.delete(book, kept.id)
                raise Abandon
        except Abandon:
            pass
        with book.session.begin_nested():
            _transfer(book, date(2025, 1, 6), 5, second, first)
            with book.session.begin_nested():
                _transfer(book, date(2025, 3, 6), 7, second, first)
        with pytest.raises(Exception):
            with book.session.begin_nested():  # a failed flush rolls its savepoint back
                _transfer(book, date(2025, 3, 7), 9, second, first)
                book.session.add(Entry(org_id=book.org_id, transaction_id=kept.id, amount=D(1), way="debit",
                                       account_id=first, date=None))
                book.flush()
    check(context, org.id)
    with context.database.transaction() as session:
        assert balance_totals(session, org.id)[first] == (D(10), D(12))


def test_a_transaction_rolled_back_writes_no_balance(context):
    org = create_organization(context.database, "Rolled back")
    with pytest.raises(RuntimeError):
        with open_book(context.database, org.id) as book:
            first, second = _two_accounts(book)
            _transfer(book, date(2025, 1, 5), 10, first, second)
            raise RuntimeError("abandoned")
    with context.database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(AccountBalance)
                              .where(AccountBalance.org_id == org.id)) == 0
    check(context, org.id)


def test_a_unit_of_work_reads_its_own_writes(context):
    """The totals of a transaction's entries are added at its commit; until then, the reports of the
    same unit of work count them anyway (savepoints included, rolled-back ones not)."""
    org = create_organization(context.database, "Own writes")
    with open_book(context.database, org.id) as book:
        first, second = _two_accounts(book)
        _transfer(book, date(2025, 1, 5), 10, first, second)
    with open_book(context.database, org.id) as book:
        _transfer(book, date(2025, 1, 20), 5, first, second)
        with book.session.begin_nested():
            _transfer(book, date(2025, 2, 1), 1, first, second)
        try:
            with book.session.begin_nested():
                _transfer(book, date(2025, 2, 1), 100, first, second)
                raise Abandon
        except Abandon:
            pass
        assert balance_totals(book.link, org.id)[first] == (D(16), D(0))
        assert balance_totals(book.link, org.id, date_to=date(2025, 1, 31))[second] == (D(0), D(15))
        assert balance_totals(book.link, org.id, date_from=date(2025, 1, 6), account_ids=[first]) == \
            {first: (D(6), D(0))}
    check(context, org.id)


def test_rewriting_equal_entries_touches_no_balance_row(context):
    org = create_organization(context.database, "Unchanged")
    with open_book(context.database, org.id) as book:
        first, second = _two_accounts(book)
        created = _transfer(book, date(2025, 1, 5), 10, first, second)
    before = book_snapshot(context, org.id)["account_balances"]
    with open_book(context.database, org.id) as book:
        TRANSACTIONS.update(book, created.id, {"entries": [
            {"id": created.entries[0].id, "label": "relabelled"}, {"id": created.entries[1].id}]})
    assert book_snapshot(context, org.id)["account_balances"] == before


# -- concurrent writers (PostgreSQL) -----------------------------------------------------------

def test_concurrent_writers_keep_the_balances_exact(context, is_postgres):
    """Threads create, change and delete transactions between the same few accounts on the same few
    days (the same balance rows), concurrently; every operation succeeds at once (no deadlock: the
    units of work are not retried) and the totals are exactly the entries' afterwards."""
    if not is_postgres:
        pytest.skip("SQLite has one writer at a time")
    org = create_organization(context.database, "Concurrent writers")
    with open_book(context.database, org.id) as book:
        accounts = sorted(a.id for a in book.accounts.all(Account.is_family.is_(False)))[:4]
    days = [date(2025, 1, 31), date(2025, 2, 1), date(2025, 2, 2)]
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def in_book(database, org_id, work):
        with open_book(database, org_id) as book:
            return work(book)

    def writer(number: int) -> None:
        rng = random.Random(number)
        mine: list[int] = []
        try:
            start.wait()
            for step in range(25):
                action = rng.random()
                if mine and action < 0.25:
                    transaction_id = mine.pop(rng.randrange(len(mine)))
                    in_book(context.database, org.id, lambda book: TRANSACTIONS.delete(book, transaction_id))
                elif mine and action < 0.5:
                    transaction_id = rng.choice(mine)
                    amount = D(rng.randint(1, 10_000)) / 100
                    in_book(context.database, org.id, lambda book: TRANSACTIONS.update(book, transaction_id, {
                        "date": rng.choice(days), "entries": [
                            line(rng.choice(accounts), "debit", amount), line(rng.choice(accounts), "credit", amount)]}))
                else:
                    debit, credit = rng.sample(accounts, 2)
                    amount = D(rng.randint(1, 10_000)) / 100

                    def create(book):
                        # two transactions in one unit of work: more rows per commit, in any order
                        first = _transfer(book, rng.choice(days), amount, debit, credit, f"W{number}-{step}")
                        second = _transfer(book, rng.choice(days), amount, credit, debit, f"W{number}-{step}b")
                        return [first.id, second.id]

                    mine += in_book(context.database, org.id, create)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors[:3]
    check(context, org.id)
    with context.database.transaction() as session:
        slots = session.scalar(select(func.count(func.distinct(AccountBalance.slot)))
                               .where(AccountBalance.org_id == org.id))
    assert slots > 1  # the writers spread over several rows per account and day


# -- the migration that creates the table ------------------------------------------------------

def test_the_migration_fills_the_table_from_the_entries_already_written(tmp_path, is_postgres):
    if is_postgres:
        databases = _postgres_database(os.environ["COMPTOIR_TEST_DATABASE_URL"])
        url = next(databases)
    else:
        databases, url = None, f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    database = Database(url)
    try:
        database.migrate()
        org = create_organization(database, "Migrated")
        other = create_organization(database, "Migrated too")
        for organization, seed in ((org, 1), (other, 2)):
            rng = random.Random(seed)
            with open_book(database, organization.id) as book:
                accounts = sorted(a.id for a in book.accounts.all(Account.is_family.is_(False)))[:6]
                for n in range(40):
                    debit, credit = rng.sample(accounts, 2)
                    _transfer(book, date(2024, 11, 1) + timedelta(days=rng.randint(0, 120)),
                              D(rng.randint(1, 10**7)) / 1000, debit, credit, f"M{n}")
        config = alembic_config(url)
        with database.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0008")
        database.migrate()
        with database.transaction() as session:
            for organization in (org, other):
                assert_balances_match(session, organization.id)
                assert session.scalar(select(func.max(AccountBalance.slot))
                                      .where(AccountBalance.org_id == organization.id)) == 0
    finally:
        database.dispose()
        if databases is not None:
            next(databases, None)  # drops the database
