"""What settles documents (storage/views.py): the allocations of payments and credit notes to them,
read in one statement for any number of documents."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, func, literal, select, type_coerce
from sqlalchemy.orm import Session

from .link import Link
from .statements import Statement, array_of, in_ids, records
from .tables import Allocation, Document, Payment
from .views import view_type

_allocations = Allocation.__table__
_documents, _payments = Document.__table__, Payment.__table__

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


def _counterparts(owner: Any) -> Statement:
    """What one payment, credit note or refund (`owner`: its column of the allocations) is allocated
    against, in the order the allocations were made: the kind, code and vendor reference of each
    counterpart (kind "payment" and its code for a payment), with the amount and the rate it is booked
    at. A credit's counterparts are the invoices it settles (what it gives back to a refund is not
    settled: it stays its own)."""
    if owner is _allocations.c.refund_id:
        joined = (_allocations.outerjoin(_documents, _documents.c.id == _allocations.c.credit_note_id)
                  .outerjoin(_payments, _payments.c.id == _allocations.c.payment_id))
        kind = func.coalesce(_documents.c.kind, literal("payment"))
        code = func.coalesce(_documents.c.user_code, _payments.c.user_code)
        rate = func.coalesce(_documents.c.exchange_rate, _payments.c.exchange_rate)
    else:
        joined = _allocations.join(_documents, _documents.c.id == _allocations.c.document_id)
        kind, code, rate = _documents.c.kind, _documents.c.user_code, _documents.c.exchange_rate
    return Statement(select(kind, code, _documents.c.vendor_reference, _allocations.c.amount,
                            type_coerce(rate, _documents.c.exchange_rate.type)).select_from(joined)
                     .where(_allocations.c.org_id == bindparam("org_id"), owner == bindparam("owner_id"))
                     .order_by(_allocations.c.id))


_COUNTERPARTS = {"payment": _counterparts(_allocations.c.payment_id),
                 "credit_note": _counterparts(_allocations.c.credit_note_id),
                 "refund": _counterparts(_allocations.c.refund_id)}


def counterparts(where: Link | Session, org_id: int, kind: str, owner_id: int) -> list[tuple[str, str, str | None, Any, Any]]:
    """(kind, code, vendor reference, amount, rate) of what a payment or a credit note settles (invoices), or
    of what a refund gives back (payments, credit notes), in one statement (services/settlement/lettering.py)."""
    return _COUNTERPARTS[kind].all(where, org_id=org_id, owner_id=owner_id)
