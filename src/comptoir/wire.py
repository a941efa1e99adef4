"""HTTP plumbing every dialect shares: bounded body reading, exact JSON, and the API documentation pages
(Swagger UI and ReDoc) whose scripts the server serves itself.

Dialects turn the exceptions raised here into their own error format.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import quote, unquote_to_bytes

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from comptoir.routing import use_direct_router

T = TypeVar("T")


@dataclass(frozen=True)
class Deferred(Generic[T]):
    """What a request sent, read before its unit of work (which checks the credential with its first
    statement): a refusal of the body waits until the caller is admitted, so that a request with bad
    credentials is refused for them whatever its body, as when credentials were checked first."""

    parsed: T | None = None
    refusal: Exception | None = None

    def value(self) -> T:
        if self.refusal is not None:
            raise self.refusal
        return self.parsed  # type: ignore[return-value]


async def deferred(read: Awaitable[T], refusals: type[Exception] | tuple[type[Exception], ...]) -> Deferred[T]:
    """`read`'s value, or the refusal (one of `refusals`) it raised, kept for later."""
    try:
        return Deferred(await read)
    except refusals as refusal:
        return Deferred(refusal=refusal)


# FastAPI's native OpenTelemetry hooks look at the environment on every request (a few percent of a
# request's CPU), though Comptoir configures no tracer: every app of ours switches them off.
NO_TELEMETRY = {"tracing": False, "metrics": False, "logs": False}


def api(title: str, *, application: type[FastAPI] = FastAPI, **options: Any) -> FastAPI:
    """A FastAPI application of ours (the root app, each dialect's), routed by comptoir/routing.py. Its
    documentation pages (`docs_url`, `redoc_url`: FastAPI's defaults unless None) are FastAPI's own,
    but load their scripts from this server (`add_docs_pages`), never from a CDN."""
    docs_url, redoc_url = options.pop("docs_url", "/docs"), options.pop("redoc_url", "/redoc")
    app = use_direct_router(application(title=title, telemetry=NO_TELEMETRY, docs_url=None, redoc_url=None,
                                        **options))
    add_docs_pages(app, docs_url, redoc_url)
    return app


# -- the documentation pages, offline ----------------------------------------------------------
# Swagger UI and ReDoc as published on npm, vendored in src/comptoir/static (its README.md and
# docs/decisions/0030-vendored-api-docs-assets.md: which versions, why, how to update). The root
# application serves the folder at STATIC_PATH; a folder's name carries its version, so an asset's
# URL never changes content and browsers may keep it for a year.

STATIC_DIRECTORY = Path(__file__).parent / "static"
STATIC_PATH = "/static"
SWAGGER_UI = "swagger-ui-5.36.0"  # swagger-ui-dist: swagger-ui-bundle.js, swagger-ui.css, favicon-32x32.png
REDOC = "redoc-2.5.4"  # redoc: bundles/redoc.standalone.js
FAVICON = f"{SWAGGER_UI}/favicon-32x32.png"
ASSET_HEADERS = {"Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"}
# The pages may load nothing from another host. Their own markup names none, but ReDoc's script shows
# Redocly's logo from cdn.redoc.ly: the browser refuses it (the logo is hidden, nothing leaves the host).
# Inline scripts and styles: FastAPI's pages start Swagger UI inline, and both UIs style inline; blob:
# workers are ReDoc's search.
DOCS_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' "
                               "'unsafe-inline'; img-src 'self' data:; worker-src 'self' blob:; base-uri 'self'",
    "X-Content-Type-Options": "nosniff",
}


class Assets(StaticFiles):
    """The vendored files (STATIC_DIRECTORY), each answer cacheable for a year: their URLs are versioned."""

    def __init__(self) -> None:
        super().__init__(directory=STATIC_DIRECTORY)

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers.update(ASSET_HEADERS)
        return response


