"""Maintained balances: the debit and credit totals of every account per day and per calendar month
(`tables.AccountBalance`), kept in step with the entries in the same database transaction, so that
reports read a few hundred rows instead of every entry (docs/decisions/0017-maintained-balances.md).

Writing. A unit of work notes what its entries add, as deltas of their (account, day) and
(account, month) totals, in a `Pending` its link keeps (storage/link.py): every change of an entry
made through the ORM (insert; update of its amount, way, account or date; delete, cascades and
orphans included) by mapper events, entries written with Core statements by their store
(`Pending.note_rows`). A savepoint has its own level: rolled back, its deltas are dropped; released,
they join the enclosing level. Just before the transaction commits, the netted deltas (rewriting
equal entries changes nothing) are added in one statement, `INSERT ... ON CONFLICT DO UPDATE SET
debit = debit + excluded.debit, ...`: atomic under concurrency, and its rows are taken in the order
of their keys, so two transactions never wait for each other's rows in opposite orders (no
deadlock), and the rows are locked only for the commit. On PostgreSQL the rows of one commit go to
one of `SLOTS` slots, chosen at random, so concurrent writers of the same account (every invoice
debits the receivable) seldom wait for each other; a total is the sum over its slots. SQLite has one
writer at a time: slot 0.

Rows written outside a unit of work are added with `add` on the connection that wrote them (the
benchmark's COPY loader does), or an organization's rows are rebuilt from its entries (`rebuild`)
when nothing writes to it. Deleting transactions or entries with a Core DELETE (or through the
foreign key's ON DELETE CASCADE) is not supported: delete them through their store or the session.

Reading. `totals(connection, org_id, date_from, date_to)` adds up the month rows of the whole months
of the range and the day rows of its partial months: at most (months + 62 days) x accounts x slots
rows, whatever the number of entries; plus the unit of work's own pending deltas
(storage/link.balance_totals: a unit of work reads its own writes).
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, and_, bindparam, case, cast, delete, func, insert, literal, literal_column, or_, select, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from .statements import Statement, in_ids
from .tables.ledger import AccountBalance, Entry

DAY, MONTH = "day", "month"
DEBIT = "debit"  # domain.ledger.DEBIT; every other way is a credit
SLOTS = 8  # PostgreSQL: rows per account and period that concurrent commits spread over
ZERO = Decimal(0)
_FIELDS = ("org_id", "account_id", "date", "way", "amount")

Key = tuple[int, str, date, int]  # (org_id, span, first_day, account_id)
Deltas = dict[Key, list[Decimal]]  # key -> [debit, credit]


# -- deltas of the entries written in a unit of work ---------------------------------------------

def _add_delta(deltas: Deltas, org_id: int, account_id: int, on: date, debit: Decimal, credit: Decimal) -> None:
    for span, first_day in ((DAY, on), (MONTH, on.replace(day=1))):
        totals = deltas.get((org_id, span, first_day, account_id))
        if totals is None:
            deltas[(org_id, span, first_day, account_id)] = [debit, credit]
        else:
            totals[0] += debit
            totals[1] += credit


def _merge(into: Deltas, deltas: Deltas) -> None:
    for key, (debit, credit) in deltas.items():
        totals = into.get(key)
        if totals is None:
            into[key] = [debit, credit]
        else:
            totals[0] += debit
            totals[1] += credit


class Pending:
    """The deltas a unit of work's entries add, not yet written: one level for the transaction and one
    per open savepoint (storage/link.Link.savepoint), so that a savepoint rolled back drops its own."""

    def __init__(self) -> None:
        self._levels: list[Deltas] = [{}]

    def note(self, values: tuple, sign: int) -> None:
        """An entry's (org_id, account_id, date, way, amount) added (`sign` +1) or taken away (-1)."""
        org_id, account_id, on, way, amount = values
        if None in (org_id, account_id, on, amount):
            return  # not a writable entry: its INSERT or UPDATE fails, and the transaction with it
        amount = Decimal(amount) * sign
        _add_delta(self._levels[-1], org_id, account_id, on, *((amount, ZERO) if way == DEBIT else (ZERO, amount)))

    def note_rows(self, rows: Iterable[Mapping[str, Any]], sign: int = +1) -> None:
        """Entries written with Core statements (dicts of their columns); `sign` -1 for rows deleted."""
        for row in rows:
            self.note(tuple(row[name] for name in _FIELDS), sign)

    def push(self) -> None:
        self._levels.append({})

    def release(self) -> None:
        """The savepoint is released: its deltas join the enclosing level's."""
        _merge(self._levels[-2], self._levels.pop())

    def drop(self) -> None:
        """The savepoint is rolled back: its deltas never happened."""
        self._levels.pop()

    def clear(self) -> None:
        self._levels = [{}]

    def all(self) -> Deltas:
        """Every level's deltas, netted."""
        found: Deltas = {}
        for level in self._levels:
            _merge(found, level)
        return found

    def take(self) -> Deltas:
        """Every level's deltas, netted, and forgotten (they are being written)."""
        found = self.all()
        self.clear()
        return found


