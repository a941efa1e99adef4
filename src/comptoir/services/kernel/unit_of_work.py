"""Opening the book of an organization for one unit of work: the one way every face (the dialects,
the web pages, the CLI, the jobs) reads and writes the book.

A request's unit of work (`reading`, `writing`) is one database transaction whose first statement
checks the caller's credential (`Caller.admit`), so that a revoked credential is refused by the very
next request of every worker, without a transaction of its own. Then the work runs and the
transaction commits, or rolls back when the work raises, leaving the book as it was. A write that
PostgreSQL rolled back because of a deadlock or a serialization failure is run again from the start,
which is what the database asks of its clients. Code that may block (the CLI, tests, workers) opens
the book with `open_book` or `in_book` instead (docs/decisions/0018-request-path.md)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from typing import Protocol, TypeVar

from sqlalchemy.exc import DBAPIError, StatementError

from comptoir.domain.errors import DomainError, ErrorKind, fail
from comptoir.domain.money import TOO_LARGE
from comptoir.domain.organizations import Principal
from comptoir.storage import audit
from comptoir.storage.book import Book
from comptoir.storage.database import Database, Scope
from comptoir.storage.link import Link

T = TypeVar("T")

# PostgreSQL's answers when two transactions wait on each other's rows (deadlock_detected) or a
# serializable snapshot cannot commit (serialization_failure). The transaction was rolled back whole,
# so running it again from the start is safe.
RETRYABLE_SQLSTATES = {"40P01", "40001"}
NUMERIC_OUT_OF_RANGE = "22003"  # PostgreSQL: a value too large for its column
ATTEMPTS_MAX = 4


class Caller(Protocol):
    """Whoever asks for a unit of work, as a face presented them (a dialect's credential)."""

    def admit(self, link: Link) -> AbstractContextManager[Principal]:
        """The principal behind the credential, checked with the link's first statement (then the
        caller's limits); the face's own error when it is refused. The context lasts as long as the
        unit of work (a slot of a concurrency limit is held that long)."""
        ...


@dataclass(frozen=True)
class Known:
    """A caller whose organization is known by other means than a credential of the book: a signed
    link names it (and the signature is checked before the unit of work), so no statement is needed."""

    org_id: int

    @contextmanager
    def admit(self, link: Link) -> Iterator[Principal]:
        yield Principal(self.org_id, None, None)


class RunAgain(DomainError):
    """A refusal that a concurrent unit of work may have caused, after which the transaction cannot go
    on: the request's unit runs once more from the start (`writing`); raised again, or anywhere else,
    it is the refusal it carries."""


class _StaleConnection(Exception):
    """The pooled connection was found closed by the unit's first statement, before anything was
    written: the unit runs again on a new connection (this is the engine's only ping)."""


def _sqlstate(error: DBAPIError) -> str | None:
    return getattr(error.orig, "sqlstate", None)


def _admitted(stack: ExitStack, caller: Caller, link: Link) -> Principal:
    try:
        return stack.enter_context(caller.admit(link))
    except DBAPIError as error:
        if error.connection_invalidated:
            raise _StaleConnection() from error
        raise


def _unit(database: Database, scope: Scope, caller: Caller, work: Callable[[Book], T], read_only: bool) -> T:
    with ExitStack() as acting, scope.transaction(read_only=read_only) as link, ExitStack() as admission:
        principal = _admitted(admission, caller, link)
        # Who acts, for the audit trail: the link names them with its BEGIN (PostgreSQL); on SQLite
        # the triggers ask this thread, until the unit has committed (`acting` is left last).
        link.actor = audit.actor_label(credential_id=principal.credential_id, employee_id=principal.employee_id)
        acting.enter_context(audit.acting(link.actor))
        book = Book(link, principal.org_id, principal.employee_id, database=database,
                    organization=principal.organization, numbers=scope.numbers)
        result = work(book)
        if read_only and link.changed():
            raise AssertionError("a unit of work that only reads changed the book")
    database.cache.learn(principal.org_id, book.learned())  # committed: what never changes is kept
    return result


async def reading(database: Database, caller: Caller, work: Callable[[Book], T]) -> T:
    """`work(book)` in one transaction that only reads (on SQLite it takes no lock)."""
    return await _run(database, caller, work, read_only=True)


async def writing(database: Database, caller: Caller, work: Callable[[Book], T]) -> T:
    """`work(book)` in one transaction, run again (a few times) when PostgreSQL rolled it back
    because of a deadlock or a serialization failure."""
    return await _run(database, caller, work, read_only=False)


def _too_large(error: BaseException) -> bool:
    """Whether the database refused a value too large for its column: PostgreSQL's numeric overflow,
    or an integer beyond SQLite's 64 bits (an amount in millionths, storage/types.ExactDecimal)."""
    if isinstance(error, DBAPIError) and _sqlstate(error) == NUMERIC_OUT_OF_RANGE:
        return True
    return isinstance(error, OverflowError) or (isinstance(error, StatementError)
                                                and isinstance(error.orig, OverflowError))


async def _run(database: Database, caller: Caller, work: Callable[[Book], T], *, read_only: bool) -> T:
    try:
        return await _attempts(database, caller, work, read_only=read_only)
    except (DBAPIError, StatementError, OverflowError) as error:
        # An amount no check bounded (a sum of many, say) is still a refusal of the request, in the
        # dialect's format, not a 500: every amount the services compute is checked before this.
        if _too_large(error):
            raise fail(ErrorKind.INVALID, None, f"an amount {TOO_LARGE}") from error
        raise


async def _attempts(database: Database, caller: Caller, work: Callable[[Book], T], *, read_only: bool) -> T:
    stale_retried = ran_again = False
    attempt = 1
    while True:
        try:
            return await database.run(lambda scope: _unit(database, scope, caller, work, read_only))
        except RunAgain:
            if ran_again:
                raise
            ran_again = True
        except _StaleConnection:
            if stale_retried:
                raise
            stale_retried = True
        except DBAPIError as error:
            if _sqlstate(error) not in RETRYABLE_SQLSTATES or attempt == ATTEMPTS_MAX:
                raise
            attempt += 1
            await asyncio.sleep(random.uniform(0, 0.02 * attempt))  # let the other transaction finish first


# -- code that may block: the CLI, tests, workers ------------------------------------------------

@contextmanager
def open_book(database: Database, org_id: int, actor_employee_id: int | None = None) -> Iterator[Book]:
    """The organization's book inside one database transaction: everything done in the block is
    committed together, or nothing is if it raises. The audit trail names the employee, else the
    process's actor (`cli` for the command line)."""
    actor = audit.actor_label(employee_id=actor_employee_id, default=audit.current_actor())
    with audit.acting(actor), database.transaction() as session:
        book = Book(session, org_id, actor_employee_id, database=database, numbers=database.numbers_engine)
        yield book
    database.cache.learn(org_id, book.learned())  # committed: what never changes is kept


def in_book(database: Database, org_id: int, work: Callable[[Book], T], actor_employee_id: int | None = None) -> T:
    """`work(book)` in one transaction of the organization's book, run again (a few times) when the
    database rolled it back because of a deadlock with a concurrent writer."""
    for attempt in range(1, ATTEMPTS_MAX + 1):
        try:
            with open_book(database, org_id, actor_employee_id) as book:
                return work(book)
        except DBAPIError as error:
            if _sqlstate(error) not in RETRYABLE_SQLSTATES or attempt == ATTEMPTS_MAX:
                raise
            time.sleep(random.uniform(0, 0.02 * attempt))  # let the other transaction finish first
    raise AssertionError("unreachable")


@contextmanager
def apart(book: Book) -> Iterator[None]:
    """A part of the unit of work that is undone alone if it raises (a savepoint): one element of a
    bulk deletion, say, whose refusal leaves the others' changes in place."""
    with book.link.savepoint():
        yield