def asset_url(request: Request, name: str) -> str:
    """The URL of a vendored asset from any of our applications: under the root application's own
    root path (a reverse proxy's prefix), not the mounted dialect's."""
    root = request.scope.get("app_root_path", request.scope.get("root_path", ""))
    return f"{root.rstrip('/')}{STATIC_PATH}/{name}"


def _with_policy(response: Response) -> Response:
    response.headers.update(DOCS_PAGE_HEADERS)
    return response


def add_docs_pages(app: FastAPI, docs_url: str | None, redoc_url: str | None) -> None:
    """Swagger UI at `docs_url` (and its OAuth2 redirect page), ReDoc at `redoc_url`, over the
    application's OpenAPI document: FastAPI's pages with the vendored assets (FastAPI's "Custom Docs
    UI Static Assets (Self-Hosting)"), and without ReDoc's Google Fonts."""
    if not app.openapi_url:
        return
    openapi_url, redirect_url = app.openapi_url, app.swagger_ui_oauth2_redirect_url
    app.docs_url, app.redoc_url = docs_url, redoc_url  # what FastAPI itself would show

    async def swagger_ui(request: Request) -> Response:
        root = request.scope.get("root_path", "").rstrip("/")
        return _with_policy(get_swagger_ui_html(
            openapi_url=root + openapi_url, title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=root + redirect_url if redirect_url else None,
            init_oauth=app.swagger_ui_init_oauth, swagger_ui_parameters=app.swagger_ui_parameters,
            swagger_js_url=asset_url(request, f"{SWAGGER_UI}/swagger-ui-bundle.js"),
            swagger_css_url=asset_url(request, f"{SWAGGER_UI}/swagger-ui.css"),
            swagger_favicon_url=asset_url(request, FAVICON)))

    async def swagger_ui_redirect(_request: Request) -> Response:
        return _with_policy(get_swagger_ui_oauth2_redirect_html())

    async def redoc(request: Request) -> Response:
        root = request.scope.get("root_path", "").rstrip("/")
        return _with_policy(get_redoc_html(openapi_url=root + openapi_url, title=f"{app.title} - ReDoc",
                                           redoc_js_url=asset_url(request, f"{REDOC}/redoc.standalone.js"),
                                           redoc_favicon_url=asset_url(request, FAVICON), with_google_fonts=False))

    if docs_url:
        app.add_route(docs_url, swagger_ui, include_in_schema=False)
        if redirect_url:
            app.add_route(redirect_url, swagger_ui_redirect, include_in_schema=False)
    if redoc_url:
        app.add_route(redoc_url, redoc, include_in_schema=False)


