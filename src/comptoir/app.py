"""The ASGI application: the dialects mounted side by side over one book."""

from __future__ import annotations

import gc

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from comptoir import __version__
from comptoir.context import Context
from comptoir.dialects import oneconnect, oneup, quipu, upflow
from comptoir.dialects.oneconnect.errors import Problem, problem_response
from comptoir.dialects.oneconnect.security import token as oneconnect_token
from comptoir.dialects.oneup.conventions import error_response as oneup_error_response
from comptoir.dialects.oneup.errors import OneUpError
from comptoir.dialects.quipu.errors import BAD_REQUEST as QUIPU_BAD_REQUEST
from comptoir.dialects.quipu.errors import NOT_FOUND as QUIPU_NOT_FOUND
from comptoir.dialects.quipu.errors import QuipuError
from comptoir.dialects.quipu.errors import error_response as quipu_error_response
from comptoir.dialects.upflow.errors import UpflowError
from comptoir.dialects.upflow.errors import error_response as upflow_error_response
from comptoir.jobs import webhooks as webhook_jobs
from comptoir.serving import cased, redact_access_log
from comptoir.services.access import signing
from comptoir.settings import Settings, get_settings
from comptoir.web import api_docs
from comptoir.web import oauth as oauth_pages
from comptoir.web import portal as portal_pages
from comptoir.wire import STATIC_PATH, AnswerUnexpected, Assets, BodyDeadline, FormBodyLimit, ForPaths, NulInUrl, api

DIALECTS = {"oneup": "/oneup/v1", "upflow": "/upflow/v1", "quipu": "/quipu", "oneconnect": "/oneconnect/v1"}


class Root(FastAPI):
    """The root application. A request for a dialect goes straight to that dialect's application,
    through the two middlewares of the root that concern it (a NUL in the URL, a form's size), not
    through the root's own stack and router (their error handling, body limit, exit stack and route
    matching: a twentieth of the CPU of a hot read, docs/performance.md). The dialect's mount decides
    as the root's router would (the mounts are its first routes), so a path a mount does not take (a
    line feed in it) goes through the root as before; so do the lifespan and every other path."""

    dialect_mounts: tuple[tuple[Mount, ASGIApp], ...] = ()

    def build_middleware_stack(self) -> ASGIApp:
        return _DialectsFirst(super().build_middleware_stack(), self.dialect_mounts)


class _DialectsFirst:
    def __init__(self, app: ASGIApp, mounts: tuple[tuple[Mount, ASGIApp], ...]) -> None:
        self.app, self.mounts = app, mounts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            send = cased(send)  # header names as the dialects document them (comptoir/serving.py)
            for mount, stack in self.mounts:
                match, child_scope = mount.matches(scope)
                if match is Match.FULL:  # what the root's router would do with it, but for its stack
                    scope.update(child_scope)
                    return await stack(scope, receive, send)
        await self.app(scope, receive, send)


def _lifespan(context: Context):
    """What the server's life brackets: a webhook delivery worker beside it when
    COMPTOIR_WEBHOOKS_IN_SERVE is on, and at the end the database connections its requests opened."""
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        worker = webhook_jobs.start_in_background(context.database, context.settings) \
            if context.settings.webhooks_in_serve else None
        # What the server built to start (modules, the app, tables, compiled statements) lives as long
        # as it does: moved out of the collector's sight, so that its full collections, which stop
        # every request, walk a request's garbage only (docs/performance.md).
        context.database.serving()
        redact_access_log()  # after uvicorn configured its loggers
        gc.collect()
        gc.freeze()
        gc.set_threshold(20_000, 50, 100)
        try:
            yield
        finally:
            if worker is not None:
                thread, stop = worker
                stop.set()
                thread.join(timeout=context.settings.webhook_timeout_s + 5)
            await context.database.close_loop_engines()
    return lifespan


def _refusal(path: str, message: str) -> Response:
    """A 400 in the format of the dialect the path belongs to (plain JSON elsewhere)."""
    if path.startswith(DIALECTS["oneup"] + "/"):
        return oneup_error_response(OneUpError(5, message))
    if path.startswith(DIALECTS["upflow"] + "/"):
        return upflow_error_response(UpflowError(400, message, "Bad Request"))
    if path.startswith(DIALECTS["quipu"] + "/"):
        if path.endswith("/ephemeral_open_download"):  # Quipu's spec gives a signed link 404, never 400
            return quipu_error_response(QuipuError(404, QUIPU_NOT_FOUND))
        return quipu_error_response(QuipuError(400, f"{QUIPU_BAD_REQUEST}: {message}"))
    if path.startswith(DIALECTS["oneconnect"] + "/"):
        return problem_response(Problem(400, message, "VALIDATION_ERROR", errors=[{"field": "url", "detail": message}]))
    return JSONResponse({"error": "invalid_request", "error_description": message}, status_code=400)


