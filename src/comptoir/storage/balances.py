"""Maintained balances: the debit and credit totals of every account per day and per calendar month
(`tables.AccountBalance`), kept in step with the entries in the same database transaction, so that
reports read a few hundred rows instead of every entry (docs/decisions/0017-maintained-balances.md).

Writing. Every change of an entry made through the ORM (insert; update of its amount, way, account
or date; delete, cascades and orphans included) is noted by mapper events as a delta of its
(account, day) and (account, month) totals, in the innermost open transaction or savepoint: a
savepoint rolled back drops its deltas, one released hands them to the enclosing one. Just before
the outermost transaction commits, the netted deltas (rewriting equal entries changes nothing) are
added in one statement, `INSERT ... ON CONFLICT DO UPDATE SET debit = debit + excluded.debit, ...`:
atomic under concurrency, and its rows are taken in the order of their keys, so two transactions
never wait for each other's rows in opposite orders (no deadlock), and the rows are locked only for
the commit. On PostgreSQL the rows of one commit go to one of `SLOTS` slots, chosen at random, so
concurrent writers of the same account (every invoice debits the receivable) seldom wait for each
other; a total is the sum over its slots. SQLite has one writer at a time: slot 0.

Entries written with Core statements bypass the events: note their rows with `note_rows` (same
transaction, applied at commit), or add them with `add` on the connection that wrote them (the
benchmark's COPY loader does), or `rebuild` an organization's rows from its entries when nothing
writes to it. Deleting transactions or entries with a Core DELETE (or through the foreign key's
ON DELETE CASCADE) is not supported: delete them through the session.

Reading. `totals(session, org_id, date_from, date_to)` adds up the month rows of the whole months
of the range and the day rows of its partial months: at most (months + 62 days) x accounts x slots
rows, whatever the number of entries; plus the deltas of the session's transaction not yet added
(a unit of work reads its own writes).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, and_, case, cast, delete, event, func, insert, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, SessionTransaction, object_session
from sqlalchemy.orm.attributes import get_history

from .statements import Statement
from .tables.ledger import AccountBalance, Entry

DAY, MONTH = "day", "month"
DEBIT = "debit"  # domain.ledger.DEBIT; every other way is a credit
SLOTS = 8  # PostgreSQL: rows per account and period that concurrent commits spread over
ZERO = Decimal(0)
_FIELDS = ("org_id", "account_id", "date", "way", "amount")
_INFO_KEY = "comptoir.balance_deltas"

Key = tuple[int, str, date, int]  # (org_id, span, first_day, account_id)
Deltas = dict[Key, list[Decimal]]  # key -> [debit, credit]


# -- deltas of the entries written in a transaction ----------------------------------------------

def _pending(session: Session) -> dict[SessionTransaction, Deltas]:
    return session.info.setdefault(_INFO_KEY, {})


def _add_delta(deltas: Deltas, org_id: int, account_id: int, on: date, debit: Decimal, credit: Decimal) -> None:
    for span, first_day in ((DAY, on), (MONTH, on.replace(day=1))):
        totals = deltas.get((org_id, span, first_day, account_id))
        if totals is None:
            deltas[(org_id, span, first_day, account_id)] = [debit, credit]
        else:
            totals[0] += debit
            totals[1] += credit


def _note(session: Session, values: tuple, sign: int) -> None:
    org_id, account_id, on, way, amount = values
    if None in (org_id, account_id, on, amount):
        return  # not a writable entry: its INSERT or UPDATE fails, and the transaction with it
    amount = Decimal(amount) * sign
    deltas = _pending(session).setdefault(session.get_nested_transaction() or session.get_transaction(), {})
    _add_delta(deltas, org_id, account_id, on, *((amount, ZERO) if way == DEBIT else (ZERO, amount)))


def _before(entry: Entry) -> tuple:
    """The entry's values as the database has them (before this flush's changes)."""
    values = []
    for name in _FIELDS:
        history = get_history(entry, name)
        values.append(history.deleted[0] if history.deleted else
                      history.unchanged[0] if history.unchanged else getattr(entry, name))
    return tuple(values)


def _after(entry: Entry) -> tuple:
    return tuple(getattr(entry, name) for name in _FIELDS)


@event.listens_for(Entry, "after_insert")
def _entry_inserted(mapper, connection, entry: Entry) -> None:
    _note(object_session(entry), _after(entry), +1)


@event.listens_for(Entry, "after_update")
def _entry_updated(mapper, connection, entry: Entry) -> None:
    before, after = _before(entry), _after(entry)
    if before != after:
        session = object_session(entry)
        _note(session, before, -1)
        _note(session, after, +1)


@event.listens_for(Entry, "before_delete")
def _entry_deleted(mapper, connection, entry: Entry) -> None:
    _note(object_session(entry), _before(entry), -1)


def note_rows(session: Session, rows: Iterable[Mapping[str, Any]], sign: int = +1) -> None:
    """Entries written in this session's transaction with Core statements (dicts of their columns):
    their totals are added at commit, with those of the ORM's entries. `sign` -1 for rows deleted."""
    for row in rows:
        _note(session, tuple(row[name] for name in _FIELDS), sign)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    """A savepoint or the whole transaction was rolled back: its entries' changes never happened."""
    pending = session.info.get(_INFO_KEY)
    if pending:
        boundary = session.get_nested_transaction() or session.get_transaction()
        pending.pop(boundary, None)
        if boundary is None or boundary.parent is None:
            pending.clear()


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    """A released savepoint hands its deltas to the enclosing savepoint or transaction; the end of the
    outermost transaction (committed, rolled back or closed) forgets everything."""
    pending = session.info.get(_INFO_KEY)
    if not pending:
        return
    if transaction.parent is None:
        pending.clear()
    elif transaction.nested and transaction in pending:
        moved = pending.pop(transaction)
        enclosing = transaction.parent
        while enclosing.parent is not None and not enclosing.nested:
            enclosing = enclosing.parent
        into = pending.setdefault(enclosing, {})
        for key, (debit, credit) in moved.items():
            totals = into.get(key)
            if totals is None:
                into[key] = [debit, credit]
            else:
                totals[0] += debit
                totals[1] += credit


