"""Engine, sessions and migrations. One request's reads and writes run in one transaction."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any, Iterator

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


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
        # IMMEDIATE takes the write lock up front: two writers queue instead of deadlocking when
        # both try to upgrade a read lock, which SQLite resolves by failing one of them.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


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


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, autoflush=True)
        self.cache = ProcessCache()

    @cached_property
    def numbers_engine(self) -> Engine | None:
        """Where counters hand out numbers outside the request's transaction: PostgreSQL only. SQLite
        has one writer at a time, which holds its lock until commit anyway (and a second connection
        would wait for the request's own write lock): there numbers are taken in the transaction."""
        if self.engine.dialect.name != "postgresql":
            return None
        return make_numbers_engine(self.url)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one transaction: committed if the block ends normally, rolled back
        (leaving the book exactly as it was) if it raises."""
        with self._sessions() as session, session.begin():
            yield session

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
