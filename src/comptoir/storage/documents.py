"""Documents (orders, invoices, credit notes, purchase documents) with their lines, read and written
with SQLAlchemy Core (storage/views.py).

A document is read with two statements (the documents with their party and contacts; their lines),
whatever their number. The services build a `DocumentDraft` (a mutable working copy, new or made from
the view it changes) and the store writes it: a new document in two statements (its row, then every
line in one INSERT), any number of new documents in the same two (an import's batch); a changed one
as the difference from its view (the row's changed columns, the lines removed, changed and added)."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import field, make_dataclass
from datetime import date
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError

from comptoir.domain.errors import ErrorKind, fail

from . import masterdata, settlement
from . import transactions as transactions_store
from .masterdata import ContactView, PartyView
from .repository import violated_field
from .link import Link
from .settlement import AllocationView, settling
from .statements import ROWS_PER_INSERT_MAX, Inserts, Statement, Then, WithChildren, array_of, in_ids, records
from .tables import Allocation, Contact, Document, DocumentLine, Party
from .tables.base import utcnow
from .transactions import TransactionStore
from .views import view_type

_documents, _lines, _parties, _contacts = Document.__table__, DocumentLine.__table__, Party.__table__, Contact.__table__
_allocations = Allocation.__table__
_billing, _shipping = _contacts.alias("billing"), _contacts.alias("shipping")
RELATED = ("customer", "billing_contact", "shipping_contact", "lines", "settled")


def _party_id(document: Any) -> int:
    """The party of the document whatever its side (customer, vendor, employee of a paysheet)."""
    return document.customer_id


LineView = view_type("LineView", _lines, doc="A line of a document.")
DocumentView = view_type(
    "DocumentView", _documents, extra=RELATED,
    doc="A document with its party (`customer`, a PartyView, whatever its side), its billing and shipping "
        "contacts (ContactViews or None), its lines (LineViews, in order) and what settles it (`settled`: "
        "AllocationViews, as they were when it was read; none for a document just created; None, not read, for "
        "a document just changed).")
DocumentView.party_id = property(_party_id)


def _scalar_default(column: Any) -> Any:
    """A column's default when it is a plain value (False, 1, "") rather than computed (a uuid, a time)."""
    default = column.default
    return default.arg if default is not None and default.is_scalar else None


def _draft_type(name: str, table: Any, extra: Sequence[tuple[str, Any]], doc: str) -> type:
    """A mutable record with a field per column, holding the column's plain default (as the ORM
    would write for an attribute never set), then `extra` fields."""
    columns = [(column.name, Any, field(default=_scalar_default(column))) for column in table.columns]
    made = make_dataclass(name, columns + list(extra), slots=True)
    made.__doc__ = doc
    made.__table__ = table  # what services/kernel/validation.apply reads the columns' nullability from
    return made


LineDraft = _draft_type("LineDraft", _lines, (), "A line being written: new (no id) or one of the document's.")
DocumentDraft = _draft_type(
    "DocumentDraft", _documents,
    [("customer", Any, field(default=None)), ("billing_contact", Any, field(default=None)),
     ("shipping_contact", Any, field(default=None)), ("lines", list, field(default_factory=list))],
    "A document being written: new (no id), or a working copy of one (`draft_of`).")
DocumentDraft.party_id = property(_party_id)


def draft_of(view: Any) -> Any:
    """A working copy of a document, to change."""
    values = {column.name: getattr(view, column.name) for column in _documents.columns}
    lines = [LineDraft(**{column.name: getattr(line, column.name) for column in _lines.columns})
             for line in view.lines]
    return DocumentDraft(**values, customer=view.customer, billing_contact=view.billing_contact,
                         shipping_contact=view.shipping_contact, lines=lines)


_DOCUMENT_WIDTH, _PARTY_WIDTH, _CONTACT_WIDTH = len(_documents.columns), len(_parties.columns), len(_contacts.columns)
_DOCUMENT_ID, _CONTACT_ID = _documents.columns.keys().index("id"), _contacts.columns.keys().index("id")
_READ_ANY = (select(*_documents.columns, *_parties.columns, *_billing.columns, *_shipping.columns)
             .join(_parties, _parties.c.id == _documents.c.customer_id)
             .outerjoin(_billing, _billing.c.id == _documents.c.billing_contact_id)
             .outerjoin(_shipping, _shipping.c.id == _documents.c.shipping_contact_id)
             .where(_documents.c.org_id == bindparam("org_id")))
