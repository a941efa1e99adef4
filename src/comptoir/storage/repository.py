"""Repositories: the only place that reads and writes rows, and the one place that applies the
organization scope. A repository never returns a row of another organization."""

from __future__ import annotations

import functools
import re
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Generic, Sequence, TypeVar

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    DateTime,
    Select,
    String,
    Table,
    UniqueConstraint,
    and_,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    inspect,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, lazyload
from sqlalchemy.orm.util import identity_key

from comptoir.domain.errors import ErrorKind, NotFound, fail
from comptoir.domain.query import Condition, ListQuery, Op

from .link import Link, link_of
from .statements import Statement
from .tables import Base, Counter

Row = TypeVar("Row", bound=Base)

_OPERATORS = {
    Op.LT: lambda column, value: column < value,
    Op.LTE: lambda column, value: column <= value,
    Op.GT: lambda column, value: column > value,
    Op.GTE: lambda column, value: column >= value,
    Op.EQ: lambda column, value: column.is_(None) if value is None else column == value,
    Op.NOT: lambda column, value: column.is_not(None) if value is None else column != value,
    Op.IN: lambda column, value: column.in_(value if isinstance(value, Select) else list(value)),
    Op.CONTAINS: lambda column, value: column.ilike("%" + _escape_like(value) + "%", escape="\\"),
}


def _escape_like(value: str) -> str:
    """The text with LIKE's wildcards taken literally."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# Load a row without any of its relationships (they load when read, if ever): for a row whose
# columns are all a use case needs (the customer of a new invoice).
LEAN = (lazyload("*"),)

def flush(where: Link | Session) -> None:
    """Write the session's pending changes now, so that a unique index that refuses them becomes a
    DUPLICATE domain error naming the field. (On PostgreSQL the transaction is then spent: a caller
    that goes on after a refusal writes inside a savepoint of its own, services/kernel/imports.py.)"""
    link = link_of(where)
    if not link.changed():
        return
    try:
        link.session.flush()
    except IntegrityError as error:
        field = violated_field(error)
        if field is None:
            raise
        raise fail(ErrorKind.DUPLICATE, field, "this value is already used") from error


def constraint_name(error: DBAPIError) -> str | None:
    """The constraint PostgreSQL names in its refusal: psycopg keeps it in the error's `diag`, asyncpg
    (behind SQLAlchemy's adapter, which keeps asyncpg's own error as the cause) in the error itself."""
    found = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
    return found or getattr(error.orig.__cause__, "constraint_name", None)


def violated_field(error: IntegrityError) -> str | None:
    constraint = constraint_name(error)
    if constraint:  # PostgreSQL names the constraint; its last column is the field the caller chose
        columns = _UNIQUE_COLUMNS.get(constraint)
        return columns[-1] if columns and "unique" in str(error.orig).lower() else None
    match = re.search(r"UNIQUE constraint failed: (.+)$", str(error.orig))  # SQLite lists columns
    if match:
        return match.group(1).split(",")[-1].strip().split(".")[-1]
    return None


def _whole_day(column: Any, op: Op, day: date) -> ColumnElement[bool]:
    """A timestamp compared with a day compares with the whole day: `created_at=eq:2026-11-22`
    matches every moment of it, `lte:` includes it, `gt:` starts the next day."""
    start = datetime.combine(day, time.min, tzinfo=timezone.utc)
    end = start + timedelta(days=1)
    return {
        Op.EQ: and_(column >= start, column < end),
        Op.NOT: or_(column < start, column >= end),
        Op.LT: column < start,
        Op.LTE: column < end,
        Op.GT: column >= end,
        Op.GTE: column >= start,
    }[op]


def _is_row_id(value: Any) -> bool:
    """Ids are 64-bit integers; anything else names no row (and must not reach the driver)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


@functools.cache
def _exists(table: Any, names: tuple[str, ...]) -> Statement:
    """Whether a row of the organization has these values (`Repository.exists`), compiled once: the
    check of every automatic code (services/kernel/codes.py), on the path of every new document."""
    return Statement(select(table.c.id).where(table.c.org_id == bindparam("org_id"),
                                              *(table.c[name] == bindparam(name) for name in names)).limit(1))


