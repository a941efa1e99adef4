"""The documentation index (`GET /docs`): for each dialect, its Swagger UI and ReDoc pages and its
OpenAPI document, and the health check. Plain HTML, no script, nothing loaded from anywhere: it works
on a host without internet, as the pages it links to do (their assets are served by Comptoir itself,
comptoir/wire.py)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import HTMLResponse

from comptoir import __version__

from .pages import page


@dataclass(frozen=True)
class DialectDocs:
    name: str
    prefix: str  # where the dialect is mounted, e.g. /oneup/v1
    swagger_ui: str
    redoc: str
    openapi: str


def index(request: Request, dialects: dict[str, str]) -> HTMLResponse:
    """The page, its links under the request's root path (a reverse proxy's prefix). `dialects`:
    each dialect's mount prefix and its application's title ("Comptoir: OneUp v1")."""
    root = request.scope.get("root_path", "").rstrip("/")
    entries = [DialectDocs(title.removeprefix("Comptoir: "), prefix, f"{root}{prefix}/docs", f"{root}{prefix}/redoc",
                           f"{root}{prefix}/openapi.json")
               for prefix, title in dialects.items()]
    return page("web/api_docs.html", title="API documentation", version=__version__, dialects=entries,
                healthz=f"{root}/healthz", home=f"{root}/")