# -- writing totals ----------------------------------------------------------------------------

def add(connection: Connection, deltas: Mapping[Key, Any], slot: int | None = None) -> None:
    """Add these (debit, credit) deltas to their rows, one statement run for each row in key order;
    deltas that net to nothing are skipped. `slot`: by default one at random on PostgreSQL, 0 on
    SQLite."""
    rows = [(key, debit, credit) for key, (debit, credit) in sorted(deltas.items()) if debit or credit]
    if not rows:
        return
    postgres = connection.dialect.name == "postgresql"
    if slot is None:
        slot = random.randrange(SLOTS) if postgres else 0
    # One statement whatever the number of rows, run for each row in one round trip (executemany, in
    # this order), compiled once per database.
    _ADD[connection.dialect.name].run_many(connection, [
        {"org_id": org_id, "span": span, "first_day": first_day, "account_id": account_id, "slot": slot,
         "debit": debit, "credit": credit}
        for (org_id, span, first_day, account_id), debit, credit in rows])


def upsert_script(deltas: Mapping[Key, Any], slot: int | None = None) -> str:
    """PostgreSQL: `add`'s upsert as text with its values written in, ending with `;` (nothing when
    the deltas net to nothing), for the unit of work's link to send with its COMMIT in one round
    trip (storage/link.Link.commit). Every value is checked to be what the link produced (integers,
    dates, decimals, the two spans), so the text never carries anything a client wrote."""
    rows = [(key, debit, credit) for key, (debit, credit) in sorted(deltas.items()) if debit or credit]
    if not rows:
        return ""
    slot = random.randrange(SLOTS) if slot is None else slot
    values = ", ".join(_literal_row(org_id, span, first_day, account_id, slot, debit, credit)
                       for (org_id, span, first_day, account_id), debit, credit in rows)
    return (f"INSERT INTO account_balances (org_id, span, first_day, account_id, slot, debit, credit) "
            f"VALUES {values} ON CONFLICT (org_id, span, first_day, account_id, slot) DO UPDATE SET "
            f"debit = account_balances.debit + excluded.debit, credit = account_balances.credit + excluded.credit;")


def _literal_row(org_id: int, span: str, first_day: date, account_id: int, slot: int, debit: Decimal,
                 credit: Decimal) -> str:
    if not (all(type(n) is int for n in (org_id, account_id, slot)) and span in (DAY, MONTH)
            and type(first_day) is date and all(isinstance(d, Decimal) and d.is_finite() for d in (debit, credit))):
        raise TypeError(f"not a balance row: {(org_id, span, first_day, account_id, slot, debit, credit)!r}")
    return f"({org_id}, '{span}', DATE '{first_day.isoformat()}', {account_id}, {slot}, {debit}, {credit})"


def _add_statement(dialect: Any) -> Statement:
    statement = dialect.insert(AccountBalance)
    return Statement(statement.on_conflict_do_update(
        index_elements=["org_id", "span", "first_day", "account_id", "slot"],
        set_={"debit": AccountBalance.debit + statement.excluded.debit,
              "credit": AccountBalance.credit + statement.excluded.credit}))


