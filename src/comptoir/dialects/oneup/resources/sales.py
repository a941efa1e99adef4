"""Sales orders, invoices (with their order lines and settlements), payments, and credit notes (our
extension: OneUp has none, docs/dialects/oneup.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from comptoir.services.documents.credit_notes import CORRECTIONS, applied_amounts
from comptoir.services.documents.sales import (
    INVOICES,
    SALES_ORDERS,
    effective_tax_id,
    invoice_status,
)
from comptoir.services.settlement.payments import PAYMENTS, invoice_of
from comptoir.services.settlement.standing import standing, standings

from ..conventions import Filter, Resource, as_date, as_number, core_fields
from ..errors import OneUpError
from ..fields import Day, Flag, Integer, Number, Text, WireModel
from .common import TIMESTAMPS, id_filter, integer_filter, number, stamps, text_filter
from .parties import render_address


class OrderLineIn(WireModel):
    id: Integer | None = None
    item_id: Integer | None = None
    description: str | None = None
    quantity: Number | None = None
    unit_price_wt: Number | None = None
    discount_rate: Number | None = None
    tax_id: Integer | None = None
    is_taxable: Flag | None = None
    total: Number | None = None


def line_fields(line: OrderLineIn) -> dict:
    fields = core_fields(line, skip=frozenset({"id", "total"}))
    if line.id is not None:
        fields["id"] = line.id
    return fields


def lines_fields(lines: list[OrderLineIn] | None) -> list[dict]:
    """OneUp's order lines always sell an item: a new line without item_id is refused (3013)."""
    missing = [index for index, line in enumerate(lines or []) if line.id is None and line.item_id is None]
    if missing:
        raise OneUpError(3013, "; ".join(f"order_lines[{index}].item_id: is mandatory" for index in missing))
    return [line_fields(line) for line in lines or []]


class DocumentIn(WireModel):
    id: Integer | None = None
    customer_id: Integer | None = None
    billing_contact_id: Integer | None = None
    billing_address: dict | None = None
    user_code: Text(64) | None = None
    po_number: Text(64) | None = None
    date: Day | None = None
    due_date: Day | None = None
    tax_id: Integer | None = None
    currency_iso_code: Text(4) | None = None
    reduce_rate: Number | None = None
    order_lines: list[OrderLineIn] | None = None
    public_note: str | None = None
    shipping_date: Day | None = None
    shipping_contact_id: Integer | None = None
    shipping_address: dict | None = None
    payment_terms_id: Integer | None = None
    project_id: Integer | None = None
    employee_id: Integer | None = None
    private_note: str | None = None
    sent: Flag | None = None
    subtotal: Number | None = None
    reduce_amount: Number | None = None
    tax_amount: Number | None = None
    total: Number | None = None
    paid: Number | None = None
    unpaid: Number | None = None
    delivery_status: Integer | None = None
    invoice_status: Integer | None = None
    invoice_id: Integer | None = None
    payments_id: list[Integer] | None = None
    installments: list | None = None
    created_at: str | None = None
    updated_at: str | None = None


DOCUMENT_READ_ONLY = frozenset({
    "id", "billing_address", "shipping_address", "subtotal", "reduce_amount", "tax_amount", "total", "paid", "unpaid",
    "delivery_status", "invoice_status", "invoice_id", "payments_id", "installments", "order_lines[].total",
    "order_lines[].item_id", *TIMESTAMPS,
})


def _has_address(address: dict | None) -> bool:
    return any((address or {}).values())


def _billing_address(document: Any) -> dict:
    """The billing contact's address if it has one, the customer's otherwise."""
    contact = document.billing_contact
    return render_address(contact.address if contact and _has_address(contact.address) else document.customer.address)


def _shipping_address(document: Any) -> dict:
    contact = document.shipping_contact
    if contact is not None and _has_address(contact.address):
        return render_address(contact.address)
    customer = document.customer
    return render_address(customer.shipping_address if _has_address(customer.shipping_address) else customer.address)


def render_line(document: Any, line: Any) -> dict:
    return {"id": line.id, "item_id": line.item_id, "description": line.description,
            "quantity": number(line.quantity), "unit_price_wt": number(line.unit_price_wt),
            "discount_rate": number(line.discount_rate), "tax_id": effective_tax_id(document, line) or 0,
            "is_taxable": line.is_taxable, "total": number(line.total)}


def _render_document(document: Any) -> dict:
    return {
        "id": document.id,
        "customer_id": document.customer_id,
        "billing_contact_id": document.billing_contact_id,
        "billing_address": _billing_address(document),
        "user_code": document.user_code,
        "po_number": document.po_number,
        "date": document.date.isoformat(),
        "due_date": document.due_date.isoformat() if document.due_date else None,
        "tax_id": document.tax_id,
        "currency_iso_code": document.currency_iso_code,
        "reduce_rate": number(document.reduce_rate),
        "order_lines": [render_line(document, line) for line in document.lines],
        "public_note": document.public_note,
        "shipping_date": document.shipping_date.isoformat() if document.shipping_date else None,
        "shipping_contact_id": document.shipping_contact_id,
        "shipping_address": _shipping_address(document),
        "payment_terms_id": document.payment_terms_id,
        "project_id": document.project_id,
        "employee_id": document.employee_id,
        "private_note": document.private_note,
        "subtotal": number(document.subtotal),
        "reduce_amount": number(document.reduce_amount),
        "tax_amount": number(document.tax_amount),
        "total": number(document.total),
        "delivery_status": document.delivery_status,
        "sent": document.sent,
        **stamps(document),
    }


