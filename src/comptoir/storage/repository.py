"""Repositories: the only place that reads and writes rows, and the one place that applies the
organization scope. A repository never returns a row of another organization."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Generic, Sequence, TypeVar

from sqlalchemy import ColumnElement, DateTime, Select, UniqueConstraint, and_, delete, exists, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from comptoir.domain.errors import ErrorKind, NotFound, fail
from comptoir.domain.query import Condition, ListQuery, Op

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


def flush(session: Session) -> None:
    """Write pending changes now, inside a savepoint, so that a unique index that refuses them
    becomes a DUPLICATE domain error naming the field, and the transaction stays usable."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as error:
        field = _violated_field(error)
        if field is None:
            raise
        raise fail(ErrorKind.DUPLICATE, field, "this value is already used") from error


def _violated_field(error: IntegrityError) -> str | None:
    constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
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


def _unique_columns() -> dict[str, list[str]]:
    """Unique constraint name -> its columns, from the tables' own definitions."""
    found: dict[str, list[str]] = {}
    for table in Base.metadata.tables.values():
        for constraint in table.constraints:
            if isinstance(constraint, UniqueConstraint) and constraint.name:
                found[str(constraint.name)] = [column.name for column in constraint.columns]
    return found


class Repository(Generic[Row]):
    def __init__(self, session: Session, org_id: int, model: type[Row], label: str) -> None:
        self.session = session
        self.org_id = org_id
        self.model = model
        self.label = label

    # Every query of this repository starts here: this is where the organization scope lives.
    def _scoped(self) -> Select:
        return select(self.model).where(self.model.org_id == self.org_id)

    def get(self, row_id: int) -> Row | None:
        if not _is_row_id(row_id):
            return None
        return self.session.scalars(self._scoped().where(self.model.id == row_id)).first()

    def lock(self, row_id: int) -> Row | None:
        """The row, locked until the transaction ends (PostgreSQL; SQLite has one writer anyway),
        so that concurrent changes that depend on it (payments of one invoice) queue up."""
        if not _is_row_id(row_id):
            return None
        return self.session.scalars(self._scoped().where(self.model.id == row_id).with_for_update(of=self.model)).first()

    def require(self, row_id: int) -> Row:
        row = self.get(row_id)
        if row is None:
            raise NotFound(self.label, row_id)
        return row

    def find(self, **attributes: Any) -> Row | None:
        return self.session.scalars(self._scoped().filter_by(**attributes).limit(1)).first()

    def exists(self, **attributes: Any) -> bool:
        return self.find(**attributes) is not None

    def all(self, *criteria: ColumnElement[bool]) -> Sequence[Row]:
        return self.session.scalars(self._scoped().where(*criteria).order_by(self.model.id)).all()

    def list(self, query: ListQuery) -> tuple[Sequence[Row], bool]:
        """One page of rows and whether another page follows."""
        statement = self._scoped().where(*(self._condition(c) for c in query.conditions))
        order = [getattr(self.model, o.attribute).desc() if o.descending else getattr(self.model, o.attribute)
                 for o in query.order]
        statement = statement.order_by(*order, self.model.id)
        rows = self.session.scalars(statement.offset(query.offset).limit(query.limit + 1)).all()
        return rows[: query.limit], len(rows) > query.limit

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
    """Per-organization sequences. The upsert takes a row lock (PostgreSQL) or runs under SQLite's
    single writer, so concurrent requests never receive the same number."""

    def __init__(self, session: Session, org_id: int) -> None:
        self.session = session
        self.org_id = org_id

    def next(self, key: str) -> int:
        dialect = postgresql if self.session.bind.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(Counter)
            .values(org_id=self.org_id, key=key, value=1)
            .on_conflict_do_update(index_elements=["org_id", "key"], set_={"value": Counter.value + 1})
            .returning(Counter.value)
        )
        return int(self.session.execute(statement).scalar_one())


_UNIQUE_COLUMNS = _unique_columns()
