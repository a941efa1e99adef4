"""Opening the book of an organization for one unit of work."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

from comptoir.storage.book import Book
from comptoir.storage.database import Database

T = TypeVar("T")


@contextmanager
def open_book(database: Database, org_id: int, actor_employee_id: int | None = None) -> Iterator[Book]:
    """The organization's book inside one database transaction: everything done in the block is
    committed together, or nothing is if it raises."""
    with database.transaction() as session:
        book = Book(session, org_id, actor_employee_id, database=database)
        yield book
    database.cache.learn(org_id, book.learned())  # committed: what never changes is kept for later requests


# PostgreSQL's answers when two transactions wait on each other's rows (deadlock_detected) or a
# serializable snapshot cannot commit (serialization_failure). The transaction was rolled back whole,
# so running it again from the start is safe and is what the database asks of its clients.
RETRYABLE_SQLSTATES = {"40P01", "40001"}
ATTEMPTS_MAX = 4


def in_book(database: Database, org_id: int, work: Callable[[Book], T], actor_employee_id: int | None = None) -> T:
    """`work(book)` in one transaction of the organization's book, run again (a few times) when the
    database rolled it back because of a deadlock with a concurrent request."""
    for attempt in range(1, ATTEMPTS_MAX + 1):
        try:
            with open_book(database, org_id, actor_employee_id) as book:
                return work(book)
        except DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) not in RETRYABLE_SQLSTATES or attempt == ATTEMPTS_MAX:
                raise
            time.sleep(random.uniform(0, 0.02 * attempt))  # let the other transaction finish first
    raise AssertionError("unreachable")