class ForPaths:
    """ASGI middleware that only requests under `prefix` go through (the session cookie of the OAuth
    pages): every other request, the API's, skips it."""

    def __init__(self, app: ASGIApp, prefix: str, middleware: Any, **options: Any) -> None:
        self.app, self.prefix = app, prefix
        self.wrapped = middleware(app, **options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
            return await self.wrapped(scope, receive, send)
        return await self.app(scope, receive, send)


class BodyTooLarge(Exception):
    def __init__(self, limit_bytes: int) -> None:
        super().__init__(f"the body is larger than {limit_bytes} bytes")
        self.limit_bytes = limit_bytes




async def bounded_stream(request: Request, limit_bytes: int) -> AsyncIterator[bytes]:
    """The request body's chunks as they arrive, refused (BodyTooLarge) as soon as they add up to more
    than the limit. A Content-Length over the limit is refused before reading anything."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and (len(declared) > 30 or int(declared) > limit_bytes):
        raise BodyTooLarge(limit_bytes)
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit_bytes:
            raise BodyTooLarge(limit_bytes)
        yield chunk


async def read_body(request: Request, limit_bytes: int) -> bytes:
    """The request body, refused as soon as it grows past the limit: a large body is never held
    in memory whole. A Content-Length over the limit is refused before reading anything."""
    return b"".join([chunk async for chunk in bounded_stream(request, limit_bytes)])




def basic_credentials(authorization: str) -> tuple[str, str] | None:
    """The user and password of an `Authorization: Basic ...` header, or None. Standard and URL-safe
    Base64 are both read (Quipu's docs mention the URL-safe one); padding may be missing."""
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    padded = encoded.strip() + "=" * (-len(encoded.strip()) % 4)
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            user, separator, password = decode(padded).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        if separator:
            # A NUL names no credential (and PostgreSQL could not even look it up): no credentials at all.
            return (user, password) if "\x00" not in user + password else None
    return None




def content_disposition(disposition: str, filename: str) -> str:
    """`inline` or `attachment` with a file name that cannot break out of the header: an ASCII
    fallback without quotes, backslashes or control characters, and the exact name in RFC 5987 form."""
    plain = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;' else "_" for c in filename) or "file"
    value = f'{disposition}; filename="{plain}"'
    if plain != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return value


# -- a backstop for form bodies ---------------------------------------------------------------

class FormBodyLimit:
    """ASGI middleware: a form body (urlencoded or multipart) is cut off once it grows past a limit
    while it streams in, whatever route reads it. The dialects' own readers have tighter limits of
    their own; this bounds the routes that read forms with Starlette's parser (the token endpoints,
    the sign-in and consent pages), which would otherwise keep up to a thousand 1 MiB fields in
    memory, or spool a multipart file part to disk without end. The refusal is an HTTPException(413)
    raised to whoever reads the body, so each dialect answers it in its own format."""

    def __init__(self, app: ASGIApp, urlencoded_bytes_max: int, multipart_bytes_max: int) -> None:
        self.app = app
        self.limits = {b"application/x-www-form-urlencoded": urlencoded_bytes_max,
                       b"multipart/form-data": multipart_bytes_max}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        content_type = next((value for name, value in scope["headers"] if name.lower() == b"content-type"), b"")
        limit = self.limits.get(content_type.split(b";")[0].strip().lower())
        if limit is None:
            return await self.app(scope, receive, send)
        size = 0

        async def limited() -> Message:
            nonlocal size
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > limit:
                    raise HTTPException(413, f"the body is larger than {limit} bytes")
            return message

        await self.app(scope, limited, send)


class BodyDeadline:
    """ASGI middleware: a request body that stops coming is cut off. Whoever reads it waits at most
    `idle_s` for each next piece and `total_s` for all of it (counted from the first wait); past that,
    an HTTPException(408) is raised to the reader, so each dialect answers in its own format, and the
    answer closes the connection (the rest of the body will never be read): a client that trickles a
    body, or sends one that never ends, holds neither a worker's attention nor the connection."""

    def __init__(self, app: ASGIApp, idle_s: float, total_s: float) -> None:
        self.app, self.idle_s, self.total_s = app, idle_s, total_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        deadline: float | None = None
        whole = timed_out = False

        async def timed() -> Message:
            nonlocal deadline, whole, timed_out
            if whole:  # the body is in: a later wait is for the client's disconnection, unbounded
                return await receive()
            now = asyncio.get_running_loop().time()
            if deadline is None:
                deadline = now + self.total_s
            try:
                async with asyncio.timeout(min(self.idle_s, max(deadline - now, 0.0))):
                    message = await receive()
            except TimeoutError:
                timed_out = True
                raise HTTPException(408, "the request body did not arrive in time") from None
            whole = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        async def closing(message: Message) -> None:
            if timed_out and message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), (b"connection", b"close")]
            await send(message)

        await self.app(scope, timed, closing)


class AnswerUnexpected:
    """ASGI middleware: an exception that nothing answered (a bug, a database gone) is answered here,
    in the format of the path's dialect (`answer(path)`, a 500), and the request ends normally, so the
    server keeps the client's keep-alive connection (Starlette's own last resort answers too, but then
    raises again, and uvicorn closes the connection). The traceback is logged. An exception after the
    answer has begun goes on: that connection must close."""

    def __init__(self, app: ASGIApp, answer: Any) -> None:
        self.app, self.answer = app, answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception:
            if started:
                raise
            logging.getLogger("comptoir").exception("unexpected error answering %s %s", scope["method"],
                                                    scope["path"])
            await self.answer(scope["path"])(scope, receive, send)


