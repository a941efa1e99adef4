"""The Quipu v1 dialect, mounted at /quipu."""

from __future__ import annotations

import math
import secrets
import time
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from comptoir.context import Context
from comptoir.services import credentials, identity
from comptoir.services.book import open_book
from comptoir.services.credentials import Principal
from comptoir.services.organizations import organization_slug
from comptoir.wire import basic_credentials

TOKEN_LIFETIME_S = 7200
SCOPE = "ecommerce"
MEDIA_TYPE = "application/vnd.api+json"
NOT_AUTHORIZED = "Not authorized"
FORBIDDEN = "You are not authorized to access this resource"


class QuipuError(Exception):
    def __init__(self, status: int, detail: str, pointer: str = "", headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.pointer, self.headers = status, detail, pointer, headers or {}


def error_response(error: QuipuError) -> JSONResponse:
    """JSON:API errors; `source.pointer` always present, because the official PHP client reads it."""
    return JSONResponse({"errors": [{"status": str(error.status), "detail": error.detail,
                                     "source": {"pointer": error.pointer}}]},
                        status_code=error.status, headers=error.headers, media_type=MEDIA_TYPE)


def oauth_error(status: int, error: str, description: str) -> JSONResponse:
    """Token endpoint errors keep Doorkeeper's shape, whose `status_code` is always 401."""
    return JSONResponse({"error": error, "error_description": description, "status_code": 401}, status_code=status)


def _rate_headers(verdict: Any) -> dict[str, str]:
    reset_s = max(1, math.ceil(verdict.reset_at_s - time.time()))  # never "retry in 0 s"
    return {"RateLimit-Limit": str(verdict.limit), "RateLimit-Remaining": str(max(0, verdict.remaining)),
            "RateLimit-Reset": str(reset_s)}


def authenticated(request: Request, response: Response) -> Principal:
    """A Bearer token from POST /oauth/token; then 5 calls per 5 seconds per credential pair, with
    RateLimit headers on every answer and Retry-After on 429."""
    context: Context = request.app.state.context
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    principal = identity.check_bearer(context.database, "quipu", token.strip()).principal \
        if scheme.lower() == "bearer" and token.strip() else None
    if principal is None:
        raise QuipuError(401, NOT_AUTHORIZED)
    verdict = context.limiter.hit(context.settings.quipu_rate_limit, "quipu", str(principal.credential_id))
    headers = _rate_headers(verdict)
    if not verdict.allowed:
        limit = context.settings.quipu_rate_limit
        raise QuipuError(429, f"Rate limit exceeded. Maximum {limit.replace('/', ' requests per ')}.",
                         headers={**headers, "Retry-After": headers["RateLimit-Reset"]})
    response.headers.update(headers)
    request.state.rate_headers = headers
    return principal


def owner(request: Request, principal: Principal = Depends(authenticated)) -> Principal:
    """On /{owner_slug}/... paths, the slug must be the token's own organization."""
    slug = request.path_params.get("owner_slug")
    if slug is not None and slug != organization_slug(request.app.state.context.database, principal.org_id):
        raise QuipuError(403, FORBIDDEN, headers=request.state.rate_headers)
    return principal


async def token(request: Request) -> JSONResponse:
    """POST /oauth/token: HTTP Basic app_id:app_secret (or client_id and client_secret in the body),
    grant_type=client_credentials, scope=ecommerce; urlencoded or multipart."""
    context: Context = request.app.state.context
    form = await request.form()
    app_id, app_secret = basic_credentials(request.headers.get("authorization", "")) or ("", "")
    app_id = app_id or form.get("client_id") or ""
    app_secret = app_secret or form.get("client_secret") or ""
    if form.get("grant_type") != "client_credentials":
        return oauth_error(400, "unsupported_grant_type",
                           "The authorization grant type is not supported by the authorization server.")
    scope = form.get("scope") or SCOPE  # the 2016 Ruby gem sends no scope
    if scope != SCOPE:
        return oauth_error(400, "invalid_scope", "The requested scope is invalid, unknown, or malformed.")
    principal = await run_in_threadpool(credentials.authenticate, context.database, "quipu", app_id, app_secret)
    if principal is None:
        return oauth_error(401, "invalid_client", "Client authentication failed.")
    access_token = secrets.token_hex(32)

    def save() -> None:
        with context.database.transaction() as session:
            identity.save_token(session, "quipu", access_token=access_token, refresh_token=None,
                                expires_in_s=TOKEN_LIFETIME_S, client_id=app_id, principal=principal, scope=SCOPE)

    await run_in_threadpool(save)
    return JSONResponse({"access_token": access_token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME_S,
                         "scope": SCOPE, "created_at": int(time.time())}, headers={"Cache-Control": "no-store"})


def users(request: Request, principal: Principal = Depends(owner)) -> JSONResponse:
    """GET /users: the people of the account."""
    with open_book(request.app.state.context.database, principal.org_id) as book:
        employees = book.employees.all()
        data = [{"id": str(employee.id), "type": "users",
                 "attributes": {"name": f"{employee.first_name} {employee.last_name}".strip(),
                                "email": employee.email}} for employee in employees]
    return JSONResponse({"data": data}, media_type=MEDIA_TYPE, headers=request.state.rate_headers)


def build(context: Context) -> FastAPI:
    app = FastAPI(title="Comptoir: Quipu v1", version="1.0", docs_url="/docs", openapi_url="/openapi.json")
    app.state.context = context
    router = APIRouter()
    router.add_api_route("/oauth/token", token, methods=["POST"], tags=["oauth"])
    for prefix in ("", "/{owner_slug}"):
        router.add_api_route(prefix + "/users", users, methods=["GET"], tags=["users"])
    app.include_router(router)

    @app.exception_handler(QuipuError)
    async def on_quipu_error(_request: Request, error: QuipuError) -> JSONResponse:
        return error_response(error)

    @app.exception_handler(HTTPException)
    async def on_http_error(_request: Request, error: HTTPException) -> JSONResponse:
        detail = "Record not found" if error.status_code == 404 else "Bad request"
        return error_response(QuipuError(error.status_code, detail))

    return app
