"""Upflow authentication (X-Api-Key and X-Api-Secret) and its limits."""

from __future__ import annotations

import math
import time
from typing import Iterator

from fastapi import Request

from comptoir.auth.limits import AUTH_FAILURES, client_address
from comptoir.context import Context
from comptoir.services.access import credentials
from comptoir.services.access.credentials import Principal

from .errors import UpflowError


def authenticated(request: Request) -> Iterator[Principal]:
    """X-Api-Key and X-Api-Secret (header names in any case); then 600 calls a minute and at most
    10 requests at once per organization. An address that failed too often is 429 first."""
    context: Context = request.app.state.context
    failures = (context.settings.auth_failure_limit, AUTH_FAILURES, "upflow", client_address(request))
    locked_out_s = context.limiter.locked_out_for(*failures)
    if locked_out_s is not None:  # before the credentials are even looked at
        raise UpflowError(429, "Too many failed authentications from this address", "Too Many Requests",
                          {"Retry-After": str(locked_out_s)})
    key = request.headers.get("x-api-key", "")
    secret = request.headers.get("x-api-secret", "")
    principal = credentials.authenticate(context.database, "upflow", key, secret) if key and secret else None
    if principal is None:
        context.limiter.hit(*failures)
        raise UpflowError(401, "Invalid API key or secret", "Unauthorized")
    maximum = context.settings.upflow_concurrent_requests_max
    with context.limiter.in_flight(f"upflow:{principal.org_id}", maximum) as admitted:
        if not admitted:  # refused before counting: a request turned away spends no budget
            raise UpflowError(429, f"Too many concurrent requests: at most {maximum} per organization",
                              "Too Many Requests", {"Retry-After": "1"})
        budget = context.limiter.hit(context.settings.upflow_rate_limit, "upflow", str(principal.org_id))
        if not budget.allowed:
            retry_after_s = max(1, math.ceil(budget.reset_at_s - time.time()))
            raise UpflowError(429, f"Rate limit exceeded: {context.settings.upflow_rate_limit} per organization",
                              "Too Many Requests", {"Retry-After": str(retry_after_s)})
        yield principal
