"""OneUp authentication (HTTP Basic with the API email and key, or an OAuth2 Bearer token) and its
rate limit. The credential is checked by the first statement of the request's own unit of work
(services/kernel/unit_of_work.py): `caller(request)` says who the request claims to be, its `admit`
checks it there."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fastapi import Request

from comptoir.auth.limits import AUTH_FAILURES, client_address
from comptoir.context import Context
from comptoir.domain.organizations import Principal
from comptoir.services.kernel.unit_of_work import Link
from comptoir.services.access import credentials, identity
from comptoir.wire import basic_credentials

from .errors import OneUpError

TOKEN_NOT_ACTIVE = "Unauthorized: the provided token is not active"
BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="OneUp API"'}
BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="OneUp API"'}


def context_of(request: Request) -> Context:
    return request.app.state.context


@dataclass(frozen=True)
class OneUpCaller:
    """What a OneUp request presented: Basic API email and key, or a Bearer token."""

    context: Context
    address: str
    basic: tuple[str, str] | None
    bearer: str | None

    def _failed(self, message: str | None, headers: dict[str, str]) -> OneUpError:
        self.context.limiter.hit(*_failures(self.context, self.address))
        return OneUpError(1, message=message, headers=headers)

    @contextmanager
    def admit(self, link: Link) -> Iterator[Principal]:
        """The caller, or 401 code 1; then one call counted against the key's budget, or 429 code 4."""
        if self.bearer is not None:
            principal = identity.verify_bearer(link, "oneup", self.bearer).principal
            if principal is None:
                raise self._failed(TOKEN_NOT_ACTIVE, BEARER_CHALLENGE)
        else:
            principal = credentials.verify(link, "oneup", *self.basic).principal
            if principal is None:
                raise self._failed(None, BASIC_CHALLENGE)
        _count_call(self.context, principal)
        yield principal


def _failures(context: Context, address: str) -> tuple[str, ...]:
    return context.settings.auth_failure_limit, AUTH_FAILURES, "oneup", address


def caller(request: Request) -> OneUpCaller:
    """Who the request claims to be. An address that failed too often is 429 code 4 before its
    credentials are even looked at; a request with no credentials at all is 401 code 1 at once."""
    context = context_of(request)
    address = client_address(request)
    locked_out_s = context.limiter.locked_out_for(*_failures(context, address))
    if locked_out_s is not None:
        raise OneUpError(4, reason=f"Too many failed authentications from this address. Retry in {locked_out_s} "
                                   "seconds.", headers={"Retry-After": str(locked_out_s)})
    authorization = request.headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer":
        return OneUpCaller(context, address, None, value.strip())
    basic = basic_credentials(authorization) if scheme.lower() == "basic" else None
    if basic is None:
        context.limiter.hit(*_failures(context, address))
        raise OneUpError(1, headers=BASIC_CHALLENGE)
    return OneUpCaller(context, address, basic, None)


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
