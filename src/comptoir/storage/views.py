"""Rows read and written with SQLAlchemy Core on the hot paths, as frozen views.

The ORM builds an object graph for every row it loads and tracks every attribute it sets: on the
paths a request takes thousands of times a second (an invoice read, a document or a transaction
written) that bookkeeping was most of a request's CPU (docs/performance.md). There the stores
(storage/documents.py, storage/transactions.py, ...) run statements compiled once, with explicit
columns, and hand back views: frozen records with one field per column of their table, named as the
column (so a view reads like the ORM row it stands for) and generated from the table definition, so
that a column added to a table is a field of its view at once.

A unit of work may mix both: the ORM elsewhere, the stores on the hot paths, over one connection
(storage/link.Link). Two rules keep them consistent within one transaction: a store's statement runs
only after the session has flushed what the ORM holds (`Link.connection`), and a store that changes
rows the ORM may have loaded expires them (`Link.forget`), so that the ORM reads them again."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence

from sqlalchemy import Table


def view_type(name: str, table: Table, extra: Sequence[str] = (), doc: str = "") -> type:
    """A frozen record type with a field per column of `table` (its name), then the `extra` fields
    (related views, None by default). A named tuple: made from a row in one call, its fields read as
    fast as a tuple's (a view of a document has a hundred of them, read thousands of times a second)."""
    made = namedtuple(name, [column.name for column in table.columns] + list(extra),  # noqa: PYI024
                      defaults=[None] * len(extra), module="comptoir.storage.views")
    made.__doc__ = doc or f"A row of {table.name}."
    return made
