"""The OneConnect v1 dialect, mounted at /oneconnect/v1 (its token endpoint at /oneconnect/oauth2/token)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from comptoir.auth.limits import AUTH_FAILURES, client_address
from comptoir.context import Context
from comptoir.services import credentials, signing
from comptoir.services.book import open_book
from comptoir.services.credentials import Principal
from comptoir.wire import basic_credentials, iso_timestamp

TOKEN_LIFETIME_S = 3600
AUDIENCE = "oneconnect"
PROBLEM = "application/problem+json"
SECRET_HEADERS = ("x-oneconnect-api-key", "x-one-connect-api-key")  # the docs spell it both ways
REVOKED_BY_PARTNER = "Revoked by the partner"
TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
          422: "Unprocessable Content", 429: "Too Many Requests"}


class Problem(Exception):
    """An RFC 9457 problem with OneConnect's `errorCode` extension (and any other extension)."""

    def __init__(self, status: int, detail: str, error_code: str | None = None, *,
                 headers: dict[str, str] | None = None, **extensions: Any) -> None:
        super().__init__(detail)
        self.status, self.detail, self.error_code, self.extensions = status, detail, error_code, extensions
        self.headers = headers or {}

    def body(self) -> dict:
        body = {"type": "about:blank", "title": TITLES.get(self.status, "Error"), "status": self.status,
                "detail": self.detail}
        if self.error_code:
            body["errorCode"] = self.error_code
        return {**body, **self.extensions}


def problem_response(problem: Problem) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="OneConnect"'} if problem.status == 401 else {}
    return JSONResponse(problem.body(), status_code=problem.status, media_type=PROBLEM,
                        headers={**headers, **problem.headers})


def _failures(request: Request) -> tuple[str, ...]:
    """The key of this address's failed authentications (settings.auth_failure_limit)."""
    return (request.app.state.context.settings.auth_failure_limit, AUTH_FAILURES, "oneconnect",
            client_address(request))


def _refuse_locked_out(request: Request) -> None:
    """An address that failed too often is 429, before its credentials are even looked at."""
    locked_out_s = request.app.state.context.limiter.locked_out_for(*_failures(request))
    if locked_out_s is not None:
        raise Problem(429, f"Too many failed authentications from this address. Retry in {locked_out_s} seconds.",
                      headers={"Retry-After": str(locked_out_s)})


def _failed(request: Request, problem: Problem) -> Problem:
    request.app.state.context.limiter.hit(*_failures(request))
    return problem


@dataclass(frozen=True)
class Partner:
    """The partner behind a JWT: its organization and its client id."""

    org_id: int
    client_id: str


@dataclass(frozen=True)
class Caller:
    partner: Partner
    integration_id: str
    integration: Principal | None  # None when the integration is revoked (only its status can be read)
    revoked_reason: str | None


def partner(request: Request) -> Partner:
    """The partner behind a Bearer JWT issued by POST /oneconnect/oauth2/token, still not revoked."""
    context: Context = request.app.state.context
    _refuse_locked_out(request)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    claims = signing.verify(context.database, token.strip()) if scheme.lower() == "bearer" else None
    if not claims or claims.get("aud") != AUDIENCE:
        raise _failed(request, Problem(401, "The access token is missing, invalid or expired."))
    state = credentials.credential_state(context.database, "oneconnect", claims.get("sub", ""))
    if state is None or state.revoked_at is not None:
        raise _failed(request, Problem(401, "The partner credentials behind this token are revoked."))
    return Partner(state.org_id, state.identifier)


def integration(request: Request, integration_id: str, caller: Partner = Depends(partner)) -> Caller:
    """The integration named in the path, with its secret in x-oneconnect-api-key; it must belong to
    the partner's organization."""
    context: Context = request.app.state.context
    secret = next((request.headers[name] for name in SECRET_HEADERS if name in request.headers), "")
    if not secret:
        raise Problem(401, "The integration secret is missing: send it in the x-oneconnect-api-key header.")
    checked = credentials.check(context.database, "oneconnect_integration", integration_id, secret)
    state = credentials.credential_state(context.database, "oneconnect_integration", integration_id)
    if state is None or state.org_id != caller.org_id:
        raise Problem(404, f"No integration {integration_id}.", "SMB_NOTFOUND")
    if checked.principal is None and checked.revoked_reason is None:
        raise _failed(request, Problem(401, "The integration secret is wrong."))
    return Caller(caller, integration_id, checked.principal, checked.revoked_reason)


def active(caller: Caller = Depends(integration)) -> Caller:
    """Every route but the status check needs an active integration; a revoked one gets 401 with its reason."""
    if caller.integration is None:
        raise Problem(401, f"The integration is revoked: {caller.revoked_reason}", "SMB_CLOSED",
                      reason=caller.revoked_reason)
    return caller


