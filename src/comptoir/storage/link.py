"""A unit of work's hold on the database: one connection, inside the unit's transaction (or in
autocommit, for a request that only reads on PostgreSQL), the ORM session over that connection, made
only when something asks for it, and what the unit's entries add to the maintained balances.

On the hot paths the stores (storage/documents.py, storage/transactions.py, ...) run statements on
the connection and never touch the ORM: a request that only takes those paths creates no Session at
all, whose bookkeeping (its transaction objects, identity map, events, flush at commit) was a tenth of
a hot request's CPU (docs/performance.md). Elsewhere services use the ORM through `link.session`,
bound to the same connection, so that both see each other's writes: a statement of a store flushes
the session first (`connection()`), and a store that changes rows the ORM may hold expires them
(`forget`).

Savepoints go through `savepoint()`, which the maintained balances follow (what a savepoint rolled
back wrote never happened). A blocking caller's own Session (the CLI, tests: `Database.transaction`)
gets a link too (`link_of`), which then follows that session's commit."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from datetime import date
from decimal import Decimal

from sqlalchemy import event, update
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.attributes import get_history
from sqlalchemy.orm.util import identity_key

from . import audit, balances, statements
from .tables import Account, Journal, Organization
from .tables.ledger import Entry

_LINK = "comptoir.link"
_MISSING = object()


class Link:
    def __init__(self, connection: Connection | None, *, session: Session | None = None,
                 explicit: bool = False, read_only: bool = False) -> None:
        """`connection`: the unit's own; the link then ends the unit (`commit`, `rollback`). `session`:
        a caller's session instead, which ends its transaction itself (`link_of`).

        `explicit`: the connection is in autocommit and the link sends BEGIN itself, just before the
        unit's first statement that writes or locks rows (PostgreSQL's request path): the statements
        before it (the credential, what the request's checks read) run as they would at the start of
        a READ COMMITTED transaction, each on its own snapshot, and a request refused by its checks
        costs no BEGIN and no ROLLBACK. `read_only`: the unit must not write."""
        self._connection = connection
        self._session = session
        self.owns_connection = connection is not None
        self.explicit = explicit
        self.read_only = read_only
        self._begun = False
        self.balances = balances.Pending()
        self._written: set[Any] = set()
        self._unwritten: frozenset[Any] = frozenset()  # tables the block being run writes none of (`unwritten`)
        # Rows a store read in this unit of work, by (table, id): read again only once the unit may
        # have written the table (`may_have_written`).
        self.read_rows: dict[tuple[Any, int], Any] = {}
        self.actor: str | None = None  # who acts, for the audit triggers (storage/audit.py)
        # What a store inserted in this unit of work, by table and id (what the store keeps of each
        # row); forgotten when a savepoint rolls back. No other transaction can see these rows yet.
        self.created: dict[Any, dict[int, Any]] = {}
        self.reference_changed: set[int] = set()  # organizations whose accounts or journals it wrote
        self._savepoints: list[list[Any]] = []  # the session's open savepoints, innermost last: [it, rolled back]
        # The link's own savepoints not sent yet, outermost first: SAVEPOINT goes with the first write
        # inside (`_send_savepoints`), and a savepoint that wrote nothing costs no statement.
        self._unsent: list[str] = []
        # What to do once the unit of work has committed, and what to undo if the savepoint (or the
        # transaction) it happened in rolls back: one level each, like the balances' (the file store's
        # bytes follow their rows: services/documents/files.py).
        self._hooks: list[tuple[list[Callable[[], None]], list[Callable[[], None]]]] = [([], [])]
        if session is not None:
            session.info[_LINK] = self

    # -- the connection and the session ---------------------------------------------------------

    @property
    def session(self) -> Session:
        """The ORM session over the unit's connection, made on first use (in the transaction: it may
        write anything)."""
        if self._session is None:
            if not self.read_only:
                self._begin()
                self._send_savepoints()  # the session may write anything, without `connection()`
            # It joins the transaction the link began, and never commits or rolls it back itself.
            self._session = Session(bind=self._connection, autoflush=True, expire_on_commit=False,
                                    join_transaction_mode="rollback_only")
            self._session.info[_LINK] = self
        return self._session

    def connection(self, *, writing: bool = False) -> Connection:
        """The connection, once what the ORM session holds is written (a statement must see the unit's
        own writes, as an ORM query would after its autoflush); in the transaction when the statement
        about to run is `writing` (or locking rows)."""
        if writing:
            self._begin()
            self._send_savepoints()
        session = self._session
        if session is None:
            return self._connection
        if session.new or session.dirty or session.deleted:
            session.flush()
        # The same connection, through the session: a savepoint it has begun is sent now (it sends
        # SAVEPOINT with its own first statement inside the savepoint, not when it is begun).
        return session.connection()

    def autocommit_connection(self) -> Connection | None:
        """The connection while the link has not begun the transaction (`explicit`): a statement run on
        it now is a transaction of its own (the counters take numbers so: storage/repository.Counters).
        None otherwise."""
        if self.explicit and not self._begun and not self.read_only:
            return self._connection
        return None

    def _begin(self) -> None:
        if not self.explicit or self._begun:
            return
        if self.read_only:
            raise AssertionError("a unit of work that only reads is writing")
        names, self._unsent = self._unsent, []  # savepoints entered before the first write go with it
        # The actor rides with BEGIN: the audit triggers read it, at no round trip of its own.
        actor = [audit.set_actor_sql(self.actor)] if self.actor else []
        statements.script(self._connection, ";".join(["BEGIN", *actor, *(f"SAVEPOINT {name}" for name in names)]))
        self._begun = True

    @property
    def dialect(self) -> Dialect:
        return (self._connection if self._connection is not None else self._session.get_bind()).dialect

    def wrote(self, table: Any) -> None:
        """A store wrote rows of this table (see `may_have_written`)."""
        self._written.add(table)

    @property
    def orm_in_use(self) -> bool:
        """Whether the ORM session is open (it may have written anything, which stores do not see)."""
        return self._session is not None

    def may_have_written(self, table: Any) -> bool:
        """Whether this unit of work may have written rows of the table: a store said so, or the ORM
        session (which may have written anything) is in use, outside a block that writes none of the
        table (`unwritten`)."""
        return table in self._written or (self._session is not None and table not in self._unwritten)

    @contextmanager
    def unwritten(self, *tables: Any) -> Iterator[None]:
        """A block of the unit of work that writes none of these tables, whatever the ORM session is
        used for (a bulk import's checks, before anything is written): the rows of them read inside are
        read once, and kept for the block only (the ORM may write them after it)."""
        def forget() -> None:
            for key in [key for key in self.read_rows if key[0] in tables]:
                del self.read_rows[key]
        outer = self._unwritten
        forget()  # kept before: the ORM may have written them since
        self._unwritten = outer | frozenset(tables)
        try:
            yield
        finally:
            self._unwritten = outer
            forget()

    def kept(self, keys: Sequence[Any], *tables: Any) -> list[Any] | None:
        """What a store read ahead under each of these keys of `read_rows`, when every one was and the
        unit may have written none of the tables it came from; None otherwise (the store reads)."""
        if any(self.may_have_written(table) for table in tables):
            return None
        kept = [self.read_rows.get(key, _MISSING) for key in keys]
        return None if any(value is _MISSING for value in kept) else kept

    def keep_row(self, table: Any, row: Any) -> None:
        """A row a store read by another key than its id, kept so that a read of it by id in this unit
        of work needs no statement (unless the unit may have written the table)."""
        if not self.may_have_written(table):
            self.read_rows[table, row.id] = row

    def changed(self) -> bool:
        """Whether the ORM session holds changes not written yet."""
        session = self._session
        return session is not None and bool(session.new or session.dirty or session.deleted)

    def forget(self, model: type, ids: Iterable[int]) -> None:
        """Rows a statement changed or deleted: the ORM's copies (if it loaded them in this unit of
        work) are expired, so that it reads them again."""
        session = self._session
        if session is None:
            return
        for row_id in ids:
            loaded = session.identity_map.get(identity_key(model, row_id))
            if loaded is not None:
                session.expire(loaded)

    # -- savepoints and the end -----------------------------------------------------------------

    def after_commit(self, action: Callable[[], None]) -> None:
        """`action()` once the unit of work has committed (never, if it rolls back)."""
        self._hooks[-1][0].append(action)

    def on_rollback(self, action: Callable[[], None]) -> None:
        """`action()` if what the unit of work does now is rolled back (its savepoint, or it whole)."""
        self._hooks[-1][1].append(action)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A part of the unit of work undone alone if it raises (SAVEPOINT ... RELEASE, or ROLLBACK TO
        SAVEPOINT), with what its entries add to the balances and its hooks. A savepoint of the
        session (made if need be), so that the ORM's view of the rows follows too; a savepoint the
        session begins otherwise (`session.begin_nested()`) is followed the same way (the events below)."""
        if self._session is not None or not self.explicit:
            with self.session.begin_nested():  # SAVEPOINT sent with the first statement inside (`connection`)
                yield
            return
        # The request path before any ORM use (PostgreSQL, asyncpg): the link's own savepoint, so that
        # a unit of work on the stores alone (an Upflow upsert) never needs the session.
        yield from self._own_savepoint()

    def _own_savepoint(self) -> Iterator[None]:
        """SAVEPOINT is sent only before the first statement inside that writes (or locks rows, or
        makes the session): until then there is nothing to undo, and a part that only read (a
        OneConnect document's entries checked, refused or not) costs no statement at all."""
        marker = object()
        name = f"comptoir_{len(self._savepoints) + 1}"
        self._unsent.append(name)
        self._entered(marker)
        try:
            yield
        except BaseException:
            self._undone(marker)
            if self._session is not None:  # made inside the savepoint: all it holds is undone with it
                self._session.expunge_all()
            if not self._forget_unsent(name):
                statements.script(self.connection(), f"ROLLBACK TO SAVEPOINT {name}")
            self._left(marker)
            raise
        if not self._forget_unsent(name):
            statements.script(self.connection(), f"RELEASE SAVEPOINT {name}")
        self._left(marker)

    def _send_savepoints(self) -> None:
        """SAVEPOINT for each of the link's own savepoints entered and not sent yet (a write is next)."""
        if self._unsent:
            names, self._unsent = self._unsent, []
            statements.script(self._connection, ";".join(f"SAVEPOINT {name}" for name in names))

    def _forget_unsent(self, name: str) -> bool:
        """Whether the savepoint was never sent (and so has nothing to release or roll back)."""
        if self._unsent and self._unsent[-1] == name:
            self._unsent.pop()
            return True
        return False

    def _entered(self, savepoint: Any) -> None:
        self.balances.push()
        self._hooks.append(([], []))
        self._savepoints.append([savepoint, False])

    def _undone(self, savepoint: Any) -> None:
        if self._savepoints and self._savepoints[-1][0] is savepoint:
            self._savepoints[-1][1] = True

    def _left(self, savepoint: Any) -> None:
        if not self._savepoints or self._savepoints[-1][0] is not savepoint:
            return  # begun before this link followed the session
        _, undone = self._savepoints.pop()
        committed, undo = self._hooks.pop()
        if undone:
            self.created.clear()
            self.balances.drop()
            _run(undo)
        else:
            self.balances.release()
            self._hooks[-1][0].extend(committed)
            self._hooks[-1][1].extend(undo)

    def finish(self) -> None:
        """Before a caller's session commits: its changes written, then the balances of every entry
        the unit wrote added (one statement)."""
        if self.changed():
            self._session.flush()
        deltas = self.balances.take()
        if deltas:
            balances.add(self.connection(writing=True), deltas)
        if self.reference_changed:
            _NEW_REFERENCE_VERSION.run(self.connection(writing=True), ids=sorted(self.reference_changed))

    def commit(self) -> None:
        """End the unit of work: what the session holds written, the balances of its entries added, and
        the transaction committed. When the link began the transaction itself (`explicit`), the
        balances and the COMMIT go in one round trip (their values written into the statement: numbers,
        dates and the link's own keys, never a client's text)."""
        if not self.explicit:
            self.finish()
            self._connection.commit()
            return
        if self.changed():
            self._session.flush()
        if not self._begun:
            return  # nothing was written
        # The connection's statements in autocommit commit without waiting for the disk (the numbers
        # they take are used by a later durable commit, docs/decisions/0016); this commit waits.
        statements.script(self._connection, f"{balances.upsert_script(self.balances.take())}"
                                            f"{_new_reference_version_script(self.reference_changed)}"
                                            "SET LOCAL synchronous_commit TO on;COMMIT")
        self._begun = False  # (had it failed, `rollback` would end the transaction, left aborted)

    def rollback(self) -> None:
        """End the unit of work undone (a connection found broken is dropped from the pool instead)."""
        try:
            if not self.explicit:
                self._connection.rollback()
            elif self._begun and not self._connection.invalidated:
                statements.script(self._connection, "ROLLBACK")
                self._begun = False
        except Exception:
            self._connection.invalidate()  # never given back to the pool inside a transaction
            raise

    def committed(self) -> None:
        """The unit of work has committed."""
        actions = [action for committed, _ in self._hooks for action in committed]
        self._reset()
        _run(actions)

    def rolled_back(self) -> None:
        """The unit of work has rolled back: nothing it did happened."""
        actions = [action for _, undone in self._hooks for action in undone]
        self._reset()
        _run(actions)

    def _reset(self) -> None:
        self.reference_changed = set()
        self.created = {}
        self._hooks = [([], [])]
        self._savepoints = []
        self._unsent = []
        self.balances.clear()

    def close(self) -> None:
        if self._session is not None and self.owns_connection:
            self._session.close()


