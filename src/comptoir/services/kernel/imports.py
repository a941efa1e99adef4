"""Create-or-update by an external key, exactly once under concurrency.

The unique index on (org_id, ..., external_id) decides a race: the loser's insert fails inside its
savepoint (or, where it can, writes nothing: `ON CONFLICT DO NOTHING`), it finds the winner's row and
updates it instead. SQLite runs one writer at a time, so
there the race cannot happen at all.
"""

from __future__ import annotations

from typing import Callable, TypeVar

from comptoir.domain.errors import DomainError, ErrorKind
from comptoir.services.kernel.unit_of_work import RunAgain
from comptoir.storage.book import Book

Row = TypeVar("Row")
ATTEMPTS_MAX = 3


def upsert(book: Book, *, find: Callable[[], Row | None], create: Callable[[], Row],
           update: Callable[[Row], Row], key: str = "external_id",
           create_leaves_nothing: bool = False) -> tuple[Row, bool]:
    """The row created or updated, and whether it was created. `key` is the column whose unique
    index decides a race (an account's number, a journal's code). `create_leaves_nothing`: when the
    key is taken, `create` raises before writing anything and the transaction goes on (an INSERT
    ... ON CONFLICT DO NOTHING): no savepoint is needed to take it back."""
    for _ in range(ATTEMPTS_MAX):
        existing = find()
        if existing is not None:
            return update(existing), False
        try:
            if create_leaves_nothing:
                return create(), True
            with book.link.savepoint():
                return create(), True
        except DomainError as error:
            if any(p.kind == ErrorKind.DUPLICATE and p.field == key for p in error.problems):
                continue
            if create_leaves_nothing and any(p.kind == ErrorKind.DUPLICATE for p in error.problems):
                # Another unique index (a code) refused the row: maybe a concurrent creation of the same
                # key that passed the claim's check at the same instant. The transaction is over; run
                # once more, the winner's row is then found (a code truly taken is refused again).
                raise RunAgain(error.problems) from error
            raise
    raise RuntimeError(f"no row could be created or found after {ATTEMPTS_MAX} attempts")