def _unique_columns() -> dict[str, list[str]]:
    """Unique constraint name -> its columns, from the tables' own definitions."""
    found: dict[str, list[str]] = {}
    for table in Base.metadata.tables.values():
        for constraint in table.constraints:
            if isinstance(constraint, UniqueConstraint) and constraint.name:
                found[str(constraint.name)] = [column.name for column in constraint.columns]
    return found


class Repository(Generic[Row]):
    def __init__(self, where: Link | Session, org_id: int, model: type[Row], label: str) -> None:
        self.link = link_of(where)
        self.org_id = org_id
        self.model = model
        self.label = label

    @property
    def session(self) -> Session:
        """The unit of work's ORM session (made when a repository first needs it)."""
        return self.link.session

    # Every query of this repository starts here: this is where the organization scope lives, and
    # the model's own loading options (`loading()`, e.g. tables.Document's), if it has any.
    def _scoped(self) -> Select:
        statement = select(self.model).where(self.model.org_id == self.org_id)
        loading = getattr(self.model, "loading", None)
        return statement.options(*loading()) if loading is not None else statement

    def get(self, row_id: int, *options: Any) -> Row | None:
        """The row of this id, if it is this organization's. `options`: how to load it when it is not
        loaded already (LEAN: none of its relationships, which then load if ever read)."""
        if not _is_row_id(row_id):
            return None
        known = self._known(row_id)
        if known is not None:
            return known
        return self.session.scalars(self._scoped().where(self.model.id == row_id).options(*options)).first()

    def get_many(self, row_ids: Sequence[int]) -> dict[int, Row]:
        """The rows of these ids that exist, by id, in one query (none for those already loaded)."""
        found: dict[int, Row] = {}
        missing = []
        for row_id in dict.fromkeys(row_ids):
            if _is_row_id(row_id):
                known = self._known(row_id)
                if known is not None:
                    found[row_id] = known
                else:
                    missing.append(row_id)
        if missing:
            for row in self.session.scalars(self._scoped().where(self.model.id.in_(missing))):
                found[row.id] = row
        return found

    def _known(self, row_id: int) -> Row | None:
        """The row when this session has it loaded already (no query), if it is this organization's
        and not being deleted."""
        row = self.session.identity_map.get(identity_key(self.model, row_id))
        if row is None or row in self.session.deleted:
            return None
        state = inspect(row)
        if state.expired or state.deleted or state.detached or row.org_id != self.org_id:
            return None
        return row

    def lock(self, row_id: int) -> Row | None:
        """The row, locked until the transaction ends (PostgreSQL; SQLite has one writer anyway),
        so that concurrent changes that depend on it (payments of one invoice) queue up."""
        if not _is_row_id(row_id):
            return None
        known = self._known(row_id)
        if known is not None:  # loaded already: lock it without loading it again (a SELECT would not refresh it)
            statement = select(self.model.id).where(self.model.org_id == self.org_id, self.model.id == row_id)
            return known if self.session.scalar(statement.with_for_update()) is not None else None
        return self.session.scalars(self._scoped().where(self.model.id == row_id).with_for_update(of=self.model)).first()

    def require(self, row_id: int) -> Row:
        row = self.get(row_id)
        if row is None:
            raise NotFound(self.label, row_id)
        return row

    def find(self, **attributes: Any) -> Row | None:
        return self.session.scalars(self._scoped().filter_by(**attributes).limit(1)).first()

    def find_with(self, options: Sequence[Any], **attributes: Any) -> Row | None:
        """`find`, loading the row with these options (LEAN, say)."""
        return self.session.scalars(self._scoped().filter_by(**attributes).options(*options).limit(1)).first()

    def exists(self, **attributes: Any) -> bool:
        if any(value is None for value in attributes.values()):  # IS NULL: not a statement compiled once
            statement = select(self.model.id).where(self.model.org_id == self.org_id).filter_by(**attributes).limit(1)
            return self.session.scalar(statement) is not None
        return _exists(self.model.__table__, tuple(sorted(attributes))).first(
            self.link, org_id=self.org_id, **attributes) is not None

    def all(self, *criteria: ColumnElement[bool], options: Sequence[Any] = ()) -> Sequence[Row]:
        statement = self._scoped().where(*criteria).options(*options).order_by(self.model.id)
        return self.session.scalars(statement).all()

    def list(self, query: ListQuery) -> tuple[Sequence[Row], bool]:
        """One page of rows and whether another page follows (`page_ids`, then the page's rows with
        their relationships, `loading()`)."""
        ids, has_next = self.page_ids(query)
        found = self.get_many(ids)
        return [found[row_id] for row_id in ids if row_id in found], has_next

    def page_ids(self, query: ListQuery) -> tuple[list[int], bool]:
        """The ids of one page of rows, in order, and whether another page follows.

        The page is found by id first: filtering, sorting and skipping `offset` rows is done over the
        table's own narrow rows, and only the page's rows are then loaded. Sorting whole joined rows
        to throw most of them away made a deep page of a large book cost seconds (docs/performance.md,
        "the deep list")."""
        order = [getattr(self.model, o.attribute).desc() if o.descending else getattr(self.model, o.attribute)
                 for o in query.order]
        page = (select(self.model.id).where(self.model.org_id == self.org_id)
                .where(*(self._condition(c) for c in query.conditions))
                .order_by(*order, self.model.id).offset(query.offset).limit(query.limit + 1))
        ids = list(self.link.connection().scalars(page))  # Core: the ORM is not needed for ids
        return ids[: query.limit], len(ids) > query.limit

    def sum(self, column: Any, *criteria: ColumnElement[bool]) -> Any:
        statement = select(func.coalesce(func.sum(column), 0)).where(self.model.org_id == self.org_id, *criteria)
        return self.session.scalar(statement)

    def aggregate(self, columns: Sequence[Any], *criteria: ColumnElement[bool],
                  group_by: Sequence[Any] = ()) -> list[Any]:
        """Rows of aggregates over this organization's rows (sums by account, say)."""
        statement = select(*columns).where(self.model.org_id == self.org_id, *criteria).group_by(*group_by)
        return list(self.session.execute(statement))

    def count(self, *criteria: ColumnElement[bool]) -> int:
        statement = select(func.count()).select_from(self.model).where(self.model.org_id == self.org_id, *criteria)
        return self.session.scalar(statement) or 0

    def count_matching(self, conditions: Sequence[Condition]) -> int:
        """How many of this organization's rows meet every condition (the total of a filtered list)."""
        return self.count(*(self._condition(c) for c in conditions))

    def subquery(self, column: Any, *criteria: ColumnElement[bool]) -> Select:
        """One column of this organization's rows that meet the criteria, to be used in an IN
        condition (`Condition("id", Op.IN, subquery)`): the database filters, no ids pass through Python.
        It never borrows the table of an enclosing query (no correlation)."""
        return select(column).where(self.model.org_id == self.org_id, *criteria).correlate(None)

    def _condition(self, condition: Condition) -> ColumnElement[bool]:
        column = getattr(self.model, condition.attribute)
        if isinstance(column.type, DateTime) and type(condition.value) is date:
            return _whole_day(column, condition.op, condition.value)
        return _OPERATORS[condition.op](column, condition.value)

    def add(self, row: Row) -> Row:
        row.org_id = self.org_id
        self.session.add(row)
        flush(self.session)
        return row

    def remove(self, row: Row) -> None:
        assert row.org_id == self.org_id
        self.session.delete(row)
        flush(self.session)

    def is_referenced(self, column: Any, row_id: int, *criteria: ColumnElement[bool]) -> bool:
        """Whether a row of this repository's table points at `row_id` through `column`."""
        statement = select(exists().where(self.model.org_id == self.org_id, column == row_id, *criteria))
        return bool(self.session.scalar(statement))

    def delete_where(self, *criteria: ColumnElement[bool]) -> None:
        self.session.execute(delete(self.model).where(and_(self.model.org_id == self.org_id, *criteria)))


