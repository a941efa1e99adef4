"""Upflow invoices: import by externalId with net and gross amounts in cents; state and
amountOutstanding derived from the book (payments applied through any dialect count)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field, StrictInt

from comptoir.domain.query import Condition, ListQuery, Op
from comptoir.services import parties, sales
from comptoir.services.credentials import Principal
from comptoir.wire import iso_timestamp

from .customers import Link, Model, _reference, _threaded, _unit, _validated, json_object, page
from .errors import UpflowError
from .security import authenticated

INVOICES_PAGE_MAX = 500
CENTS_MAX = 10**17

router = APIRouter()


class InvoiceIn(Model):
    id: str | None = None
    externalId: str | None = Field(None, max_length=255)  # noqa: N815 - Upflow's wire names
    customId: str | None = Field(None, max_length=64)  # noqa: N815
    issuedAt: str | None = None  # noqa: N815
    dueDate: str | None = None  # noqa: N815
    name: str | None = Field(None, max_length=255)
    currency: str | None = Field(None, max_length=4)
    grossAmount: StrictInt | None = Field(None, ge=0, lt=CENTS_MAX)  # noqa: N815
    netAmount: StrictInt | None = Field(None, ge=0, lt=CENTS_MAX)  # noqa: N815
    customer: Link | None = None


def parse_day(value: str, field: str) -> date:
    """`YYYY-MM-DD` or an ISO date-time (its date is kept)."""
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        raise UpflowError(400, f"{field}: {value!r} is not a date (YYYY-MM-DD or ISO 8601)", "Bad Request") from None


def minor_factor(book: Any, currency: str) -> int:
    found = next((c for c in book.currencies.all() if c.iso_code == currency), None)
    if found is None:
        raise UpflowError(400, f"currency: {currency} is not a currency of this organization", "Bad Request")
    return 10 ** found.minor_units


def to_cents(amount: Decimal, factor: int) -> int:
    return int((amount * factor).to_integral_value())


def _invoice_fields(book: Any, sent: InvoiceIn, existing: Any | None) -> dict[str, Any]:
    names = sent.model_fields_set
    missing = [name for name in ("customId", "issuedAt", "dueDate", "currency", "grossAmount", "netAmount", "customer")
               if existing is None and getattr(sent, name) is None]
    if missing:
        raise UpflowError(400, f"required to create an invoice: {', '.join(missing)}", "Bad Request")
    fields: dict[str, Any] = {}
    if "customer" in names and sent.customer is not None:
        link = sent.customer
        customer = parties.find_customer(book, uuid=link.id) if link.id else \
            parties.find_customer(book, external_id=link.externalId)
        fields["customer_id"] = customer.id
    if "customId" in names:
        fields["code"] = sent.customId
    if "issuedAt" in names and sent.issuedAt:
        fields["date"] = parse_day(sent.issuedAt, "issuedAt")
    if "dueDate" in names and sent.dueDate:
        fields["due_date"] = parse_day(sent.dueDate, "dueDate")
    currency = sent.currency or (existing.currency_iso_code if existing else None)
    if "currency" in names:
        fields["currency_iso_code"] = currency
    factor = minor_factor(book, currency)
    net = sent.netAmount if "netAmount" in names else (to_cents(existing.subtotal, factor) if existing else None)
    gross = sent.grossAmount if "grossAmount" in names else (to_cents(existing.total, factor) if existing else None)
    if gross < net:
        raise UpflowError(400, "grossAmount: cannot be less than netAmount", "Bad Request")
    label = sent.name if "name" in names else ((existing.extra or {}).get("upflow", {}).get("name") if existing else None)
    line = {"description": label or sent.customId or (existing.user_code if existing else "Invoice"),
            "quantity": Decimal(1), "unit_price_wt": Decimal(net) / factor, "is_taxable": False}
    if existing is not None and len(existing.lines) == 1:
        line["id"] = existing.lines[0].id
    fields["lines"] = [line]
    fields["fixed_tax_amount"] = Decimal(gross - net) / factor
    if "name" in names:
        fields["extra"] = {"upflow": {**((existing.extra or {}).get("upflow", {}) if existing else {}), "name": sent.name}}
    return fields


def state_of(invoice: Any, unpaid: Decimal) -> str:
    if invoice.cancelled:
        return "CANCELLED"
    if unpaid <= 0 and invoice.total > 0:
        return "PAID"
    if invoice.due_date is not None and invoice.due_date < date.today():
        return "OVERDUE"
    return "DUE"


def render_invoice(book: Any, invoice: Any) -> dict:
    state = sales.standing(book, invoice)
    factor = minor_factor(book, invoice.currency_iso_code)
    customer = invoice.customer
    payments = []
    for payment_id in state.payment_ids:
        payment = book.payments.get(payment_id)
        linked = sum((a.amount for a in payment.allocations if a.document_id == invoice.id), Decimal(0))
        payments.append({"id": payment.uuid, "amount": to_cents(linked, factor),
                         "executedAt": iso_timestamp(datetime.combine(payment.date, datetime.min.time()))})
    return {
        "id": invoice.uuid,
        "externalId": invoice.external_id,
        "customId": invoice.user_code,
        "customerId": customer.uuid,
        "customer": {"id": customer.uuid, "externalId": customer.external_id, "companyName": customer.full_name},
        "issuedAt": iso_timestamp(datetime.combine(invoice.date, datetime.min.time())),
        "dueDate": iso_timestamp(datetime.combine(invoice.due_date, datetime.min.time())) if invoice.due_date else None,
        "name": (invoice.extra or {}).get("upflow", {}).get("name"),
        "currency": invoice.currency_iso_code,
        "netAmount": to_cents(invoice.subtotal - invoice.reduce_amount, factor),
        "grossAmount": to_cents(invoice.total, factor),
        "amountOutstanding": to_cents(state.unpaid, factor),
        "state": state_of(invoice, state.unpaid),
        "pdfUrl": None,
        "payments": payments,
        "createdAt": iso_timestamp(invoice.created_at),
        "updatedAt": iso_timestamp(invoice.updated_at),
    }


def _find(book: Any, ref: str) -> Any:
    return sales.find_invoice(book, **_reference(ref))


@router.post("/invoices", tags=["invoices"])
async def import_invoice(request: Request, principal: Principal = Depends(authenticated)) -> JSONResponse:
    sent = _validated(InvoiceIn, await json_object(request))

    def work(book):
        if sent.externalId:
            existing = sales.find_invoice(book, external_id=sent.externalId, missing_ok=True)
            invoice, _ = sales.import_invoice(book, sent.externalId, _invoice_fields(book, sent, existing))
        elif sent.id:
            existing = sales.find_invoice(book, uuid=sent.id)
            invoice = sales.INVOICES.update(book, existing.id, _invoice_fields(book, sent, existing))
        else:
            invoice = sales.INVOICES.create(book, _invoice_fields(book, sent, None))
        return render_invoice(book, invoice)

    return JSONResponse(await _threaded(request, principal, work))


@router.get("/invoices", tags=["invoices"])
def list_invoices(request: Request, principal: Principal = Depends(authenticated)) -> JSONResponse:
    offset, limit = page(request, INVOICES_PAGE_MAX)
    customer_ref = request.query_params.get("customerId")

    def work(book):
        conditions = ()
        if customer_ref:
            customer = parties.find_customer(book, **_reference(customer_ref))
            conditions = (Condition("customer_id", Op.EQ, customer.id),)
        rows, _ = sales.INVOICES.list(book, ListQuery(conditions, (), offset, limit))
        total = sales.count_documents(book, sales.INVOICE, conditions)
        return {"offset": offset, "limit": limit, "total": total,
                "invoices": [render_invoice(book, row) for row in rows]}

    return JSONResponse(_unit(request, principal, work))


@router.get("/invoices/{ref}", tags=["invoices"])
def get_invoice(ref: str, request: Request, principal: Principal = Depends(authenticated)) -> JSONResponse:
    return JSONResponse(_unit(request, principal, lambda book: render_invoice(book, _find(book, ref))))


@router.delete("/invoices/{ref}", status_code=204, tags=["invoices"])
def delete_invoice(ref: str, request: Request, principal: Principal = Depends(authenticated)) -> Response:
    _unit(request, principal, lambda book: sales.INVOICES.delete(book, _find(book, ref).id))
    return Response(status_code=204)
