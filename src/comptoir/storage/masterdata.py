"""Parties, their contacts and the catalogue's items, read with SQLAlchemy Core as frozen views for
the hot paths (storage/views.py): what a document needs of them, in one statement per table."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from .link import Link
from .statements import Statement, array_of, by_ids, in_ids, records
from .tables import Contact, CustomField, CustomFieldValue, Item, Party
from .views import view_type

_parties, _contacts, _items = Party.__table__, Contact.__table__, Item.__table__
_fields, _values = CustomField.__table__, CustomFieldValue.__table__

PartyView = view_type("PartyView", _parties, doc="A customer, a vendor, or both (a row of parties).")
_FieldRow, _ValueRow = view_type("_FieldRow", _fields), view_type("_ValueRow", _values)
ContactView = view_type("ContactView", _contacts, doc="A contact person of a party.")
ItemView = view_type("ItemView", _items, doc="An item of the catalogue.")

_PARTIES, _CONTACTS, _ITEMS = (Statement(by_ids(table)) for table in (_parties, _contacts, _items))
_PARTY_BY = {column: Statement(select(*_parties.columns).where(_parties.c.org_id == bindparam("org_id"),
                                                               _parties.c[column] == bindparam("key")))
             for column in ("uuid", "external_id", "customer_code", "vendor_code")}  # unique in an organization


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


def unchanged(link: Link) -> AbstractContextManager[None]:
    """A block of the unit of work that changes no party, contact or item, whatever else it does
    through the ORM (a bulk import's checks of its documents, before it writes them): each of their
    rows read inside is read once (`parties`, `contacts`, `items`), not once per document."""
    return link.unwritten(_parties, _contacts, _items)


# PostgreSQL: the parties, contacts and items of some ids, each table's rows as one array of records.
_AHEAD = ((_parties, PartyView, "party_ids"), (_contacts, ContactView, "contact_ids"), (_items, ItemView, "item_ids"))
_READ_AHEAD = Statement(select(*(array_of(table, (table.c.org_id == bindparam("org_id")) & in_ids(table.c.id, name),
                                          table.c.id) for table, _, name in _AHEAD)))


def read_ahead(link: Link, org_id: int, *, parties: Iterable[Any] = (), contacts: Iterable[Any] = (),
               items: Iterable[Any] = ()) -> None:
    """Read the rows of these ids of two or three of the tables in one statement, kept for the unit of
    work: `parties`, `contacts` and `items` then answer without a statement of their own (a new
    document's checks read its party, then its lines' items). On PostgreSQL under asyncpg, where a
    round trip is most of what a statement costs; elsewhere, or for a table the unit may have
    written, or rows read already, nothing is read ahead."""
    if link.dialect.driver != "asyncpg":
        return
    wanted = {}
    for (table, _, name), ids in zip(_AHEAD, (parties, contacts, items)):
        missing = sorted({row_id for row_id in ids if _is_row_id(row_id) and (table, row_id) not in link.read_rows})
        if missing and not link.may_have_written(table):
            wanted[name] = missing
    if len(wanted) < 2:
        return  # one table: its own statement, when it is read, costs the same
    row = _READ_AHEAD.first(link, org_id=org_id, **{name: wanted.get(name, []) for _, _, name in _AHEAD})
    for (table, view, name), raw in zip(_AHEAD, row):
        process = records(table, link.dialect)
        found = {made.id: made for made in (view(*process(record)) for record in raw or ())}
        link.read_rows.update({(table, row_id): found.get(row_id) for row_id in wanted.get(name, ())})


def party_by(where: Link | Session, org_id: int, column: str, key: str) -> Any | None:
    """The party whose `column` (uuid, external_id or a role's code: unique in the organization) is
    `key`, or None;
    kept for the unit of work like those `parties` reads (a document's checks then read it by id)."""
    row = _PARTY_BY[column].first(where, org_id=org_id, key=key)
    party = None if row is None else PartyView(*row)
    if party is not None and isinstance(where, Link):
        where.keep_row(_parties, party)
    return party


def contacts(where: Link | Session, org_id: int, ids: Iterable[Any]) -> dict[int, Any]:
    return _read(where, org_id, _contacts, _CONTACTS, ContactView, ids)


def items(where: Link | Session, org_id: int, ids: Iterable[Any]) -> dict[int, Any]:
    return _read(where, org_id, _items, _ITEMS, ItemView, ids)


_CUSTOM_VALUES = Statement(
    select(_values.c.entity_id, _fields.c.id, _fields.c.uuid, _fields.c.external_id, _fields.c.name,
           _fields.c.data_type, _values.c.value)
    .join(_fields, _fields.c.id == _values.c.field_id)
    .where(_values.c.org_id == bindparam("org_id"), _fields.c.org_id == bindparam("org_id"),
           _fields.c.entity_type == bindparam("entity_type"), in_ids(_values.c.entity_id))
    .order_by(_values.c.entity_id, _fields.c.id, _values.c.id))


def custom_values(where: Link | Session, org_id: int, entity_type: str, ids: Iterable[int]) -> list[tuple]:
    """The custom field values of these entities of this type, with their fields, in one statement:
    rows of (entity id, field id, field uuid, field external id, field name, data type, value), by
    entity, then field, then value in the order they were written (read ahead, when they were:
    `keep_custom_ahead`)."""
    wanted = sorted({row_id for row_id in ids if _is_row_id(row_id)})
    if not wanted:
        return []
    kept = where.kept([("custom", entity_type, row_id) for row_id in wanted], _values, _fields) \
        if isinstance(where, Link) else None
    if kept is not None:
        return [row for rows in kept for row in rows]
    return _CUSTOM_VALUES.all(where, org_id=org_id, entity_type=entity_type, ids=wanted)


# PostgreSQL: the custom field values of the entity `:document_id` of `:entity_type` and their fields,
# as two columns of a statement reading ahead what a document's update reads (and its answer shows).
_FIELDS_OF_TYPE = select(_fields.c.id).where(_fields.c.org_id == bindparam("org_id"),
                                             _fields.c.entity_type == bindparam("entity_type"))
CUSTOM_AHEAD = (
    array_of(_values, (_values.c.org_id == bindparam("org_id")) & (_values.c.entity_id == bindparam("document_id"))
             & _values.c.field_id.in_(_FIELDS_OF_TYPE), _values.c.field_id, _values.c.id),
    array_of(_fields, (_fields.c.org_id == bindparam("org_id")) & (_fields.c.entity_type == bindparam("entity_type"))
             & _fields.c.id.in_(select(_values.c.field_id).where(_values.c.org_id == bindparam("org_id"),
                                                                 _values.c.entity_id == bindparam("document_id"))),
             _fields.c.id))


def keep_custom_ahead(link: Link, entity_type: str, entity_id: int, raw_values: Any, raw_fields: Any) -> None:
    """What `CUSTOM_AHEAD` read, kept for `custom_values` while the unit of work writes none."""
    value_of, field_of = records(_values, link.dialect), records(_fields, link.dialect)
    fields = {field.id: field for field in (_FieldRow(*field_of(record)) for record in raw_fields or ())}
    rows = []
    for record in raw_values or ():
        value = _ValueRow(*value_of(record))
        field = fields[value.field_id]
        rows.append((entity_id, field.id, field.uuid, field.external_id, field.name, field.data_type, value.value))
    link.read_rows["custom", entity_type, entity_id] = rows


def _is_row_id(value: Any) -> bool:
    """Ids are 64-bit integers; anything else names no row (and must not reach the driver)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63