class Counters:
    """Per-organization sequences behind automatic codes (CUS-002, CINV-015) and transaction codes.
    Concurrent requests never receive the same number: the counter's row is incremented under its lock.

    On PostgreSQL a number is taken in a one-statement transaction of its own, so that the row is
    locked for that statement only and concurrent writers of one organization do not queue behind
    each other until commit: on the request's own connection while it is still in autocommit (its
    link has not begun the transaction yet: storage/link.Link), else on a connection of the `detached`
    engine. Like a PostgreSQL sequence, a number taken by a request that then rolls back is lost: the
    codes are unique, increasing, but may have gaps (docs/decisions/0016). Gap-free numbering is the
    numbering series' (services/numbering.py), which stays in the transaction.

    A number is taken in the unit's own transaction instead (holding the row until commit, as on
    SQLite, which has one writer at a time anyway) when there is neither, and for a key whose row this
    transaction already holds (a number taken here before, after the detached connection waited too
    long for the row: it may be this very transaction that holds it)."""

    def __init__(self, link: Link, org_id: int, detached: Engine | None = None) -> None:
        self.link = link
        self.org_id = org_id
        self.detached = detached
        self._held: set[str] = set()  # keys whose row this transaction has locked
        self._reserved: dict[str, list[int]] = {}  # numbers taken ahead (reserve), next first

    def next(self, key: str) -> int:
        reserved = self._reserved.get(key)
        if reserved:
            return reserved.pop()
        if key not in self._held:
            number = self._apart(_INCREMENT["postgresql"], key=key, count=1)
            if number is not None:
                return int(number[0][0])
        self._held.add(key)
        return int(_INCREMENT[self.link.dialect.name].scalar(self.link, org_id=self.org_id, key=key, count=1))

    def next_for_code(self, key: str, prefix: str, table: Table, column: str,
                      with_numbers: Sequence[str] = ()) -> tuple[int, bool | None]:
        """The next number of `key` for an automatic code (domain/codes.format_code with `prefix`), and
        whether a committed row of the organization in `table` already holds that code in `column`
        (a user took it by hand), asked in the same statement; None when it was not asked (the caller
        asks itself). `with_numbers`: keys of which one number each is taken by that statement too,
        for the next calls of `next` (a new invoice's transaction code): one round trip for all."""
        keys = sorted({key, *with_numbers})  # rows locked in one order by every writer: no deadlock
        rows = None
        if not self._reserved.get(key) and not any(k in self._held or self._reserved.get(k) for k in keys):
            rows = self._apart(_code_numbers(table, column), keys=keys, key=key, prefix=prefix)
        if rows is None:
            for other in with_numbers:
                self.reserve(other, 1)
            return self.next(key), None
        found, taken = 0, None
        for row_key, number, code_taken in rows:
            if row_key == key:
                found, taken = int(number), bool(code_taken)
            else:
                self._reserved[row_key] = [int(number)]
        return found, taken

    def next_held(self, key: str) -> int:
        """The next number of `key`, taken in the unit's own transaction: the counter's row is held
        until it ends, so that numbers come out in the order of the commits that use them, and a
        rollback gives the number back (gap-free numbering: docs/decisions/0026)."""
        self._held.add(key)
        return int(_INCREMENT[self.link.dialect.name].scalar(self.link, org_id=self.org_id, key=key, count=1))

    def give_back(self, key: str, number: int) -> bool:
        """Step the counter of `key` back from `number`, in the unit's transaction, if `number` is the
        last it gave (a numbered draft deleted); whether it was."""
        self._held.add(key)
        return _GIVE_BACK.first(self.link, org_id=self.org_id, key=key, number=number) is not None

    def reserve(self, key: str, count: int) -> None:
        """Take `count` numbers of this key at once, for the next calls of `next` (a bulk import):
        one statement instead of one each. Outside the transaction only (PostgreSQL): numbers this
        unit of work does not use are lost, as after a rollback. Otherwise it does nothing: numbers
        stay taken one at a time, in the transaction."""
        if key in self._held or count < 1:
            return
        rows = self._apart(_INCREMENT["postgresql"], key=key, count=count)
        if rows is not None:
            last = int(rows[0][0])
            self._reserved[key] = list(range(last, last - count, -1))  # popped from the end: lowest first

    def _apart(self, statement: Statement, **values: Any) -> list[tuple] | None:
        """The rows of a numbers statement run in a one-statement transaction of its own (PostgreSQL):
        on the unit's connection while in autocommit, else on the detached engine's. None when there is
        neither (SQLite, a blocking caller without one), or when the counter's row stayed locked past
        the detached connection's lock_timeout (then `_held` is what the caller falls back to)."""
        connection = self.link.autocommit_connection()
        if connection is not None:
            return statement.all(connection, org_id=self.org_id, **values)
        if self.detached is None:
            return None
        for attempt in (1, 2):  # a pooled connection the server closed is replaced, once
            try:
                with self.detached.connect() as connection:
                    return statement.all(connection, org_id=self.org_id, **values)
            except DBAPIError as error:
                if getattr(error.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
                    keys = values.get("keys") or [values["key"]]
                    self._held.update(keys)  # this very transaction may hold the row: taken in it instead
                    return None
                if not error.connection_invalidated or attempt == 2:
                    raise
        return None


LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's answer when lock_timeout runs out


def _increment(dialect: Any) -> Statement:
    """Add `count` to the organization's counter of `key` (created at `count`); its new value."""
    counter = Counter.__table__
    statement = dialect.insert(counter).values(org_id=bindparam("org_id"), key=bindparam("key"),
                                               value=bindparam("count"))
    return Statement(statement.on_conflict_do_update(index_elements=["org_id", "key"],
                                                     set_={"value": counter.c.value + statement.excluded.value})
                     .returning(counter.c.value))


_INCREMENT = {"postgresql": _increment(postgresql), "sqlite": _increment(sqlite)}
_GIVE_BACK = Statement(update(Counter.__table__)
                       .where(Counter.__table__.c.org_id == bindparam("org_id"),
                              Counter.__table__.c.key == bindparam("key"),
                              Counter.__table__.c.value == bindparam("number"))
                       .values(value=Counter.__table__.c.value - 1).returning(Counter.__table__.c.value))


@functools.cache
def _code_numbers(table: Table, column: str) -> Statement:
    """PostgreSQL: one more number of each of `keys`, and, for `key`'s, whether the organization's rows
    of `table` hold its code in `column` already. The code is written as domain/codes.format_code
    writes it (PREFIX-007, PREFIX-1234: tests/test_codes.py holds the two together)."""
    counter = Counter.__table__
    taken = table.alias("taken")
    keys = func.unnest(bindparam("keys", type_=postgresql.ARRAY(String))).table_valued("key").render_derived()
    added = postgresql.insert(counter).from_select(["org_id", "key", "value"],
                                                   select(bindparam("org_id", type_=BigInteger), keys.c.key,
                                                          literal(1, BigInteger)))
    bumped = added.on_conflict_do_update(index_elements=["org_id", "key"],
                                         set_={"value": counter.c.value + added.excluded.value}) \
        .returning(counter.c.key, counter.c.value).cte("bumped")
    digits = cast(bumped.c.value, String)
    code = bindparam("prefix", type_=String) + "-" + case((bumped.c.value < 1000, func.lpad(digits, 3, "0")),
                                                           else_=digits)
    holds = exists().where(taken.c.org_id == bindparam("org_id"), taken.c[column] == code,
                           bumped.c.key == bindparam("key", type_=String))
    return Statement(select(bumped.c.key, bumped.c.value, holds))


_UNIQUE_COLUMNS = _unique_columns()
