"""Upflow invoices and credit notes: import by externalId with net and gross amounts in cents; an
invoice's state and amountOutstanding derive from the book (payments and credit notes applied through
any dialect count); a credit note settles the invoices it links (linkedInvoices)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field, StrictInt

from comptoir.codec import iso_timestamp
from comptoir.domain.allocations import CREDIT_NOTE, INVOICE, Side
from comptoir.domain.allocations import Link as Allocated
from comptoir.domain.query import Condition, ListQuery, Op
from comptoir.services.documents import files, matching, sales
from comptoir.services.masterdata import custom_fields, parties, reference
from comptoir.services.settlement import allocations, standing

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
from .links import CENTS_MAX, LinkedRecord, document_link, find_record
from .pdfs import pdf_url

INVOICES_PAGE_MAX = 500
CREDIT_NOTES_PAGE_MAX = 500
NAMES = {INVOICE: "an invoice", CREDIT_NOTE: "a credit note"}
ENTITY_TYPES = {INVOICE: "INVOICE", CREDIT_NOTE: "CREDIT_NOTE"}  # of custom fields

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
    customFields: list | None = None  # noqa: N815


class CreditNoteIn(InvoiceIn):
    linkedInvoices: list[LinkedRecord] | None = None  # noqa: N815


def parse_day(value: str, field: str) -> date:
    """`YYYY-MM-DD` or an ISO date-time (its date is kept)."""
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        raise UpflowError(400, f"{field}: {value!r} is not a date (YYYY-MM-DD or ISO 8601)", "Bad Request") from None


def minor_factor(book: Any, currency: str) -> int:
    """What Upflow's "cents" of the currency are multiplied by to make its amount: 10 ** its minor
    units (100 for USD, 1 for JPY, 1000 for BHD). Integer cents are exact in every currency."""
    minor_units = reference.currency_minor_units(book, currency)
    if minor_units is None:
        raise UpflowError(400, f"currency: {currency} is not a currency of this organization", "Bad Request")
    return 10 ** minor_units


def to_cents(amount: Decimal, factor: int) -> int:
    return int((amount * factor).to_integral_value())


REQUIRED = {INVOICE: ("customId", "issuedAt", "dueDate", "currency", "grossAmount", "netAmount", "customer"),
            CREDIT_NOTE: ("customId", "currency", "grossAmount", "netAmount", "customer")}


def document_fields(book: Any, kind: str, sent: InvoiceIn, existing: Any | None) -> dict[str, Any]:
    """The book's fields of an invoice or a credit note: the net amount as one line, the tax as given."""
    names = sent.model_fields_set
    missing = [name for name in REQUIRED[kind] if existing is None and getattr(sent, name) is None]
    if missing:
        raise UpflowError(400, f"required to create {NAMES[kind]}: {', '.join(missing)}", "Bad Request")
    # Upflow receives invoices already issued by the accounting system they come from: final for every
    # other dialect; their issuer's corrections and cancellations arriving through Upflow are recorded
    # as such, with a reversal (docs/decisions/0026).
    fields: dict[str, Any] = {} if existing is not None else {"sent": True}
    if "customer" in names and sent.customer is not None:
        link = sent.customer
        customer = parties.find_customer(book, uuid=link.id, lean=True) if link.id else \
            parties.find_customer(book, external_id=link.externalId, lean=True)
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


def _common(book: Any, document: Any, settings: Any, custom: list[dict] | None) -> tuple[dict, int]:
    """The fields invoices and credit notes share, and the currency's minor-unit factor. `custom`: the
    document's custom field values when the caller read them for a whole page, else read here."""
    factor = minor_factor(book, document.currency_iso_code)
    if custom is None:
        custom = custom_fields.values_of(book, ENTITY_TYPES[document.kind], [document.id])[document.id]
    customer = document.customer
    return {
        "id": document.uuid,
        "externalId": document.external_id,
        "customId": document.user_code,
        "customerId": customer.uuid,
        "customer": {"id": customer.uuid, "externalId": customer.external_id, "companyName": customer.full_name},
        "issuedAt": iso_timestamp(datetime.combine(document.date, datetime.min.time())),
        "dueDate": iso_timestamp(datetime.combine(document.due_date, datetime.min.time()))
        if document.due_date and (document.kind == INVOICE or document.due_date_explicit) else None,
        "name": (document.extra or {}).get("upflow", {}).get("name"),
        "currency": document.currency_iso_code,
        "netAmount": to_cents(document.subtotal - document.reduce_amount, factor),
        "grossAmount": to_cents(document.total, factor),
        "pdfUrl": pdf_url(settings, document),
        "customFields": custom,
        "createdAt": iso_timestamp(document.created_at),
        "updatedAt": iso_timestamp(document.updated_at),
    }, factor


