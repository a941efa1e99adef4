"""OneConnect documents: `POST /integrations/{id}/purchase-invoices` and `/sales-invoices` (multipart,
read while it streams in), and Comptoir's own routes to read a document and to decide a Waiting one
(`GET /integrations/{id}/documents/{documentId}`, `POST .../entries`, `POST .../refuse`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse

from comptoir.codec import MalformedJson, iso_instant, parse_json
from comptoir.domain.errors import DomainError, ErrorKind
from comptoir.services.documents import received_documents as received
from comptoir.services.kernel import unit_of_work
from comptoir.wire import BodyTooLarge, MalformedMultipart, PartTooLarge, deferred, read_body, read_multipart

from .errors import Problem
from .security import OneConnectCaller, caller, public_base

T = TypeVar("T")
TEXT_FIELDS = ("filename", "userEmail", "comment", "externalReference")
JSON_FIELDS = {"entries": "entries", "organization": "counterparty"}
KNOWN = ("file", *TEXT_FIELDS, *JSON_FIELDS)
COUNTERPARTY_BYTES_MAX = 64 * 1024


_TEXT = {"type": "string"}
IMPORT_OPENAPI = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file", "filename"],
    "properties": {"file": {"type": "string", "format": "binary", "description": "PDF, JPEG, PNG or BMP, 5 MiB"},
                   "filename": {**_TEXT, "pattern": r"^[^/\\]+\.([Pp][Dd][Ff]|[Jj][Pp][Ee]?[Gg]|[Pp][Nn][Gg]|[Bb][Mm][Pp])$"},
                   "userEmail": {**_TEXT, "format": "email"}, "comment": _TEXT,
                   "externalReference": {**_TEXT, "pattern": "^[A-Za-z0-9_:-]{1,64}$"},
                   "entries": {**_TEXT, "description": 'JSON: {"data": {"lines": [...]}}'},
                   "organization": {**_TEXT, "description": "JSON object about the counterparty"}}}}}}}


def validation_error(errors: list[dict[str, str]]) -> Problem:
    detail = "; ".join(f"{error['field']}: {error['detail']}" for error in errors)
    return Problem(400, detail, "VALIDATION_ERROR", errors=errors)


def from_domain(error: DomainError) -> Problem:
    """A service's refusal in OneConnect's words: a taken externalReference is 409
    DUPLICATE_EXTERNAL_REFERENCE (with the existing document), a missing document 404, a decided one
    409, anything else 400 VALIDATION_ERROR naming every field."""
    if isinstance(error, received.AlreadyDeposited):
        return Problem(409, "externalReference already used for this integration", "DUPLICATE_EXTERNAL_REFERENCE",
                       documentId=error.document_id, depositDate=iso_instant(error.deposited_at))
    if error.kind == ErrorKind.NOT_FOUND:
        return Problem(404, error.describe(), "DOCUMENT_NOT_FOUND")
    if error.kind == ErrorKind.CONFLICT and error.problems[0].field == "documentId":
        return Problem(409, error.describe(), "DOCUMENT_ALREADY_DECIDED")
    return validation_error([{"field": problem.field or "entries", "detail": problem.message}
                             for problem in error.problems])


async def _deposit(request: Request, kind: str) -> dict[str, Any]:
    """The multipart body's fields (a Deposit's, but for who deposits it: `deposit`); a part over its
    limit, a broken body, a field sent twice or a JSON field that does not parse is 400
    VALIDATION_ERROR before anything is written."""
    settings = request.app.state.context.settings
    limits = {"file": settings.oneconnect_file_bytes_max, "entries": settings.oneconnect_entries_bytes_max,
              "organization": COUNTERPARTY_BYTES_MAX}
    try:
        parts = await read_multipart(request, limits)
    except PartTooLarge as error:
        raise validation_error([{"field": error.name, "detail": f"is larger than {error.limit_bytes} bytes"}]) from None
    except (MalformedMultipart, BodyTooLarge) as error:
        raise validation_error([{"field": "body", "detail": str(error)}]) from None
    sent: dict[str, Any] = {}
    errors = []
    for part in parts:
        if part.name not in KNOWN:
            continue  # unknown fields are ignored, as the other dialects do
        if part.name in sent:
            errors.append({"field": part.name, "detail": "is sent more than once"})
        elif part.name == "file":
            sent["file"] = part.data
        else:
            try:
                sent[part.name] = part.data.decode("utf-8")
            except UnicodeDecodeError:
                errors.append({"field": part.name, "detail": "is not UTF-8 text"})
            else:
                if "\x00" in sent[part.name]:  # text of the book never holds one (PostgreSQL cannot)
                    errors.append({"field": part.name, "detail": "holds a NUL character"})
    for name in JSON_FIELDS:
        if sent.get(name) is not None:
            try:
                sent[name] = _json_field(sent[name])
            except MalformedJson as error:
                errors.append({"field": name, "detail": f"is not JSON: {error}"})
    if errors:
        raise validation_error(errors)
    return dict(kind=kind, data=sent.get("file"), filename=sent.get("filename"),
                user_email=sent.get("userEmail") or None, comment=sent.get("comment"),
                external_reference=sent.get("externalReference") or None,
                **{attribute: sent.get(name) for name, attribute in JSON_FIELDS.items()})


def deposit(caller: OneConnectCaller, fields: dict[str, Any]) -> received.Deposit:
    """The deposit of the admitted partner, through the integration of the path."""
    return received.Deposit(integration_id=caller.admitted.integration_id,
                            partner_id=caller.admitted.partner_client_id, source=public_base(caller.request), **fields)


def _json_field(text: str) -> Any:
    """A JSON field of the form: an object, or that object serialized once more as a JSON string
    (clients that encode the field themselves and then again as JSON)."""
    value = parse_json(text.encode("utf-8"))
    return parse_json(value.encode("utf-8")) if isinstance(value, str) else value


async def reading(request: Request, caller: OneConnectCaller, work: Callable[[Any], T]) -> T:
    """`work(book)` in a unit of work that only reads, for the caller (checked in it); refusals become
    problems."""
    try:
        return await unit_of_work.reading(request.app.state.context.database, caller, work)
    except DomainError as error:
        raise from_domain(error) from None


async def writing(request: Request, caller: OneConnectCaller, work: Callable[[Any], T]) -> T:
    """`reading` for a unit of work that writes (run again after a deadlock)."""
    try:
        return await unit_of_work.writing(request.app.state.context.database, caller, work)
    except DomainError as error:
        raise from_domain(error) from None


async def _import(request: Request, integration_id: str, kind: str) -> JSONResponse:
    who = caller(request, integration_id)
    fields = await deferred(_deposit(request, kind), Problem)
    root = request.app.state.context.settings.files_dir
    document_id = await writing(request, who, lambda book: received.receive(book, root,
                                                                               deposit(who, fields.value())).uuid)
    return JSONResponse({"documentId": document_id})


async def import_purchase_invoice(integration_id: str, request: Request) -> JSONResponse:
    """POST /integrations/{id}/purchase-invoices: a supplier's invoice, optionally with entries."""
    return await _import(request, integration_id, "purchase")


