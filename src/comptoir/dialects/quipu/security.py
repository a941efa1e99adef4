"""Who is calling: a Bearer token from POST /oauth/token, then 5 calls per 5 seconds per credential
pair, with RateLimit headers on every answer and Retry-After on 429; on /{owner_slug}/... paths the
slug must be the token's own account."""

from __future__ import annotations

import math
import time
from typing import Any

from fastapi import Depends, Request

from comptoir.context import Context
from comptoir.services import identity
from comptoir.services.credentials import Principal
from comptoir.services.organizations import organization_slug

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


def authenticated(request: Request) -> Principal:
    context = context_of(request)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    principal = identity.check_bearer(context.database, "quipu", token.strip()).principal \
        if scheme.lower() == "bearer" and token.strip() else None
    if principal is None:
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
