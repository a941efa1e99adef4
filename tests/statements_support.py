"""What the database saw during one request: every statement, the transaction boundaries, and which
connection each went to, from SQLAlchemy's events (tests/test_statements.py).

    with counted() as seen:
        response = oneup.get(f"/invoices/{invoice_id}")
    assert seen.transactions() == 1, str(seen)
    assert len(seen.statements(REQUEST)) == 4, str(seen)

The listeners are registered on the `Engine` CLASS, not on an engine: they see every engine of the
process, the sync engine (SQLite's requests, the tests' fixtures) as well as the engines a
PostgreSQL request runs on, made per event loop (storage/database.Database._loop_scope), and the
numbers engines. They record only inside the `with` block, so the fixtures that made the book before
it are not counted.

Each event goes to one of two connections:
- REQUEST: a connection in a transaction, the unit of work's (BEGIN, its statements, COMMIT);
  On PostgreSQL a request that only reads runs its statements on a request connection in autocommit
  (storage/database.Database._loop_scope): there are no boundaries then, only statements.
- NUMBERS: an AUTOCOMMIT connection, where PostgreSQL takes numbers of the per-organization counters
  in one-statement transactions of their own (storage/repository.Counters, docs/decisions/0016).
The begin and rollback events SQLAlchemy still fires on a connection in autocommit are not round trips
(the driver sends no BEGIN in autocommit mode), so only the statements are counted there.
On SQLite BEGIN is itself a statement (storage/database._configure_sqlite sends `BEGIN IMMEDIATE`
from the begin event): it is counted once, as the transaction's boundary, not as a statement.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.interfaces import ExecuteStyle

from comptoir.storage.database import NUMBERS as NUMBERS_CONNECTION

REQUEST = "request"
NUMBERS = "numbers"
STATEMENT, BEGIN, COMMIT, ROLLBACK = "statement", "BEGIN", "COMMIT", "ROLLBACK"


@dataclass(frozen=True)
class Event:
    kind: str  # STATEMENT, BEGIN, COMMIT or ROLLBACK
    connection: str  # REQUEST or NUMBERS
    number: int  # which database connection of that kind, in the order they were first seen (1, 2, ...)
    sql: str = ""
    rows: int = 1  # parameter sets of an executemany (one statement, sent once, for several rows)
    carries: str | None = None  # a boundary sent in the same round trip (the upsert before COMMIT)
    trip: bool = True  # a round trip of its own (not a COMMIT sent with the statement before it)

    @property
    def first_line(self) -> str:
        return self.sql.strip().split("\n", 1)[0].strip()

    def __str__(self) -> str:
        """The statement on one line, without its lists of columns: what it reads or writes, and where."""
        if self.kind != STATEMENT:
            return self.kind if self.trip else f"{self.kind} (with the statement above, in its round trip)"
        sql = " ".join(self.sql.split())
        if sql.startswith("SELECT ") and " FROM " in sql:
            columns, rest = sql[7:].split(" FROM ", 1)
            first = columns.split(", ", 1)[0]
            sql = f"SELECT {first}{', …' if first != columns else ''} FROM {rest}"
        else:
            sql = re.sub(r"^(INSERT INTO \S+) \([^)]*\)", r"\1 (…)", sql)
            sql = re.sub(r" VALUES \(.*?\)(?= ON CONFLICT| RETURNING|$)", " VALUES (…)", sql)
            sql = re.sub(r" SELECT p0::.*? FROM \(VALUES .*?\) AS imp_sen\(.*?\) ORDER BY sen_counter",
                         " SELECT … FROM (VALUES …) ORDER BY sen_counter", sql)
        sql = sql if len(sql) <= 240 else sql[:239] + "…"
        return sql + (f"  [executemany ×{self.rows}]" if self.rows > 1 else "")


@dataclass
class Seen:
    """The events of one request, in order. `str(seen)` lists them all, one line each: what a failed
    assertion shows."""

    events: list[Event] = field(default_factory=list)

    def statements(self, connection: str = REQUEST) -> list[Event]:
        return [e for e in self.events if e.kind == STATEMENT and e.connection == connection]

    def boundaries(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.kind == kind and e.connection == REQUEST]

    def transactions(self) -> int:
        """Transactions begun on a REQUEST connection."""
        return len(self.boundaries(BEGIN))

    def connections(self, connection: str = REQUEST) -> int:
        return len({e.number for e in self.events if e.connection == connection})

    def round_trips(self) -> int:
        """Every exchange with the database: statements of both connections, BEGIN and COMMIT/ROLLBACK."""
        boundaries = [e for e in self.events if e.kind != STATEMENT and e.connection == REQUEST and e.trip]
        return len(self.statements(REQUEST)) + len(self.statements(NUMBERS)) + len(boundaries)

    def summary(self) -> str:
        return (f"{self.transactions()} transaction(s) ({len(self.boundaries(COMMIT))} committed, "
                f"{len(self.boundaries(ROLLBACK))} rolled back) on {self.connections(REQUEST)} request "
                f"connection(s): {len(self.statements(REQUEST))} statements; "
                f"{len(self.statements(NUMBERS))} on the numbers connection; {self.round_trips()} round trips")

    def __str__(self) -> str:
        lines = [self.summary()]
        counters = {REQUEST: 0, NUMBERS: 0}
        for e in self.events:
            if e.kind == STATEMENT:
                counters[e.connection] += 1
                label = f"{counters[e.connection]:>3}"
            else:
                label = "   "
            lines.append(f"  {e.connection:>7} #{e.number} {label}  {e}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Seen: {self.summary()}>"


def _autocommit(connection: Connection) -> bool:
    # SQLAlchemy answers this from the engine's settings, without asking the database.
    return connection._is_autocommit_isolation()


def _numbers(connection: Connection) -> bool:
    return connection.get_execution_options().get("comptoir_connection") == NUMBERS_CONNECTION["comptoir_connection"]


def _without_actor(sql: str) -> str:
    """The script without the audit trail's actor, which the link names with its BEGIN
    (storage/audit.set_actor_sql): part of beginning the transaction, in its round trip, as SET
    LOCAL is part of the COMMIT."""
    if ";" not in sql:
        return sql
    return ";".join(part for part in sql.split(";") if not part.strip().startswith("SELECT set_config('comptoir.actor'"))


def _boundary(sql: str) -> str | None:
    """BEGIN, COMMIT or ROLLBACK when the statement is one: on PostgreSQL a request's link sends them
    itself (storage/link.Link), COMMIT after the maintained balances' upsert in the same round trip."""
    last = sql.rstrip().rstrip(";").rsplit(";", 1)[-1].strip().upper()
    return last if last in (BEGIN, COMMIT, ROLLBACK) else None