def _run(actions: Iterable[Callable[[], None]]) -> None:
    for action in actions:
        action()


def link_of(where: Session | Link) -> Link:
    """The link of a session: the one it was made by or for, else a new one following its commit."""
    if isinstance(where, Link):
        return where
    link = where.info.get(_LINK)
    return link if link is not None else Link(None, session=where)


@event.listens_for(Session, "before_commit")
def _committing(session: Session) -> None:
    """A caller's own session commits: the balances of its entries are added first. (A unit of work's
    link commits its connection itself, after `finish`.)"""
    link = session.info.get(_LINK)
    if link is not None and not link.owns_connection and session.get_nested_transaction() is None:
        link.finish()


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    link = session.info.get(_LINK)
    if link is not None and not link.owns_connection and session.get_nested_transaction() is None:
        link.committed()


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    """A savepoint rolled back (its end follows), or a caller's session whole: nothing it did happened."""
    link = session.info.get(_LINK)
    if link is None:
        return
    savepoint = session.get_nested_transaction()
    if savepoint is not None:
        link._undone(savepoint)
    elif not link.owns_connection:
        link.rolled_back()


@event.listens_for(Session, "after_transaction_create")
def _begun(session: Session, transaction: Any) -> None:
    link = session.info.get(_LINK)
    if link is not None and transaction.nested:
        link._entered(transaction)


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: Any) -> None:
    link = session.info.get(_LINK)
    if link is not None and transaction.nested:
        link._left(transaction)