_ADD = {"postgresql": _add_statement(postgresql), "sqlite": _add_statement(sqlite)}


def deltas_of(rows: Iterable[Mapping[str, Any]]) -> Deltas:
    """The deltas of entries given as dicts of their columns (written with Core statements)."""
    deltas: Deltas = {}
    for row in rows:
        amount = Decimal(row["amount"])
        _add_delta(deltas, row["org_id"], row["account_id"], row["date"],
                   *((amount, ZERO) if row["way"] == DEBIT else (ZERO, amount)))
    return deltas


def rebuild(connection: Connection, org_id: int) -> None:
    """Recompute an organization's totals from its entries (into slot 0). Only while nothing
    writes to the organization's book: a concurrent writer's delta could be counted twice."""
    connection.execute(delete(AccountBalance).where(AccountBalance.org_id == org_id))
    debit = func.sum(case((Entry.way == DEBIT, Entry.amount), else_=0))
    credit = func.sum(case((Entry.way != DEBIT, Entry.amount), else_=0))
    for span, first_day in ((DAY, Entry.date), (MONTH, month_start(connection.dialect.name, Entry.date))):
        connection.execute(insert(AccountBalance).from_select(
            ["org_id", "span", "first_day", "account_id", "slot", "debit", "credit"],
            select(Entry.org_id, literal(span), first_day, Entry.account_id, literal(0), debit, credit)
            .where(Entry.org_id == org_id).group_by(Entry.org_id, first_day, Entry.account_id)))


def month_start(dialect_name: str, column: Any) -> Any:
    if dialect_name == "postgresql":
        return cast(func.date_trunc("month", column), Date)
    return func.date(column, "start of month")


# -- reading totals ----------------------------------------------------------------------------

def pieces(date_from: date | None, date_to: date | None) -> list[tuple[str, date | None, date | None]]:
    """The rows that add up to the entries dated from `date_from` to `date_to` (both included; None:
    unbounded): (span, lowest first_day, highest first_day) ranges, month rows for the whole months,
    day rows for the partial months at either end."""
    if date_from is not None and date_to is not None:
        if date_from > date_to:
            return []
        if (date_from.year, date_from.month) == (date_to.year, date_to.month) \
                and not (date_from.day == 1 and _is_month_end(date_to)):
            return [(DAY, date_from, date_to)]
    found: list[tuple[str, date | None, date | None]] = []
    first_month = last_month = None
    if date_from is not None:
        if date_from.day == 1:
            first_month = date_from
        else:
            found.append((DAY, date_from, _month_end(date_from)))
            if _month_end(date_from) == date.max:
                return found  # no month begins after it
            first_month = _month_end(date_from) + timedelta(days=1)
    if date_to is not None:
        if _is_month_end(date_to):
            last_month = date_to.replace(day=1)
        else:
            found.append((DAY, date_to.replace(day=1), date_to))
            if date_to.year == 1 and date_to.month == 1:
                return found  # no month ends before it
            last_month = (date_to.replace(day=1) - timedelta(days=1)).replace(day=1)
    if first_month is None or last_month is None or first_month <= last_month:
        found.append((MONTH, first_month, last_month))
    return found


def _month_end(day: date) -> date:
    if day.month == 12:
        return day.replace(day=31)
    return day.replace(month=day.month + 1, day=1) - timedelta(days=1)


def _is_month_end(day: date) -> bool:
    return day == _month_end(day)


Totals = dict[int, tuple[Decimal, Decimal]]
Period = tuple[date | None, date | None]


def totals(connection: Connection, org_id: int, *, date_from: date | None = None, date_to: date | None = None,
           account_ids: Iterable[int] | None = None, pending: Deltas | None = None) -> Totals:
    """Debit and credit totals of the entries dated from `date_from` to `date_to` (both included;
    None: unbounded), by account (accounts with no entry in the range are absent). `pending`: the
    deltas of the entries the unit of work wrote, not yet added (storage/link.balance_totals)."""
    return totals_of_periods(connection, org_id, [(date_from, date_to)], account_ids=account_ids,
                             pending=pending)[0]


