"""Automatic numbers (storage/repository.Counters, docs/decisions/0016): unique and increasing under
concurrency on both databases; on PostgreSQL taken outside the request's transaction, so a writer of
an organization does not wait for another's commit, and a number taken by a transaction that rolls
back is lost (a gap); on SQLite taken in the transaction, without gaps."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from comptoir.app import create_app
from comptoir.services.kernel.unit_of_work import open_book

from .helpers import served

THREADS = 8
NUMBERS = 25
TIMEOUT_S = 60


class Rollback(Exception):
    pass


def _take(context, org_id: int, key: str = "transaction") -> int:
    with open_book(context.database, org_id) as book:
        return book.counters.next(key)


def test_numbers_taken_concurrently_are_unique_and_increasing(context, org):
    barrier = threading.Barrier(THREADS, timeout=TIMEOUT_S)

    def taker(_index: int) -> list[int]:
        barrier.wait()
        return [_take(context, org.id, "test") for _ in range(NUMBERS)]

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        taken = list(pool.map(taker, range(THREADS)))
    every = [number for numbers in taken for number in numbers]
    assert sorted(every) == list(range(1, THREADS * NUMBERS + 1))  # no duplicate, and no gap without a rollback
    assert all(numbers == sorted(numbers) for numbers in taken)  # each taker sees them increase


def test_a_rolled_back_number_is_lost_on_postgresql_and_given_again_on_sqlite(context, org, is_postgres):
    first = _take(context, org.id, "test")
    with pytest.raises(Rollback), open_book(context.database, org.id) as book:
        assert book.counters.next("test") == first + 1
        raise Rollback
    assert _take(context, org.id, "test") == (first + 2 if is_postgres else first + 1)


def test_on_postgresql_a_writer_does_not_wait_for_another_writers_commit(context, org, is_postgres):
    if not is_postgres:
        pytest.skip("SQLite runs one writer at a time: the second writer waits for the first by design")
    _take(context, org.id)  # the counter's row exists
    holding, released = threading.Event(), threading.Event()

    def first_writer() -> int:
        with open_book(context.database, org.id) as book:
            number = book.counters.next("transaction")
            holding.set()
            assert released.wait(TIMEOUT_S), "the second writer never finished while the first was open"
            return number

    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(first_writer)
        assert holding.wait(TIMEOUT_S)
        second = _take(context, org.id)  # would wait for the first writer's commit if it held the row
        released.set()
        assert second == first.result() + 1


def test_reserved_numbers_come_first_and_in_order(context, org, is_postgres):
    start = _take(context, org.id, "test")
    with open_book(context.database, org.id) as book:
        book.counters.reserve("test", 3)
        numbers = [book.counters.next("test") for _ in range(4)]
    assert numbers == list(range(start + 1, start + 5))
    if is_postgres:  # taken outside the transaction: another writer's numbers come after the block
        with open_book(context.database, org.id) as book:
            book.counters.reserve("test", 5)
            assert book.counters.next("test") == start + 5
        assert _take(context, org.id, "test") == start + 10  # the 4 reserved and unused are lost


@pytest.fixture(scope="module")
def oneup_url(context) -> Iterator[str]:
    with served(create_app(context=context)) as base:
        yield base + "/oneup/v1"


def test_invoices_and_transactions_created_concurrently_get_distinct_codes(context, org, oneup_url):
    auth = (org.oneup.email, org.oneup.api_key)
    with httpx.Client(base_url=oneup_url, auth=auth, timeout=TIMEOUT_S) as http:
        customer = http.post("/customers", json={"type": 1, "company_name": "Racer"}).json()["id"]
        item = http.post("/items", json={"type": 2, "name": "Work", "sales_price": 10}).json()["id"]
        accounts = [a["id"] for a in http.get("/accounts", params={"limit": 100}).json()
                    if not a.get("is_family", False)][:2]
    barrier = threading.Barrier(2 * THREADS, timeout=TIMEOUT_S)

    def writer(index: int) -> httpx.Response:
        with httpx.Client(base_url=oneup_url, auth=auth, timeout=TIMEOUT_S) as http:
            assert http.get("/taxes").status_code == 200  # connected before the start
            barrier.wait()
            if index % 2:
                return http.post("/invoices", json={"customer_id": customer, "order_lines": [
                    {"item_id": item, "quantity": 1, "unit_price_wt": 10 + index}]})
            return http.post("/transactions", json={"piece_number": f"T{index}", "entries": [
                {"account_id": accounts[0], "way": "debit", "amount": 5, "label": "x"},
                {"account_id": accounts[1], "way": "credit", "amount": 5, "label": "x"}]})

    with ThreadPoolExecutor(max_workers=2 * THREADS) as pool:
        responses = list(pool.map(writer, range(2 * THREADS)))
    assert [r.status_code for r in responses] == [200] * (2 * THREADS), [r.text[:200] for r in responses]
    codes = [r.json()["user_code"] for r in responses[1::2]]
    assert len(set(codes)) == THREADS
    with httpx.Client(base_url=oneup_url, auth=auth, timeout=TIMEOUT_S) as http:
        transactions = http.get("/transactions", params={"limit": 100}).json()
    transaction_codes = [t["transaction_code"] for t in transactions]
    assert len(transactions) == 2 * THREADS  # one per transaction and one per invoice
    assert len(set(transaction_codes)) == len(transaction_codes)
