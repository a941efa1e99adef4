"""What settles documents (storage/views.py): the allocations of payments and credit notes to them,
read in one statement for any number of documents."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from .link import Link
from .statements import Statement, array_of, in_ids, records
from .tables import Allocation
from .views import view_type

_allocations = Allocation.__table__

AllocationView = view_type("AllocationView", _allocations,
                           doc="The part of a credit (a payment or a credit note) that settles a debit.")

_SETTLING = Statement(select(*_allocations.columns)
                      .where(_allocations.c.org_id == bindparam("org_id"), in_ids(_allocations.c.document_id))
                      .order_by(_allocations.c.id))


# PostgreSQL: what settles the document of `:document_id`, as a column of a statement reading ahead
# what a document's update reads (storage/documents.DocumentStore.read_ahead_for_update).
AHEAD = array_of(_allocations, (_allocations.c.org_id == bindparam("org_id"))
                 & (_allocations.c.document_id == bindparam("document_id")), _allocations.c.id)


def keep_ahead(link: Link, document_id: int, raw: Sequence[Any] | None) -> None:
    """What `AHEAD` read, kept for `settling` while the unit of work writes no allocation."""
    process = records(_allocations, link.dialect)
    link.read_rows["settling", document_id] = [AllocationView(*process(record)) for record in raw or ()]


def settling(where: Link | Session, org_id: int, document_ids: Sequence[int]) -> dict[int, list[Any]]:
    """The allocations that settle each of these documents, in the order they were made, by document
    (read ahead, when they were: `keep_ahead`)."""
    kept = where.kept([("settling", document_id) for document_id in document_ids], _allocations) \
        if isinstance(where, Link) and document_ids else None
    if kept is not None:
        return {document_id: list(allocations) for document_id, allocations in zip(document_ids, kept)}
    found: dict[int, list[Any]] = {document_id: [] for document_id in document_ids}
    if found:
        for row in _SETTLING.all(where, org_id=org_id, ids=list(found)):
            allocation = AllocationView(*row)
            found[allocation.document_id].append(allocation)
    return found
