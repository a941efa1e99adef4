"""OneUp authentication (HTTP Basic with the API email and key) and its rate limit."""

from __future__ import annotations

import time

from fastapi import Request

from comptoir.auth.limits import AUTH_FAILURES, client_address
from comptoir.context import Context
from comptoir.services.access.credentials import Principal, authenticate
from comptoir.services.access.identity import check_bearer
from comptoir.wire import basic_credentials

from .errors import OneUpError

TOKEN_NOT_ACTIVE = "Unauthorized: the provided token is not active"


def context_of(request: Request) -> Context:
    return request.app.state.context


def authenticated(request: Request) -> Principal:
    """The caller, or 401 code 1; then one call counted against the key's budget, or 429 code 4. An
    address that failed too often is 429 code 4 before its credentials are even looked at."""
    context = context_of(request)
    failures = (context.settings.auth_failure_limit, AUTH_FAILURES, "oneup", client_address(request))
    locked_out_s = context.limiter.locked_out_for(*failures)
    if locked_out_s is not None:
        raise OneUpError(4, reason=f"Too many failed authentications from this address. Retry in {locked_out_s} "
                                   "seconds.", headers={"Retry-After": str(locked_out_s)})
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    principal = None
    if scheme.lower() == "basic":
        principal = _basic(context, request.headers.get("authorization", ""))
    elif scheme.lower() == "bearer":
        principal = check_bearer(context.database, "oneup", value.strip()).principal
        if principal is None:
            context.limiter.hit(*failures)
            raise OneUpError(1, message=TOKEN_NOT_ACTIVE, headers={"WWW-Authenticate": 'Bearer realm="OneUp API"'})
    if principal is None:
        context.limiter.hit(*failures)
        raise OneUpError(1, headers={"WWW-Authenticate": 'Basic realm="OneUp API"'})
    _count_call(context, principal)
    return principal


def _basic(context: Context, authorization: str) -> Principal | None:
    credentials = basic_credentials(authorization)
    return authenticate(context.database, "oneup", *credentials) if credentials else None


def _budget_key(principal: Principal) -> str:
    """API keys are counted per key; OAuth tokens per user, whichever token they use."""
    if principal.credential_id is not None:
        return f"key:{principal.credential_id}"
    return f"user:{principal.org_id}:{principal.employee_id}"


def _count_call(context: Context, principal: Principal) -> None:
    rule = context.settings.oneup_rate_limit
    verdict = context.limiter.hit(rule, "oneup", _budget_key(principal))
    if not verdict.allowed:
        retry_after_s = max(1, int(verdict.reset_at_s - time.time()))
        raise OneUpError(4, reason=f"This API key (or OAuth user) made more than {rule.replace('/', ' calls per ')}. "
                                   f"Retry in {retry_after_s} seconds.",
                         headers={"Retry-After": str(retry_after_s)})
