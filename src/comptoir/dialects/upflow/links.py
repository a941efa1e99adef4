"""Links between Upflow records as the wire writes them: `{id}`, `{externalId}`, `{customId}` (invoices
and credit notes), or a nested `{"invoice": {...}}`, with the amount in cents as `amountLinked` (the
request spelling) or `linkedAmount` (the response spelling, which clients echo back)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import Field, StrictInt

from comptoir.domain.allocations import CREDIT_NOTE, INVOICE, PAYMENT, REFUND, Side
from comptoir.domain.errors import NotFound

from .customers import Link, Model
from .errors import UpflowError

CENTS_MAX = 10**17
NAMES = {INVOICE: "invoice", CREDIT_NOTE: "credit note", PAYMENT: "payment", REFUND: "refund"}


class LinkedRecord(Model):
    id: str | None = None
    externalId: str | None = None  # noqa: N815 - Upflow's wire names
    customId: str | None = None  # noqa: N815
    invoice: Link | None = None
    payment: Link | None = None
    creditNote: Link | None = None  # noqa: N815
    amountLinked: StrictInt | None = Field(None, ge=0, lt=CENTS_MAX)  # noqa: N815
    linkedAmount: StrictInt | None = Field(None, ge=0, lt=CENTS_MAX)  # noqa: N815

    @property
    def cents(self) -> int:
        return self.amountLinked if self.amountLinked is not None else self.linkedAmount or 0


def find_record(book: Any, kind: str, link: LinkedRecord) -> Any:
    """The invoice, credit note, payment or refund a link names (404 when there is none)."""
    target = link.invoice or link.payment or link.creditNote or link
    key: dict[str, Any]
    if target.id:
        key = {"uuid": target.id}
    elif target.externalId:
        key = {"external_id": target.externalId}
    elif getattr(target, "customId", None) and kind in (INVOICE, CREDIT_NOTE):
        key = {"user_code": target.customId}
    else:
        raise UpflowError(400, f"each linked {NAMES[kind]} needs an id or an externalId", "Bad Request")
    if kind in (INVOICE, CREDIT_NOTE):
        found = book.documents.find(kind=kind, **key)
    else:
        found = (book.payments if kind == PAYMENT else book.refunds).find(**key)
    if found is None:
        raise NotFound(NAMES[kind], next(iter(key.values())))
    return found


def sides(book: Any, kind: str, links: list[LinkedRecord] | None, factor: int) -> list[tuple[Side, Decimal]]:
    """Each linked record of this kind with the amount linked, in the document's currency units."""
    return [(Side(kind, find_record(book, kind, link).id), Decimal(link.cents) / factor) for link in links or []]


def document_link(document: Any, cents: int) -> dict:
    """How an invoice or a credit note is shown inside another record's links."""
    return {"id": document.uuid, "externalId": document.external_id, "customId": document.user_code,
            "amountLinked": cents}


def record_link(record: Any, cents: int) -> dict:
    """How a payment or a refund is shown inside another record's links."""
    return {"id": record.uuid, "externalId": record.external_id, "amountLinked": cents}

