"""Engines, sessions and migrations. One request's reads and writes run in one transaction.

Two ways in. Code that may block (the CLI, the tests, background workers, migrations) opens
`transaction()` on the synchronous engine. A request, served on the event loop, hands its whole unit
of work to `run()`, which runs it where it cannot block the loop: on PostgreSQL in a greenlet over an
async driver (asyncpg: every statement yields to the loop while it waits, and no thread is involved),
on SQLite in a worker thread (its statements take microseconds and do not wait on a network). Either
way the unit of work itself is ordinary synchronous code over a `Link` (storage/link.py): one piece of code for both
databases and for every caller (docs/decisions/0018-request-path.md)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.util import await_only, greenlet_spawn
from sqlalchemy.util.concurrency import in_greenlet

from . import audit, statements
from .link import Link
from .reference import Charts

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
T = TypeVar("T")

# Execution option of a connection whose transaction only reads (SQLite then begins it DEFERRED:
# readers do not queue behind the one writer, WAL gives each a consistent snapshot).
READ_ONLY = "comptoir_read_only"


def off_the_loop(call: Callable[[], T]) -> T:
    """`call()`, which blocks on something other than the database (a file written and fsync'ed), from
    a unit of work: in a worker thread while the unit runs in a greenlet on the event loop (`run` on
    PostgreSQL), so that the loop serves other requests meanwhile; right here otherwise (a worker
    thread already, or code that may block)."""
    if in_greenlet():
        return await_only(anyio.to_thread.run_sync(call))
    return call()


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
        audit.register_sqlite_functions(dbapi_connection)

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


# Every statement of a request is prepared once per connection (asyncpg) and its plan kept: a request's
# statements find rows by key (the organization, ids, a code), and the shape of the statement, not its
# values, decides the plan. Left to choose, PostgreSQL plans anew on every execution a statement whose
# generic plan it estimates dearer than a plan for the values at hand, which is every statement that
# takes a list of ids (`id = ANY($1)`: it guesses ten of them): planning was two thirds of PostgreSQL's
# work on a request (docs/performance.md).
#
# What a request's connection runs in autocommit needs no wait for the disk: reads, and the numbers
# of the counters taken before its link begins the transaction (storage/repository.Counters, ADR
# 0016: a number is only ever used by a later commit, which is durable: storage/link.Link.commit
# turns `synchronous_commit` back on for it).
REQUEST_SETTINGS = {"plan_cache_mode": "force_generic_plan", "synchronous_commit": "off"}


def make_request_engine(url: str) -> AsyncEngine:
    """The engine requests run on (PostgreSQL). No pre-ping: the first statement of every unit of
    work checks the caller's credential, and a connection found dead there is replaced and the unit
    run again before anything was written (services/kernel/unit_of_work.py), which is what a ping
    would have done, without its round trip on every request."""
    return create_async_engine(async_url(url), pool_size=REQUEST_CONNECTIONS, max_overflow=REQUEST_CONNECTIONS,
                               pool_pre_ping=False, isolation_level="AUTOCOMMIT", pool_reset_on_return=None,
                               connect_args={"server_settings": REQUEST_SETTINGS})


# How long a number taken outside the request's transaction may wait for the counter's row before the
# request takes it inside its own transaction instead (storage/repository.Counters).
NUMBERS_LOCK_TIMEOUT = "2s"  # in PostgreSQL's units
# The execution option that marks the numbers engines' connections (what tests/statements_support.py
# tells apart from a request's).
NUMBERS = {"comptoir_connection": "numbers"}


def make_numbers_engine(url: str) -> Engine:
    """PostgreSQL connections that hand out numbers of the per-organization counters, each in its own
    one-statement transaction (autocommit), so that the counter's row is locked for that statement
    only, not until the request commits (docs/decisions/0016). Their commits need not wait for the
    disk (`synchronous_commit` off): any transaction that uses a number commits later, durably, and
    the log is flushed in order, so a number that reached a committed row is never handed out twice;
    after a crash, at worst numbers nobody used are handed out again."""
    options = f"-c synchronous_commit=off -c lock_timeout={NUMBERS_LOCK_TIMEOUT}"
    return create_engine(url, pool_size=2, max_overflow=6, isolation_level="AUTOCOMMIT", pool_reset_on_return=None,
                         connect_args={"options": options}, execution_options=NUMBERS)


def make_request_numbers_engine(url: str) -> AsyncEngine:
    """`make_numbers_engine` for requests: the same settings through asyncpg."""
    settings = {"synchronous_commit": "off", "lock_timeout": NUMBERS_LOCK_TIMEOUT}
    return create_async_engine(async_url(url), pool_size=NUMBERS_CONNECTIONS, max_overflow=NUMBERS_CONNECTIONS,
                               isolation_level="AUTOCOMMIT", pool_reset_on_return=None,
                               connect_args={"server_settings": settings}, execution_options=NUMBERS)


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
    """Where one unit of work run by `Database.run` holds its connection, and takes its numbers."""

    writing: Engine
    reading: Engine  # the same database, for units that only read (see `Database._loop_scope`)
    numbers: Engine | None  # see Database.numbers_engine
    engines: tuple[AsyncEngine, ...] = ()  # the async engines behind the others (PostgreSQL), to close
    # PostgreSQL, a serving loop's (`Database.serving`): connections a finished unit of work left open
    # for the next (one event loop's: never shared between threads), closed when the loop stops
    # serving. Taking one from the pool and giving it back, with SQLAlchemy's Connection made and
    # closed around it, was a tenth of the CPU of a unit that reads one invoice.
    keeps_idle: bool = False
    idle: list[Connection] = field(default_factory=list, compare=False)

    @contextmanager
    def transaction(self, *, read_only: bool = False) -> Iterator[Link]:
        """A link inside one transaction, committed if the block ends normally (what its session
        holds written and the balances added first), rolled back if it raises. `read_only`: the
        transaction only reads (on SQLite it then takes no lock; on PostgreSQL it runs in autocommit).
        On PostgreSQL the link sends BEGIN and COMMIT itself (storage/link.Link, `explicit`)."""
        with self._connection(self.reading if read_only else self.writing) as connection:
            explicit = connection.dialect.name == "postgresql"
            if not explicit:
                connection.begin()
            elif connection.connection.driver_connection.is_in_transaction():
                statements.script(connection, "ROLLBACK")  # never expected: a unit always ends its own
            link = Link(connection, explicit=explicit, read_only=read_only)
            try:
                yield link
                link.commit()
            except BaseException:
                try:
                    link.rollback()
                finally:
                    link.rolled_back()
                raise
            finally:
                link.close()
            link.committed()

    @contextmanager
    def _connection(self, engine: Engine) -> Iterator[Connection]:
        """A connection of `engine` for one unit of work: an idle one of a loop's scope when there is
        one, given back to the idle ones when the unit ends normally (unless enough are idle already);
        a unit that raised (a refusal, a broken connection, a cancelled request) gives it back to the
        pool."""
        if not self.keeps_idle:  # SQLite, a blocking caller, a loop of a test: the pool's, for this unit
            with engine.connect() as connection:
                yield connection
            return
        connection = self.idle.pop() if self.idle else engine.connect()
        try:
            yield connection
        except BaseException:
            connection.close()  # back to the pool, as before idle ones were kept: it may be mid-statement
            raise
        if connection.invalidated or connection.closed or len(self.idle) >= REQUEST_CONNECTIONS:
            connection.close()
            return
        if connection.in_transaction():  # SQLAlchemy's own bookkeeping (autocommit): as if new
            connection.rollback()
        self.idle.append(connection)

    def close_idle(self) -> None:
        """Close the idle connections (from a greenlet of the loop, before its engines are disposed)."""
        while self.idle:
            self.idle.pop().close()


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.is_postgres = self.engine.dialect.name == "postgresql"
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, autoflush=True)
        self.cache = ProcessCache()
        self.charts = Charts()
        self._scopes: dict[asyncio.AbstractEventLoop, Scope] = {}
        self._serving: set[asyncio.AbstractEventLoop] = set()
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
            if self.is_postgres:  # who acts, for the audit triggers (SQLite asks the thread: storage/audit.py)
                session.execute(text(audit.set_actor_sql(audit.current_actor())))
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
        return Scope(self.engine, self.engine.execution_options(**{READ_ONLY: True}), None)

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
                # Request connections are in autocommit: a unit's link sends BEGIN itself, before its
                # first write, and none for a unit that only reads: at PostgreSQL's READ COMMITTED each
                # statement takes its own snapshot, in a transaction or not, so BEGIN and COMMIT
                # around reads would add two round trips and nothing else (docs/decisions/0018).
                scope = self._scopes[loop] = Scope(engine.sync_engine, engine.sync_engine, numbers.sync_engine,
                                                   (engine, numbers), keeps_idle=loop in self._serving)
        return scope

    def serving(self) -> None:
        """The running loop serves requests until `close_loop_engines` (a server's life, between the
        start and the end of its lifespan): its units of work keep connections open for the next."""
        loop = asyncio.get_running_loop()
        with self._lock:
            self._serving.add(loop)
            if loop in self._scopes:
                self._scopes[loop] = replace(self._scopes[loop], keeps_idle=True)

    async def close_loop_engines(self) -> None:
        """Close the connections the running loop's requests opened (at the end of a server's life)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            scope = self._scopes.pop(loop, None)
            self._serving.discard(loop)
        if scope is not None:
            await greenlet_spawn(scope.close_idle)
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
