"""Upflow authentication (X-Api-Key and X-Api-Secret) and its limits. The key pair is checked by the
first statement of the request's own unit of work (services/kernel/unit_of_work.py)."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fastapi import Request

from comptoir.auth.limits import AUTH_FAILURES, client_address
from comptoir.context import Context
from comptoir.domain.organizations import Principal
from comptoir.services.kernel.unit_of_work import Link
from comptoir.services.access import credentials

from .errors import UpflowError

UNAUTHORIZED = "Invalid API key or secret"


def _failures(context: Context, address: str) -> tuple[str, ...]:
    return context.settings.auth_failure_limit, AUTH_FAILURES, "upflow", address


@dataclass(frozen=True)
class UpflowCaller:
    """What an Upflow request presented: its API key and secret."""

    context: Context
    address: str
    key: str
    secret: str

    @contextmanager
    def admit(self, link: Link) -> Iterator[Principal]:
        """The organization behind the key pair, or 401; then at most `upflow_concurrent_requests_max`
        requests at once per organization (a slot held until the unit of work ends) and
        `upflow_rate_limit` calls, or 429."""
        context = self.context
        principal = credentials.verify(link, "upflow", self.key, self.secret).principal
        if principal is None:
            context.limiter.hit(*_failures(context, self.address))
            raise UpflowError(401, UNAUTHORIZED, "Unauthorized")
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


def caller(request: Request) -> UpflowCaller:
    """Who the request claims to be (header names in any case). An address that failed too often is
    429 before its credentials are even looked at; a request without a key or a secret is 401 at once."""
    context: Context = request.app.state.context
    address = client_address(request)
    locked_out_s = context.limiter.locked_out_for(*_failures(context, address))
    if locked_out_s is not None:
        raise UpflowError(429, "Too many failed authentications from this address", "Too Many Requests",
                          {"Retry-After": str(locked_out_s)})
    key = request.headers.get("x-api-key", "")
    secret = request.headers.get("x-api-secret", "")
    if not key or not secret:
        context.limiter.hit(*_failures(context, address))
        raise UpflowError(401, UNAUTHORIZED, "Unauthorized")
    return UpflowCaller(context, address, key, secret)
