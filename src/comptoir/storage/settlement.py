"""What settles documents (storage/views.py): the allocations of payments and credit notes to them,
read in one statement for any number of documents."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from .link import Link
from .statements import Statement, in_ids
from .tables import Allocation
from .views import view_type

_allocations = Allocation.__table__

AllocationView = view_type("AllocationView", _allocations,
                           doc="The part of a credit (a payment or a credit note) that settles a debit.")

_SETTLING = Statement(select(*_allocations.columns)
                      .where(_allocations.c.org_id == bindparam("org_id"), in_ids(_allocations.c.document_id))
                      .order_by(_allocations.c.id))


def settling(where: Link | Session, org_id: int, document_ids: Sequence[int]) -> dict[int, list[Any]]:
    """The allocations that settle each of these documents, in the order they were made, by document."""
    found: dict[int, list[Any]] = {document_id: [] for document_id in document_ids}
    if found:
        for row in _SETTLING.all(where, org_id=org_id, ids=list(found)):
            allocation = AllocationView(*row)
            found[allocation.document_id].append(allocation)
    return found