_READ = _READ_ANY.where(in_ids(_documents.c.id))
_READ_FREE, _READ_LOCKED = Statement(_READ), Statement(_READ.with_for_update(of=_documents))


# On PostgreSQL a document is read whole in one statement, its lines and what settles it beside it
# (every round trip costs the server more than the query itself: docs/performance.md).
_WHOLE_ANY = _READ_ANY.add_columns(array_of(_lines, _lines.c.document_id == _documents.c.id, _lines.c.position),
                                   array_of(_allocations, _allocations.c.document_id == _documents.c.id,
                                            _allocations.c.id))
_WHOLE = _WHOLE_ANY.where(in_ids(_documents.c.id))
_WHOLE_FREE, _WHOLE_LOCKED = Statement(_WHOLE), Statement(_WHOLE.with_for_update(of=_documents))


def _by_key(read: Any, column: str) -> dict[bool, Statement]:
    """The document of a kind by a unique key of the organization (external_id, uuid), free or locked."""
    chosen = read.where(_documents.c.kind == bindparam("kind"), _documents.c[column] == bindparam("key"))
    return {False: Statement(chosen), True: Statement(chosen.with_for_update(of=_documents))}


_WHOLE_BY = {column: _by_key(_WHOLE_ANY, column) for column in ("external_id", "uuid")}
_PARTY_AND_DOCUMENT = Statement(
    select(*_parties.columns, select(_documents.c.id).where(
        _documents.c.org_id == bindparam("org_id"), _documents.c.kind == bindparam("kind"),
        _documents.c.external_id == bindparam("document_key")).scalar_subquery())
    .where(_parties.c.org_id == bindparam("org_id"), _parties.c.external_id == bindparam("party_key")))
_AHEAD_OF_UPDATE = Statement(select(settlement.AHEAD, *transactions_store.AHEAD, *masterdata.CUSTOM_AHEAD))
_AMENDING = Statement(select(_documents.c.id).where(_documents.c.org_id == bindparam("org_id"),
                                                    _documents.c.amends_id == bindparam("document_id"))
                      .order_by(_documents.c.id))
_ID_BY = {column: _by_key(select(_documents.c.id).where(_documents.c.org_id == bindparam("org_id")), column)
          for column in ("external_id", "uuid")}
_LINES = Statement(select(*_lines.columns)
                   .where(_lines.c.org_id == bindparam("org_id"), in_ids(_lines.c.document_id))
                   .order_by(_lines.c.document_id, _lines.c.position))
_INSERT = Inserts(_documents, [column.name for column in _documents.columns if column.name != "id"])
_INSERT_LINES = Inserts(_lines, [column.name for column in _lines.columns if column.name != "id"])
_INSERT_WITH_LINES = WithChildren(_documents, _lines, "document_id")
_DOCUMENT_CHANGES = tuple(column.name for column in _documents.columns
                          if column.name not in ("id", "org_id", "uuid", "created_at"))
_UPDATE = Statement(update(_documents).where(_documents.c.id == bindparam("document_id"))
                    .values({name: bindparam(f"new_{name}", type_=_documents.c[name].type)
                             for name in _DOCUMENT_CHANGES}))
_LINE_CHANGES = tuple(column.name for column in _lines.columns if column.name not in ("id", "org_id", "document_id"))
_UPDATE_LINE = Statement(update(_lines).where(_lines.c.id == bindparam("line_id"))
                         .values({name: bindparam(f"new_{name}", type_=_lines.c[name].type) for name in _LINE_CHANGES}))
_DELETE_LINES = Statement(delete(_lines).where(_lines.c.org_id == bindparam("org_id"), in_ids(_lines.c.id)))
_LINES_WITH_ROW_MAX = 20  # lines rewritten in the statement that rewrites their document (PostgreSQL)


@functools.cache
def _update_with_lines(count: int) -> Statement:
    """PostgreSQL: a document's row and `count` of its lines rewritten in one statement (the lines'
    UPDATEs as common table expressions); the lines' parameters are `_UPDATE_LINE`'s, numbered."""
    statement = _UPDATE.statement
    for index in range(count):
        statement = statement.add_cte(
            update(_lines).where(_lines.c.id == bindparam(f"line_id_{index}"))
            .values({name: bindparam(f"new_{name}_{index}", type_=_lines.c[name].type) for name in _LINE_CHANGES})
            .cte(f"line_{index}"))
    return Statement(statement, writes=True)
