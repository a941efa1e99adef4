"""The audit trail as the book's owner reads it (issue 17 §8): every change to the organization's
book, who made it and when, the row before and after, for the whole organization or for one
document (its lines, settlements and attachments, its transactions with their entries, and the
reversals of those transactions). The database writes it (storage/audit.py); nothing changes it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from comptoir.domain.documents import ALL_KINDS, SALES_ORDER
from comptoir.services.ledger.posting import REVERSAL
from comptoir.storage import audit
from comptoir.storage.book import Book
from comptoir.storage.tables import AuditEvent

# The sources of a document's transactions: its kind, or the payment its `paid_at` declared.
DOCUMENT_SOURCES = (*ALL_KINDS, SALES_ORDER, "declared_payment")
PAGE_MAX = 1000
_trail = AuditEvent.__table__


@dataclass(frozen=True)
class Change:
    id: int
    at: str
    actor: str
    action: str
    subject: str
    subject_id: int
    parent: str | None
    parent_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    changes: dict[str, list[Any]] = field(default_factory=dict)


def organization_trail(book: Book, *, subject: str | None = None, subject_id: int | None = None,
                       before_id: int | None = None, limit: int = 100) -> list[Change]:
    """The organization's changes, newest first, older than the change `before_id` (the cursor of
    the next page), of one table (and row) when asked."""
    criteria = []
    if subject is not None:
        criteria.append(_trail.c.subject == subject)
    if subject_id is not None:
        criteria.append(_trail.c.subject_id == subject_id)
    rows = audit.events(book.link, book.org_id, *criteria, after_id=before_id, limit=min(limit, PAGE_MAX),
                        descending=True)
    return [_change(book, row) for row in rows]


def document_trail(book: Book, document_id: int) -> list[Change]:
    """Every change of one document and of what belongs to it, oldest first (a deleted document's
    trail stays readable: the trail outlives it)."""
    own = audit.events(book.link, book.org_id, ((_trail.c.subject == "documents") & (_trail.c.subject_id == document_id))
                       | ((_trail.c.parent == "documents") & (_trail.c.parent_id == document_id))
                       | ((_trail.c.subject == "transactions") & _trail.c.parent.in_(DOCUMENT_SOURCES)
                          & (_trail.c.parent_id == document_id)))
    transactions = {row.subject_id for row in own if row.subject == "transactions"}
    reversals = {row.subject_id for row in audit.events(
        book.link, book.org_id, _trail.c.subject == "transactions", _trail.c.parent == REVERSAL,
        _trail.c.parent_id.in_(sorted(transactions)))} if transactions else set()
    ledger = audit.events(book.link, book.org_id, ((_trail.c.subject == "transactions")
                                                   & _trail.c.subject_id.in_(sorted(transactions | reversals)))
                          | ((_trail.c.parent == "transactions")
                             & _trail.c.parent_id.in_(sorted(transactions | reversals)))) if transactions else []
    rows = {row.id: row for row in (*own, *ledger)}
    return [_change(book, rows[row_id]) for row_id in sorted(rows)]


def _change(book: Book, row: Any) -> Change:
    dialect = book.link.dialect.name
    before, after = audit.decoded(row.subject, row.before, dialect), audit.decoded(row.subject, row.after, dialect)
    return Change(row.id, audit.moment(row.at), row.actor, row.action, row.subject, row.subject_id, row.parent,
                  row.parent_id, before, after, audit.changes(before, after))