class _Recorder:
    """The listeners, registered once on the Engine class, recording while `seen` is set."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: Seen | None = None
        # The database connections seen, by id, numbered per role (kept, so that no other takes the id).
        self.known: dict[int, tuple[object, int]] = {}

    def _number(self, connection: Connection, role: str) -> int:
        """Which database connection of its role: the pooled DBAPI connection, the same across checkouts."""
        dbapi_connection = connection.connection.dbapi_connection
        if id(dbapi_connection) not in self.known:
            same_role = [e for e in self.seen.events if e.connection == role]
            self.known[id(dbapi_connection)] = (dbapi_connection, 1 + max((e.number for e in same_role), default=0))
        return self.known[id(dbapi_connection)][1]

    def _record(self, connection: Connection, kind: str, sql: str = "", rows: int = 1) -> None:
        if self.seen is None:  # not counting: the rest of the suite pays no lock
            return
        sql = _without_actor(sql)
        with self.lock:
            if self.seen is None:
                return
            role = NUMBERS if _numbers(connection) else REQUEST
            if kind != STATEMENT and _autocommit(connection):
                return  # no round trip in autocommit mode
            if kind == STATEMENT and not _autocommit(connection) and sql.lstrip().upper().startswith("BEGIN"):
                return  # SQLite's BEGIN [IMMEDIATE], sent from the begin event: counted as the boundary
            boundary = _boundary(sql) if kind == STATEMENT else None
            number = self._number(connection, role)
            if boundary is not None:
                rest = sql.rstrip().rstrip(";").rsplit(";", 1)[0] if ";" in sql.rstrip().rstrip(";") else ""
                if rest.strip():  # the statement sent with it, in the same round trip
                    self.seen.events.append(Event(STATEMENT, role, number, rest, rows, carries=boundary))
                self.seen.events.append(Event(boundary, role, number, sql, rows, trip=not rest.strip()))
                return
            self.seen.events.append(Event(kind, role, number, sql, rows))

    def before_cursor_execute(self, connection, cursor, statement, parameters, context, executemany) -> None:
        # One statement sent once for several rows (the DBAPI's executemany); not SQLAlchemy's
        # "insertmanyvalues", which also says executemany but sends one statement per batch of rows.
        many = getattr(context, "execute_style", None) is ExecuteStyle.EXECUTEMANY
        self._record(connection, STATEMENT, statement, len(parameters) if many else 1)

    def begin(self, connection) -> None:
        self._record(connection, BEGIN)

    def commit(self, connection) -> None:
        self._record(connection, COMMIT)

    def rollback(self, connection) -> None:
        self._record(connection, ROLLBACK)


_recorder = _Recorder()
_listening = False
_listening_lock = threading.Lock()


def _listen() -> None:
    global _listening
    with _listening_lock:
        if not _listening:
            for name in ("before_cursor_execute", "begin", "commit", "rollback"):
                event.listen(Engine, name, getattr(_recorder, name))
            _listening = True


@contextmanager
def counted() -> Iterator[Seen]:
    """Records what every engine of the process sends while the block runs (one request, sent from
    the block through the test client, which returns once the response is complete)."""
    _listen()
    seen = Seen()
    with _recorder.lock:
        assert _recorder.seen is None, "counted() blocks do not nest"
        _recorder.seen, _recorder.known = seen, {}
    try:
        yield seen
    finally:
        with _recorder.lock:
            _recorder.seen, _recorder.known = None, {}