_DOCUMENT_COLUMNS = tuple(column.name for column in _documents.columns)
_EXTERNAL_ID_KEY = ("org_id", "kind", "external_id")  # the unique index of an external id (tables/sales.py)
_LINE_COLUMNS = tuple(column.name for column in _lines.columns)


def _series_neighbour(later: bool, in_series: bool, next_door: bool) -> Statement:
    """The date and code of the document numbered next to `number`: before it (or after, `later`) in
    the numbering series `series_id`, or among the automatic codes of `kind` (`in_series` false).
    `next_door`: the one numbered exactly `number` - 1 (+ 1), found by key whatever the plan; else the
    nearest, for when that number is no document's (a code taken by hand, a book older than
    series_number, the first number). PostgreSQL's generic plan of the nearest one can scan the
    organization's documents, so it is only asked when the number next door is missing."""
    number = _documents.c.series_number
    series = ((_documents.c.series_id == bindparam("series_id"),) if in_series
              else (_documents.c.series_id.is_(None), _documents.c.kind == bindparam("kind")))
    step = 1 if later else -1
    if next_door:
        where = number == bindparam("number") + step
    else:
        where = number > bindparam("number") if later else number < bindparam("number")
    return Statement(select(_documents.c.date, _documents.c.user_code)
                     .where(_documents.c.org_id == bindparam("org_id"), *series, where)
                     .order_by(number.asc() if later else number.desc()).limit(1))


_SERIES_NEIGHBOURS = {(later, in_series, next_door): _series_neighbour(later, in_series, next_door)
                      for later in (False, True) for in_series in (False, True) for next_door in (False, True)}


def _code_and_previous() -> Statement:
    """Whether a document of the organization holds the code `code` already (a user took it by
    hand), and the date and code of the document numbered `number` - 1 among the automatic codes of
    `kind`: one statement for both."""
    before = _series_neighbour(False, False, True).statement.subquery()
    taken = select(_documents.c.id).where(_documents.c.org_id == bindparam("org_id"),
                                          _documents.c.user_code == bindparam("code")).exists()
    return Statement(select(taken, select(before.c.date).scalar_subquery(), select(before.c.user_code)
                            .scalar_subquery()))


_CODE_AND_PREVIOUS = _code_and_previous()