async def import_sales_invoice(integration_id: str, request: Request) -> JSONResponse:
    """POST /integrations/{id}/sales-invoices: an invoice to a customer, optionally with entries."""
    return await _import(request, integration_id, "sales")


# -- Comptoir's own routes: a document's state, and deciding a Waiting one ----------------------

def render(book: Any, document: Any) -> dict:
    transaction = received.transaction_of(book, document)
    return {"documentId": document.uuid, "integrationId": document.integration_id,
            "type": f"{document.kind}-invoice", "externalReference": document.external_reference,
            "filename": document.filename, "userEmail": document.user_email, "comment": document.comment,
            "documentState": document.status, "rejectedReason": document.reason,
            "depositDate": iso_instant(document.deposited_at), "decisionDate": iso_instant(document.decided_at),
            "transactionId": transaction.id if transaction else None}


async def get_document(integration_id: str, document_id: str, request: Request) -> JSONResponse:
    """GET /integrations/{id}/documents/{documentId}: its state (Waiting, Accepted, Refused)."""
    return JSONResponse(await reading(request, caller(request, integration_id), lambda book: render(
        book, received.get_document(book, integration_id, document_id))))


async def _json_body(request: Request) -> Any:
    limit = request.app.state.context.settings.oneconnect_entries_bytes_max
    try:
        return parse_json(await read_body(request, limit))
    except BodyTooLarge:
        raise validation_error([{"field": "body", "detail": f"is larger than {limit} bytes"}]) from None
    except MalformedJson as error:
        raise validation_error([{"field": "body", "detail": f"is not JSON: {error}"}]) from None


async def book_document(integration_id: str, document_id: str, request: Request) -> JSONResponse:
    """POST /integrations/{id}/documents/{documentId}/entries, body `{"data": {"lines": [...]}}` (the
    `entries` of an import): books a Waiting document, which becomes Accepted. Entries that do not
    balance or cannot be booked are 400 and the document keeps waiting."""
    who = caller(request, integration_id)
    entries = await deferred(_json_body(request), Problem)
    return JSONResponse(await writing(request, who, lambda book: render(
        book, received.book_document(book, integration_id, document_id, entries.value(),
                                     source=public_base(request)))))


async def refuse_document(integration_id: str, document_id: str, request: Request) -> JSONResponse:
    """POST /integrations/{id}/documents/{documentId}/refuse, body `{"reason": "..."}`: a Waiting
    document becomes Refused with that reason."""
    who = caller(request, integration_id)
    body = await deferred(_json_body(request), Problem)

    def work(book: Any) -> dict:
        sent = body.value()
        reason = sent.get("reason") if isinstance(sent, dict) else None
        if reason is not None and not isinstance(reason, str):
            raise validation_error([{"field": "reason", "detail": "must be a string"}])
        return render(book, received.refuse_document(book, integration_id, document_id, reason,
                                                     source=public_base(request)))
    return JSONResponse(await writing(request, who, work))