def totals_of_periods(connection: Connection, org_id: int, periods: list[Period], *,
                      account_ids: Iterable[int] | None = None, pending: Deltas | None = None) -> list[Totals]:
    """`totals` of each of several periods, in one statement (a trial balance needs three: before
    the fiscal year, the year before the report's first day, and the report's own days)."""
    spans_of = [pieces(low, high) for low, high in periods]
    if account_ids is not None:
        account_ids = set(account_ids)
    found: list[dict[int, list[Decimal]]] = [{} for _ in periods]
    if pending:
        for (row_org_id, span, first_day, account_id), (debit, credit) in pending.items():
            if row_org_id != org_id or (account_ids is not None and account_id not in account_ids):
                continue
            for index, spans in enumerate(spans_of):
                if any(span == piece and (low is None or first_day >= low) and (high is None or first_day <= high)
                       for piece, low, high in spans):
                    _add(found[index], account_id, debit, credit)
    if any(spans_of):
        values: dict[str, Any] = {"org_id": org_id, "ids": sorted(account_ids) if account_ids is not None else None}
        for period, spans in enumerate(spans_of):
            for index, (span, low, high) in enumerate(spans):
                values.update({f"span_{period}_{index}": span, f"low_{period}_{index}": low,
                               f"high_{period}_{index}": high})
        shape = tuple(tuple((low is not None, high is not None) for _, low, high in spans) for spans in spans_of)
        statement, names = _totals_statement(shape, account_ids is not None)
        for period, account_id, debit, credit in statement.all(connection, **{name: values[name] for name in names}):
            _add(found[period], account_id, _decimal(debit), _decimal(credit))
    # An account whose entries were all deleted keeps rows that add up to nothing: absent too (an
    # entry's amount is never zero, so an account with entries has a total).
    return [{account_id: (debit, credit) for account_id, (debit, credit) in totals_.items() if debit or credit}
            for totals_ in found]


def _add(found: dict[int, list[Decimal]], account_id: int, debit: Decimal, credit: Decimal) -> None:
    totals_ = found.setdefault(account_id, [ZERO, ZERO])
    totals_[0] += debit
    totals_[1] += credit


@functools.cache
def _totals_statement(shape: tuple[tuple[tuple[bool, bool], ...], ...],
                      by_account: bool) -> tuple[Statement, tuple[str, ...]]:
    """The statement of the totals by period and account of the rows of some spans per period (a
    month span, day spans at either end), each bounded below and above or not (`shape`), of some
    accounts or all: built and compiled once per shape (a report is a hot request; building the
    statement cost more than running it); and the names of its parameters. One SELECT per period,
    joined by UNION ALL, each labelled with its period's index."""
    table = AccountBalance.__table__
    names = ["org_id"]
    selects = []
    for period, bounds in enumerate(shape):
        if not bounds:
            continue
        ranges = []
        for index, (low, high) in enumerate(bounds):
            conditions = [table.c.span == bindparam(f"span_{period}_{index}", type_=table.c.span.type)]
            names.append(f"span_{period}_{index}")
            if low:
                conditions.append(table.c.first_day >= bindparam(f"low_{period}_{index}", type_=table.c.first_day.type))
                names.append(f"low_{period}_{index}")
            if high:
                conditions.append(table.c.first_day <= bindparam(f"high_{period}_{index}",
                                                                 type_=table.c.first_day.type))
                names.append(f"high_{period}_{index}")
            ranges.append(and_(*conditions))
        criteria = [table.c.org_id == bindparam("org_id"), or_(*ranges)]
        if by_account:
            criteria.append(in_ids(table.c.account_id))
        selects.append(select(literal_column(str(period)).label("period"), table.c.account_id, func.sum(table.c.debit),
                              func.sum(table.c.credit)).where(*criteria).group_by(table.c.account_id))
    if by_account:
        names.append("ids")
    statement = selects[0] if len(selects) == 1 else union_all(*selects)
    return Statement(statement), tuple(names)


def _decimal(value: Any) -> Decimal:
    return ZERO if value is None else Decimal(value)
