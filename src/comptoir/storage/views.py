"""Rows read and written with SQLAlchemy Core on the hot paths, as frozen views.

The ORM builds an object graph for every row it loads and tracks every attribute it sets: on the
paths a request takes thousands of times a second (an invoice read, a document or a transaction
written) that bookkeeping was most of a request's CPU (docs/performance.md). There the stores
(storage/documents.py, storage/transactions.py, ...) run statements compiled once, with explicit
columns, and hand back views: frozen records with one field per column of their table, named as the
column (so a view reads like the ORM row it stands for) and generated from the table definition, so
that a column added to a table is a field of its view at once.

A unit of work may mix both: the ORM elsewhere, the stores on the hot paths. Two rules keep them
consistent within one transaction: a store reads only after the session has flushed what the ORM
holds (`connection_of`), and a store that changes rows the ORM may have loaded expires them
(`forget_loaded`), so that the ORM reads them again."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterable, Sequence

from sqlalchemy import Table
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key


def view_type(name: str, table: Table, extra: Sequence[str] = (), doc: str = "") -> type:
    """A frozen record type with a field per column of `table` (its name), then the `extra` fields
    (related views, None by default). A named tuple: made from a row in one call, its fields read as
    fast as a tuple's (a view of a document has a hundred of them, read thousands of times a second)."""
    made = namedtuple(name, [column.name for column in table.columns] + list(extra),  # noqa: PYI024
                      defaults=[None] * len(extra), module="comptoir.storage.views")
    made.__doc__ = doc or f"A row of {table.name}."
    return made


def connection_of(session: Session) -> Connection:
    """The session's connection, once what the ORM holds of this transaction is written (a store's
    statement must see the unit of work's own writes, as an ORM query would after its autoflush)."""
    if session.new or session.deleted or session.dirty:
        session.flush()
    return session.connection()


def forget_loaded(session: Session, model: type, ids: Iterable[int]) -> None:
    """Rows a store changed or deleted: the ORM's copies (if it loaded them in this transaction) are
    expired, or dropped when the row is gone, so that it reads them again."""
    for row_id in ids:
        loaded = session.identity_map.get(identity_key(model, row_id))
        if loaded is not None:
            session.expire(loaded)
