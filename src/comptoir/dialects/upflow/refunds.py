"""Upflow refunds (money given back to a customer, linked to the payments and credit notes it gives
back) and reconciliations (POST /reconcile: credits matched against debits, replaced as a whole by
externalId; the same externalId with four empty lists undoes it)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field, StrictInt

from comptoir.codec import iso_timestamp
from comptoir.domain.allocations import CREDIT_NOTE, INVOICE, PAYMENT, REFUND, Side
from comptoir.domain.query import ListQuery
from comptoir.services.documents import matching
from comptoir.services.masterdata import parties
from comptoir.services.settlement import allocations, refunds

from .customers import Link, Model, _reference, _unit, _validated, json_object, page
from .errors import UpflowError
from .invoices import minor_factor, parse_day, to_cents
from .links import CENTS_MAX, LinkedRecord, document_link, find_record, record_link, sides
from .payments import INSTRUMENTS, bank_account_id, shown_bank_account_id

REFUNDS_PAGE_MAX = 500

router = APIRouter()


class RefundIn(Model):
    id: str | None = None
    externalId: str | None = Field(None, max_length=255)  # noqa: N815 - Upflow's wire names
    currency: str | None = Field(None, max_length=4)
    amount: StrictInt | None = Field(None, gt=0, lt=CENTS_MAX)
    validatedAt: str | None = None  # noqa: N815
    instrument: Literal[INSTRUMENTS] | None = None  # type: ignore[valid-type]
    bankAccountId: str | None = None  # noqa: N815
    customer: Link | None = None
    linkedPayments: list[LinkedRecord] | None = None  # noqa: N815
    linkedCreditNotes: list[LinkedRecord] | None = None  # noqa: N815


class ReconcileIn(Model):
    externalId: str = Field(..., min_length=1, max_length=255)  # noqa: N815
    invoices: list[LinkedRecord] = Field(default_factory=list, max_length=1000)
    payments: list[LinkedRecord] = Field(default_factory=list, max_length=1000)
    creditNotes: list[LinkedRecord] = Field(default_factory=list, max_length=1000)  # noqa: N815
    refunds: list[LinkedRecord] = Field(default_factory=list, max_length=1000)


def _refund_fields(book: Any, sent: RefundIn, existing: Any | None) -> dict[str, Any]:
    names = sent.model_fields_set
    missing = [name for name in ("currency", "amount", "validatedAt", "customer")
               if existing is None and getattr(sent, name) is None]
    if missing:
        raise UpflowError(400, f"required to create a refund: {', '.join(missing)}", "Bad Request")
    currency = sent.currency or existing.currency_iso_code
    factor = minor_factor(book, currency)
    fields: dict[str, Any] = {"currency_iso_code": currency}
    if sent.customer is not None:
        link = sent.customer
        fields["party_id"] = (parties.find_customer(book, uuid=link.id) if link.id else
                              parties.find_customer(book, external_id=link.externalId)).id
    if sent.amount is not None:
        fields["amount"] = Decimal(sent.amount) / factor
    if sent.validatedAt:
        fields["date"] = parse_day(sent.validatedAt, "validatedAt")
    if "linkedPayments" in names or "linkedCreditNotes" in names:
        # Each list, when sent, replaces that kind of link; the other kind is kept as it is.
        kept = [] if existing is None else [
            (kind, credit.id, amount) for kind, credit, amount in _current_links(book, existing)
            if (kind == PAYMENT and "linkedPayments" not in names)
            or (kind == CREDIT_NOTE and "linkedCreditNotes" not in names)]
        fields["links"] = kept + [(side.kind, side.id, amount) for side, amount in
                                  sides(book, PAYMENT, sent.linkedPayments, factor)
                                  + sides(book, CREDIT_NOTE, sent.linkedCreditNotes, factor)]
    if "bankAccountId" in names:
        fields["bank_account_id"] = bank_account_id(sent.bankAccountId)
    if "instrument" in names:
        fields["extra"] = {"upflow": {**((existing.extra or {}).get("upflow", {}) if existing else {}),
                                      "instrument": sent.instrument}}
    return fields


def _current_links(book: Any, refund: Any) -> list[tuple[str, Any, Decimal]]:
    """The refund's own links: (kind, the payment or credit note, amount)."""
    links = []
    for allocation in book.allocations.all(*allocations.owned_by(Side(REFUND, refund.id))):
        if allocation.payment_id is not None:
            links.append((PAYMENT, book.payments.get(allocation.payment_id), allocation.amount))
        else:
            links.append((CREDIT_NOTE, book.documents.get(allocation.credit_note_id), allocation.amount))
    return links


