"""Upflow payments: imported by externalId, linked to one or several invoices with the amount
applied to each (in cents); posted bank against receivable like every payment of the book, on the
bank account `bankAccountId` names (one that GET /bank_accounts lists), else undeposited funds."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field, StrictInt

from comptoir.codec import iso_timestamp
from comptoir.domain.allocations import INVOICE
from comptoir.domain.query import ListQuery
from comptoir.services.masterdata import custom_fields, parties
from comptoir.services.settlement import payments

from .customers import (
    ExactJSONResponse,
    Link,
    Model,
    _reference,
    _unit,
    _validated,
    json_object,
    page,
)
from .errors import UpflowError
from .invoices import minor_factor, parse_day, render_invoice, to_cents
from .links import CENTS_MAX, LinkedRecord, find_record, record_link

PAYMENTS_PAGE_MAX = 500
INSTRUMENTS = ("WIRE_TRANSFER", "DIRECT_DEBIT", "CARD", "CASH", "CHECK", "UNKNOWN")

router = APIRouter()


class PaymentIn(Model):
    id: str | None = None
    externalId: str | None = Field(None, max_length=255)  # noqa: N815
    currency: str | None = Field(None, max_length=4)
    amount: StrictInt | None = Field(None, gt=0, lt=CENTS_MAX)
    validatedAt: str | None = None  # noqa: N815
    instrument: Literal[INSTRUMENTS] | None = None  # type: ignore[valid-type]
    bankAccountId: str | None = None  # noqa: N815
    customer: Link | None = None
    linkedInvoices: list[LinkedRecord] | None = None  # noqa: N815
    customFields: list | None = None  # noqa: N815


def _payment_fields(book: Any, sent: PaymentIn, existing: Any | None) -> dict[str, Any]:
    names = sent.model_fields_set
    missing = [name for name in ("currency", "amount", "validatedAt", "customer")
               if existing is None and getattr(sent, name) is None]
    if missing:
        raise UpflowError(400, f"required to create a payment: {', '.join(missing)}", "Bad Request")
    currency = sent.currency or existing.currency_iso_code
    factor = minor_factor(book, currency)
    fields: dict[str, Any] = {"currency_iso_code": currency}
    if "customer" in names and sent.customer is not None:
        link = sent.customer
        fields["party_id"] = (parties.find_customer(book, uuid=link.id) if link.id else
                              parties.find_customer(book, external_id=link.externalId)).id
    if sent.amount is not None:
        fields["amount"] = Decimal(sent.amount) / factor
    if sent.validatedAt:
        fields["date"] = parse_day(sent.validatedAt, "validatedAt")
    if "linkedInvoices" in names:
        fields["allocations"] = [(find_record(book, INVOICE, link).id, Decimal(link.cents) / factor)
                                 for link in sent.linkedInvoices or []]
    if "bankAccountId" in names:
        fields["bank_account_id"] = bank_account_id(sent.bankAccountId)
    if "instrument" in names:
        fields["extra"] = {"upflow": {**((existing.extra or {}).get("upflow", {}) if existing else {}),
                                      "instrument": sent.instrument}}
    return fields


def bank_account_id(sent: str | None) -> int | str | None:
    """The bank account a `bankAccountId` names: the id GET /bank_accounts shows (the book's bank
    account's, as a string). Anything else is passed on as it is, for the service to refuse as
    naming no bank account (400)."""
    return int(sent) if sent is not None and sent.isascii() and sent.isdigit() else sent


def shown_bank_account_id(row: Any) -> str | None:
    """The `bankAccountId` of a payment or refund: its bank account's id (one written through any
    dialect), else what an import stored before bank accounts were resolved (kept as given then)."""
    if row.bank_account_id is not None:
        return str(row.bank_account_id)
    return (row.extra or {}).get("upflow", {}).get("bankAccountId")


def render_payment(book: Any, payment: Any, settings: Any, custom: list[dict] | None = None) -> dict:
    factor = minor_factor(book, payment.currency_iso_code)
    if custom is None:
        custom = custom_fields.values_of(book, "PAYMENT", [payment.id])[payment.id]
    customer = book.parties.get(payment.party_id) if payment.party_id else None
    upflow = (payment.extra or {}).get("upflow", {})
    linked, refunded = [], []
    for allocation in payment.allocations:
        if allocation.refund_id is not None:
            refunded.append(record_link(book.refunds.get(allocation.refund_id), to_cents(allocation.amount, factor)))
            continue
        invoice = render_invoice(book, book.documents.get(allocation.document_id), settings)
        linked.append({"linkedAmount": to_cents(allocation.amount, factor), "invoice": {
            key: invoice[key] for key in ("id", "externalId", "customId", "currency", "amountOutstanding",
                                          "grossAmount", "netAmount", "name", "issuedAt", "dueDate")}
            | {"status": invoice["state"]}})
    return {
        "id": payment.uuid,
        "externalId": payment.external_id,
        "currency": payment.currency_iso_code,
        "amount": to_cents(payment.amount, factor),
        "instrument": upflow.get("instrument", "UNKNOWN"),
        "validatedAt": iso_timestamp(_midnight(payment.date)),
        "bankAccountId": shown_bank_account_id(payment),
        "type": "ACCOUNT",
        "amountLinked": sum(link["linkedAmount"] for link in linked),
        "linkedInvoices": linked,
        "linkedRefunds": refunded,
        "customFields": custom,
        "customer": {"id": customer.uuid, "externalId": customer.external_id, "companyName": customer.full_name}
        if customer else None,
        "createdAt": iso_timestamp(payment.created_at),
        "modifiedAt": iso_timestamp(payment.updated_at),
    }


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time())


def _find(book: Any, ref: str) -> Any:
    key = _reference(ref)
    payment = book.payments.find(**key)
    if payment is None:
        raise UpflowError(404, f"No payment {ref}", "Not Found")
    return payment


@router.post("/payments", tags=["payments"])
async def import_payment(request: Request) -> JSONResponse:
    body = await json_object(request)

    def work(book):
        sent = _validated(PaymentIn, body.value())
        if sent.externalId:
            existing = book.payments.find(external_id=sent.externalId)
            payment, _ = payments.import_payment(book, sent.externalId, _payment_fields(book, sent, existing))
        elif sent.id:
            existing = _find(book, sent.id)
            payment = payments.RECEIVED.update(book, existing.id, _payment_fields(book, sent, existing))
        else:
            payment = payments.RECEIVED.create(book, _payment_fields(book, sent, None))
        if "customFields" in sent.model_fields_set:
            book.payments.lock(payment.id)  # concurrent writes of one payment's values queue
            custom_fields.set_values(book, "PAYMENT", payment.id, sent.customFields)
        return render_payment(book, payment, request.app.state.context.settings)

    return ExactJSONResponse(await _unit(request, work))


@router.get("/payments", tags=["payments"])
async def list_payments(request: Request) -> JSONResponse:
    offset, limit = page(request, PAYMENTS_PAGE_MAX)

    def work(book):
        matching = custom_fields.matching_condition(book, "PAYMENT", request.query_params)
        conditions = (matching,) if matching else ()
        rows, _ = payments.RECEIVED.list(book, ListQuery(conditions, (), offset, limit))
        custom = custom_fields.values_of(book, "PAYMENT", [row.id for row in rows])
        return {"offset": offset, "limit": limit, "total": book.payments.count_matching(conditions),
                "items": [render_payment(book, row, request.app.state.context.settings, custom[row.id])
                          for row in rows]}

    return ExactJSONResponse(await _unit(request, work, reads=True))


@router.get("/payments/{ref}", tags=["payments"])
async def get_payment(ref: str, request: Request) -> JSONResponse:
    return ExactJSONResponse(await _unit(request, lambda book: render_payment(book, _find(book, ref),
                                                                              request.app.state.context.settings), reads=True))


@router.delete("/payments/{ref}", status_code=204, tags=["payments"])
async def delete_payment(ref: str, request: Request) -> Response:
    def work(book):
        payment = _find(book, ref)
        payments.RECEIVED.delete(book, payment.id)
        custom_fields.clear_values(book, "PAYMENT", [payment.id])

    await _unit(request, work)
    return Response(status_code=204)