def render_invoice(book: Any, invoice: Any, settings: Any, custom: list[dict] | None = None,
                   settled: list[Any] | None = None) -> dict:
    """`settled`: the invoice's allocations when the caller read them for a whole page (`render_invoices`,
    which also read the payments and credit notes they come from), else they are read here."""
    if settled is None:
        settled = standing.settled_by_document(book, [invoice.id])[invoice.id]
    state = standing.standing(book, invoice, settled=settled)
    body, factor = _common(book, invoice, settings, custom)
    payments, credit_notes = [], []
    for allocation in settled:
        if allocation.payment_id is not None:
            payment = book.payments.get(allocation.payment_id)
            payments.append({"id": payment.uuid, "externalId": payment.external_id,
                             "amount": to_cents(allocation.amount, factor),
                             "executedAt": iso_timestamp(datetime.combine(payment.date, datetime.min.time()))})
        else:
            note = book.documents.get(allocation.credit_note_id)
            credit_notes.append(document_link(note, to_cents(allocation.amount, factor)))
    return body | {"amountOutstanding": to_cents(state.unpaid, factor), "state": state_of(invoice, state.unpaid),
                   "payments": payments, "creditNotes": credit_notes}


def render_invoices(book: Any, invoices: list[Any], settings: Any, custom: dict[int, list[dict]]) -> list[dict]:
    """A page of invoices: their allocations, and the payments and credit notes these come from, read
    in one query each for the whole page."""
    settled = standing.settled_by_document(book, [invoice.id for invoice in invoices])
    every = [allocation for allocations_ in settled.values() for allocation in allocations_]
    # Held while the page renders: the session keeps loaded rows only as long as someone does.
    loaded = (book.payments.get_many([a.payment_id for a in every if a.payment_id is not None]),
              book.documents.get_many([a.credit_note_id for a in every if a.credit_note_id is not None]))
    rendered = [render_invoice(book, invoice, settings, custom[invoice.id], settled[invoice.id])
                for invoice in invoices]
    del loaded
    return rendered


def render_credit_note(book: Any, note: Any, settings: Any, custom: list[dict] | None = None) -> dict:
    body, factor = _common(book, note, settings, custom)
    linked, refunded = [], []
    for allocation in allocations.allocations_of(book, Side(CREDIT_NOTE, note.id)):
        cents = to_cents(allocation.amount, factor)
        if allocation.document_id is not None:
            linked.append(document_link(book.documents.get(allocation.document_id), cents))
        else:
            refund = book.refunds.get(allocation.refund_id)
            refunded.append({"id": refund.uuid, "externalId": refund.external_id, "amountLinked": cents})
    used = sum(link["amountLinked"] for link in linked + refunded)
    return body | {"amountLinked": used, "amountAvailable": body["grossAmount"] - used,
                   "linkedInvoices": linked, "linkedRefunds": refunded}


def _credit_note_links(book: Any, note: Any, sent: CreditNoteIn) -> None:
    """The invoices the credit note settles, when sent (the full list: links not in it are removed)."""
    if "linkedInvoices" not in sent.model_fields_set:
        return
    factor = minor_factor(book, note.currency_iso_code)
    side = Side(CREDIT_NOTE, note.id)
    links = [Allocated(side, Side(INVOICE, find_record(book, INVOICE, link).id), Decimal(link.cents) / factor)
             for link in sent.linkedInvoices or []]
    matching.link_credit_note(book, note, links)


def _lock_credit_note(book: Any, sent: CreditNoteIn) -> None:
    """Lock the credit note (when it exists), what it settles now and the invoices it will settle,
    before it is written and posted (see services/allocations.lock)."""
    key = {"external_id": sent.externalId} if sent.externalId else {"uuid": sent.id} if sent.id else None
    existing = sales.find_document(book, CREDIT_NOTE, **key, missing_ok=True) if key else None
    invoices = {Side(INVOICE, find_record(book, INVOICE, link).id) for link in sent.linkedInvoices or []}
    if existing is not None:
        allocations.lock_with_counterparts(book, Side(CREDIT_NOTE, existing.id), invoices)
    else:
        allocations.lock(book, invoices)


def _import(book: Any, kind: str, sent: InvoiceIn) -> tuple[Any, list[dict] | None]:
    """Create or update the invoice or credit note the body names (externalId, else id): the document,
    and its custom field values when they are known without reading them (none on a new document that
    sets none), else None."""
    documents = sales.BY_KIND[kind]
    relinked = "linkedInvoices" in sent.model_fields_set  # the new links are checked with the new amounts
    created = False
    if sent.externalId:
        named = sent.customer.externalId if sent.customer is not None and not sent.customer.id else None
        existing = sales.find_for_import(book, kind, sent.externalId, customer_external_id=named,
                                         custom_fields_as=ENTITY_TYPES[kind])
        document, created = sales.import_document(book, kind, sent.externalId,
                                                  document_fields(book, kind, sent, existing),
                                                  check_allocations=not relinked, found=existing, found_locked=True,
                                                  issued_elsewhere=True)
    elif sent.id:
        existing = sales.find_document(book, kind, uuid=sent.id)
        document = documents.update(book, existing.id, document_fields(book, kind, sent, existing),
                                    check_allocations=not relinked, issued_elsewhere=True)
    else:
        document, created = documents.create(book, document_fields(book, kind, sent, None)), True
    if "customFields" in sent.model_fields_set:
        book.documents.lock(document.id)  # concurrent writes of one document's values queue
        custom_fields.set_values(book, ENTITY_TYPES[kind], document.id, sent.customFields)
        return document, None
    return document, [] if created else None


