"""Rate and concurrency limits of the Upflow and Quipu dialects, through the real app with small
limits (OneUp's per-key budget is covered by tests/oneup/test_access.py), and `rate_limits=off`.

Budgets are fixed windows that open at a key's first call, so a window cannot close in the middle
of one of these tests however long the clock has run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient

from comptoir.app import create_app
from comptoir.auth.limits import RateLimiter
from comptoir.concurrency import off_the_loop
from comptoir.services.access import credentials

from ..conftest import make_context
from ..helpers import OneUpClient
from .test_dialect_credentials import quipu_token

UPFLOW = "/upflow/v1/users"


@pytest.fixture
def limited(database_url, tmp_path, context):
    """A TestClient over a second app on the same (already migrated) database, with the given settings."""
    contexts = []

    @contextmanager
    def open_client(**settings) -> Iterator[TestClient]:
        ctx = make_context(database_url, tmp_path, **settings)
        contexts.append(ctx)
        with TestClient(create_app(context=ctx)) as client:
            client.app_context = ctx
            yield client

    yield open_client
    for ctx in contexts:
        ctx.database.dispose()


def issue(context, org_id: int, kind: str) -> dict:
    with context.database.transaction() as session:
        return credentials.issue(session, org_id, kind)


def upflow_headers(key: str, secret: str) -> dict:
    return {"X-Api-Key": key, "X-Api-Secret": secret}


def assert_upflow_429(response, message_start: str) -> None:
    assert response.status_code == 429, (response.status_code, response.text)
    body = response.json()
    assert body["statusCode"] == 429 and body["error"] == "Too Many Requests"
    assert body["message"].startswith(message_start), body
    assert int(response.headers["Retry-After"]) >= 1


# -- Upflow: budget per organization ---------------------------------------------------------------

def test_upflow_budget_is_shared_by_every_key_of_the_organization(limited, context, org, other_org):
    second = issue(context, org.id, "upflow")
    first_key = upflow_headers(org.upflow["api_key"], org.upflow["api_secret"])
    second_key = upflow_headers(second["identifier"], second["secret"])
    with limited(rate_limits="on", upflow_rate_limit="4/minute") as client:
        for headers in (first_key, second_key, first_key, second_key):
            assert client.get(UPFLOW, headers=headers).status_code == 200
        for headers in (first_key, second_key):
            assert_upflow_429(client.get(UPFLOW, headers=headers), "Rate limit exceeded")
        # another organization has its own budget
        other = upflow_headers(other_org.upflow["api_key"], other_org.upflow["api_secret"])
        for _ in range(4):
            assert client.get(UPFLOW, headers=other).status_code == 200
        assert_upflow_429(client.get(UPFLOW, headers=other), "Rate limit exceeded")
        # a wrong secret is still a 401, and spends nothing
        assert client.get(UPFLOW, headers={**first_key, "X-Api-Secret": "wrong"}).status_code == 401


# -- Upflow: requests in flight per organization ---------------------------------------------------

class HoldingLimiter(RateLimiter):
    """The real limiter; while `hold(n)` is on, the next n admitted requests wait, holding their
    slot, until `release()`. Nothing else of the request path changes."""

    def __init__(self, settings) -> None:
        super().__init__(settings)
        self._lock = threading.Lock()
        self._to_hold = 0
        self._gate = threading.Event()
        self.held = threading.Semaphore(0)

    def hold(self, count: int) -> None:
        self._gate.clear()
        self._to_hold = count

    def release(self) -> None:
        self._gate.set()

    @contextmanager
    def in_flight(self, key: str, maximum: int) -> Iterator[bool]:
        with super().in_flight(key, maximum) as admitted:
            with self._lock:
                wait = admitted and self._to_hold > 0
                if wait:
                    self._to_hold -= 1
            if wait:  # as a request that takes long would, without holding up the event loop
                self.held.release()
                assert off_the_loop(self._gate.wait, 20), "the test never released the held requests"
            yield admitted


@pytest.fixture
def holding(database_url, tmp_path, context):
    """A TestClient whose app's limiter can hold requests open."""
    clients = []

    @contextmanager
    def open_client(**settings) -> Iterator[tuple[TestClient, HoldingLimiter]]:
        ctx = make_context(database_url, tmp_path, **settings)
        ctx.limiter = HoldingLimiter(ctx.settings)
        clients.append(ctx)
        try:
            with TestClient(create_app(context=ctx)) as client:
                yield client, ctx.limiter
        finally:
            ctx.limiter.release()

    yield open_client
    for ctx in clients:
        ctx.database.dispose()


