"""Stored files, attachments and the documents OneConnect partners deposit, written with SQLAlchemy
Core (the deposit is a hot request: docs/performance.md). A deposit's file row and its document row go in one
statement on PostgreSQL (two elsewhere), and the document claims its externalReference as it is
written: when another document of the integration holds it, nothing of the two is written and the
unit of work goes on (`INSERT ... ON CONFLICT DO NOTHING`, no savepoint: the caller then refuses
the deposit, which rolls the unit back)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.dialects import postgresql, sqlite

from .link import Link
from .statements import Inserts, Statement
from .tables import Attachment, ReceivedDocument, StoredFile
from .tables.base import utcnow
from .views import view_type

_files, _received, _attachments = StoredFile.__table__, ReceivedDocument.__table__, Attachment.__table__

StoredFileView = view_type("StoredFileView", _files, doc="A file of the file store (its bytes are on the disk).")
ReceivedView = view_type("ReceivedView", _received, doc="A document a OneConnect partner deposited.")

_FILE_COLUMNS = tuple(column.name for column in _files.columns if column.name != "id")
_RECEIVED_COLUMNS = tuple(column.name for column in _received.columns if column.name not in ("id", "file_id"))
_CLAIMED = ("org_id", "integration_id", "external_reference")  # its unique constraint
_INSERT_FILE = Inserts(_files, _FILE_COLUMNS)
_INSERT_ATTACHMENT = Inserts(_attachments, ("org_id", "document_id", "stored_file_id", "created_at", "updated_at"))


# SQLite: INSERT the document unless its externalReference is taken: its id, or no row.
_CLAIM = Statement(sqlite.insert(_received)
                   .values({name: bindparam(name, type_=_received.c[name].type)
                            for name in (*_RECEIVED_COLUMNS, "file_id")})
                   .on_conflict_do_nothing(index_elements=list(_CLAIMED)).returning(_received.c.id), writes=True)


def _file_and_document() -> Statement:
    """PostgreSQL: the file's row, then the document's unless its externalReference is taken, in one
    statement: the two ids, the second NULL when it was taken (the file's row is then rolled back
    with the unit of work)."""
    types = {name: _received.c[name].type.compile(dialect=postgresql.dialect()) for name in _RECEIVED_COLUMNS}
    sql = (f"WITH f AS (INSERT INTO {_files.name} ({', '.join(_FILE_COLUMNS)}) "
           f"VALUES ({', '.join(':f_' + name for name in _FILE_COLUMNS)}) RETURNING id), "
           f"d AS (INSERT INTO {_received.name} ({', '.join(_RECEIVED_COLUMNS)}, file_id) "
           f"SELECT {', '.join(f'CAST(:d_{name} AS {types[name]})' for name in _RECEIVED_COLUMNS)}, f.id FROM f "
           f"ON CONFLICT ({', '.join(_CLAIMED)}) DO NOTHING RETURNING id) "
           "SELECT (SELECT id FROM f), (SELECT id FROM d)")
    parameters = [bindparam(f"f_{name}", type_=_files.c[name].type) for name in _FILE_COLUMNS]
    parameters += [bindparam(f"d_{name}", type_=_received.c[name].type) for name in _RECEIVED_COLUMNS]
    return Statement(text(sql).bindparams(*parameters), writes=True)


_FILE_AND_DOCUMENT = _file_and_document()


def _file_row(org_id: int, values: Mapping[str, Any]) -> dict[str, Any]:
    now = utcnow()
    return {"uuid": str(uuid.uuid4()), "created_at": now, "updated_at": now, **values, "org_id": org_id}


def insert_file(link: Link, org_id: int, values: Mapping[str, Any]) -> Any:
    """A new row of the file store (filename, content_type, byte_size, sha256, storage_key; a uuid
    given or new): its view."""
    link.wrote(_files)
    row = _file_row(org_id, values)
    [row["id"]] = _INSERT_FILE.ids(link, [row])
    return StoredFileView(**row)


def insert_deposit(link: Link, org_id: int, file_values: Mapping[str, Any],
                   document_values: Mapping[str, Any]) -> tuple[Any, Any | None]:
    """A deposited document and its file: their views; the document's is None when another document
    of its integration holds its externalReference (the caller refuses the deposit)."""
    link.wrote(_files)
    link.wrote(_received)
    file_row = _file_row(org_id, file_values)
    now = file_row["created_at"]
    row = {name: None for name in _RECEIVED_COLUMNS}
    row.update({"uuid": str(uuid.uuid4()), "created_at": now, "updated_at": now, "deposited_at": now,
                **document_values, "org_id": org_id})
    if link.dialect.name == "postgresql":
        file_row["id"], row["id"] = _FILE_AND_DOCUMENT.first(
            link, **{f"f_{name}": file_row[name] for name in _FILE_COLUMNS},
            **{f"d_{name}": row[name] for name in _RECEIVED_COLUMNS})
    else:
        [file_row["id"]] = _INSERT_FILE.ids(link, [file_row])
        row["id"] = _CLAIM.scalar(link, **{name: row[name] for name in _RECEIVED_COLUMNS}, file_id=file_row["id"])
    if row["id"] is None:
        return StoredFileView(**file_row), None
    return StoredFileView(**file_row), ReceivedView(**{**row, "file_id": file_row["id"]})


def insert_attachment(link: Link, org_id: int, document_id: int, stored_file_id: int) -> int:
    """A stored file attached to a document: the attachment's id."""
    link.wrote(_attachments)
    now = utcnow()
    [attachment_id] = _INSERT_ATTACHMENT.ids(link, [{"org_id": org_id, "document_id": document_id,
                                                      "stored_file_id": stored_file_id, "created_at": now,
                                                      "updated_at": now}])
    return attachment_id
