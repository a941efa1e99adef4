"""Hot statements: SQLAlchemy Core statements compiled once per database, run on the driver's own
connection inside the unit of work's transaction.

Measured on the request path (docs/performance.md), SQLAlchemy's execution layer around asyncpg
costs 100 to 150 µs of CPU per statement beyond the driver's own, and its executemany and multi-row
RETURNING paths several hundred more: more than the rest of a hot request together. So the stores
keep SQLAlchemy for what it is best at, writing the statements (Core constructs over the tables'
definitions) and converting values (the columns' own bind and result processors: exact decimals,
JSON, dates on SQLite), and hand the compiled SQL to the driver themselves: asyncpg on PostgreSQL
(awaited from the unit of work's greenlet), sqlite3 on SQLite. Everything else stays SQLAlchemy's:
the transaction (begun, committed and rolled back by the session), the pool, the errors (a
driver's error becomes the SQLAlchemy error it would have raised, so unique violations, deadlocks
and dropped connections are recognised as anywhere else), and the `before_cursor_execute` event,
so that whoever counts statements (tests/test_statements.py) sees these too."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    Numeric,
    Table,
    bindparam,
    cast,
    func,
    insert,
    select,
    text,
    tuple_,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import NullType, TypeDecorator
from sqlalchemy.util import await_only

ROWS_PER_INSERT_MAX = 200  # a multi-row INSERT takes at most this many rows (SQLite: 32,766 parameters)
ROWS_PER_VALUES_MAX = 16  # more rows than this, on PostgreSQL: one array per column (`Inserts`)


class _Compiled:
    """One statement for one driver: its SQL, its parameters (in order, or by name, as the driver takes
    them) with their processors, and the processors of its result's columns."""

    def __init__(self, statement: Executable, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        processors = compiled._bind_processors  # what SQLAlchemy's own execution would apply
        self.positional = compiled.positional
        names = compiled.positiontup if compiled.positional else list(compiled.bind_names.values())
        self.params = [(name, processors.get(name)) for name in names or ()]
        # A value written in the statement itself (`column == 3`) is a parameter with its value.
        self.given = {name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required}
        self.results = [column.type._cached_result_processor(dialect, _coltype(column.type, dialect))
                        for column in compiled._result_columns]
        self.processes_results = any(self.results)

    def arguments(self, values: Mapping[str, Any]) -> tuple | dict:
        if self.given:
            values = {**self.given, **values}
        processed = ((name, value if process is None else process(value))
                     for name, process, value in ((name, process, values[name]) for name, process in self.params))
        return tuple(value for _, value in processed) if self.positional else dict(processed)

    def row(self, raw: Sequence[Any]) -> tuple:
        if not self.processes_results:
            return tuple(raw)
        return tuple(value if process is None or value is None else process(value)
                     for process, value in zip(self.results, raw))


def _coltype(type_: Any, dialect: Dialect) -> int | None:
    """The type code the driver would describe a column of this type with, where the processor depends
    on it: PostgreSQL's numeric and double precision (their OIDs); None elsewhere."""
    if dialect.name != "postgresql":
        return None
    impl = type_.dialect_impl(dialect)
    impl = getattr(impl, "impl_instance", impl)
    if isinstance(impl, Float):
        return 701
    return 1700 if isinstance(impl, Numeric) else None


@functools.cache
def records(table: Table, dialect: Dialect) -> Callable[[Sequence[Any]], tuple]:
    """The processing of a row of `table` read inside another statement (an array of records on
    PostgreSQL): each value through its column's result processor."""
    processors = [column.type._cached_result_processor(dialect, _coltype(column.type, dialect))
                  for column in table.columns]

    def process(raw: Sequence[Any]) -> tuple:
        return tuple(value if process is None or value is None else process(value)
                     for process, value in zip(processors, raw))
    return process


class Statement:
    """A Core statement run by the driver (see the module). `all`, `first` and `scalar` return rows
    as tuples, in the order of the statement's columns; `run` and `run_many` return nothing."""

    def __init__(self, statement: Executable, *, writes: bool | None = None) -> None:
        """`writes`: whether it writes or locks rows, and so belongs in the unit of work's transaction
        (storage/link.Link); by default an INSERT, UPDATE or DELETE, or a SELECT ... FOR UPDATE does."""
        self.statement = statement
        self.writes = writes if writes is not None else (
            bool(getattr(statement, "is_dml", False)) or getattr(statement, "_for_update_arg", None) is not None)
        self._compiled: dict[tuple[type, str], _Compiled] = {}

    def all(self, where: Any, **values: Any) -> list[tuple]:
        connection = _connection(where, self.writes)
        compiled = self._for(connection.dialect)
        return [compiled.row(row) for row in _fetch(connection, compiled, values)]

    def first(self, where: Any, **values: Any) -> tuple | None:
        rows = self.all(where, **values)
        return rows[0] if rows else None

    def scalar(self, where: Any, **values: Any) -> Any:
        row = self.first(where, **values)
        return None if row is None else row[0]

    def run(self, where: Any, **values: Any) -> None:
        connection = _connection(where, self.writes)
        _fetch(connection, self._for(connection.dialect), values)

    def run_many(self, where: Any, rows: Sequence[Mapping[str, Any]]) -> None:
        """The statement once per row of values, in one round trip (the driver's executemany)."""
        if not rows:
            return
        connection = _connection(where, self.writes)
        compiled = self._for(connection.dialect)
        arguments = [compiled.arguments(row) for row in rows]
        _dispatch(connection, compiled.sql, arguments, many=True)
        driver = _driver(connection)
        try:
            if connection.dialect.is_async:
                await_only(driver.executemany(compiled.sql, arguments))
            else:
                with _cursor(driver) as cursor:
                    cursor.executemany(compiled.sql, arguments)
        except Exception as error:
            raise _translated(connection, error, compiled.sql, arguments) from error

    def _for(self, dialect: Dialect) -> _Compiled:
        key = (type(dialect), dialect.paramstyle)  # asyncpg's and psycopg's SQL differ, both PostgreSQL
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = _Compiled(self.statement, dialect)
        return compiled


class Inserts:
    """New rows of one table, any number of them, returning their ids in the order of the rows. Every
    row gives every column of `columns`. A few rows: one multi-row INSERT (a few for very many). Many
    rows on PostgreSQL: one INSERT of one array per column (`INSERT ... SELECT * FROM unnest(...)`),
    whose text and parameters do not grow with the rows: a driver parses the SQL of each statement
    it is sent, and psycopg caches that only for short statements, so a multi-row INSERT of a few
    hundred rows cost more to parse than to run (half of the CLI import's CPU, docs/performance.md).

    `first`: a statement that writes (a DELETE of the rows the new ones replace), run in the same
    statement as a common table expression, before the INSERT's rows are seen by anyone (PostgreSQL
    only; its parameters are given to `ids` with the rows); at most ROWS_PER_INSERT_MAX rows then."""

    def __init__(self, table: Table, columns: Sequence[str], *, first: Executable | None = None) -> None:
        self.table = table
        self.columns = tuple(columns)
        self.first = first
        self._by_count: dict[int, Statement] = {}
        self._arrays: Statement | None = None

    def ids(self, where: Any, rows: Sequence[Mapping[str, Any]], **values: Any) -> list[int]:
        if self.first is not None and len(rows) > ROWS_PER_INSERT_MAX:
            raise ValueError(f"at most {ROWS_PER_INSERT_MAX} rows with a statement run first")
        if len(rows) > ROWS_PER_VALUES_MAX and _connection(where, writes=True).dialect.name == "postgresql":
            values.update({f"{name}_rows": [row[name] for row in rows] for name in self.columns})
            return sorted(row[0] for row in self._array_statement().all(where, **values))
        ids: list[int] = []
        for start in range(0, len(rows), ROWS_PER_INSERT_MAX):
            chunk = rows[start:start + ROWS_PER_INSERT_MAX]
            values.update({f"{name}_{index}": row[name] for index, row in enumerate(chunk) for name in self.columns})
            # A multi-row INSERT takes its ids from the table's sequence (its rowid on SQLite) row after
            # row: in ascending order, the order of the rows.
            ids.extend(sorted(row[0] for row in self._statement(len(chunk)).all(where, **values)))
        return ids

    def _statement(self, count: int) -> Statement:
        statement = self._by_count.get(count)
        if statement is None:
            rows = [{name: bindparam(f"{name}_{index}", type_=self.table.c[name].type) for name in self.columns}
                    for index in range(count)]
            statement = self._by_count[count] = self._made(insert(self.table).values(rows))
        return statement

    def _array_statement(self) -> Statement:
        """The rows as one array per column, unnested in their order (the ids follow it, as above)."""
        if self._arrays is None:
            arrays = [cast(bindparam(f"{name}_rows", type_=postgresql.ARRAY(self.table.c[name].type)),
                           postgresql.ARRAY(self.table.c[name].type)) for name in self.columns]
            rows = func.unnest(*arrays).table_valued(*self.columns).render_derived()
            self._arrays = self._made(insert(self.table).from_select(
                self.columns, select(*(rows.c[name] for name in self.columns))))
        return self._arrays

    def _made(self, made: Any) -> Statement:
        made = made.returning(self.table.c.id)
        if self.first is not None:
            made = made.add_cte(self.first.cte("first"))
        return Statement(made, writes=True)


@dataclass
class Then:
    """A row and its children (`inserts`: their WithChildren) to insert in the statement of another
    WithChildren insert (PostgreSQL), its parent's `column` set to that other parent's new id: a
    document, then the transaction it posts (source_id). `done(first_id, parent_id, child_ids)` is
    told the ids once written (first_id None, and nothing written, when the first parent's row was
    not: `unless_taken`); it is never called when the insert could not ride along."""

    inserts: WithChildren
    row: Mapping[str, Any]
    children: Sequence[Mapping[str, Any]]
    column: str
    done: Callable[[int | None, int | None, list[int]], None]


class WithChildren:
    """A new row and its child rows (a document and its lines, a transaction and its entries), their
    ids in the order of the rows: on PostgreSQL in one statement (`WITH parent AS (INSERT ...
    RETURNING id) INSERT INTO children ... SELECT parent.id, ...`), elsewhere in two (`Inserts`).
    A round trip is most of what a statement costs a request (docs/performance.md)."""

    def __init__(self, parent: Table, child: Table, key: str) -> None:
        self.parent, self.child, self.key = parent, child, key
        self.parent_columns = tuple(column.name for column in parent.columns if column.name != "id")
        self.child_columns = tuple(column.name for column in child.columns if column.name not in ("id", key))
        self._parents = Inserts(parent, self.parent_columns)
        self._children = Inserts(child, (key, *self.child_columns))
        self._by_count: dict[tuple, Statement] = {}

    def ids(self, where: Any, row: Mapping[str, Any], children: Sequence[Mapping[str, Any]], *,
            unless_taken: tuple[str, ...] = (), then: Then | None = None) -> tuple[int | None, list[int]]:
        """The new parent's id and its children's (which need not give the parent's key).
        `unless_taken` (PostgreSQL): the columns of a unique index; when another row holds the
        parent's values there, nothing is written and the id is None (`ON CONFLICT ... DO NOTHING`:
        the transaction goes on, where a refused INSERT would end it). `then`: another insert that
        rides along in the same statement, when it can (PostgreSQL, few children)."""
        connection = _connection(where, writes=True)
        if connection.dialect.name != "postgresql" or len(children) > ROWS_PER_INSERT_MAX:
            if unless_taken:
                raise ValueError("unless_taken: PostgreSQL, and at most ROWS_PER_INSERT_MAX children")
            [parent_id] = self._parents.ids(connection, [row])
            return parent_id, self._children.ids(connection, [{**child, self.key: parent_id} for child in children])
        values = self._values("", row, children)
        if then is None or len(then.children) > ROWS_PER_INSERT_MAX:
            parent_id, child_ids = self._statement(len(children), unless_taken).first(connection, **values)
            return parent_id, sorted(child_ids)  # taken from the sequence in the order of the rows
        values.update(then.inserts._values("b_", then.row, then.children))
        statement = self._statement(len(children), unless_taken, (then.inserts, len(then.children), then.column))
        parent_id, child_ids, then_id, then_ids = statement.first(connection, **values)
        then.done(parent_id, then_id, sorted(then_ids))
        return parent_id, sorted(child_ids)

    def _values(self, tag: str, row: Mapping[str, Any], children: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        values = {f"{tag}p_{name}": row[name] for name in self.parent_columns}
        values.update({f"{tag}c{index}_{name}": child[name] for index, child in enumerate(children)
                       for name in self.child_columns})
        return values

    def _statement(self, count: int, unless_taken: tuple[str, ...] = (),
                   then: tuple[WithChildren, int, str] | None = None) -> Statement:
        key = (count, unless_taken, then)
        statement = self._by_count.get(key)
        if statement is None:
            ctes, selects, parameters = self._parts("", count, unless_taken)
            if then is not None:
                inserts, then_count, column = then
                more = inserts._parts("b_", then_count, (), source=(column, "parent"))
                ctes, selects, parameters = ctes + more[0], selects + more[1], parameters + more[2]
            sql = f"WITH {', '.join(ctes)} SELECT {', '.join(selects)}"
            statement = self._by_count[key] = Statement(text(sql).bindparams(*parameters), writes=True)
        return statement

    def _parts(self, tag: str, count: int, unless_taken: tuple[str, ...],
               source: tuple[str, str] | None = None) -> tuple[list[str], list[str], list[Any]]:
        """The common table expressions of the insert (names and parameters prefixed by `tag`), what
        the statement selects of them (the parent's id, the children's ids), and their parameters.
        `source`: (a parent column, a CTE) the column takes its value from the CTE's id, and nothing is
        inserted when the CTE inserted nothing."""
        parent, child = self.parent, self.child
        # The values of a VALUES list (and of a SELECT list) have no column to take their type from:
        # each is cast to its column's type (an untyped NULL or string would be text, which a numeric
        # column refuses).
        types = {name: child.c[name].type.compile(dialect=postgresql.dialect()) for name in self.child_columns}
        rows = ", ".join("(" + ", ".join(f"CAST(:{tag}c{index}_{name} AS {types[name]})"
                                         for name in self.child_columns) + f", {index})" for index in range(count))
        conflict = f"ON CONFLICT ({', '.join(unless_taken)}) DO NOTHING " if unless_taken else ""
        columns = [name for name in self.parent_columns if source is None or name != source[0]]
        if source is None:
            values = f"VALUES ({', '.join(f':{tag}p_' + name for name in columns)})"
        else:
            parent_types = {name: parent.c[name].type.compile(dialect=postgresql.dialect()) for name in columns}
            values = (f"SELECT {', '.join(f'CAST(:{tag}p_{name} AS {parent_types[name]})' for name in columns)}, "
                      f"{source[1]}.id FROM {source[1]}")
            columns.append(source[0])
        ctes = [f"{tag}parent AS (INSERT INTO {parent.name} ({', '.join(columns)}) {values} {conflict}RETURNING id)",
                (f"{tag}children AS (INSERT INTO {child.name} ({self.key}, {', '.join(self.child_columns)}) "
                 f"SELECT {tag}parent.id, {', '.join('v.' + name for name in self.child_columns)} "
                 f"FROM {tag}parent, (VALUES {rows}) AS v({', '.join(self.child_columns)}, ord) "
                 "ORDER BY v.ord RETURNING id)") if count else f"{tag}children AS (SELECT NULL::bigint AS id LIMIT 0)"]
        selects = [f"(SELECT id FROM {tag}parent)", f"ARRAY(SELECT id FROM {tag}children)"]
        parameters = [bindparam(f"{tag}p_{name}", type_=parent.c[name].type) for name in self.parent_columns
                      if source is None or name != source[0]]
        parameters += [bindparam(f"{tag}c{index}_{name}", type_=child.c[name].type)
                       for index in range(count) for name in self.child_columns]
        return ctes, selects, parameters


# -- a list of ids as one parameter -------------------------------------------------------------------

class _IdList(TypeDecorator):
    """A list of integer ids bound as one parameter: a PostgreSQL array, a JSON array on SQLite."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.ARRAY(BigInteger()))
        return dialect.type_descriptor(JSON())


class _InIds(ColumnElement[bool]):
    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a condition in itself (no "= 1" after it on SQLite)

    def __init__(self, column: Any, name: str) -> None:
        self.column = column
        self.ids = bindparam(name, type_=_IdList())


@compiles(_InIds, "postgresql")
def _in_ids_postgresql(element: _InIds, compiler: Any, **kw: Any) -> str:
    return f"{compiler.process(element.column, **kw)} = ANY({compiler.process(element.ids, **kw)})"


@compiles(_InIds)
def _in_ids_sqlite(element: _InIds, compiler: Any, **kw: Any) -> str:
    return f"{compiler.process(element.column, **kw)} IN (SELECT value FROM json_each({compiler.process(element.ids, **kw)}))"


def array_of(table: Table, where: ColumnElement[bool], *order: Any) -> Any:
    """PostgreSQL: the rows of `table` that `where` selects (a condition on the outer statement's
    row), as one array of records in a column of that row (asyncpg hands them back as tuples, which
    `records` processes): a row's children read in the same statement as the row."""
    return (select(func.array_agg(aggregate_order_by(tuple_(*table.columns), *order), type_=NullType()))
            .where(where).scalar_subquery())


def by_ids(table: Table) -> Any:
    """`SELECT every column FROM table WHERE org_id = :org_id AND id IN (:ids)`."""
    return select(*table.columns).where(table.c.org_id == bindparam("org_id"), in_ids(table.c.id))


def in_ids(column: Any, name: str = "ids") -> ColumnElement[bool]:
    """`column IN (the ids of parameter `name`)`, with the list bound as one parameter, so that the
    statement is compiled once whatever the number of ids (an IN list would be one statement per
    length, which a statement compiled once cannot be)."""
    return _InIds(column, name)


# -- the driver ----------------------------------------------------------------------------------

def _connection(where: Any, writes: bool = False) -> Connection:
    """The connection to run on: the one given, a unit of work's link's (storage/link.Link: in its
    transaction when the statement `writes`), or a session's, once what it holds is written (a
    statement must see the unit's own writes)."""
    if isinstance(where, Connection):
        return where
    if isinstance(where, Session):
        if where.new or where.dirty or where.deleted:
            where.flush()
        return where.connection()
    return where.connection(writing=writes)


def script(connection: Connection, sql: str) -> None:
    """SQL without parameters, possibly several statements (`BEGIN`; an upsert with its values written
    in, then `COMMIT`), sent in one round trip (asyncpg's simple query protocol)."""
    _dispatch(connection, sql, (), many=False)
    driver = connection.connection.driver_connection
    try:
        await_only(driver.execute(sql))
    except Exception as error:
        raise _translated(connection, error, sql, ()) from error


def _driver(connection: Connection) -> Any:
    """What runs the SQL, inside the transaction SQLAlchemy began: asyncpg's own connection (told to
    begin the transaction now: SQLAlchemy's adapter otherwise begins it with its first statement of
    its own), else the DBAPI connection (sqlite3, psycopg)."""
    adapted = connection.connection.dbapi_connection
    if not connection.dialect.is_async:
        return adapted
    if connection.in_transaction() and adapted._transaction is None and adapted.isolation_level != "autocommit":
        await_only(adapted._start_transaction())
    return connection.connection.driver_connection


def _fetch(connection: Connection, compiled: _Compiled, values: Mapping[str, Any]) -> Iterable[Sequence[Any]]:
    arguments = compiled.arguments(values)
    _dispatch(connection, compiled.sql, arguments, many=False)
    driver = _driver(connection)
    try:
        if connection.dialect.is_async:
            return await_only(driver.fetch(compiled.sql, *arguments))
        with _cursor(driver) as cursor:
            cursor.execute(compiled.sql, arguments)
            return cursor.fetchall() if cursor.description is not None else ()
    except Exception as error:
        raise _translated(connection, error, compiled.sql, arguments) from error


@contextmanager
def _cursor(driver: Any) -> Iterator[Any]:
    """A DBAPI cursor, closed when the block ends, in this thread, even when it raises. Left to the
    garbage collector (a cursor kept alive by the traceback of a refused statement, the traceback by a
    reference cycle), an sqlite3 cursor resets its statement in whichever thread collects it, which
    waits for its connection's mutex while holding the GIL: when that connection's thread is waiting
    for the write lock that the collecting thread holds, every thread of the process stops until the
    busy timeout gives up (30 s, a request lost)."""
    cursor = driver.cursor()
    try:
        yield cursor
    finally:
        cursor.close()


def _dispatch(connection: Connection, sql: str, arguments: Any, *, many: bool) -> None:
    """SQLAlchemy's `before_cursor_execute` event, for whoever listens (statement counts)."""
    connection.dispatch.before_cursor_execute(connection, None, sql, arguments, None, many)


def _translated(connection: Connection, error: Exception, sql: str, arguments: Any) -> Exception:
    """The driver's error as SQLAlchemy would have raised it (IntegrityError for a unique violation,
    with the driver's sqlstate; `connection_invalidated` when the connection is gone, which is then
    dropped from the pool)."""
    dialect = connection.dialect
    dbapi_error = error
    if dialect.is_async and not isinstance(error, dialect.loaded_dbapi.Error):
        try:
            connection.connection.dbapi_connection._handle_exception(error)
        except dialect.loaded_dbapi.Error as adapted:  # the adapter raises it translated into its DBAPI classes
            dbapi_error = adapted
    if not isinstance(dbapi_error, dialect.loaded_dbapi.Error):
        return dbapi_error
    invalidated = dialect.is_disconnect(dbapi_error, connection.connection.dbapi_connection, None)
    if invalidated:
        connection.invalidate(dbapi_error)
    return sa_exc.DBAPIError.instance(sql, arguments, dbapi_error, dialect.loaded_dbapi.Error,
                                      connection_invalidated=invalidated, dialect=dialect)
