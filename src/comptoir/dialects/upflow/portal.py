"""Upflow's customer portal URL: `POST /customers/{ref}/portal` (and `/portalUrl`, which Upflow's
MCP server calls), JSON body optional: `expiresIn` (seconds, default 86400) and `frameAncestors`
(space-separated hosts allowed to embed the page in an iframe). Answers `{"url": ...}`; the page
itself is served by the root app (web/portal.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import Field, StrictInt

from comptoir.codec import MalformedJson, parse_json
from comptoir.services.masterdata import parties
from comptoir.services.reporting import portal
from comptoir.wire import BodyTooLarge, deferred, read_body

from .customers import Model, _reference, _unit, _validated
from .errors import UpflowError

router = APIRouter()


class PortalIn(Model):
    expiresIn: StrictInt = Field(portal.EXPIRES_IN_DEFAULT_S, ge=1, le=portal.EXPIRES_IN_MAX_S)
    frameAncestors: str | None = Field(None, max_length=4096)


async def _body(request: Request) -> tuple[int, tuple[str, ...]]:
    """The optional JSON body (nothing at all, as Upflow's MCP server sends, `{}` or the fields): the
    lifetime of the link and the origins allowed to frame the page."""
    try:
        raw = await read_body(request, request.app.state.context.settings.json_body_bytes_max)
        body = parse_json(raw) if raw.strip() else {}
    except BodyTooLarge as error:
        raise UpflowError(413, str(error), "Payload Too Large") from error
    except MalformedJson as error:
        raise UpflowError(400, f"Malformed JSON: {error}", "Bad Request") from error
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise UpflowError(400, "The body must be a JSON object", "Bad Request")
    sent = _validated(PortalIn, body)
    try:
        return sent.expiresIn, portal.frame_ancestors(sent.frameAncestors)
    except portal.BadFrameAncestors as error:
        raise UpflowError(400, f"frameAncestors: {error}", "Bad Request") from None


async def create_portal_url(ref: str, request: Request) -> JSONResponse:
    body = await deferred(_body(request), UpflowError)
    settings = request.app.state.context.settings

    def work(book):
        expires_in_s, ancestors = body.value()
        if expires_in_s > settings.portal_link_days_max * 86400:
            raise UpflowError(400, f"expiresIn: at most {settings.portal_link_days_max * 86400} seconds "
                                   f"({settings.portal_link_days_max} days)", "Bad Request")
        customer = parties.find_customer(book, **_reference(ref))
        token = portal.issue(settings.session_secret(), book.org_id, customer.uuid, expires_in_s, ancestors)
        return {"url": f"{settings.public_url.rstrip('/')}/portal/{token}"}

    return JSONResponse(await _unit(request, work))


for path in ("/customers/{ref}/portal", "/customers/{ref}/portalUrl"):
    router.add_api_route(path, create_portal_url, methods=["POST"], tags=["customers"])
