"""The customer portal: the page a portal link opens (`GET /portal/{token}`) and the PDFs of the
customer's invoices (`GET /portal/{token}/invoices/{uuid}.pdf`). No session, no JavaScript: the
signed token in the path is the only credential (services/portal.py).

Every answer, the error pages too, carries `Content-Security-Policy: frame-ancestors` with exactly
the origins the link allows to embed it (`'none'` when none were given, or when the token cannot be
trusted).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from comptoir.services.access import links
from comptoir.services.kernel.unit_of_work import open_book
from comptoir.services.reporting import portal
from comptoir.wire import content_disposition

from .pages import TEMPLATES

PREFIX = "/portal"
HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}

router = APIRouter(prefix=PREFIX, include_in_schema=False)


def _headers(ancestors: tuple[str, ...]) -> dict[str, str]:
    return {**HEADERS, "Content-Security-Policy": portal.content_security_policy(ancestors)}


def _page(template: str, status: int, ancestors: tuple[str, ...], **values) -> Response:
    html = TEMPLATES.get_template(template).render(**values)
    return Response(html, status_code=status, media_type="text/html; charset=utf-8", headers=_headers(ancestors))


def _not_found(ancestors: tuple[str, ...] = ()) -> Response:
    return _page("web/portal_error.html", 404, ancestors, title="Link not found",
                 message="This link is not valid. Ask the sender for a new one.")


def _grant(request: Request, token: str) -> portal.Grant | Response:
    """The grant of the token, or the page that says why there is none (its framers apply to an
    expired link's page: the signature still vouches for them)."""
    try:
        return portal.open_link(request.app.state.context.settings.session_secret(), token)
    except links.LinkExpired as expired:
        try:
            ancestors = portal.grant_of(expired.payload).frame_ancestors
        except links.LinkInvalid:
            return _not_found()
        return _page("web/portal_error.html", 410, ancestors, title="Link expired",
                     message="This link has expired. Ask the sender for a new one.")
    except links.LinkInvalid:
        return _not_found()


@router.get("/{token}")
def portal_page(token: str, request: Request) -> Response:
    grant = _grant(request, token)
    if isinstance(grant, Response):
        return grant
    with open_book(request.app.state.context.database, grant.org_id) as book:
        statement = portal.statement(book, grant)
    if statement is None:
        return _not_found(grant.frame_ancestors)
    return _page("web/portal.html", 200, grant.frame_ancestors, title=f"{statement.customer} · {statement.organization}",
                 statement=statement, base=f"{PREFIX}/{token}")


@router.get("/{token}/invoices/{invoice_uuid}.pdf")
def portal_invoice_pdf(token: str, invoice_uuid: str, request: Request) -> Response:
    grant = _grant(request, token)
    if isinstance(grant, Response):
        return grant
    context = request.app.state.context
    with open_book(context.database, grant.org_id) as book:
        found = portal.invoice_pdf(book, context.settings.files_dir, grant, invoice_uuid)
    if found is None:
        return _not_found(grant.frame_ancestors)
    filename, data = found
    return Response(data, media_type="application/pdf", headers={
        **_headers(grant.frame_ancestors), "Content-Disposition": content_disposition("attachment", filename)})
