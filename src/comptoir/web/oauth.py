"""OneUp's OAuth2 endpoints: the authorization page (login, consent), and the token endpoint."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from authlib.oauth2 import OAuth2Error
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, RedirectResponse, Response

from comptoir.auth.limits import AUTH_FAILURES, client_address
from comptoir.auth.oauth import SERVER, OAuthRequest, denied_redirect
from comptoir.domain.organizations import Principal
from comptoir.services.access import identity
from comptoir.services.kernel.unit_of_work import open_book

from .pages import csrf_ok, csrf_token, page, sign_in, signed_in

PREFIX = "/oneup/oauth2"
AUTHORIZE_PARAMS = ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
                    "code_challenge_method")

router = APIRouter(prefix=PREFIX, include_in_schema=False)


def _database(request: Request):
    return request.app.state.context.database


async def _oauth_request(request: Request, session: Any) -> OAuthRequest:
    form = await request.form() if request.method == "POST" else {}
    return OAuthRequest(request.method, str(request.url), _headers(request),
                        {key: request.query_params.getlist(key) for key in request.query_params},
                        {key: form.getlist(key) for key in form} if form else {}, session)


def _values(request: Request, form: Any) -> dict[str, str]:
    source = form if request.method == "POST" else request.query_params
    return {name: source.get(name) for name in AUTHORIZE_PARAMS if source.get(name) is not None}


def _untrusted(database, values: dict[str, str]) -> Response | None:
    """An error page (never a redirect) when the client or its redirect URI cannot be trusted."""
    with database.transaction() as session:
        client = identity.find_client(session, values.get("client_id"))
        if client is None:
            return page("web/error.html", 400, title="Unknown application",
                        message="The client_id is missing or does not name a registered application.")
        if values.get("redirect_uri") not in client.redirect_uris:
            return page("web/error.html", 400, title="Unregistered redirect URI",
                        message="The redirect_uri is missing or is not one registered for this application.")
        return None


def _authlib(database, request_values: dict, method: str, url: str, headers: dict, grant_user: Principal | None,
             validate_only: bool) -> tuple[int, Any, dict]:
    with database.transaction() as session:
        query = {key: [value] for key, value in request_values.items()}
        oauth_request = OAuthRequest(method, url, headers, query, {}, session)
        try:
            grant = SERVER.get_consent_grant(oauth_request)
        except OAuth2Error as error:
            return SERVER.handle_error_response(oauth_request, error)
        if validate_only:
            return 200, grant.client.row.name, {}
        return SERVER.create_authorization_response(oauth_request, grant_user=grant_user, grant=grant)


def _as_response(result: tuple[int, Any, dict]) -> Response:
    status, body, headers = result
    if status == 302:
        return RedirectResponse(headers["Location"], status_code=302)
    if isinstance(body, dict):
        return JSONResponse(body, status_code=status, headers={k: v for k, v in headers.items()
                                                               if k.lower() != "content-type"})
    return Response(body, status_code=status, headers=headers)


@router.get("/auth")
async def authorize_page(request: Request) -> Response:
    database = _database(request)
    values = _values(request, None)
    untrusted = await run_in_threadpool(_untrusted, database, values)
    if untrusted is not None:
        return untrusted
    status, body, headers = await run_in_threadpool(_authlib, database, values, "GET", str(request.url),
                                                     _headers(request), None, True)
    if status != 200:
        return _as_response((status, body, headers))
    principal = signed_in(request)
    if principal is None:
        return RedirectResponse(f"{PREFIX}/login?{urlencode({'next': request.url.path + '?' + request.url.query})}",
                                status_code=303)
    organization = await run_in_threadpool(_organization_name, database, principal)
    return page("web/consent.html", title="Authorize", client_name=body, organization=organization,
                action=f"{PREFIX}/auth", csrf_token=csrf_token(request), params=list(values.items()))


@router.post("/auth")
async def authorize_decision(request: Request) -> Response:
    database = _database(request)
    form = await request.form()
    values = _values(request, form)
    untrusted = await run_in_threadpool(_untrusted, database, values)
    if untrusted is not None:
        return untrusted
    principal = signed_in(request)
    if principal is None or not csrf_ok(request, form.get("csrf_token")):
        return page("web/error.html", 400, title="Session expired",
                    message="Your session expired or the form was not sent from this site. Start again.")
    if form.get("decision") != "allow":
        return RedirectResponse(denied_redirect(values["redirect_uri"], values.get("state")), status_code=302)
    result = await run_in_threadpool(_authlib, database, values, "GET", str(request.url), _headers(request),
                                     principal, False)
    return _as_response(result)


@router.get("/login")
async def login_page(request: Request, next: str = "") -> Response:
    return page("web/login.html", title="Sign in", action=f"{PREFIX}/login", next=_safe_next(next), email="",
                error=None, csrf_token=csrf_token(request))


def _failures(request: Request) -> tuple[str, ...]:
    """The key of this address's failed sign-ins and token requests (settings.auth_failure_limit)."""
    return (request.app.state.context.settings.auth_failure_limit, AUTH_FAILURES, "oneup-oauth",
            client_address(request))


