"""Opening the book of an organization for one unit of work."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from comptoir.storage.book import Book
from comptoir.storage.database import Database


@contextmanager
def open_book(database: Database, org_id: int, actor_employee_id: int | None = None) -> Iterator[Book]:
    """The organization's book inside one database transaction: everything done in the block is
    committed together, or nothing is if it raises."""
    with database.transaction() as session:
        yield Book(session, org_id, actor_employee_id)
