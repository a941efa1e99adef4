"""PDF download routes: `/{resource}/{id}/download` with the Bearer token, and
`/{resource}/{id}/ephemeral_open_download?token=...` without one, through a signed link valid an
hour. Outbound (income) invoices only; additional incomes have no PDF and always answer 404, as
Quipu's do (specs/quipu.md §8.6)."""

from __future__ import annotations

import time
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request, Response

from comptoir.domain.errors import DomainError
from comptoir.services.access import links
from comptoir.services.documents import book_entries, received_invoices
from comptoir.services.kernel import unit_of_work
from comptoir.services.reporting import printing
from comptoir.wire import content_disposition

from .conventions import View, element_id, reading
from .errors import NOT_FOUND, QuipuError
from .security import caller, context_of, rate_headers

LINK_PURPOSE = "quipu-pdf"
LINK_LIFETIME_S = 3600
PRINTED = {"invoices": None, "simplified_invoices": "simplified_invoice"}  # path: Any.form
NEVER_PRINTED = ("additional_incomes",)


def pdf_urls(view: View, path: str, document: Any, income: bool) -> dict:
    """`download_pdf_url` and `ephemeral_open_download_pdf_url` of an entry (None on the expense side)."""
    if not income or document.kind != book_entries.INVOICE:
        return {"download_pdf_url": None, "ephemeral_open_download_pdf_url": None}
    base = f"{view.base_url}/quipu/{path}/{document.id}"
    token = links.sign(view.secret, LINK_PURPOSE, {"document": document.id, "org": document.org_id},
                       int(time.time()) + LINK_LIFETIME_S)
    return {"download_pdf_url": f"{base}/download",
            "ephemeral_open_download_pdf_url": f"{base}/ephemeral_open_download?token={token}"}


async def _pdf(request: Request, caller: Any, form: str | None, document_id: int) -> Response:
    """The invoice printed from the book; for an invoice received through OneConnect, the PDF the
    partner deposited (the invoice itself: the book has its totals, not its lines). Found in the unit
    of work, drawn (or read) in a worker thread after it."""
    context = context_of(request)

    def work(book: Any) -> Any:
        document = book_entries.get(book, document_id, form=form, kinds=(book_entries.INVOICE,))
        return (received_invoices.original_copy(book, context.settings.files_dir, document)
                or printing.invoice_printable(book, document.id))

    try:
        printable = await unit_of_work.reading(context.database, caller, work)
        data = await anyio.to_thread.run_sync(printable.render)
    except (DomainError, FileNotFoundError) as error:
        raise QuipuError(404, NOT_FOUND) from error
    return Response(data, media_type="application/pdf", headers={
        **rate_headers(request), "Content-Disposition": content_disposition("attachment", printable.filename)})


def _endpoints(form: str | None):
    """The download routes of one form of entry: with the token, and through a signed link."""
    # The token and the slug are checked, not Accept: a client may well ask for application/pdf.
    async def download(element: str, request: Request) -> Response:
        return await _pdf(request, caller(request, answers_json=False), form, element_id(element))

    async def open_download(element: str, request: Request) -> Response:
        payload = _verified(request, request.query_params.get("token") or "")
        if payload.get("document") != element_id(element):
            raise QuipuError(404, NOT_FOUND)
        return await _pdf(request, unit_of_work.Known(payload["org"]), form, payload["document"])

    return download, open_download


async def _no_pdf(element: str, request: Request) -> Response:
    await reading(request, lambda book: None, answers_json=False)  # the token and the slug still count
    raise QuipuError(404, NOT_FOUND)


def _no_open_pdf(element: str) -> Response:
    raise QuipuError(404, NOT_FOUND)


def mount(router: APIRouter, prefix: str) -> None:
    for path, form in PRINTED.items():
        download, open_download = _endpoints(form)
        router.add_api_route(f"{prefix}/{path}/{{element}}/download", download, methods=["GET"], tags=[path])
        router.add_api_route(f"{prefix}/{path}/{{element}}/ephemeral_open_download", open_download,
                             methods=["GET"], tags=[path])
    for path in NEVER_PRINTED:
        router.add_api_route(f"{prefix}/{path}/{{element}}/download", _no_pdf, methods=["GET"], tags=[path])
        router.add_api_route(f"{prefix}/{path}/{{element}}/ephemeral_open_download", _no_open_pdf, methods=["GET"],
                             tags=[path])


def _verified(request: Request, token: str) -> dict:
    try:
        return links.verify(context_of(request).settings.session_secret(), LINK_PURPOSE, token)
    except (links.LinkInvalid, links.LinkExpired):
        raise QuipuError(404, NOT_FOUND) from None
