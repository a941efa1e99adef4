"""The Quipu v1 dialect, mounted at /quipu: the token endpoint, then every resource under both path
shapes (/quipu/contacts and /quipu/{owner_slug}/contacts)."""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from comptoir.context import Context
from comptoir.routing import allowed_methods
from comptoir.services.access import credentials, identity
from comptoir.services.masterdata.work import EMPLOYEES
from comptoir.wire import api, basic_credentials

from . import accounting, analytics, attachments, book_entries, contacts, entries, numbering, paysheets, pdfs
from .conventions import PATH_SHAPES, Calls, Resource, TolerantPaths, View, mount
from .errors import BAD_REQUEST, NOT_FOUND, QuipuError, error_response
from .security import failed, locked_out_for, rate_headers

TOKEN_LIFETIME_S = 7200
SCOPE = "ecommerce"


def resources(files_root: Path) -> list[Resource]:
    """Every resource but users and attachments' upload, which have routes of their own."""
    return [contacts.RESOURCE, *entries.resources(files_root), paysheets.resource(files_root),
            book_entries.RESOURCE, numbering.RESOURCE, accounting.CATEGORIES, accounting.SUBCATEGORIES,
            analytics.RESOURCE]


def oauth_error(status: int, error: str, description: str) -> JSONResponse:
    """Token endpoint errors keep Doorkeeper's shape, whose `status_code` is always 401."""
    return JSONResponse({"error": error, "error_description": description, "status_code": 401}, status_code=status)


async def token(request: Request) -> JSONResponse:
    """POST /oauth/token: HTTP Basic app_id:app_secret (or client_id and client_secret in the body),
    grant_type=client_credentials, scope=ecommerce; urlencoded or multipart. An address that failed
    too often is 429 (`temporarily_unavailable`) before its credentials are even looked at."""
    context: Context = request.app.state.context
    locked_out_s = locked_out_for(request)
    if locked_out_s is not None:
        return JSONResponse({"error": "temporarily_unavailable",
                             "error_description": "Too many failed authentications from this address. "
                                                  f"Retry in {locked_out_s} seconds.", "status_code": 429},
                            status_code=429, headers={"Retry-After": str(locked_out_s)})
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
        failed(request)
        return oauth_error(401, "invalid_client", "Client authentication failed.")
    access_token = secrets.token_hex(32)

    def save() -> None:
        with context.database.transaction() as session:
            identity.save_token(session, "quipu", access_token=access_token, refresh_token=None,
                                expires_in_s=TOKEN_LIFETIME_S, client_id=app_id, principal=principal, scope=SCOPE)

    await run_in_threadpool(save)
    return JSONResponse({"access_token": access_token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME_S,
                         "scope": SCOPE, "created_at": int(time.time())}, headers={"Cache-Control": "no-store"})


def render_user(employee: Any, view: View) -> dict:
    return {"id": str(employee.id), "type": "users",
            "attributes": {"name": employee.first_name, "surnames": employee.last_name,
                           "email": employee.email, "locale": "es", "sign_up_draft_data": None,
                           "is_full_admin": True, "accepted_commercial_communication": False}}


# The people of the account (GET /users/{id} in the 2026 spec; the list too).
USERS = Resource(path="users", service=Calls(get=EMPLOYEES.get, list=EMPLOYEES.list, count=EMPLOYEES.count),
                 render=render_user, operations=frozenset({"list", "get"}))


def build(context: Context) -> FastAPI:
    app = api("Comptoir: Quipu v1", version="1.0", docs_url="/docs", openapi_url="/openapi.json")
    app.state.context = context
    app.add_middleware(TolerantPaths)
    router = app.router  # the routes are the app's own (comptoir/routing.py)
    router.add_api_route("/oauth/token", token, methods=["POST"], tags=["oauth"])
    files_root = Path(context.settings.files_dir)
    attachment = attachments.resource(files_root)
    for prefix in PATH_SHAPES:  # every unscoped route first: /invoices/42 is never the slug "invoices"
        for resource in [USERS, *resources(files_root), attachment]:
            mount(router, resource, prefix)
        attachments.mount(router, attachment, prefix, files_root)
        pdfs.mount(router, prefix)

    @app.exception_handler(QuipuError)
    async def on_quipu_error(request: Request, error: QuipuError) -> Response:
        error.headers = {**rate_headers(request), **error.headers}
        return error_response(error)

    @app.exception_handler(HTTPException)
    async def on_http_error(request: Request, error: HTTPException) -> Response:
        headers = {**rate_headers(request), **(error.headers or {})}
        if error.status_code == 405:  # every method served at the path, not only the first route's
            headers["Allow"] = ", ".join(allowed_methods(app, request.scope))
            if request.method == "OPTIONS":  # what the path serves, asked: the answer, not an error
                return Response(status_code=204, headers=headers)
        detail = {404: NOT_FOUND, 405: "Method not allowed", 408: "Request timeout: the body did not arrive in "
                  "time"}.get(error.status_code, BAD_REQUEST)
        return error_response(QuipuError(error.status_code, detail, headers=headers))

    @app.exception_handler(RequestValidationError)
    async def on_invalid_request(request: Request, error: RequestValidationError) -> Response:
        return error_response(QuipuError(400, BAD_REQUEST, headers=rate_headers(request)))

    return app