def _integration_body(context: Context, caller: Caller) -> dict:
    state = credentials.credential_state(context.database, "oneconnect_integration", caller.integration_id)
    with open_book(context.database, caller.partner.org_id) as book:
        return {
            "integrationId": caller.integration_id,
            "status": "revoked" if state.revoked_at else "active",
            "createdAt": iso_timestamp(state.created_at),
            "revokedAt": iso_timestamp(state.revoked_at),
            "revocationReason": state.revocation_reason,
            "organization": _organization(book.organization),
        }


def _organization(organization: Any) -> dict:
    """The brief's organization object (specs/oneconnect.md §3: name, siren, legalForm, naf, address,
    phoneNumber, contactEmail) from what the book keeps of its organization: its name, and its country
    as the address. The book keeps no SIREN, legal form, NAF code, phone or email: they are null.
    Beside them, the book's currency and the day it was opened."""
    return {"name": organization.name, "siren": None, "legalForm": None, "naf": None,
            "address": {"country": organization.country}, "phoneNumber": None, "contactEmail": None,
            "currency": organization.currency_iso_code, "createdAt": iso_timestamp(organization.created_at)}


def get_integration(request: Request, caller: Caller = Depends(integration)) -> JSONResponse:
    """GET /integrations/{id}: active or revoked, with the organization's details."""
    return JSONResponse(_integration_body(request.app.state.context, caller))


def revoke_integration(request: Request, caller: Caller = Depends(active)) -> JSONResponse:
    """PUT /integrations/{id}/revoke: from now on every call with this integration gets 401."""
    context: Context = request.app.state.context
    credentials.revoke(context.database, caller.partner.org_id, "oneconnect_integration", caller.integration_id,
                       REVOKED_BY_PARTNER)
    return JSONResponse(_integration_body(context, caller))


async def token(request: Request) -> JSONResponse:
    """POST /oneconnect/oauth2/token: client credentials in the form body (or HTTP Basic); a signed
    JWT valid for 3600 s, whose public keys are at /.well-known/jwks.json."""
    context: Context = request.app.state.context
    locked_out_s = context.limiter.locked_out_for(*_failures(request))
    if locked_out_s is not None:  # before the credentials are even looked at
        return JSONResponse({"error": "temporarily_unavailable", "error_description": "Too many failed "
                             f"authentications from this address. Retry in {locked_out_s} seconds."},
                            status_code=429, headers={"Retry-After": str(locked_out_s)})
    form = await request.form()
    client_id, client_secret = basic_credentials(request.headers.get("authorization", "")) or ("", "")
    client_id = form.get("client_id") or client_id
    client_secret = form.get("client_secret") or client_secret
    if form.get("grant_type") != "client_credentials":
        return JSONResponse({"error": "unsupported_grant_type",
                             "error_description": "Use grant_type=client_credentials."}, status_code=400)
    principal = await run_in_threadpool(credentials.authenticate, context.database, "oneconnect", client_id or "",
                                        client_secret or "")
    if principal is None:
        context.limiter.hit(*_failures(request))
        return JSONResponse({"error": "invalid_client", "error_description": "Client authentication failed."},
                            status_code=401)
    claims = {"iss": context.settings.public_url.rstrip("/") + "/oneconnect", "sub": client_id, "aud": AUDIENCE,
              "scope": form.get("scope") or "documents"}
    access_token = await run_in_threadpool(signing.sign, context.database, claims, TOKEN_LIFETIME_S)
    return JSONResponse({"access_token": access_token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME_S},
                        headers={"Cache-Control": "no-store"})


def build(context: Context) -> FastAPI:
    app = FastAPI(title="Comptoir: OneConnect v1", version="1.0", docs_url="/docs", openapi_url="/openapi.json")
    app.state.context = context
    router = APIRouter()
    router.add_api_route("/integrations/{integration_id}", get_integration, methods=["GET"], tags=["integrations"])
    router.add_api_route("/integrations/{integration_id}/revoke", revoke_integration, methods=["PUT"],
                         tags=["integrations"])
    # documents.py imports this module (Problem, active), so its routes are added once both are loaded.
    from . import documents
    for path, endpoint in (("purchase-invoices", documents.import_purchase_invoice),
                           ("sales-invoices", documents.import_sales_invoice)):
        router.add_api_route(f"/integrations/{{integration_id}}/{path}", endpoint, methods=["POST"], tags=["imports"],
                             openapi_extra=documents.IMPORT_OPENAPI)
    router.add_api_route("/integrations/{integration_id}/documents/{document_id}", documents.get_document,
                         methods=["GET"], tags=["documents"])
    router.add_api_route("/integrations/{integration_id}/documents/{document_id}/entries", documents.book_document,
                         methods=["POST"], tags=["documents"])
    router.add_api_route("/integrations/{integration_id}/documents/{document_id}/refuse", documents.refuse_document,
                         methods=["POST"], tags=["documents"])
    app.include_router(router)

    @app.exception_handler(Problem)
    async def on_problem(_request: Request, problem: Problem) -> JSONResponse:
        return problem_response(problem)

    @app.exception_handler(HTTPException)
    async def on_http_error(_request: Request, error: HTTPException) -> JSONResponse:
        return problem_response(Problem(error.status_code, str(error.detail)))

    return app
