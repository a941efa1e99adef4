"""Automatic user codes, unique per organization (the unique indexes have the last word)."""

from __future__ import annotations

from collections.abc import Sequence

from comptoir.domain.codes import CODE_PREFIXES, format_code
from comptoir.storage.book import Book
from comptoir.storage.repository import Repository

ATTEMPTS_MAX = 1000


def next_code(book: Book, key: str, repository: Repository, attribute: str, *,
              with_numbers: Sequence[str] = ()) -> str:
    """The next free automatic code; numbers a user already took by hand are skipped. `with_numbers`:
    counters of which the caller takes a number next (the transaction of a new invoice), taken in
    the same round trip (storage/repository.Counters.next_for_code)."""
    table = repository.model.__table__
    for _ in range(ATTEMPTS_MAX):
        number, taken = book.counters.next_for_code(key, CODE_PREFIXES[key], table, attribute, with_numbers)
        with_numbers = ()
        code = format_code(CODE_PREFIXES[key], number)
        if taken is None or (not taken and book.link.may_have_written(table)):
            # Not asked with the number, or the unit of work may hold such a row, uncommitted.
            taken = repository.exists(**{attribute: code})
        if not taken:
            return code
    raise RuntimeError(f"no free {key} code after {ATTEMPTS_MAX} tries")