# -- the version of the reference data (storage/reference.py) --------------------------------------

_organizations = Organization.__table__
_NEW_REFERENCE_VERSION = statements.Statement(
    update(_organizations).where(statements.in_ids(_organizations.c.id))
    .values(reference_version=_organizations.c.reference_version + 1))


def _new_reference_version_script(org_ids: Iterable[int]) -> str:
    """`_NEW_REFERENCE_VERSION` as text, for the link's COMMIT round trip (ids it noted: integers)."""
    ids = sorted(org_ids)
    if not ids:
        return ""
    if not all(type(org_id) is int for org_id in ids):
        raise TypeError(f"not organization ids: {ids!r}")
    return (f"UPDATE organizations SET reference_version = reference_version + 1 "
            f"WHERE id IN ({', '.join(map(str, ids))});")


def _reference_written(mapper: Any, connection: Any, row: Any) -> None:
    link_of(object_session(row)).reference_changed.add(row.org_id)


for _model in (Account, Journal):
    for _event in ("after_insert", "after_update", "after_delete"):
        event.listen(_model, _event, _reference_written)


def balance_totals(where: Session | Link, org_id: int, *, date_from: date | None = None, date_to: date | None = None,
                   account_ids: Iterable[int] | None = None) -> dict[int, tuple[Decimal, Decimal]]:
    """storage/balances.totals within a unit of work: its own entries count too, although their
    totals are only added at commit."""
    link = link_of(where)
    return balances.totals(link.connection(), org_id, date_from=date_from, date_to=date_to,
                           account_ids=account_ids, pending=link.balances.all())


def balance_totals_of_periods(where: Session | Link, org_id: int,
                              periods: list[balances.Period]) -> list[balances.Totals]:
    """storage/balances.totals_of_periods within a unit of work (as `balance_totals`)."""
    link = link_of(where)
    return balances.totals_of_periods(link.connection(), org_id, periods, pending=link.balances.all())


# -- the entries the ORM writes: noted by mapper events ------------------------------------------

_FIELDS = ("org_id", "account_id", "date", "way", "amount")


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
    link_of(object_session(entry)).balances.note(_after(entry), +1)


@event.listens_for(Entry, "after_update")
def _entry_updated(mapper, connection, entry: Entry) -> None:
    before, after = _before(entry), _after(entry)
    if before != after:
        pending = link_of(object_session(entry)).balances
        pending.note(before, -1)
        pending.note(after, +1)


@event.listens_for(Entry, "before_delete")
def _entry_deleted(mapper, connection, entry: Entry) -> None:
    link_of(object_session(entry)).balances.note(_before(entry), -1)


def session_of(where: Session | Link) -> Session:
    return where.session if isinstance(where, Link) else where