def render_sales_order(order: Any, _book: Any = None) -> dict:
    return {**_render_document(order), "invoice_status": invoice_status(order), "invoice_id": order.invoice_id}


def render_invoice(invoice: Any, book: Any, state: Any = None) -> dict:
    """`state`: the invoice's standing, when the caller read it for a whole page."""
    state = state or standing(book, invoice)
    rendered = _render_document(invoice)
    return {
        **rendered,
        "paid": number(state.paid),
        "unpaid": number(state.unpaid),
        "payments_id": state.payment_ids,
        "installments": [{"invoice_id": invoice.id, "due_date": s.due_date.isoformat(), "amount": number(s.amount),
                          "outstanding_amount": number(s.open_amount)} for s in state.settlements],
    }


def render_invoices(invoices: Sequence[Any], book: Any) -> list[dict]:
    """A page of invoices: their payments and credit notes read in one query for the page."""
    states = standings(book, invoices)
    return [render_invoice(invoice, book, states[invoice.id]) for invoice in invoices]


DOCUMENT_FILTERS = {
    **id_filter(), "customer_id": integer_filter("customer_id"), "user_code": text_filter("user_code"),
    "date": Filter("date", as_date), "due_date": Filter("due_date", as_date), "total": Filter("total", as_number),
    "currency_iso_code": text_filter("currency_iso_code"), "po_number": text_filter("po_number"),
    "created_at": Filter("created_at", as_date), "updated_at": Filter("updated_at", as_date),
}
DOCUMENT_SORTS = {"id": "id", "date": "date", "due_date": "due_date", "user_code": "user_code", "total": "total",
                  "customer_id": "customer_id", "created_at": "created_at", "updated_at": "updated_at"}
DOCUMENT_MAPPING = dict(
    schema=DocumentIn, read_only=DOCUMENT_READ_ONLY,
    rename={"user_code": "code", "order_lines": "lines"},
    nested={"order_lines": lines_fields},
    error_names={"lines": "order_lines"},
    filters=DOCUMENT_FILTERS, sorts=DOCUMENT_SORTS,
)

SALES_ORDERS_RESOURCE = Resource(path="sales_orders", service=SALES_ORDERS, render=render_sales_order,
                                 **DOCUMENT_MAPPING)
INVOICES_RESOURCE = Resource(path="invoices", service=INVOICES, render=render_invoice, render_page=render_invoices,
                             **DOCUMENT_MAPPING)


class CreditNoteIn(DocumentIn):
    """An invoice's fields, `invoice_id` (the invoice it corrects: writable on create only) and what
    the credit note settles."""

    applied: Number | None = None
    unapplied: Number | None = None


def render_credit_note(note: Any, book: Any, applied: Any = None) -> dict:
    """`applied`: what the credit note settles, when the caller read it for a whole page."""
    applied = applied_amounts(book, [note])[note.id] if applied is None else applied
    return {**_render_document(note), "invoice_id": note.amends_id, "applied": number(applied),
            "unapplied": number(note.total - applied)}


def render_credit_notes(notes: Sequence[Any], book: Any) -> list[dict]:
    applied = applied_amounts(book, notes)
    return [render_credit_note(note, book, applied[note.id]) for note in notes]


# The invoice a credit note corrects is its `amends_id`, as a Quipu amending invoice's; the services
# refuse to change it (an error naming invoice_id), so it is not read-only here, where it would be
# dropped on create as well.
CREDIT_NOTES_RESOURCE = Resource(
    path="credit_notes", service=CORRECTIONS, render=render_credit_note, render_page=render_credit_notes,
    **{**DOCUMENT_MAPPING, "schema": CreditNoteIn,
       "read_only": DOCUMENT_READ_ONLY - {"invoice_id"} | {"applied", "unapplied"},
       "rename": {**DOCUMENT_MAPPING["rename"], "invoice_id": "amends_id"},
       "filters": {**DOCUMENT_FILTERS, "invoice_id": integer_filter("amends_id")}})


class PaymentIn(WireModel):
    id: Integer | None = None
    user_code: str | None = None
    invoice_id: Integer | None = None
    date: Day | None = None
    amount: Number | None = None
    currency_iso_code: Text(4) | None = None
    payment_method_id: Integer | None = None
    bank_reference: Text(255) | None = None
    bank_id: Integer | None = None
    external_id: Text(255) | None = None


def render_payment(payment: Any, _book: Any = None) -> dict:
    return {
        "id": payment.id,
        "user_code": payment.user_code,
        "invoice_id": invoice_of(payment),
        "date": payment.date.isoformat(),
        "amount": number(payment.amount),
        "currency_iso_code": payment.currency_iso_code,
        "payment_method_id": payment.payment_method_id,
        "bank_reference": payment.bank_reference,
        "bank_id": payment.bank_account_id,
        **stamps(payment),
    }


PAYMENTS_RESOURCE = Resource(
    path="payments", service=PAYMENTS, render=render_payment, schema=PaymentIn, updatable=False,
    read_only=frozenset({"id", "user_code", "currency_iso_code", *TIMESTAMPS}),
    filters={**id_filter(), "date": Filter("date", as_date), "amount": Filter("amount", as_number),
             "user_code": text_filter("user_code"), "bank_id": integer_filter("bank_account_id")},
    sorts={"id": "id", "date": "date", "amount": "amount", "user_code": "user_code"},
)
