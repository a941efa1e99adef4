"""OneConnect authentication: partner client credentials exchanged for a signed JWT at the token
endpoint, then the JWT as a Bearer token and an integration's secret in x-oneconnect-api-key."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from comptoir.auth.limits import AUTH_FAILURES, client_address
from comptoir.context import Context
from comptoir.services.access import credentials, signing
from comptoir.services.access.credentials import Principal
from comptoir.wire import basic_credentials

from .errors import Problem

TOKEN_LIFETIME_S = 3600
AUDIENCE = "oneconnect"
SECRET_HEADERS = ("x-oneconnect-api-key", "x-one-connect-api-key")  # the docs spell it both ways


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