def _locked_out_for(request: Request) -> int | None:
    return request.app.state.context.limiter.locked_out_for(*_failures(request))


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    next_url = _safe_next(form.get("next", ""))
    email = (form.get("email") or "").strip()
    locked_out_s = _locked_out_for(request)
    if locked_out_s is not None:  # before the password is even looked at
        response = page("web/login.html", 429, title="Sign in", action=f"{PREFIX}/login", next=next_url, email=email,
                        error=f"Too many failed sign-ins. Try again in {locked_out_s} seconds.",
                        csrf_token=csrf_token(request))
        response.headers["Retry-After"] = str(locked_out_s)
        return response
    if not csrf_ok(request, form.get("csrf_token")):
        return page("web/login.html", 400, title="Sign in", action=f"{PREFIX}/login", next=next_url, email=email,
                    error="Your session expired. Please sign in again.", csrf_token=csrf_token(request))
    principal = await run_in_threadpool(identity.log_in, _database(request), email, form.get("password") or "")
    if principal is None:
        request.app.state.context.limiter.hit(*_failures(request))
        return page("web/login.html", 401, title="Sign in", action=f"{PREFIX}/login", next=next_url, email=email,
                    error="Wrong email or password.", csrf_token=csrf_token(request))
    sign_in(request, principal)
    return RedirectResponse(next_url or "/", status_code=303)


@router.post("/token")
async def token(request: Request) -> Response:
    database = _database(request)
    locked_out_s = _locked_out_for(request)
    if locked_out_s is not None:  # before the client secret, code or refresh token is even looked at
        return JSONResponse({"error": "temporarily_unavailable", "error_description": "Too many failed token "
                             f"requests from this address. Retry in {locked_out_s} seconds."},
                            status_code=429, headers={"Retry-After": str(locked_out_s)})
    form = await request.form()
    query = {key: request.query_params.getlist(key) for key in request.query_params}
    body = {key: form.getlist(key) for key in form}

    def exchange() -> tuple[int, Any, dict]:
        with database.transaction() as session:
            oauth_request = OAuthRequest("POST", str(request.url), _headers(request), query, body, session)
            return SERVER.create_token_response(oauth_request)

    result = await run_in_threadpool(exchange)
    if result[0] == 401 or (isinstance(result[1], dict) and result[1].get("error") == "invalid_grant"):
        request.app.state.context.limiter.hit(*_failures(request))  # a wrong secret, or a guessed code or token
    return _as_response(result)


def _headers(request: Request) -> dict[str, str]:
    """Header names as Authlib looks them up ("Authorization"); Starlette gives them lower-case."""
    return {name.title(): value for name, value in request.headers.items()}


def _organization_name(database, principal: Principal) -> str:
    with open_book(database, principal.org_id) as book:
        return book.organization.name


def _safe_next(next_url: str) -> str:
    """Only paths of this server: a login must never redirect elsewhere."""
    if next_url.startswith(PREFIX + "/auth?") and "//" not in next_url.split("?", 1)[0]:
        return next_url
    return ""
