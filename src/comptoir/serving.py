"""What the HTTP server writes: header names as the dialects' specifications write them, and an
access log without the bearer tokens of signed links (`redact_access_log`).

HTTP header names are case-insensitive (RFC 9110 §5.1), but clients published for these services
compare them exactly: a client that looks for `X-OneUp-Has-Next-Page` never sees
`x-oneup-has-next-page`, and never asks for page 2. Starlette keeps header names lower-cased, and
uvicorn's httptools server lower-cases every name it writes. So:

- `cased(send)` gives the names of every header a dialect documents their documented casing in the
  response the application sends (`DOCUMENTED`; any other name is left as it is);
- `HttpToolsProtocol` is uvicorn's httptools server writing the names as the application sent them
  (uvicorn's h11 server already does). `comptoir serve --http httptools|h11` picks either.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from starlette.types import Message, Send

# Every header name a dialect's specification shows (seeds/ and specs/), with the common ones they
# answer with, as written there.
DOCUMENTED = {name.lower().encode("latin-1"): name.encode("latin-1") for name in (
    "X-OneUp-Has-Next-Page", "X-MyERP-Has-Next-Page",  # OneUp's paging
    "Retry-After", "WWW-Authenticate", "Allow", "Location", "Content-Disposition",
    "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset",  # Quipu's rate limit
    "X-OneConnect-Signature", "X-Content-Type-Options",
    "Content-Type", "Content-Length", "Cache-Control", "ETag", "Last-Modified",
)}


# A signed link's token (services/access/links.py, itsdangerous): base64url payload, a dot, base64url
# signature (a payload compressed starts with a dot). In a path segment or a query value.
_SIGNED_TOKEN = re.compile(r"(?<=[/=])\.?[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}")
REDACTED = "[redacted]"


class RedactSignedLinks(logging.Filter):
    """The access log line of a request without the bearer tokens of its URL: a signed link (a PDF, a
    customer portal, a Quipu download) opens what it names for anyone who holds it, and access logs
    are read, kept and shipped by more people than the books are."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3 and isinstance(record.args[2], str):
            args = list(record.args)
            args[2] = _SIGNED_TOKEN.sub(REDACTED, args[2])
            record.args = tuple(args)
        return True


def redact_access_log() -> None:
    """Once per process: uvicorn's access log (`uvicorn.access`, its line's third argument the path
    with its query) goes through `RedactSignedLinks`."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(existing, RedactSignedLinks) for existing in access.filters):
        access.addFilter(RedactSignedLinks())


def cased(send: Send) -> Send:
    """`send`, with the response's documented header names in their documented casing."""
    async def send_cased(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [(DOCUMENTED.get(name, name), value) for name, value in message.get("headers", ())]
        await send(message)
    return send_cased


class _KeepingCase:
    """The transport a response's header block is written to (uvicorn writes it in one call): each
    name the application sent with capitals is put back as it was sent."""

    def __init__(self, transport: Any, names: dict[bytes, bytes]) -> None:
        self.transport, self.names = transport, names

    def write(self, data: bytes) -> None:
        head, separator, rest = data.partition(b"\r\n\r\n")
        for lower, name in self.names.items():
            head = head.replace(b"\r\n" + lower + b": ", b"\r\n" + name + b": ")
        self.transport.write(head + separator + rest)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


try:  # httptools is uvicorn's optional parser (its `standard` extra, one of our dependencies)
    from uvicorn.protocols.http import httptools_impl
except ImportError:  # pragma: no cover - then `comptoir serve` runs uvicorn's h11 server
    httptools_impl = None

if httptools_impl is not None:
    class _Cycle(httptools_impl.RequestResponseCycle):
        async def send(self, message: Message) -> None:
            if message["type"] != "http.response.start" or self.response_started:
                return await super().send(message)
            names = {name.lower(): name for name, _ in message.get("headers", ()) if name != name.lower()}
            if not names:
                return await super().send(message)
            transport, self.transport = self.transport, _KeepingCase(self.transport, names)
            try:
                await super().send(message)  # it writes the status line and the headers, nothing else
            finally:
                self.transport = transport

    class HttpToolsProtocol(httptools_impl.HttpToolsProtocol):
        """uvicorn's httptools server, writing header names as the application sent them."""

        def on_headers_complete(self) -> None:
            super().on_headers_complete()
            if type(self.cycle) is httptools_impl.RequestResponseCycle:
                self.cycle.__class__ = _Cycle  # before its task first runs (and calls its `send`)
