"""Who is calling: a Bearer token from POST /oauth/token, then 5 calls per 5 seconds per credential
pair, with RateLimit headers on every answer and Retry-After on 429; on /{owner_slug}/... paths the
slug must be the token's own account. Failed authentications (a missing, unknown or expired token here,
a wrong app secret at the token endpoint) are counted per client address: once the budget
(settings.auth_failure_limit) is spent, every attempt from that address is 429 until the window ends."""

from __future__ import annotations

import math
import time
from typing import Any

from fastapi import Depends, Request

from comptoir.auth.limits import AUTH_FAILURES, client_address
from comptoir.context import Context
from comptoir.services.access import identity
from comptoir.services.access.credentials import Principal
from comptoir.services.tenancy.organizations import organization_slug

from .errors import FORBIDDEN, NOT_AUTHORIZED, QuipuError


def context_of(request: Request) -> Context:
    return request.app.state.context


def _rate_headers(verdict: Any) -> dict[str, str]:
    reset_s = max(1, math.ceil(verdict.reset_at_s - time.time()))  # never "retry in 0 s"
    return {"RateLimit-Limit": str(verdict.limit), "RateLimit-Remaining": str(max(0, verdict.remaining)),
            "RateLimit-Reset": str(reset_s)}


def rate_headers(request: Request) -> dict[str, str]:
    """The RateLimit headers of this request's answer (none before authentication)."""
    return getattr(request.state, "rate_headers", {})


def failures(request: Request) -> tuple[str, ...]:
    """The key of this address's failed authentications, token endpoint and API alike."""
    return (context_of(request).settings.auth_failure_limit, AUTH_FAILURES, "quipu", client_address(request))


def locked_out_for(request: Request) -> int | None:
    """Seconds this address must wait once it failed too often, else None."""
    return context_of(request).limiter.locked_out_for(*failures(request))


def failed(request: Request) -> None:
    """Count one failed authentication from this address."""
    context_of(request).limiter.hit(*failures(request))


def authenticated(request: Request) -> Principal:
    context = context_of(request)
    locked_out_s = locked_out_for(request)
    if locked_out_s is not None:  # before the token is even looked at: guessing learns nothing
        raise QuipuError(429, f"Too many failed authentications from this address. Retry in {locked_out_s} "
                              "seconds.", headers={"Retry-After": str(locked_out_s)})
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    principal = identity.check_bearer(context.database, "quipu", token.strip()).principal \
        if scheme.lower() == "bearer" and token.strip() else None
    if principal is None:
        failed(request)
        raise QuipuError(401, NOT_AUTHORIZED)
    verdict = context.limiter.hit(context.settings.quipu_rate_limit, "quipu", str(principal.credential_id))
    headers = _rate_headers(verdict)
    if not verdict.allowed:
        limit = context.settings.quipu_rate_limit
        raise QuipuError(429, f"Rate limit exceeded. Maximum {limit.replace('/', ' requests per ')}.",
                         headers={**headers, "Retry-After": headers["RateLimit-Reset"]})
    request.state.rate_headers = headers
    return principal


def owner(request: Request, principal: Principal = Depends(authenticated)) -> Principal:
    """On /{owner_slug}/... paths, the slug must be the token's own organization."""
    slug = request.path_params.get("owner_slug")
    if slug is not None and slug != organization_slug(context_of(request).database, principal.org_id):
        raise QuipuError(403, FORBIDDEN)
    return principal
