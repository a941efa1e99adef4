"""Engines, sessions and migrations. One request's reads and writes run in one transaction.

Two ways in. Code that may block (the CLI, the tests, background workers, migrations) opens
`transaction()` on the synchronous engine. A request, served on the event loop, hands its whole unit
of work to `run()`, which runs it where it cannot block the loop: on PostgreSQL in a greenlet over an
async driver (asyncpg: every statement yields to the loop while it waits, and no thread is involved),
on SQLite in a worker thread (its statements take microseconds and do not wait on a network). Either
way the unit of work itself is ordinary synchronous code over a `Session`: one piece of code for both
databases and for every caller (docs/decisions/0018-request-path.md)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.util import greenlet_spawn

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
T = TypeVar("T")

# Execution option of a connection whose transaction only reads (SQLite then begins it DEFERRED:
# readers do not queue behind the one writer, WAL gives each a consistent snapshot).
READ_ONLY = "comptoir_read_only"


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy issue BEGIN itself (below) instead of pysqlite's implicit transactions.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # A writer takes the write lock up front (IMMEDIATE): two writers queue instead of deadlocking
        # when both try to upgrade a read lock, which SQLite resolves by failing one of them. A
        # transaction that only reads begins DEFERRED and takes no lock.
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_size=5, max_overflow=20, pool_pre_ping=True)


def async_url(url: str) -> str:
    """The same PostgreSQL database through asyncpg."""
    return make_url(url).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


# Connections a worker keeps open for its requests. A connection opened beyond them is closed as soon
# as it is given back: under a steady load that would be a connection (with its TLS attempt, its
# authentication and its prepared statements) opened and closed per request. A worker serves a few
# dozen requests at once at the most; beyond that they wait for a connection (`pool_timeout`).
REQUEST_CONNECTIONS = 20
NUMBERS_CONNECTIONS = 8


def make_request_engine(url: str) -> AsyncEngine:
    """The engine requests run on (PostgreSQL). No pre-ping: the first statement of every unit of
    work checks the caller's credential, and a connection found dead there is replaced and the unit
    run again before anything was written (services/kernel/unit_of_work.py), which is what a ping
    would have done, without its round trip on every request."""
    return create_async_engine(async_url(url), pool_size=REQUEST_CONNECTIONS, max_overflow=REQUEST_CONNECTIONS,
                               pool_pre_ping=False)


# How long a number taken outside the request's transaction may wait for the counter's row before the
# request takes it inside its own transaction instead (storage/repository.Counters).
NUMBERS_LOCK_TIMEOUT = "2s"  # in PostgreSQL's units


def make_numbers_engine(url: str) -> Engine:
    """PostgreSQL connections that hand out numbers of the per-organization counters, each in its own
    one-statement transaction (autocommit), so that the counter's row is locked for that statement
    only, not until the request commits (docs/decisions/0016). Their commits need not wait for the
    disk (`synchronous_commit` off): any transaction that uses a number commits later, durably, and
    the log is flushed in order, so a number that reached a committed row is never handed out twice;
    after a crash, at worst numbers nobody used are handed out again."""
    options = f"-c synchronous_commit=off -c lock_timeout={NUMBERS_LOCK_TIMEOUT}"
    return create_engine(url, pool_size=2, max_overflow=6, isolation_level="AUTOCOMMIT", pool_reset_on_return=None,
                         connect_args={"options": options})


def make_request_numbers_engine(url: str) -> AsyncEngine:
    """`make_numbers_engine` for requests: the same settings through asyncpg."""
    settings = {"synchronous_commit": "off", "lock_timeout": NUMBERS_LOCK_TIMEOUT}
    return create_async_engine(async_url(url), pool_size=NUMBERS_CONNECTIONS, max_overflow=NUMBERS_CONNECTIONS,
                               isolation_level="AUTOCOMMIT", pool_reset_on_return=None,
                               connect_args={"server_settings": settings})


UNKNOWN = object()  # what the process cache answers for a fact it does not know


class ProcessCache:
    """What a process remembers of each organization between units of work: only facts that never
    change once committed (reference data seeded with the organization, the ids of the accounts and
    journals that hold a role), and only once the unit of work that read them has committed."""

    def __init__(self) -> None:
        self._facts: dict[tuple[int, Any], Any] = {}
        self._lock = threading.Lock()

    def get(self, org_id: int, key: Any) -> Any:
        return self._facts.get((org_id, key), UNKNOWN)

    def learn(self, org_id: int, facts: dict[Any, Any]) -> None:
        with self._lock:
            for key, value in facts.items():
                self._facts[(org_id, key)] = value

    def clear(self) -> None:
        with self._lock:
            self._facts.clear()


@dataclass(frozen=True)
class Scope:
    """Where one unit of work run by `Database.run` opens its transaction, and takes its numbers."""

    writing: sessionmaker[Session]
    reading: sessionmaker[Session]
    numbers: Engine | None  # see Database.numbers_engine
    engines: tuple[AsyncEngine, ...] = ()  # the async engines behind the others (PostgreSQL), to close

    @contextmanager
    def transaction(self, *, read_only: bool = False) -> Iterator[Session]:
        """A session inside one transaction, committed if the block ends normally, rolled back if it
        raises. `read_only`: the transaction only reads (on SQLite it then takes no lock)."""
        with (self.reading if read_only else self.writing)() as session, session.begin():
            yield session


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.is_postgres = self.engine.dialect.name == "postgresql"
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, autoflush=True)
        self.cache = ProcessCache()
        self._scopes: dict[asyncio.AbstractEventLoop, Scope] = {}
        self._lock = threading.Lock()

    # -- blocking callers: the CLI, tests, workers ------------------------------------------------

    @cached_property
    def numbers_engine(self) -> Engine | None:
        """Where counters hand out numbers outside the caller's transaction: PostgreSQL only. SQLite
        has one writer at a time, which holds its lock until commit anyway (and a second connection
        would wait for the request's own write lock): there numbers are taken in the transaction."""
        return make_numbers_engine(self.url) if self.is_postgres else None

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one transaction: committed if the block ends normally, rolled back
        (leaving the book exactly as it was) if it raises."""
        with self._sessions() as session, session.begin():
            yield session

    # -- requests, from the event loop ------------------------------------------------------------

    async def run(self, work: Callable[[Scope], T]) -> T:
        """`work(scope)` (blocking database code: a unit of work, which opens its transaction with
        `scope.transaction()`) from the event loop, without blocking it: in a greenlet over asyncpg on
        PostgreSQL, in a worker thread on SQLite."""
        if not self.is_postgres:
            return await anyio.to_thread.run_sync(work, self._thread_scope)
        return await greenlet_spawn(work, self._loop_scope())

    @cached_property
    def _thread_scope(self) -> Scope:
        read_only = self.engine.execution_options(**{READ_ONLY: True})
        return Scope(self._sessions, sessionmaker(read_only, expire_on_commit=False, autoflush=True), None)

    def _loop_scope(self) -> Scope:
        """The engines of the running event loop. asyncpg's connections belong to the loop that opened
        them: a server has one loop, but a test client may run each request on a loop of its own, so
        each loop gets its own engines (and a closed loop's are dropped)."""
        loop = asyncio.get_running_loop()
        scope = self._scopes.get(loop)
        if scope is not None:
            return scope
        with self._lock:
            scope = self._scopes.get(loop)
            if scope is None:
                for closed in [known for known in self._scopes if known.is_closed()]:
                    del self._scopes[closed]
                engine, numbers = make_request_engine(self.url), make_request_numbers_engine(self.url)
                sessions = sessionmaker(engine.sync_engine, expire_on_commit=False, autoflush=True)
                # A unit that only reads runs its statements in autocommit: at PostgreSQL's READ
                # COMMITTED each statement takes its own snapshot, in a transaction or not, so BEGIN
                # and COMMIT would add two round trips and nothing else (docs/decisions/0018).
                autocommit = engine.sync_engine.execution_options(isolation_level="AUTOCOMMIT")
                reading = sessionmaker(autocommit, expire_on_commit=False, autoflush=False)
                scope = self._scopes[loop] = Scope(sessions, reading, numbers.sync_engine, (engine, numbers))
        return scope

    async def close_loop_engines(self) -> None:
        """Close the connections the running loop's requests opened (at the end of a server's life)."""
        with self._lock:
            scope = self._scopes.pop(asyncio.get_running_loop(), None)
        for engine in scope.engines if scope is not None else ():
            await engine.dispose()

    # -- the schema, and the end ---------------------------------------------------------------------

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        config = alembic_config(self.url)
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def dispose(self) -> None:
        self.engine.dispose()
        if "numbers_engine" in self.__dict__ and self.numbers_engine is not None:
            self.numbers_engine.dispose()



def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config