@event.listens_for(Session, "before_commit")
def _committing(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint is being released: its deltas join the enclosing transaction's
    session.flush()  # every entry change of the transaction is noted
    pending = session.info.get(_INFO_KEY)
    deltas = pending.pop(session.get_transaction(), None) if pending else None
    if deltas:
        add(session.connection(), deltas)


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


def totals(session: Session, org_id: int, *, date_from: date | None = None, date_to: date | None = None,
           account_ids: Iterable[int] | None = None) -> dict[int, tuple[Decimal, Decimal]]:
    """Debit and credit totals of the entries dated from `date_from` to `date_to` (both included;
    None: unbounded), by account (accounts with no entry in the range are absent). The entries this
    session's transaction wrote count too, although their totals are only added at commit."""
    spans = pieces(date_from, date_to)
    if account_ids is not None:
        account_ids = set(account_ids)
    session.flush()
    found: dict[int, list[Decimal]] = {}
    for deltas in session.info.get(_INFO_KEY, {}).values():
        for (row_org_id, span, first_day, account_id), (debit, credit) in deltas.items():
            if row_org_id == org_id and (account_ids is None or account_id in account_ids) and any(
                    span == piece and (low is None or first_day >= low) and (high is None or first_day <= high)
                    for piece, low, high in spans):
                totals_ = found.setdefault(account_id, [ZERO, ZERO])
                totals_[0] += debit
                totals_[1] += credit
    ranges = []
    for span, low, high in spans:
        conditions = [AccountBalance.span == span]
        if low is not None:
            conditions.append(AccountBalance.first_day >= low)
        if high is not None:
            conditions.append(AccountBalance.first_day <= high)
        ranges.append(and_(*conditions))
    if not ranges:
        return {}
    criteria = [AccountBalance.org_id == org_id, or_(*ranges)]
    if account_ids is not None:
        criteria.append(AccountBalance.account_id.in_(sorted(account_ids)))
    statement = (select(AccountBalance.account_id, func.sum(AccountBalance.debit), func.sum(AccountBalance.credit))
                 .where(*criteria).group_by(AccountBalance.account_id))
    for account_id, debit, credit in session.execute(statement):
        totals_ = found.setdefault(account_id, [ZERO, ZERO])
        totals_[0] += _decimal(debit)
        totals_[1] += _decimal(credit)
    # An account whose entries were all deleted keeps rows that add up to nothing: absent too (an
    # entry's amount is never zero, so an account with entries has a total).
    return {account_id: (debit, credit) for account_id, (debit, credit) in found.items() if debit or credit}


def _decimal(value: Any) -> Decimal:
    return ZERO if value is None else Decimal(value)