class DocumentStore:
    def __init__(self, link: Link, org_id: int) -> None:
        self.link = link
        self.org_id = org_id

    # -- reading -------------------------------------------------------------------------------

    def read(self, ids: Sequence[int], *, lock: bool = False) -> dict[int, Any]:
        """The documents of these ids that are this organization's, with their lines and what settles
        them (`settled`), by id (`lock`: their rows held until the transaction ends, PostgreSQL). One
        statement on PostgreSQL under asyncpg (the request path), three elsewhere: on SQLite, where a
        statement costs no round trip, and under psycopg (the command line), which hands the fields of
        an anonymous record back as text."""
        if not ids:
            return {}
        if self.link.dialect.driver == "asyncpg":
            return self._read_whole(list(ids), lock)
        rows = (_READ_LOCKED if lock else _READ_FREE).all(self.link, org_id=self.org_id, ids=list(ids))
        if not rows:
            return {}
        lines: dict[int, list[Any]] = {row[_DOCUMENT_ID]: [] for row in rows}
        for row in _LINES.all(self.link, org_id=self.org_id, ids=list(lines)):
            line = LineView(*row)
            lines[line.document_id].append(line)
        settled = settling(self.link, self.org_id, list(lines))
        return {row[_DOCUMENT_ID]: _document_of(row, lines[row[_DOCUMENT_ID]], settled[row[_DOCUMENT_ID]])
                for row in rows}

    def find(self, kind: str, column: str, key: str, *, lock: bool = False) -> Any | None:
        """The document of this kind whose `column` (external_id or uuid, unique in the organization)
        is `key`, read as `read` reads it, or None."""
        if self.link.dialect.driver == "asyncpg":
            rows = _WHOLE_BY[column][lock].all(self.link, org_id=self.org_id, kind=kind, key=key)
            return next(iter(self._views_of_whole(rows).values()), None)
        document_id = _ID_BY[column][lock].scalar(self.link, org_id=self.org_id, kind=kind, key=key)
        return None if document_id is None else self.read([document_id], lock=lock).get(document_id)

    def party_and_document(self, party_key: str, kind: str, document_key: str) -> tuple[Any | None, int | None]:
        """The party of this external id (a PartyView, or None) and, in the same statement, the id of
        the document of this kind and external id (None when there is none yet): an import learns
        whether it creates or updates, and its customer, in one round trip. Unlocked: a document
        created meanwhile is found by the claim of its external id (`insert(claiming_external_id=)`)."""
        row = _PARTY_AND_DOCUMENT.first(self.link, org_id=self.org_id, party_key=party_key, kind=kind,
                                        document_key=document_key)
        if row is None:
            return None, None
        party = PartyView(*row[:-1])
        self.link.keep_row(_parties, party)  # a document's checks then read it by id without a statement
        return party, row[-1]

    def read_ahead_for_update(self, transactions: TransactionStore, document_id: int, *, source_type: str,
                              entity_type: str) -> None:
        """What an update of this document reads next, in one statement, once its row is held
        (PostgreSQL under asyncpg, where a round trip is most of what a statement costs): what settles
        it, the transaction it posted (as `source_type`) with its entries, and its custom field values
        (as an `entity_type`). Each is kept for the unit of work until it writes that table."""
        if self.link.dialect.driver != "asyncpg":
            return
        settles, headers, entries, values, fields = _AHEAD_OF_UPDATE.first(
            self.link, org_id=self.org_id, document_id=document_id, source_type=source_type, entity_type=entity_type)
        settlement.keep_ahead(self.link, document_id, settles)
        transactions.keep_ahead(source_type, document_id, headers, entries)
        masterdata.keep_custom_ahead(self.link, entity_type, document_id, values, fields)

    def amending(self, document_id: int) -> list[int]:
        """The ids of the documents that amend this one (its credit notes, Quipu's amending entries).
        Of a document this unit of work created, only documents it created too can (known without a
        statement, unless the ORM, which the store does not see, is in use)."""
        created = self.link.created.get(_documents, {})
        if document_id in created and not self.link.orm_in_use:
            return sorted(row_id for row_id, amends_id in created.items() if amends_id == document_id)
        return [row[0] for row in _AMENDING.all(self.link, org_id=self.org_id, document_id=document_id)]

    def series_neighbour(self, kind: str, series_id: int | None, number: int, *,
                         later: bool = False) -> tuple[date, str] | None:
        """The date and code of the document numbered just before `number` (or just after, `later`)
        in its series: the numbering series `series_id`, else the automatic codes of `kind`."""
        values = dict(org_id=self.org_id, kind=kind, series_id=series_id, number=number)
        row = _SERIES_NEIGHBOURS[later, series_id is not None, True].first(self.link, **values)
        if row is None and (later or number > 1):
            row = _SERIES_NEIGHBOURS[later, series_id is not None, False].first(self.link, **values)
        return (row[0], row[1]) if row is not None else None

    def code_and_previous(self, kind: str, code: str, number: int) -> tuple[bool, tuple[date, str] | None]:
        """Whether `code` is taken already, and `series_neighbour` of the automatic code `number` of
        `kind`, in one statement."""
        taken, on, previous = _CODE_AND_PREVIOUS.first(self.link, org_id=self.org_id, kind=kind, code=code,
                                                       number=number)
        if previous is None and number > 1:  # number - 1 is no document's: the nearest before (rare)
            nearest = _SERIES_NEIGHBOURS[False, False, False].first(self.link, org_id=self.org_id, kind=kind,
                                                                    number=number)
            on, previous = nearest if nearest is not None else (None, None)
        return bool(taken), (on, previous) if previous is not None else None

    def _read_whole(self, ids: list[int], lock: bool) -> dict[int, Any]:
        return self._views_of_whole((_WHOLE_LOCKED if lock else _WHOLE_FREE).all(self.link, org_id=self.org_id,
                                                                                   ids=ids))

    def _views_of_whole(self, rows: Sequence[Any]) -> dict[int, Any]:
        if not rows:
            return {}
        dialect = self.link.dialect
        line_of, allocation_of = records(_lines, dialect), records(_allocations, dialect)
        return {row[_DOCUMENT_ID]: _document_of(row[:-2], [LineView(*line_of(line)) for line in row[-2] or ()],
                                                [AllocationView(*allocation_of(made)) for made in row[-1] or ()])
                for row in rows}

    # -- writing -------------------------------------------------------------------------------

    def insert(self, drafts: Sequence[Any], *, claiming_external_id: bool = False, then: Then | None = None) -> list[Any]:
        """New documents with their lines, in two statements whatever their number. A value another
        document of the organization holds where it must be unique (a code, an external id) is a
        DUPLICATE domain error naming the field. `claiming_external_id` (one document, PostgreSQL: see
        `claims_external_ids`): an external id another document of its kind holds is that error too,
        but leaves the transaction going, with nothing written. `then` (one document): an insert that
        rides along in the document's statement when it can (its transaction: statements.Then)."""
        if not drafts:
            return []
        if claiming_external_id and (len(drafts) != 1 or not self.can_claim_external_id(len(drafts[0].lines))):
            raise ValueError("an external id is claimed by one document of few lines, on PostgreSQL")
        self.link.wrote(_documents)
        now = utcnow()
        rows = [{**_values(draft, _DOCUMENT_COLUMNS), "uuid": draft.uuid or str(uuid.uuid4()),
                 "created_at": now, "updated_at": now, "org_id": self.org_id} for draft in drafts]
        for row in rows:
            del row["id"]
        with _unique_violations():
            if len(drafts) == 1:  # the usual request: the document and its lines in one statement
                lines = self._insert_one(rows[0], drafts[0].lines, claiming_external_id, then)
            else:
                for row, document_id in zip(rows, _INSERT.ids(self.link, rows)):
                    row["id"] = document_id
                lines = self._insert_lines([(row["id"], line) for row, draft in zip(rows, drafts)
                                            for line in draft.lines])
        created = self.link.created.setdefault(_documents, {})
        created.update((row["id"], row["amends_id"]) for row in rows)
        by_document: dict[int, list[Any]] = {}
        for line in lines:
            by_document.setdefault(line.document_id, []).append(line)
        # Nothing settles a document that did not exist: its allocations need no statement.
        return [_view(row, draft, by_document.get(row["id"], ()), settled=()) for row, draft in zip(rows, drafts)]

    def update(self, before: Any, draft: Any) -> Any:
        """The document as `draft` has it: its changed columns, the lines it no longer has removed,
        the changed ones rewritten, the new ones added."""
        values = _values(draft, _DOCUMENT_COLUMNS)
        self.link.wrote(_documents)
        with _unique_violations():
            changed = any(getattr(before, name) != value for name, value in values.items())
            if changed:
                values["updated_at"] = utcnow()  # the row is written whole: one statement compiled once
            kept = self._write_lines(before, draft, {f"new_{name}": values[name] for name in _DOCUMENT_CHANGES}
                                     if changed else None)
        self.link.forget(Document, [before.id])
        return _view({**values, "id": before.id}, draft, kept)

    def set(self, document_id: int, **values: Any) -> None:
        """A few columns of one document changed (its delivery, the invoice an order became)."""
        self.link.wrote(_documents)
        self.link.connection(writing=True).execute(update(_documents).where(
            _documents.c.org_id == self.org_id, _documents.c.id == document_id).values(values))
        self.link.forget(Document, [document_id])

    def _write_lines(self, before: Any, draft: Any, header: dict[str, Any] | None) -> list[Any]:
        """The lines written, and the document's row when `header` gives its new values: both in one
        statement on PostgreSQL when the lines are only rewritten (a re-imported invoice)."""
        current = {line.id: line for line in before.lines}
        wanted = {line.id for line in draft.lines if line.id is not None}
        removed = [line_id for line_id in current if line_id not in wanted]
        rewritten = [{**{f"new_{name}": getattr(line, name) for name in _LINE_CHANGES}, "line_id": line.id}
                     for line in draft.lines
                     if line.id is not None and _values(line, _LINE_COLUMNS) != _values(current[line.id], _LINE_COLUMNS)]
        together = (header is not None and rewritten and not removed and len(rewritten) <= _LINES_WITH_ROW_MAX
                    and self.link.dialect.name == "postgresql")
        if together:
            _update_with_lines(len(rewritten)).run(self.link, document_id=before.id, **header, **{
                f"{name}_{index}": value for index, row in enumerate(rewritten) for name, value in row.items()})
        else:
            if header is not None:
                _UPDATE.run(self.link, document_id=before.id, **header)
            if removed:
                _DELETE_LINES.run(self.link, org_id=self.org_id, ids=removed)
            _UPDATE_LINE.run_many(self.link, rewritten)
        added = self._insert_lines([(before.id, line) for line in draft.lines if line.id is None])
        self.link.forget(DocumentLine, [*removed, *(row["line_id"] for row in rewritten)])
        made = {line.id: line for line in added}
        new = iter(added)
        return [LineView(**{**_values(line, _LINE_COLUMNS), "org_id": self.org_id, "document_id": before.id})
                if line.id is not None else made[next(new).id] for line in draft.lines]

    def can_claim_external_id(self, line_count: int) -> bool:
        """Whether `insert` can claim the external id of a document of so many lines without ending the
        transaction when it is taken (PostgreSQL, in the one statement that writes a document with at
        most ROWS_PER_INSERT_MAX lines)."""
        return self.link.dialect.name == "postgresql" and line_count <= ROWS_PER_INSERT_MAX

    def _insert_one(self, row: dict[str, Any], drafts: Sequence[Any], claiming_external_id: bool = False,
                    then: Then | None = None) -> list[Any]:
        lines = [{**_values(line, _LINE_COLUMNS), "org_id": self.org_id} for line in drafts]
        row["id"], line_ids = _INSERT_WITH_LINES.ids(self.link, row, lines, then=then,
                                                     unless_taken=_EXTERNAL_ID_KEY if claiming_external_id else ())
        if row["id"] is None:
            raise fail(ErrorKind.DUPLICATE, "external_id", "this value is already used")
        return [LineView(**{**line, "id": line_id, "document_id": row["id"]}) for line, line_id in zip(lines, line_ids)]

    def _insert_lines(self, lines: Sequence[tuple[int, Any]]) -> list[Any]:
        if not lines:
            return []
        rows = [{**_values(line, _LINE_COLUMNS), "document_id": document_id, "org_id": self.org_id}
                for document_id, line in lines]
        for row, line_id in zip(rows, _INSERT_LINES.ids(self.link, rows)):
            row["id"] = line_id
        return [LineView(**row) for row in rows]


