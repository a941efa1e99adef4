"""The file store: the bytes of the book's files on the filesystem, one `StoredFile` row each.

Files live under a root directory (settings.files_dir) at `<organization uuid>/<2 characters>/<file
uuid>`. A file is written whole under a temporary name and renamed into place, so a reader never sees
half a file. The bytes follow the transaction that stores or discards their row: a file stored by a
transaction that rolls back is removed again, and a discarded file's bytes are removed only once the
transaction that dropped its row has committed.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from comptoir.storage import deposits
from comptoir.storage.book import Book
from comptoir.storage.database import Database, off_the_loop
from comptoir.storage.tables import Document, StoredFile

PDF = "application/pdf"
# (content type, magic bytes at offset 0)
_MAGIC = ((PDF, b"%PDF-"), ("image/jpeg", b"\xff\xd8\xff"), ("image/png", b"\x89PNG\r\n\x1a\n"))
# A BMP starts with "BM"; so does plenty of text, so the size of its DIB header must be a known one too.
_BMP_HEADER_SIZES = {12, 40, 52, 56, 64, 108, 124}
FILENAME_MAX = 255


def sniff(data: bytes) -> str | None:
    """The content type of the bytes, by their magic numbers: a PDF, a JPEG, a PNG or a BMP; None
    for anything else (whatever name or declared type came with it)."""
    for content_type, magic in _MAGIC:
        if data.startswith(magic):
            return content_type
    if data[:2] == b"BM" and len(data) >= 26 and int.from_bytes(data[14:18], "little") in _BMP_HEADER_SIZES:
        return "image/bmp"
    return None


def safe_filename(name: str | None, default: str) -> str:
    """The last component of a client's file name, without control characters, at most 255
    characters; `default` when nothing is left."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable()).strip()
    return (name or default)[-FILENAME_MAX:]


def write(book: Book, root: Path, filename: str, content_type: str, data: bytes) -> dict[str, Any]:
    """Write the bytes under the root, whole and on the disk (fsync), in a worker thread when the unit
    of work serves the event loop (storage/database.off_the_loop: the loop goes on meanwhile); they
    are removed again if the transaction rolls back. The values of the file's row (`store` writes it)."""
    file_uuid = str(uuid.uuid4())
    key = f"{book.organization.uuid}/{file_uuid[:2]}/{file_uuid}"
    path = _path(root, key)
    digest = off_the_loop(lambda: _write_whole(path, data))
    book.link.on_rollback(lambda: path.unlink(missing_ok=True))
    return {"uuid": file_uuid, "filename": safe_filename(filename, file_uuid), "content_type": content_type,
            "byte_size": len(data), "sha256": digest, "storage_key": key}


def store(book: Book, root: Path, filename: str, content_type: str, data: bytes) -> Any:
    """Write the bytes under the root and add their row to the book (its view). The bytes are removed
    again if the transaction rolls back."""
    return deposits.insert_file(book.link, book.org_id, write(book, root, filename, content_type, data))


def _write_whole(path: Path, data: bytes) -> str:
    """The bytes written under a temporary name, fsync'ed and renamed into place: their SHA-256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Copy:
    """A stored file to send as it is: found in a unit of work, its bytes read after it (`render`),
    in a worker thread when the caller serves the event loop. FileNotFoundError when they are gone."""

    filename: str
    content_type: str
    path: Path

    def render(self) -> bytes:
        return self.path.read_bytes()


def copy_of(root: Path, stored: StoredFile) -> Copy:
    return Copy(stored.filename, stored.content_type, path_of(root, stored))


def path_of(root: Path, stored: StoredFile) -> Path:
    return _path(root, stored.storage_key)


def read(root: Path, stored: StoredFile) -> bytes:
    """The bytes of a stored file (FileNotFoundError when they are gone from the disk)."""
    return path_of(root, stored).read_bytes()


def discard(book: Book, root: Path, stored: Any) -> None:
    """Remove the file's row now and its bytes once the transaction has committed. `stored`: its row,
    or its view (what `store` returns)."""
    book.stored_files.remove(stored if isinstance(stored, StoredFile) else book.stored_files.get(stored.id))
    path = path_of(root, stored)
    book.link.after_commit(lambda: path.unlink(missing_ok=True))


def replace_pdf(book: Book, root: Path, document: Document, filename: str, data: bytes) -> StoredFile:
    """Store a PDF as the document's own (an invoice's or a credit note's), in place of the one it had."""
    previous = book.stored_files.get(document.pdf_file_id) if document.pdf_file_id else None
    stored = store(book, root, filename, PDF, data)
    document.pdf_file_id = stored.id
    book.flush()
    if previous is not None and not book.documents.exists(pdf_file_id=previous.id):
        discard(book, root, previous)
    return stored


def sweep(database: Database, root: Path, *, older_than_s: float = 3600, now: float | None = None) -> list[str]:
    """Remove what a crash leaves in the file store: a file that no row names (its transaction never
    committed: the process died before it could remove the file) and a half-written temporary file.
    Only files older than `older_than_s` go, so that a transaction still running keeps its files;
    `comptoir serve` sweeps at start. The storage keys removed (temporary files by their path).
    Spans every organization, like the identity lookups: it is the file store's own upkeep."""
    base = Path(root).resolve()
    if not base.exists():
        return []
    cutoff = (time.time() if now is None else now) - older_than_s
    candidates = [path for path in base.glob("*/*/*") if path.is_file() and path.stat().st_mtime <= cutoff]
    if not candidates:
        return []
    with database.transaction() as session:
        known = set(session.scalars(select(StoredFile.storage_key)))
    removed = []
    for path in candidates:
        key = path.relative_to(base).as_posix()
        if key not in known:
            path.unlink(missing_ok=True)
            removed.append(key)
    return removed


# -- internals ---------------------------------------------------------------------------------

def _path(root: Path, key: str) -> Path:
    """The path of a storage key, which must stay under the root."""
    base = Path(root).resolve()
    path = (base / key).resolve()
    if base not in path.parents:
        raise ValueError(f"storage key outside the file store: {key!r}")
    return path