class NulInUrl:
    """ASGI middleware: a NUL character in the path or the query string (`%00`) is refused before any
    route sees it. No identifier, filter or name of the book holds one, and PostgreSQL cannot even
    compare text with it. `refuse(path, message)` makes the answer in the format of the path's dialect."""

    def __init__(self, app: ASGIApp, refuse: Any) -> None:
        self.app, self.refuse = app, refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and ("\x00" in scope["path"] or b"\x00" in unquote_to_bytes(scope["query_string"])):
            response = self.refuse(scope["path"], "the URL holds a NUL character (%00)")
            return await response(scope, receive, send)
        await self.app(scope, receive, send)


# -- multipart/form-data, parsed while it streams in -------------------------------------------

@dataclass
class FormPart:
    """One part of a multipart body: its bytes, and the file name and type it was sent with."""

    name: str
    data: bytes
    filename: str | None = None
    content_type: str | None = None


class PartTooLarge(Exception):
    def __init__(self, name: str, limit_bytes: int) -> None:
        super().__init__(f"the part {name!r} is larger than {limit_bytes} bytes")
        self.name, self.limit_bytes = name, limit_bytes


class MalformedMultipart(Exception):
    pass


async def read_multipart(request: Request, limits_bytes: dict[str, int], *, other_bytes_max: int = 64 * 1024,
                         parts_max: int = 32) -> list[FormPart]:
    """The parts of a multipart/form-data body, parsed incrementally (python-multipart) as it
    arrives: a part named in `limits_bytes` is refused (PartTooLarge) as soon as it grows past its
    limit, any other part past `other_bytes_max`, and the whole body past the sum of them all; so
    nothing unbounded is ever held. MalformedMultipart for a body that is not multipart or is broken."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise MalformedMultipart("the body must be multipart/form-data (with a boundary)")
    parts: list[FormPart] = []
    current: dict[str, Any] = {}

    def on_part_begin() -> None:
        if len(parts) >= parts_max:
            raise MalformedMultipart(f"more than {parts_max} parts")
        current.clear()
        current.update(headers={}, field=b"", value=b"", data=bytearray())

    def on_header_field(data: bytes, start: int, end: int) -> None:
        current["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        current["value"] += data[start:end]

    def on_header_end() -> None:
        current["headers"][current["field"].decode("latin-1").lower()] = current["value"].decode("latin-1")
        current["field"], current["value"] = b"", b""

    def on_headers_finished() -> None:
        disposition, params = parse_options_header(current["headers"].get("content-disposition", ""))
        if disposition != b"form-data" or b"name" not in params:
            raise MalformedMultipart("a part has no Content-Disposition: form-data; name=...")
        current["name"] = params[b"name"].decode("utf-8", "replace")
        filename = params.get(b"filename")
        current["filename"] = filename.decode("utf-8", "replace") if filename is not None else None
        current["limit"] = limits_bytes.get(current["name"], other_bytes_max)

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if len(current["data"]) + end - start > current["limit"]:
            raise PartTooLarge(current["name"], current["limit"])
        current["data"] += data[start:end]

    def on_part_end() -> None:
        parts.append(FormPart(current["name"], bytes(current["data"]), current["filename"],
                              current["headers"].get("content-type")))

    parser = MultipartParser(boundary, {
        "on_part_begin": on_part_begin, "on_header_field": on_header_field, "on_header_value": on_header_value,
        "on_header_end": on_header_end, "on_headers_finished": on_headers_finished, "on_part_data": on_part_data,
        "on_part_end": on_part_end})
    body_max = sum(limits_bytes.values()) + parts_max * (other_bytes_max + 8 * 1024)
    try:
        async for chunk in bounded_stream(request, body_max):
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as error:
        raise MalformedMultipart(f"malformed multipart body: {error}") from error
    return parts