def _find(book: Any, kind: str, ref: str) -> Any:
    return sales.find_document(book, kind, **_reference(ref))


def _conditions(book: Any, request: Request, kind: str) -> tuple[Condition, ...]:
    """The `customerId` and `customFieldData_<id>.eq` filters."""
    conditions: list[Condition] = []
    customer_ref = request.query_params.get("customerId")
    if customer_ref:
        customer = parties.find_customer(book, **_reference(customer_ref))
        conditions.append(Condition("customer_id", Op.EQ, customer.id))
    matching = custom_fields.matching_condition(book, ENTITY_TYPES[kind], request.query_params)
    return (*conditions, *([matching] if matching else []))


async def _list(request: Request, kind: str, key: str, maximum: int, render, render_page=None) -> dict:
    """A page of documents; `render_page(book, rows, settings, custom)` renders it whole when given."""
    offset, limit = page(request, maximum)
    settings = request.app.state.context.settings

    def work(book):
        conditions = _conditions(book, request, kind)
        rows, _ = sales.BY_KIND[kind].list(book, ListQuery(conditions, (), offset, limit))
        total = book.documents.count_matching((Condition("kind", Op.EQ, kind), *conditions))
        custom = custom_fields.values_of(book, ENTITY_TYPES[kind], [row.id for row in rows])
        rendered = render_page(book, rows, settings, custom) if render_page else \
            [render(book, row, settings, custom[row.id]) for row in rows]
        return {"offset": offset, "limit": limit, "total": total, key: rendered}

    return await _unit(request, work, reads=True)


# -- invoices ----------------------------------------------------------------------------------

@router.post("/invoices", tags=["invoices"])
async def import_invoice(request: Request) -> JSONResponse:
    body = await json_object(request)
    settings = request.app.state.context.settings

    def work(book):
        invoice, custom = _import(book, INVOICE, _validated(InvoiceIn, body.value()))
        # What settles it is known: nothing for a new invoice, what the update read for a changed one.
        settled = getattr(invoice, "settled", None)
        return render_invoice(book, invoice, settings, custom, settled=None if settled is None else list(settled))

    return ExactJSONResponse(await _unit(request, work))


@router.get("/invoices", tags=["invoices"])
async def list_invoices(request: Request) -> JSONResponse:
    return ExactJSONResponse(await _list(request, INVOICE, "invoices", INVOICES_PAGE_MAX, render_invoice,
                                   render_invoices))


@router.get("/invoices/{ref}", tags=["invoices"])
async def get_invoice(ref: str, request: Request) -> JSONResponse:
    settings = request.app.state.context.settings
    return ExactJSONResponse(await _unit(request,
                              lambda book: render_invoice(book, _find(book, INVOICE, ref), settings), reads=True))


async def _delete(request: Request, kind: str, ref: str) -> Response:
    """Delete the invoice or credit note, and the PDF uploaded for it (its bytes once committed)."""
    root = request.app.state.context.settings.files_dir

    def work(book):
        document = _find(book, kind, ref)
        stored = book.stored_files.get(document.pdf_file_id) if document.pdf_file_id else None
        sales.BY_KIND[kind].delete(book, document.id, issued_elsewhere=True)  # cancelled by its issuer
        custom_fields.clear_values(book, ENTITY_TYPES[kind], [document.id])
        if stored is not None:
            files.discard(book, root, stored)

    await _unit(request, work)
    return Response(status_code=204)


@router.delete("/invoices/{ref}", status_code=204, tags=["invoices"])
async def delete_invoice(ref: str, request: Request) -> Response:
    return await _delete(request, INVOICE, ref)


# -- credit notes ------------------------------------------------------------------------------

@router.post("/credit_notes", tags=["credit_notes"])
async def import_credit_note(request: Request) -> JSONResponse:
    body = await json_object(request)
    settings = request.app.state.context.settings

    def work(book):
        sent = _validated(CreditNoteIn, body.value())
        _lock_credit_note(book, sent)
        note, custom = _import(book, CREDIT_NOTE, sent)
        _credit_note_links(book, note, sent)
        return render_credit_note(book, note, settings, custom)

    return ExactJSONResponse(await _unit(request, work))


@router.get("/credit_notes", tags=["credit_notes"])
async def list_credit_notes(request: Request) -> JSONResponse:
    return ExactJSONResponse(await _list(request, CREDIT_NOTE, "creditNotes", CREDIT_NOTES_PAGE_MAX,
                              render_credit_note))


@router.get("/credit_notes/{ref}", tags=["credit_notes"])
async def get_credit_note(ref: str, request: Request) -> JSONResponse:
    settings = request.app.state.context.settings
    return ExactJSONResponse(await _unit(request,
                              lambda book: render_credit_note(book, _find(book, CREDIT_NOTE, ref), settings), reads=True))


@router.delete("/credit_notes/{ref}", status_code=204, tags=["credit_notes"])
async def delete_credit_note(ref: str, request: Request) -> Response:
    return await _delete(request, CREDIT_NOTE, ref)