def _values(record: Any, names: Sequence[str]) -> dict[str, Any]:
    return {name: getattr(record, name) for name in names}


def _document_of(row: Any, lines: Sequence[Any], settled: Sequence[Any]) -> Any:
    """A row of `_READ` (the document, its party, its two contacts side by side), its lines and what
    settles it."""
    party_end = _DOCUMENT_WIDTH + _PARTY_WIDTH
    billing, shipping = row[party_end:party_end + _CONTACT_WIDTH], row[party_end + _CONTACT_WIDTH:]
    return DocumentView(*row[:_DOCUMENT_WIDTH], customer=PartyView(*row[_DOCUMENT_WIDTH:party_end]),
                        billing_contact=ContactView(*billing) if billing[_CONTACT_ID] is not None else None,
                        shipping_contact=ContactView(*shipping) if shipping[_CONTACT_ID] is not None else None,
                        lines=tuple(lines), settled=tuple(settled))


def _view(row: Mapping[str, Any], draft: Any, lines: Sequence[Any], settled: Sequence[Any] | None = None) -> Any:
    return DocumentView(**{name: row[name] for name in _DOCUMENT_COLUMNS}, customer=draft.customer,
                        billing_contact=draft.billing_contact, shipping_contact=draft.shipping_contact,
                        lines=tuple(lines), settled=None if settled is None else tuple(settled))


@contextmanager
def _unique_violations() -> Iterator[None]:
    """A unique index that refuses a write becomes a DUPLICATE domain error naming the field. The
    transaction is then spent (PostgreSQL): the error ends the unit of work, unless the caller wrote
    inside a savepoint of its own (services/kernel/imports.upsert does)."""
    try:
        yield
    except IntegrityError as error:
        name = violated_field(error)
        if name is None:
            raise
        raise fail(ErrorKind.DUPLICATE, name, "this value is already used") from error
