"""OneConnect authentication: partner client credentials exchanged for a signed JWT at the token
endpoint, then the JWT as a Bearer token and an integration's secret in x-oneconnect-api-key."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from comptoir.auth.limits import AUTH_FAILURES, client_address
from comptoir.context import Context
from comptoir.domain.organizations import Principal
from comptoir.services.kernel.unit_of_work import Link
from comptoir.services.access import credentials, signing
from comptoir.wire import basic_credentials

from .errors import Problem

TOKEN_LIFETIME_S = 3600
AUDIENCE = "oneconnect"
SECRET_HEADERS = ("x-oneconnect-api-key", "x-one-connect-api-key")  # the docs spell it both ways
SMB_CLOSED_REASON = "SMB Closed"  # the revocation reason the seed names


def public_base(request: Request) -> str:
    """The public URL of this server as its OneConnect partners know it: the base of their tokens'
    `iss` and the `source` of the webhooks their requests cause (the same, whatever process sends them)."""
    return request.app.state.context.settings.public_url.rstrip("/")


def _failures(request: Request) -> tuple[str, ...]:
    """The key of this address's failed authentications (settings.auth_failure_limit)."""
    return (request.app.state.context.settings.auth_failure_limit, AUTH_FAILURES, "oneconnect",
            client_address(request))


def _failed(request: Request, problem: Problem) -> Problem:
    request.app.state.context.limiter.hit(*_failures(request))
    return problem


@dataclass(frozen=True)
class Admitted:
    """What the unit of work learned of a OneConnect caller: the partner behind the JWT and the
    integration of the path (revoked, with its reason, or not)."""

    partner_client_id: str
    integration_id: str
    revoked_reason: str | None


class OneConnectCaller:
    """What a OneConnect request presented: a Bearer JWT from the token endpoint, and the secret of the
    integration its path names (x-oneconnect-api-key). One per request: `admitted` is filled in when
    the unit of work checks them."""

    def __init__(self, request: Request, token: str, integration_id: str, secret: str, *, active_only: bool) -> None:
        self.request, self.token, self.integration_id, self.secret = request, token, integration_id, secret
        self.active_only = active_only
        self.admitted: Admitted | None = None

    @contextmanager
    def admit(self, link: Link) -> Iterator[Principal]:
        """The JWT (its signature, expiry and audience; its partner not revoked), then the integration:
        it must be the partner's organization's (404 SMB_NOTFOUND), its secret right (401), and
        active unless only its status is read (401 SMB_CLOSED with the reason)."""
        claims = signing.verify(link, self.token)
        if not claims or claims.get("aud") != AUDIENCE:
            raise _failed(self.request, Problem(401, "The access token is missing, invalid or expired."))
        found = credentials.states(link, [("oneconnect", str(claims.get("sub", ""))),
                                             ("oneconnect_integration", self.integration_id)])
        partner = found.get("oneconnect")
        if partner is None or partner.revoked_at is not None:
            raise _failed(self.request, Problem(401, "The partner credentials behind this token are revoked."))
        integration = found.get("oneconnect_integration")
        if integration is None or integration.org_id != partner.org_id:  # nothing of this partner's to revoke
            raise Problem(400, f"Your company could not be found (integration {self.integration_id}).",
                          "SMB_NOTFOUND")
        if not credentials.secret_matches(self.secret, integration):
            raise _failed(self.request, Problem(401, "The integration secret is wrong."))
        revoked_reason = (integration.revocation_reason or "revoked") if integration.revoked_at else None
        if revoked_reason is None and integration.organization.closed_at is not None:
            raise CompanyClosed(integration.org_id, self.integration_id)
        if revoked_reason is not None and self.active_only:
            raise Problem(401, f"The integration is revoked: {revoked_reason}", "SMB_CLOSED", reason=revoked_reason)
        self.admitted = Admitted(str(claims["sub"]), self.integration_id, revoked_reason)
        yield Principal(partner.org_id, integration.id, integration.employee_id, partner.organization)


class CompanyClosed(Problem):
    """The integration's organization is closed: 400 SMB_CLOSED, and the integration revoked with the
    reason "SMB Closed" (seeds/oneconnect-v1-using-the-api.txt, "Business error codes"), so that the
    next calls are 401 with it. Raised inside the unit of work, whose transaction is then rolled back:
    the revocation is written apart, by the dialect's handler (`revoke_closed`)."""

    def __init__(self, org_id: int, integration_id: str) -> None:
        super().__init__(400, "The company has been closed on the accounting tool side; the integration is "
                              "revoked.", "SMB_CLOSED")
        self.org_id, self.integration_id = org_id, integration_id


async def revoke_closed(request: Request, closed: CompanyClosed) -> None:
    """The integration of a closed company revoked, in a transaction of its own."""
    await run_in_threadpool(credentials.revoke, request.app.state.context.database, closed.org_id,
                            "oneconnect_integration", closed.integration_id, SMB_CLOSED_REASON,
                            source=public_base(request))


def caller(request: Request, integration_id: str, *, active_only: bool = True) -> OneConnectCaller:
    """Who the request claims to be. An address that failed too often is 429 before its credentials
    are even looked at; a request without a Bearer token or without the integration's secret is 401."""
    locked_out_s = request.app.state.context.limiter.locked_out_for(*_failures(request))
    if locked_out_s is not None:
        raise Problem(429, f"Too many failed authentications from this address. Retry in {locked_out_s} seconds.",
                      headers={"Retry-After": str(locked_out_s)})
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _failed(request, Problem(401, "The access token is missing, invalid or expired."))
    secret = next((request.headers[name] for name in SECRET_HEADERS if name in request.headers), "")
    if not secret:
        raise Problem(401, "The integration secret is missing: send it in the x-oneconnect-api-key header.")
    return OneConnectCaller(request, token.strip(), integration_id, secret, active_only=active_only)


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
    claims = {"iss": public_base(request) + "/oneconnect", "sub": client_id, "aud": AUDIENCE,
              "scope": form.get("scope") or "documents"}
    access_token = await run_in_threadpool(signing.sign, context.database, claims, TOKEN_LIFETIME_S)
    return JSONResponse({"access_token": access_token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME_S},
                        headers={"Cache-Control": "no-store"})
