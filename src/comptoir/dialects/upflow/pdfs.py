"""Upflow invoice and credit note PDFs: `POST /invoices/{ref}/pdf` and `POST /credit_notes/{ref}/pdf`
(multipart field `file`, or JSON `{"data": "<base64>"}`; 204), and the signed, expiring `pdfUrl`
(`pdf_url`) served, without credentials, by `GET /documents/{token}`."""

from __future__ import annotations

import base64
import binascii
import math
import time
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request, Response
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from comptoir.codec import MalformedJson, parse_json
from comptoir.services.access import links
from comptoir.services.documents import files
from comptoir.services.kernel import unit_of_work
from comptoir.settings import Settings
from comptoir.wire import BodyTooLarge, bounded_stream, content_disposition, deferred, read_body

from .customers import _reference, _unit
from .errors import UpflowError

PDF_URL_TTL_S = 3600
PURPOSE = "comptoir.upflow.pdf"
ENVELOPE_BYTES = 64 * 1024  # room for the multipart headers or the JSON around the file
_URL_SAFE = str.maketrans("-_", "+/")
KINDS = {"invoices": ("invoice", "invoice"), "credit_notes": ("credit_note", "credit note")}

router = APIRouter()


# -- pdfUrl ------------------------------------------------------------------------------------

def pdf_url(settings: Settings, document: Any, now: float | None = None) -> str | None:
    """The document's `pdfUrl`: None when no PDF was uploaded for it, else a link to the uploaded PDF
    that needs no credentials and works for PDF_URL_TTL_S seconds. `document` is an invoice or a
    credit note (a storage Document row)."""
    if document.pdf_file_id is None:
        return None
    expires_at = math.ceil(time.time() if now is None else now) + PDF_URL_TTL_S
    token = links.sign(settings.session_secret(), PURPOSE, {"o": document.org_id, "d": document.uuid}, expires_at)
    return f"{settings.public_url.rstrip('/')}/upflow/v1/documents/{token}"


@router.get("/documents/{token}", include_in_schema=False)
async def serve_pdf(token: str, request: Request) -> Response:
    """The PDF behind a pdfUrl (the signed link is the credential). An expired, tampered or unknown
    link is 404."""
    context = request.app.state.context
    invalid = UpflowError(404, "This PDF link is invalid or has expired", "Not Found")
    try:
        payload = links.verify(context.settings.session_secret(), PURPOSE, token)
        org_id, document_uuid = payload["o"], payload["d"]
        if not isinstance(org_id, int) or not isinstance(document_uuid, str):
            raise links.LinkInvalid()
    except (links.LinkInvalid, links.LinkExpired, KeyError):
        raise invalid from None

    def work(book: Any) -> Any:
        document = book.documents.find(uuid=document_uuid)
        return book.stored_files.get(document.pdf_file_id) if document and document.pdf_file_id else None

    stored = await unit_of_work.reading(context.database, unit_of_work.Known(org_id), work)
    try:
        data = await anyio.to_thread.run_sync(files.read, context.settings.files_dir, stored) if stored else None
    except FileNotFoundError:
        data = None
    if data is None:
        raise invalid
    return Response(data, media_type=files.PDF, headers={
        "Content-Disposition": content_disposition("inline", stored.filename),
        "Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"})


# -- upload ------------------------------------------------------------------------------------

async def _upload(request: Request) -> tuple[bytes | None, str | None, UpflowError | None]:
    """The file of the request (bytes, client's file name), or the reason it has none. A body or file
    over the limit is refused (413) while it streams in; the other problems are only reported after
    the document is found, so that an unknown document is 404 whatever the body."""
    maximum = request.app.state.context.settings.upload_bytes_max
    too_large = UpflowError(413, f"The file is larger than {maximum} bytes", "Payload Too Large")
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        try:
            parser = MultiPartParser(request.headers, bounded_stream(request, maximum + ENVELOPE_BYTES),
                                     max_files=1, max_fields=16)
            form = await parser.parse()
        except BodyTooLarge:
            raise too_large from None
        except MultiPartException as error:
            return None, None, UpflowError(400, f"Malformed multipart body: {error.message}", "Bad Request")
        try:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                return None, None, UpflowError(400, "file: required, as a file part of the multipart body",
                                               "Bad Request")
            data = await upload.read()
            filename = upload.filename
        finally:
            await form.close()
    else:
        try:
            body = parse_json(await read_body(request, math.ceil(maximum / 3) * 4 + ENVELOPE_BYTES))
        except BodyTooLarge:
            raise too_large from None
        except MalformedJson as error:
            return None, None, UpflowError(400, f"Malformed JSON: {error}", "Bad Request")
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, str) or not data:
            return None, None, UpflowError(400, 'Send the PDF as multipart/form-data (field "file") or as JSON '
                                                '{"data": "<base64>"}', "Bad Request")
        try:
            data = _base64(data)
        except (binascii.Error, ValueError):
            return None, None, UpflowError(400, "data: not valid base64", "Bad Request")
        filename = body.get("filename") if isinstance(body.get("filename"), str) else None
    if len(data) > maximum:
        raise too_large
    return data, filename, None


def _base64(text: str) -> bytes:
    """Standard or URL-safe base64, line breaks and missing padding tolerated, a `data:` URL prefix too."""
    if text.startswith("data:") and "," in text:
        text = text.split(",", 1)[1]
    text = "".join(text.split())
    text = text.translate(_URL_SAFE) + "=" * (-len(text) % 4)
    return base64.b64decode(text.encode("ascii"), validate=True)


def _document(book: Any, collection: str, ref: str) -> Any:
    kind, label = KINDS[collection]
    document = book.documents.find(kind=kind, **_reference(ref))
    if document is None:
        raise UpflowError(404, f"No {label} {ref}", "Not Found")
    return document


async def _receive_pdf(collection: str, ref: str, request: Request) -> Response:
    upload = await deferred(_upload(request), UpflowError)
    root = request.app.state.context.settings.files_dir

    def work(book):
        data, filename, problem = upload.value()
        document = _document(book, collection, ref)
        if problem is not None:
            raise problem
        if files.sniff(data) != files.PDF:
            raise UpflowError(400, "file: the content is not a PDF (it must start with %PDF-)", "Bad Request")
        name = files.safe_filename(filename, "")
        if not name.lower().endswith(".pdf"):
            name = files.safe_filename(f"{document.user_code}.pdf", "document.pdf")
        files.replace_pdf(book, root, document, name, data)

    await _unit(request, work)
    return Response(status_code=204)


@router.post("/invoices/{ref}/pdf", status_code=204, tags=["invoices"])
async def upload_invoice_pdf(ref: str, request: Request) -> Response:
    return await _receive_pdf("invoices", ref, request)


@router.post("/credit_notes/{ref}/pdf", status_code=204, tags=["credit_notes"])
async def upload_credit_note_pdf(ref: str, request: Request) -> Response:
    return await _receive_pdf("credit_notes", ref, request)