def in_background(client: TestClient, headers: dict, count: int) -> tuple[list[threading.Thread], list[int]]:
    statuses: list[int] = []

    def call() -> None:
        statuses.append(client.get(UPFLOW, headers=headers).status_code)

    threads = [threading.Thread(target=call) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads, statuses


def test_upflow_admits_at_most_n_requests_in_flight_per_organization(holding, context, org, other_org):
    second = issue(context, org.id, "upflow")
    first_key = upflow_headers(org.upflow["api_key"], org.upflow["api_secret"])
    second_key = upflow_headers(second["identifier"], second["secret"])
    with holding(rate_limits="on", upflow_concurrent_requests_max=2) as (client, limiter):
        limiter.hold(2)
        threads, statuses = in_background(client, first_key, 2)
        for _ in range(2):
            assert limiter.held.acquire(timeout=10), "the two requests never reached the limiter"
        # two of the organization's requests are in flight: a third is refused, whichever key it uses
        assert_upflow_429(client.get(UPFLOW, headers=first_key), "Too many concurrent requests")
        assert_upflow_429(client.get(UPFLOW, headers=second_key), "Too many concurrent requests")
        # another organization is not held up
        other = upflow_headers(other_org.upflow["api_key"], other_org.upflow["api_secret"])
        assert client.get(UPFLOW, headers=other).status_code == 200
        limiter.release()
        for thread in threads:
            thread.join(timeout=20)
        assert statuses == [200, 200]
        # the slots were given back
        for _ in range(3):
            assert client.get(UPFLOW, headers=second_key).status_code == 200


def test_upflow_slot_is_given_back_by_a_refused_or_failed_request(limited, org):
    key = upflow_headers(org.upflow["api_key"], org.upflow["api_secret"])
    with limited(rate_limits="on", upflow_concurrent_requests_max=1) as client:
        for _ in range(3):
            assert client.get("/upflow/v1/no-such-path", headers=key).status_code == 404
            assert client.get(UPFLOW, headers=key).status_code == 200
        # occupied from outside the HTTP path, the only slot makes the call a 429; freed, it is a 200
        limiter = client.app_context.limiter
        with limiter.in_flight(f"upflow:{org.id}", 1) as admitted:
            assert admitted
            assert_upflow_429(client.get(UPFLOW, headers=key), "Too many concurrent requests")
        assert client.get(UPFLOW, headers=key).status_code == 200


# -- Quipu: budget per credential pair, RateLimit headers ------------------------------------------

def quipu_get(client, token: str):
    return client.get("/quipu/users", headers={"Authorization": f"Bearer {token}"})


def assert_quipu_429(response, limit: int, window_s: int) -> None:
    assert response.status_code == 429, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/vnd.quipu.v1+json")  # specs/quipu.md §2
    error = response.json()["errors"][0]
    assert error["status"] == "429"
    assert error["detail"] == f"Rate limit exceeded. Maximum {limit} requests per {window_s} seconds."
    assert response.headers["RateLimit-Limit"] == str(limit)
    assert response.headers["RateLimit-Remaining"] == "0"
    assert 0 <= int(response.headers["RateLimit-Reset"]) <= window_s
    assert 1 <= int(response.headers["Retry-After"]) <= window_s


def test_quipu_announces_its_budget_and_refuses_once_spent(limited, org):
    with limited(rate_limits="on", quipu_rate_limit="3/10 seconds") as client:
        token = quipu_token(client, org)
        for remaining in (2, 1, 0):
            response = quipu_get(client, token)
            assert response.status_code == 200, response.text
            assert response.headers["RateLimit-Limit"] == "3"
            assert response.headers["RateLimit-Remaining"] == str(remaining)
            assert 0 <= int(response.headers["RateLimit-Reset"]) <= 10
        for _ in range(2):
            assert_quipu_429(quipu_get(client, token), 3, 10)
        # errors after authentication count and carry the headers too
        forbidden = client.get("/quipu/someone-else/users", headers={"Authorization": f"Bearer {token}"})
        assert_quipu_429(forbidden, 3, 10)


def test_quipu_budget_comes_back_after_retry_after(limited, org):
    with limited(rate_limits="on", quipu_rate_limit="2/2 seconds") as client:
        token = quipu_token(client, org)
        assert quipu_get(client, token).status_code == 200
        assert quipu_get(client, token).status_code == 200
        refused = quipu_get(client, token)
        assert_quipu_429(refused, 2, 2)
        time.sleep(int(refused.headers["Retry-After"]) + 0.2)
        again = quipu_get(client, token)
        assert again.status_code == 200, again.text
        assert again.headers["RateLimit-Remaining"] == "1"


def test_quipu_budget_is_per_credential_pair_not_per_token(limited, context, org, other_org):
    second = issue(context, org.id, "quipu")
    with limited(rate_limits="on", quipu_rate_limit="3/10 seconds") as client:
        token_a, token_b = quipu_token(client, org), quipu_token(client, org)  # one pair, two tokens
        assert quipu_get(client, token_a).status_code == 200
        assert quipu_get(client, token_b).status_code == 200
        assert quipu_get(client, token_a).headers["RateLimit-Remaining"] == "0"
        assert_quipu_429(quipu_get(client, token_b), 3, 10)
        # a second pair of the same organization, and another organization's, have budgets of their own
        response = client.post("/quipu/oauth/token", auth=(second["identifier"], second["secret"]),
                               data={"grant_type": "client_credentials", "scope": "ecommerce"})
        assert response.status_code == 200, response.text
        token_c = response.json()["access_token"]
        token_d = quipu_token(client, other_org)
        for token in (token_c, token_d):
            for remaining in (2, 1, 0):
                response = quipu_get(client, token)
                assert response.status_code == 200, response.text
                assert response.headers["RateLimit-Remaining"] == str(remaining)
            assert_quipu_429(quipu_get(client, token), 3, 10)


# -- rate_limits=off ---------------------------------------------------------------------------------

def test_rate_limits_off_disables_every_limit(holding, org):
    upflow = upflow_headers(org.upflow["api_key"], org.upflow["api_secret"])
    with holding(rate_limits="off", quipu_rate_limit="1/10 seconds", upflow_rate_limit="1/minute",
                 oneup_rate_limit="1/15 minutes", upflow_concurrent_requests_max=1) as (client, limiter):
        token = quipu_token(client, org)
        oneup = OneUpClient(client, org)
        for _ in range(4):
            assert quipu_get(client, token).status_code == 200
            assert client.get(UPFLOW, headers=upflow).status_code == 200
            assert oneup.get("/customers").status_code == 200
        # two requests held in flight, over a maximum of one: a third still gets through
        limiter.hold(2)
        threads, statuses = in_background(client, upflow, 2)
        for _ in range(2):
            assert limiter.held.acquire(timeout=10)
        assert client.get(UPFLOW, headers=upflow).status_code == 200
        limiter.release()
        for thread in threads:
            thread.join(timeout=20)
        assert statuses == [200, 200]
