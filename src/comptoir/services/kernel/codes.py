"""Automatic user codes, unique per organization (the unique indexes have the last word)."""

from __future__ import annotations

from comptoir.domain.codes import CODE_PREFIXES, format_code
from comptoir.storage.book import Book
from comptoir.storage.repository import Repository

ATTEMPTS_MAX = 1000


def next_code(book: Book, key: str, repository: Repository, attribute: str) -> str:
    """The next free automatic code; numbers a user already took by hand are skipped."""
    for _ in range(ATTEMPTS_MAX):
        code = format_code(CODE_PREFIXES[key], book.counters.next(key))
        if not repository.exists(**{attribute: code}):
            return code
    raise RuntimeError(f"no free {key} code after {ATTEMPTS_MAX} tries")