def _unexpected(path: str) -> Response:
    """A 500 in the format of the dialect the path belongs to (plain JSON elsewhere)."""
    if path.startswith(DIALECTS["oneup"] + "/"):
        return oneup_error_response(OneUpError(0))
    if path.startswith(DIALECTS["upflow"] + "/"):
        return upflow_error_response(UpflowError(500, "Internal Server Error", "Internal Server Error"))
    if path.startswith(DIALECTS["quipu"] + "/"):
        return quipu_error_response(QuipuError(500, "Internal Server Error"))
    if path.startswith(DIALECTS["oneconnect"] + "/"):
        return problem_response(Problem(500, "Internal Server Error"))
    return JSONResponse({"error": "server_error", "error_description": "Internal Server Error"}, status_code=500)


def create_app(settings: Settings | None = None, context: Context | None = None) -> FastAPI:
    context = context or Context.from_settings(settings or get_settings())
    app = api("Comptoir", application=Root, version=__version__, docs_url=None, redoc_url=None,
              lifespan=_lifespan(context))
    app.state.context = context
    app.add_middleware(ForPaths, prefix=oauth_pages.PREFIX, middleware=SessionMiddleware,
                       secret_key=context.settings.session_secret(), session_cookie="comptoir_session",
                       path=oauth_pages.PREFIX, same_site="lax",
                       https_only=context.settings.public_url.startswith("https://"), max_age=3600)
    # The largest form any route reads: a JSON body sent as urlencoded, an upload with its envelope.
    settings = context.settings
    upload_max = max(settings.upload_bytes_max,
                     settings.oneconnect_file_bytes_max + settings.oneconnect_entries_bytes_max + 64 * 1024)
    app.add_middleware(FormBodyLimit, urlencoded_bytes_max=settings.json_body_bytes_max,
                       multipart_bytes_max=upload_max + 4 * 1024 * 1024)
    app.add_middleware(NulInUrl, refuse=_refusal)
    app.add_middleware(BodyDeadline, idle_s=settings.body_idle_timeout_s, total_s=settings.body_total_timeout_s)
    app.add_middleware(AnswerUnexpected, answer=_unexpected)
    dialect_apps = {}  # first: routes are tried in order, and the APIs take nearly every request
    for name, module in (("oneup", oneup), ("upflow", upflow), ("quipu", quipu), ("oneconnect", oneconnect)):
        dialect_apps[DIALECTS[name]] = module.build(context)
        # Inside the application's own last resort (which answers, then raises again: the connection
        # would close): what nothing answered is answered in the dialect's format, keep-alive kept.
        dialect_apps[DIALECTS[name]].add_middleware(AnswerUnexpected, answer=_unexpected)
        app.mount(DIALECTS[name], dialect_apps[DIALECTS[name]])
    app.dialect_mounts = tuple(
        (mount, BodyDeadline(NulInUrl(FormBodyLimit(mount.app, urlencoded_bytes_max=settings.json_body_bytes_max,
                                                    multipart_bytes_max=upload_max + 4 * 1024 * 1024),
                                      refuse=_refusal), idle_s=settings.body_idle_timeout_s,
                             total_s=settings.body_total_timeout_s))
        for mount in app.router.routes if isinstance(mount, Mount) and mount.app in dialect_apps.values())
    # Swagger UI's and ReDoc's scripts, which every documentation page loads from here (wire.py).
    app.mount(STATIC_PATH, Assets(), name="static")
    app.include_router(oauth_pages.router)
    app.include_router(portal_pages.router)  # the customer portal (Upflow's portal links)
    # OneConnect's token endpoint sits beside its API (Shine serves it from its auth host).
    app.add_api_route("/oneconnect/oauth2/token", oneconnect_token, methods=["POST"], include_in_schema=False)

    @app.exception_handler(HTTPException)
    async def on_http_error(request: Request, error: HTTPException) -> Response:
        """A path under a dialect that its mount does not take (Starlette's mount pattern stops at a
        line feed: /upflow/v1/customers/a%0Ab) is still answered in that dialect's format."""
        path = request.scope["path"]
        for prefix, dialect_app in dialect_apps.items():
            if path == prefix or path.startswith(prefix + "/"):
                return await dialect_app.exception_handlers[HTTPException](request, error)
        return await http_exception_handler(request, error)

    @app.get("/.well-known/jwks.json", include_in_schema=False)
    def jwks() -> JSONResponse:
        """The public keys of the server's signatures (OneConnect tokens, webhooks)."""
        return JSONResponse(signing.jwks(context.database))

    @app.get("/", include_in_schema=False)
    async def index() -> JSONResponse:
        base = context.settings.public_url.rstrip("/")
        return JSONResponse({"name": "Comptoir", "version": __version__,
                             "dialects": {name: base + path for name, path in DIALECTS.items()},
                             "docs": base + "/docs"})

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> Response:
        """The documentation index: each dialect's Swagger UI, ReDoc and OpenAPI document, and /healthz."""
        return api_docs.index(request, {prefix: dialect_app.title for prefix, dialect_app in dialect_apps.items()})

    @app.get("/healthz", include_in_schema=False)
    async def health() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return app
