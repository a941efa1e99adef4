"""Who is calling: a Bearer token from POST /oauth/token, then 5 calls per 5 seconds per credential
pair, with RateLimit headers on every answer and Retry-After on 429; on /{owner_slug}/... paths the
slug must be the token's own account. Failed authentications (a missing, unknown or expired token here,
a wrong app secret at the token endpoint) are counted per client address: once the budget
(settings.auth_failure_limit) is spent, every attempt from that address is 429 until the window ends."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from comptoir.auth.limits import AUTH_FAILURES, client_address
from comptoir.context import Context
from comptoir.domain.organizations import Principal
from comptoir.services.kernel.unit_of_work import Link
from comptoir.services.access import identity

from .errors import FORBIDDEN, MEDIA_TYPE, NOT_AUTHORIZED, QuipuError

# What a client may accept: Quipu's own media type, and the generic JSON ones.
ACCEPTABLE = {MEDIA_TYPE, "application/json", "application/vnd.api+json", "application/*", "*/*"}


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


@dataclass(frozen=True)
class QuipuCaller:
    """What a Quipu request presented: its Bearer token, and the account slug of its path (if any)."""

    request: Request
    token: str
    answers_json: bool = True  # False for a PDF download: its Accept header is not checked

    @contextmanager
    def admit(self, link: Link) -> Iterator[Principal]:
        """The account behind the token, or 401; then 5 calls per 5 seconds (RateLimit headers on every
        answer from here on, 429 past it); on /{owner_slug}/... paths the slug must be the token's own
        account (403); the Accept header must allow JSON (406)."""
        request = self.request
        context = context_of(request)
        principal = identity.verify_bearer(link, "quipu", self.token).principal
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
        slug = request.path_params.get("owner_slug")
        if slug is not None and slug != principal.organization.slug:
            raise QuipuError(403, FORBIDDEN)
        if self.answers_json:
            check_accept(request)
        yield principal


def caller(request: Request, *, answers_json: bool = True) -> QuipuCaller:
    """Who the request claims to be. An address that failed too often is 429 before the token is
    even looked at (guessing learns nothing); a request without a Bearer token is 401 at once."""
    locked_out_s = locked_out_for(request)
    if locked_out_s is not None:
        raise QuipuError(429, f"Too many failed authentications from this address. Retry in {locked_out_s} "
                              "seconds.", headers={"Retry-After": str(locked_out_s)})
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        failed(request)
        raise QuipuError(401, NOT_AUTHORIZED)
    return QuipuCaller(request, token.strip(), answers_json)


def check_accept(request: Request) -> None:
    """Quipu's clients send `Accept: application/vnd.quipu.v1+json`; a missing header and the generic
    JSON types are fine too. Only a client that accepts no JSON at all is refused."""
    accept = request.headers.get("accept", "")
    offered = {part.split(";")[0].strip().lower() for part in accept.split(",") if part.strip()}
    if offered and not any(media in ACCEPTABLE or media.endswith("+json") for media in offered):
        raise QuipuError(406, f"Not acceptable: answers are {MEDIA_TYPE}")
