"""Parties, their contacts and the catalogue's items, read with SQLAlchemy Core as frozen views for
the hot paths (storage/views.py): what a document needs of them, in one statement per table."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from .link import Link
from .statements import Statement, by_ids
from .tables import Contact, Item, Party
from .views import view_type

_parties, _contacts, _items = Party.__table__, Contact.__table__, Item.__table__

PartyView = view_type("PartyView", _parties, doc="A customer, a vendor, or both (a row of parties).")
ContactView = view_type("ContactView", _contacts, doc="A contact person of a party.")
ItemView = view_type("ItemView", _items, doc="An item of the catalogue.")

_PARTIES, _CONTACTS, _ITEMS = (Statement(by_ids(table)) for table in (_parties, _contacts, _items))


def _read(where: Link | Session, org_id: int, table: Any, statement: Statement, view: type,
          ids: Iterable[Any]) -> dict[int, Any]:
    """The rows of these ids, each read once per unit of work while nothing may have written them
    (a document's checks and its party's role read the same party)."""
    wanted = sorted({row_id for row_id in ids if _is_row_id(row_id)})
    if not wanted:
        return {}
    kept = where.read_rows if isinstance(where, Link) and not where.may_have_written(table) else None
    if kept is not None and all((table, row_id) in kept for row_id in wanted):
        return {row_id: kept[table, row_id] for row_id in wanted if kept[table, row_id] is not None}
    found = {made.id: made for made in (view(*row) for row in statement.all(where, org_id=org_id, ids=wanted))}
    if kept is not None:
        kept.update({(table, row_id): found.get(row_id) for row_id in wanted})
    return found


def parties(where: Link | Session, org_id: int, ids: Iterable[Any]) -> dict[int, Any]:
    """The parties of these ids that are the organization's, by id."""
    return _read(where, org_id, _parties, _PARTIES, PartyView, ids)


def contacts(where: Link | Session, org_id: int, ids: Iterable[Any]) -> dict[int, Any]:
    return _read(where, org_id, _contacts, _CONTACTS, ContactView, ids)


def items(where: Link | Session, org_id: int, ids: Iterable[Any]) -> dict[int, Any]:
    return _read(where, org_id, _items, _ITEMS, ItemView, ids)


def _is_row_id(value: Any) -> bool:
    """Ids are 64-bit integers; anything else names no row (and must not reach the driver)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63
