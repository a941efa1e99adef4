"""Attachments: files kept with a document (a scanned receipt, the vendor's PDF). The bytes go to the
file store (services/files.py) in the transaction that attaches them."""

from __future__ import annotations

from pathlib import Path

from comptoir.domain.documents import ALL_KINDS
from comptoir.domain.errors import ErrorKind, fail
from comptoir.services.documents import files
from comptoir.storage.book import Book
from comptoir.storage.tables import Attachment, StoredFile

OCTET_STREAM = "application/octet-stream"


def attach(book: Book, root: Path, document_id: int | None, filename: str | None, data: bytes) -> Attachment:
    """Keep the file with the document; its type is what its bytes say, never what the client claims."""
    document = book.documents.get(document_id) if document_id is not None else None
    if document is None or document.kind not in ALL_KINDS:
        raise fail(ErrorKind.INVALID, "document_id", f"no book entry with id {document_id}")
    if not data:
        raise fail(ErrorKind.MISSING, "file", "is empty")
    content_type = files.sniff(data) or OCTET_STREAM
    stored = files.store(book, root, files.safe_filename(filename, "attachment"), content_type, data)
    return book.attachments.add(Attachment(document_id=document_id, stored_file_id=stored.id))


def get(book: Book, attachment_id: int) -> Attachment:
    return book.attachments.require(attachment_id)


def stored_file(book: Book, attachment: Attachment) -> StoredFile:
    return book.stored_files.get(attachment.stored_file_id)


def of_document(book: Book, document_id: int) -> list[Attachment]:
    return list(book.attachments.all(Attachment.document_id == document_id))


def delete(book: Book, root: Path, attachment_id: int) -> None:
    """Remove the attachment now, and its bytes once the transaction has committed (unless they are
    a OneConnect document's file too: that document keeps them)."""
    attachment = get(book, attachment_id)
    stored = stored_file(book, attachment)
    book.attachments.remove(attachment)
    if stored is not None and not book.received_documents.exists(file_id=stored.id):
        files.discard(book, root, stored)


def delete_of_document(book: Book, root: Path, document_id: int) -> None:
    """Remove every attachment of a document about to be deleted."""
    for attachment in of_document(book, document_id):
        delete(book, root, attachment.id)
