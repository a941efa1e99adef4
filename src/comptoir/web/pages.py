"""Rendering pages, and the session facts they share (who is signed in, the CSRF token)."""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from comptoir.domain.organizations import Principal

TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent.parent / "templates"),
                        autoescape=select_autoescape(["html"]))
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action *; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def page(template: str, status: int = 200, **values) -> HTMLResponse:
    html = TEMPLATES.get_template(template).render(**values)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return token


def csrf_ok(request: Request, sent: str | None) -> bool:
    expected = request.session.get("csrf")
    return bool(expected and sent and hmac.compare_digest(expected, sent))


def signed_in(request: Request) -> Principal | None:
    data = request.session.get("principal")
    if not data:
        return None
    return Principal(data["org_id"], data["credential_id"], data["employee_id"])


def sign_in(request: Request, principal: Principal) -> None:
    request.session["principal"] = {"org_id": principal.org_id, "credential_id": principal.credential_id,
                                    "employee_id": principal.employee_id}
    request.session["csrf"] = secrets.token_urlsafe(24)  # a new session gets a new token