def render_refund(book: Any, refund: Any) -> dict:
    factor = minor_factor(book, refund.currency_iso_code)
    customer = book.parties.get(refund.party_id)
    upflow = (refund.extra or {}).get("upflow", {})
    payments, credit_notes = [], []
    for allocation in allocations.allocations_of(book, Side(REFUND, refund.id)):
        cents = to_cents(allocation.amount, factor)
        if allocation.payment_id is not None:
            payments.append(record_link(book.payments.get(allocation.payment_id), cents))
        else:
            credit_notes.append(document_link(book.documents.get(allocation.credit_note_id), cents))
    return {
        "id": refund.uuid,
        "externalId": refund.external_id,
        "currency": refund.currency_iso_code,
        "amount": to_cents(refund.amount, factor),
        "instrument": upflow.get("instrument", "UNKNOWN"),
        "validatedAt": iso_timestamp(datetime.combine(refund.date, datetime.min.time())),
        "bankAccountId": shown_bank_account_id(refund),
        "amountLinked": sum(link["amountLinked"] for link in payments + credit_notes),
        "linkedPayments": payments,
        "linkedCreditNotes": credit_notes,
        "linkedTransactions": [],
        "customer": {"id": customer.uuid, "externalId": customer.external_id, "companyName": customer.full_name},
        "createdAt": iso_timestamp(refund.created_at),
        "modifiedAt": iso_timestamp(refund.updated_at),
    }


def _find(book: Any, ref: str) -> Any:
    refund = book.refunds.find(**_reference(ref))
    if refund is None:
        raise UpflowError(404, f"No refund {ref}", "Not Found")
    return refund


@router.post("/refunds", tags=["refunds"])
async def import_refund(request: Request) -> JSONResponse:
    body = await json_object(request)

    def work(book):
        sent = _validated(RefundIn, body.value())
        if sent.externalId:
            existing = book.refunds.find(external_id=sent.externalId)
            refund, _ = refunds.import_refund(book, sent.externalId, _refund_fields(book, sent, existing))
        elif sent.id:
            existing = _find(book, sent.id)
            refund = refunds.REFUNDS.update(book, existing.id, _refund_fields(book, sent, existing))
        else:
            refund = refunds.REFUNDS.create(book, _refund_fields(book, sent, None))
        return render_refund(book, refund)

    return JSONResponse(await _unit(request, work))


@router.get("/refunds", tags=["refunds"])
async def list_refunds(request: Request) -> JSONResponse:
    offset, limit = page(request, REFUNDS_PAGE_MAX)

    def work(book):
        rows, _ = refunds.REFUNDS.list(book, ListQuery((), (), offset, limit))
        return {"offset": offset, "limit": limit, "total": book.refunds.count(),
                "items": [render_refund(book, row) for row in rows]}

    return JSONResponse(await _unit(request, work, reads=True))


@router.get("/refunds/{ref}", tags=["refunds"])
async def get_refund(ref: str, request: Request) -> JSONResponse:
    return JSONResponse(await _unit(request, lambda book: render_refund(book, _find(book, ref)), reads=True))


@router.delete("/refunds/{ref}", status_code=204, tags=["refunds"])
async def delete_refund(ref: str, request: Request) -> Response:
    await _unit(request, lambda book: refunds.REFUNDS.delete(book, _find(book, ref).id))
    return Response(status_code=204)


@router.post("/reconcile", tags=["reconcile"])
async def reconcile(request: Request) -> JSONResponse:
    """Answers the JSON string "CREATED", as Upflow's reference examples show, on every success."""
    body = await json_object(request)

    def work(book):
        sent = _validated(ReconcileIn, body.value())
        records = [(kind, find_record(book, kind, link), link) for kind, links in (
            (PAYMENT, sent.payments), (CREDIT_NOTE, sent.creditNotes), (INVOICE, sent.invoices),
            (REFUND, sent.refunds)) for link in links]
        currencies = {(record.currency_iso_code) for _, record, _ in records}
        if len(currencies) > 1:
            raise UpflowError(400, "a reconciliation links records of one currency", "Bad Request")
        factor = minor_factor(book, currencies.pop()) if currencies else 1
        entries = [(kind, Side(kind, record.id), Decimal(link.cents) / factor) for kind, record, link in records]
        matching.reconcile(book, sent.externalId,
                           [(side, amount) for kind, side, amount in entries if kind in (PAYMENT, CREDIT_NOTE)],
                           [(side, amount) for kind, side, amount in entries if kind in (INVOICE, REFUND)])
        return "CREATED"

    return JSONResponse(await _unit(request, work))
