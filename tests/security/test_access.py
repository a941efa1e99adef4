"""Access: guessing credentials meets the limiter, OAuth2 abuse beyond tests/auth/test_oauth_flow.py,
and secrets that never show in a log record, a response, or the database.

Brute force runs with limits on, in an app of its own over the same database (tests/auth/test_limits.py
does the same): failed authentications are counted per client address and dialect
(COMPTOIR_AUTH_FAILURE_LIMIT); once the budget is spent every attempt from that address is 429, the
right credential included, until the window ends; another address is not held up."""

from __future__ import annotations

import base64
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from comptoir.app import create_app
from comptoir.services.access import credentials, signing
from comptoir.services.access.identity import register_client
from comptoir.storage.tables import AccessToken, AuthorizationCode, Base

from ..auth.test_oauth_flow import REDIRECT, TOKEN, authorize, exchange, s256, sign_in
from ..conftest import make_context
from .conftest import refused

FAILURES = 5
HERE, THERE = ("203.0.113.7", 50000), ("198.51.100.9", 50000)


@pytest.fixture
def limited_app(database_url, tmp_path, context):
    """An app with every limit on and a budget of FAILURES failed authentications a minute."""
    contexts = []

    @contextmanager
    def build(**settings) -> Iterator[Any]:
        ctx = make_context(database_url, tmp_path, **{"rate_limits": "on",
                                                      "auth_failure_limit": f"{FAILURES}/minute", **settings})
        contexts.append(ctx)
        yield create_app(context=ctx)

    yield build
    for ctx in contexts:
        ctx.database.dispose()


def jwt_of(client, org) -> str:
    response = client.post("/oneconnect/oauth2/token", data={"grant_type": "client_credentials",
                                                              "client_id": org.oneconnect["client_id"],
                                                              "client_secret": org.oneconnect["client_secret"]})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def oneup_basic(org, key: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{org.oneup.email}:{key}".encode()).decode()}


# (name, dialect of the error format, attempt(client, org, secret or None for the right one))
Attempt = Callable[[TestClient, Any, str | None], httpx.Response]


def _oneup(c, org, guess):
    return c.get("/oneup/v1/me", headers=oneup_basic(org, guess or org.oneup.api_key))


def _oneup_bearer(c, org, guess):
    if guess is None:
        return c.get("/oneup/v1/me", headers=oneup_basic(org, org.oneup.api_key))
    return c.get("/oneup/v1/me", headers={"Authorization": f"Bearer {guess}"})


def _upflow(c, org, guess):
    return c.get("/upflow/v1/users", headers={"X-Api-Key": org.upflow["api_key"],
                                              "X-Api-Secret": guess or org.upflow["api_secret"]})


def _oneconnect_token(c, org, guess):
    return c.post("/oneconnect/oauth2/token", data={"grant_type": "client_credentials",
                                                    "client_id": org.oneconnect["client_id"],
                                                    "client_secret": guess or org.oneconnect["client_secret"]})


def _oneconnect_integration(c, org, guess):
    if not hasattr(c, "jwt"):  # fetched at the first (right) attempt, before any failure
        c.jwt = jwt_of(c, org)
    jwt = c.jwt
    return c.get(f"/oneconnect/v1/integrations/{org.oneconnect['integration_id']}",
                 headers={"Authorization": f"Bearer {jwt}",
                          "x-oneconnect-api-key": guess or org.oneconnect["integration_secret"]})


def _oneconnect_jwt(c, org, guess):
    if guess is None:
        return _oneconnect_integration(c, org, None)
    return c.get(f"/oneconnect/v1/integrations/{org.oneconnect['integration_id']}",
                 headers={"Authorization": f"Bearer {guess}", "x-oneconnect-api-key": org.oneconnect["integration_secret"]})


def _quipu_token(c, org, guess):
    return c.post("/quipu/oauth/token", auth=(org.quipu["app_id"], guess or org.quipu["app_secret"]),
                  data={"grant_type": "client_credentials", "scope": "ecommerce"})


def _quipu_bearer(c, org, guess):
    if not hasattr(c, "quipu_token"):  # fetched at the first (right) attempt, before any failure
        response = _quipu_token(c, org, None)
        assert response.status_code == 200, response.text
        c.quipu_token = response.json()["access_token"]
    return c.get("/quipu/users", headers={"Authorization": f"Bearer {guess or c.quipu_token}"})


BRUTE: list[tuple[str, str, Attempt]] = [
    ("OneUp API key", "oneup", _oneup),
    ("OneUp bearer token", "oneup", _oneup_bearer),
    ("Upflow API secret", "upflow", _upflow),
    ("OneConnect client secret", "oauth", _oneconnect_token),
    ("OneConnect integration secret", "oneconnect", _oneconnect_integration),
    ("OneConnect JWT", "oneconnect", _oneconnect_jwt),
    ("Quipu app secret", "oauth", _quipu_token),
    ("Quipu bearer token", "quipu", _quipu_bearer),
]


@pytest.mark.parametrize("name, dialect, attempt", BRUTE, ids=lambda v: v if isinstance(v, str) else None)
def test_guessing_a_secret_meets_the_limiter(limited_app, org, name, dialect, attempt):
    with limited_app() as app, TestClient(app, client=HERE) as here, TestClient(app, client=THERE) as there:
        for _ in range(3):  # right credentials count nothing
            assert attempt(here, org, None).status_code == 200
        for _ in range(FAILURES):
            assert attempt(here, org, secrets.token_hex(32)).status_code == 401
        locked = attempt(here, org, secrets.token_hex(32))
        refused(dialect, locked, (429,))
        assert 1 <= int(locked.headers["Retry-After"]) <= 60
        # the right secret is refused too while the address is locked out: guessing learns nothing
        refused(dialect, attempt(here, org, None), (429,))
        # another address has its budget: right is 200, wrong is 401
        assert attempt(there, org, None).status_code == 200
        assert attempt(there, org, secrets.token_hex(32)).status_code == 401


def test_the_oneup_oauth_token_endpoint_and_sign_in_meet_the_limiter(limited_app, org, context):
    oauth = register_client(context.database, "Guessed App", [REDIRECT])
    with limited_app() as app, TestClient(app, client=HERE) as here, TestClient(app, client=THERE) as there:
        for _ in range(FAILURES):
            response = here.post(TOKEN, data={"grant_type": "refresh_token", "client_id": oauth.client_id,
                                              "client_secret": secrets.token_hex(32), "refresh_token": "x"})
            assert response.status_code == 401
        locked = here.post(TOKEN, data={"grant_type": "refresh_token", "client_id": oauth.client_id,
                                        "client_secret": oauth.client_secret, "refresh_token": "x"})
        refused("oauth", locked, (429,))
        assert locked.json()["error"] == "temporarily_unavailable" and int(locked.headers["Retry-After"]) >= 1
        # guessing codes with the right client secret counts too (invalid_grant)
        for _ in range(FAILURES):
            assert there.post(TOKEN, data={"grant_type": "authorization_code", "client_id": oauth.client_id,
                                           "client_secret": oauth.client_secret, "code": secrets.token_urlsafe(32),
                                           "redirect_uri": REDIRECT}).status_code == 400
        refused("oauth", there.post(TOKEN, data={"grant_type": "authorization_code", "client_id": oauth.client_id,
                                                 "client_secret": oauth.client_secret, "code": "x",
                                                 "redirect_uri": REDIRECT}), (429,))

    with limited_app() as app, TestClient(app, client=HERE) as here:
        def log_in(password: str):
            page = here.get("/oneup/oauth2/login")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            return here.post("/oneup/oauth2/login", data={"email": org.login.email, "password": password,
                                                          "csrf_token": csrf}, follow_redirects=False)

        for _ in range(FAILURES):
            assert log_in("wrong").status_code == 401
        locked = log_in(org.login.password)
        assert locked.status_code == 429 and "Too many failed sign-ins" in locked.text
        assert "comptoir_session" not in locked.headers.get("set-cookie", "") or "location" not in locked.headers


def test_the_budget_comes_back_after_its_window(limited_app, org):
    with limited_app(auth_failure_limit="3/2 seconds") as app, TestClient(app, client=HERE) as here:
        for _ in range(3):
            assert _upflow(here, org, "wrong").status_code == 401
        locked = _upflow(here, org, None)
        refused("upflow", locked, (429,))
        time.sleep(int(locked.headers["Retry-After"]) + 0.2)
        assert _upflow(here, org, None).status_code == 200


def test_with_limits_off_nothing_locks_out(client, org):
    for _ in range(3 * FAILURES):
        assert _upflow(client, org, "wrong").status_code == 401
    assert _upflow(client, org, None).status_code == 200


# -- OAuth2 abuse --------------------------------------------------------------------------------

@pytest.fixture
def oauth_client(context):
    return register_client(context.database, "Abused App", [REDIRECT])


def refresh(client, oauth, token: str, **extra):
    return client.post(TOKEN, data={"grant_type": "refresh_token", "client_id": oauth.client_id,
                                    "client_secret": oauth.client_secret, "refresh_token": token, **extra})


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_an_expired_code_is_refused(client, org, context, oauth_client):
    sign_in(client, org)
    code = authorize(client, oauth_client)["code"]
    with context.database.transaction() as session:
        session.execute(update(AuthorizationCode).where(AuthorizationCode.org_id == org.id)
                        .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    refused("oauth", exchange(client, oauth_client, code), (400,))
    assert exchange(client, oauth_client, code).json()["error"] == "invalid_grant"


def test_a_code_is_only_its_clients(client, org, context, oauth_client):
    thief = register_client(context.database, "Thief", [REDIRECT])
    sign_in(client, org)
    code = authorize(client, oauth_client)["code"]
    stolen = client.post(TOKEN, data={"grant_type": "authorization_code", "client_id": thief.client_id,
                                      "client_secret": thief.client_secret, "code": code, "redirect_uri": REDIRECT})
    assert refused("oauth", stolen, (400,))["error"] == "invalid_grant"
    assert exchange(client, oauth_client, code).status_code == 200  # the owner's exchange still works, once
    assert exchange(client, oauth_client, code).status_code == 400


def test_a_reused_code_gives_nothing_more_and_revokes_what_it_gave(client, org, context, oauth_client):
    other = register_client(context.database, "Other App", [REDIRECT])
    sign_in(client, org)
    code = authorize(client, oauth_client)["code"]
    tokens = exchange(client, oauth_client, code).json()
    refreshed = refresh(client, oauth_client, tokens["refresh_token"]).json()
    elsewhere = exchange(client, other, authorize(client, other)["code"]).json()  # another client's grant
    assert client.get("/oneup/v1/me", headers=bearer(refreshed["access_token"])).status_code == 200
    for _ in range(3):
        again = exchange(client, oauth_client, code)
        assert refused("oauth", again, (400,))["error"] == "invalid_grant"
        assert "access_token" not in again.json()
    # someone else holds the code: what it gave (and what that gave in turn) is revoked (RFC 6749 §4.1.2)
    refused("oneup", client.get("/oneup/v1/me", headers=bearer(refreshed["access_token"])), (401,))
    assert refused("oauth", refresh(client, oauth_client, refreshed["refresh_token"]), (400,))["error"] == "invalid_grant"
    # the user's grant to another client is untouched
    assert client.get("/oneup/v1/me", headers=bearer(elsewhere["access_token"])).status_code == 200


@pytest.mark.parametrize("verifier", ["missing", "the challenge itself", "another", "too short"])
def test_pkce_cannot_be_downgraded_or_replayed(client, org, oauth_client, verifier):
    sign_in(client, org)
    right = secrets.token_urlsafe(48)
    challenge = s256(right)
    code = authorize(client, oauth_client, code_challenge=challenge, code_challenge_method="S256")["code"]
    extra = {"missing": {}, "the challenge itself": {"code_verifier": challenge},
             "another": {"code_verifier": secrets.token_urlsafe(48)}, "too short": {"code_verifier": "abc"}}[verifier]
    assert refused("oauth", exchange(client, oauth_client, code, **extra), (400,))["error"] in (
        "invalid_grant", "invalid_request")
    # a refused exchange spends nothing the attacker could use; the right verifier still works once
    assert exchange(client, oauth_client, code, code_verifier=right).status_code in (200, 400)


def test_a_verifier_for_a_code_issued_without_a_challenge_is_refused(client, org, oauth_client):
    sign_in(client, org)
    code = authorize(client, oauth_client)["code"]
    refused("oauth", exchange(client, oauth_client, code, code_verifier=secrets.token_urlsafe(48)), (400,))


@pytest.mark.parametrize("redirect_uri", [REDIRECT + "/../evil", REDIRECT + "x", REDIRECT + "?next=http://evil.example",
                                          REDIRECT.upper(), REDIRECT + "#x", "http://127.0.0.1:9@evil.example/callback",
                                          "//evil.example/callback", "http://evil.example/callback", ""])
def test_a_redirect_uri_not_registered_exactly_gets_a_page_never_a_redirect(client, org, oauth_client, redirect_uri):
    sign_in(client, org)
    params = {"response_type": "code", "client_id": oauth_client.client_id, "redirect_uri": redirect_uri,
              "scope": "offline_access", "state": "s"}
    for response in (client.get("/oneup/oauth2/auth", params=params, follow_redirects=False),
                     client.post("/oneup/oauth2/auth", data={**params, "decision": "allow"}, follow_redirects=False)):
        assert response.status_code == 400, (redirect_uri, response.status_code)
        assert "location" not in response.headers


def test_the_redirect_uri_must_be_sent_again_at_exchange(client, org, oauth_client):
    sign_in(client, org)
    code = authorize(client, oauth_client)["code"]
    response = client.post(TOKEN, data={"grant_type": "authorization_code", "client_id": oauth_client.client_id,
                                        "client_secret": oauth_client.client_secret, "code": code})
    refused("oauth", response, (400,))


def test_a_consent_without_the_pages_csrf_token_issues_no_code(client, org, oauth_client):
    sign_in(client, org)
    params = {"response_type": "code", "client_id": oauth_client.client_id, "redirect_uri": REDIRECT,
              "scope": "offline_access", "state": "s"}
    for csrf in ({}, {"csrf_token": "forged"}):
        response = client.post("/oneup/oauth2/auth", data={**params, "decision": "allow", **csrf},
                               follow_redirects=False)
        assert response.status_code == 400 and "location" not in response.headers
    with TestClient(client.app) as stranger:  # no session at all
        response = stranger.post("/oneup/oauth2/auth", data={**params, "decision": "allow"}, follow_redirects=False)
        assert response.status_code == 400 and "location" not in response.headers


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x", "/\\evil.example",
                                      "/oneup/oauth2/auth?x=1//evil", "http://127.0.0.1:9/callback",
                                      "/oneup/oauth2//evil.example/auth?", "javascript:alert(1)"])
def test_the_sign_in_never_sends_the_browser_elsewhere(client, org, next_url):
    page = client.get("/oneup/oauth2/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post("/oneup/oauth2/login", data={"email": org.login.email, "password": org.login.password,
                                                        "csrf_token": csrf, "next": next_url}, follow_redirects=False)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/") and not location.startswith("//") and "\\" not in location, location
    assert not urlparse(location).netloc


def test_refresh_tokens_are_only_their_clients_and_expire(client, org, context, oauth_client):
    other = register_client(context.database, "Other", [REDIRECT])
    sign_in(client, org)
    tokens = exchange(client, oauth_client, authorize(client, oauth_client)["code"]).json()
    assert refused("oauth", refresh(client, other, tokens["refresh_token"]), (400,))["error"] == "invalid_grant"
    # an access token is not a refresh token, nor the other way round
    assert refresh(client, oauth_client, tokens["access_token"]).status_code == 400
    assert client.get("/oneup/v1/me", headers=bearer(tokens["refresh_token"])).status_code == 401
    # the bearer token goes in the header, never in the query string
    assert client.get("/oneup/v1/me", params={"access_token": tokens["access_token"]}).status_code == 401
    with context.database.transaction() as session:
        session.execute(update(AccessToken).where(AccessToken.org_id == org.id, AccessToken.kind == "oneup")
                        .values(refresh_expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert refused("oauth", refresh(client, oauth_client, tokens["refresh_token"]), (400,))["error"] == "invalid_grant"


def test_a_refresh_token_used_twice_gives_one_pair_then_revokes_it(client, org, oauth_client):
    sign_in(client, org)
    tokens = exchange(client, oauth_client, authorize(client, oauth_client)["code"]).json()
    second = refresh(client, oauth_client, tokens["refresh_token"])
    assert second.status_code == 200
    assert client.get("/oneup/v1/me", headers=bearer(tokens["access_token"])).status_code == 401  # replaced
    assert client.get("/oneup/v1/me", headers=bearer(second.json()["access_token"])).status_code == 200
    replay = refresh(client, oauth_client, tokens["refresh_token"])
    assert refused("oauth", replay, (400,))["error"] == "invalid_grant"
    # the rotated token leaked: the pair that replaced it is revoked too (OAuth 2.0 Security BCP)
    refused("oneup", client.get("/oneup/v1/me", headers=bearer(second.json()["access_token"])), (401,))
    assert refused("oauth", refresh(client, oauth_client, second.json()["refresh_token"]), (400,))["error"] == \
        "invalid_grant"
    # the user authorizes the client again, and the new grant works
    fresh = exchange(client, oauth_client, authorize(client, oauth_client)["code"]).json()
    assert client.get("/oneup/v1/me", headers=bearer(fresh["access_token"])).status_code == 200


def test_a_revoked_sign_in_stops_its_tokens_and_their_refresh(client, org, context, oauth_client):
    sign_in(client, org)
    tokens = exchange(client, oauth_client, authorize(client, oauth_client)["code"]).json()
    assert client.get("/oneup/v1/me", headers=bearer(tokens["access_token"])).status_code == 200
    credentials.revoke(context.database, org.id, "web", org.login.email, "Left the company")
    refused("oneup", client.get("/oneup/v1/me", headers=bearer(tokens["access_token"])), (401,))
    assert refresh(client, oauth_client, tokens["refresh_token"]).status_code in (400, 401)


def test_expired_and_revoked_tokens_of_the_other_dialects(client, org, context):
    # Quipu: an expired token, then a revoked app
    quipu = client.post("/quipu/oauth/token", auth=(org.quipu["app_id"], org.quipu["app_secret"]),
                        data={"grant_type": "client_credentials"}).json()["access_token"]
    assert client.get("/quipu/users", headers=bearer(quipu)).status_code == 200
    with context.database.transaction() as session:
        session.execute(update(AccessToken).where(AccessToken.org_id == org.id, AccessToken.kind == "quipu")
                        .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    refused("quipu", client.get("/quipu/users", headers=bearer(quipu)), (401,))
    # OneConnect: a JWT signed by the server but expired, one for another audience, one signed by a stranger
    integration = f"/oneconnect/v1/integrations/{org.oneconnect['integration_id']}"
    secret = {"x-oneconnect-api-key": org.oneconnect["integration_secret"]}
    claims = {"iss": "x", "sub": org.oneconnect["client_id"], "aud": "oneconnect", "scope": "documents"}
    expired = signing.sign(context.database, claims, -10)
    other_audience = signing.sign(context.database, {**claims, "aud": "someone-else"}, 3600)
    header, payload, _ = signing.sign(context.database, claims, 3600).split(".")
    forged = f"{header}.{payload}.{base64.urlsafe_b64encode(secrets.token_bytes(256)).decode().rstrip('=')}"
    unsigned = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').decode().rstrip("=") + f".{payload}."
    for token in (expired, other_audience, forged, unsigned):
        refused("oneconnect", client.get(integration, headers={**bearer(token), **secret}), (401,))


# -- secrets never in logs, responses or the database --------------------------------------------

class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(("httpx", "httpcore", "hpack")):
            return  # the test's own HTTP client, not the server
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.lines.append(f"{record.name}: {text}")


@contextmanager
def every_log(handler: Records, logger_names=("", "uvicorn", "uvicorn.access", "uvicorn.error", "sqlalchemy.engine",
                                              "authlib", "comptoir")) -> Iterator[None]:
    """Every record of every logger (SQL statements with their parameters included) goes to the handler."""
    loggers = [logging.getLogger(name) for name in logger_names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.removeHandler(handler)
            logger.setLevel(level)


@contextmanager
def served_with_access_log(app) -> Iterator[str]:
    """The app on a real uvicorn with its access log on."""
    import socket
    import threading

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="debug", access_log=True, lifespan="off", log_config=None))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive()
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def test_secrets_never_show_in_logs_responses_or_the_database(app, context, org, other_org):
    """Every credential kind, used rightly, wrongly and in the wrong place, over a real uvicorn with its
    access log on, with every logger at DEBUG (SQLAlchemy's statements and parameters included): no
    secret is in any log record, in any response but the one that hands it out, or in any row."""
    oauth = register_client(context.database, "Logged App", [REDIRECT])
    handler = Records()
    responses: list[tuple[str, httpx.Response]] = []
    issued: dict[str, str] = {}  # a secret handed out by a response -> the label of that response

    def call(http: httpx.Client, label: str, method: str, url: str, **kwargs) -> httpx.Response:
        response = http.request(method, url, **kwargs)
        responses.append((label, response))
        return response

    with every_log(handler), served_with_access_log(create_app(context=context)) as base, \
            httpx.Client(base_url=base, timeout=30) as http:
        for who in (org, other_org):
            basic = oneup_basic(who, who.oneup.api_key)
            up = {"X-Api-Key": who.upflow["api_key"], "X-Api-Secret": who.upflow["api_secret"]}
            call(http, "oneup", "GET", "/oneup/v1/me", headers=basic)
            call(http, "oneup customers", "POST", "/oneup/v1/customers", headers=basic,
                 json={"type": 1, "company_name": "Logged"})
            call(http, "upflow", "GET", "/upflow/v1/users", headers=up)
            quipu = call(http, "quipu token", "POST", "/quipu/oauth/token", auth=(who.quipu["app_id"], who.quipu["app_secret"]),
                         data={"grant_type": "client_credentials"}).json()["access_token"]
            issued[quipu] = "quipu token"
            call(http, "quipu", "GET", "/quipu/users", headers=bearer(quipu))
            jwt = call(http, "oneconnect token", "POST", "/oneconnect/oauth2/token",
                       data={"grant_type": "client_credentials", "client_id": who.oneconnect["client_id"],
                             "client_secret": who.oneconnect["client_secret"]}).json()["access_token"]
            issued[jwt] = "oneconnect token"
            call(http, "oneconnect", "GET", f"/oneconnect/v1/integrations/{who.oneconnect['integration_id']}",
                 headers={**bearer(jwt), "x-oneconnect-api-key": who.oneconnect["integration_secret"]})
            # wrong halves, wrong places, other dialects
            for secret in (who.oneup.api_key, who.upflow["api_secret"], who.quipu["app_secret"],
                           who.oneconnect["client_secret"], who.oneconnect["integration_secret"], who.login.password,
                           oauth.client_secret, quipu, jwt):
                # (a secret sent as an identifier, the public half, is the caller's own leak: not tried)
                call(http, "wrong", "GET", "/oneup/v1/me", headers=oneup_basic(who, secret + "x"))
                call(http, "wrong", "GET", "/oneup/v1/me", headers=bearer(secret))
                call(http, "wrong", "GET", "/upflow/v1/users", headers={"X-Api-Key": who.upflow["api_key"],
                                                                        "X-Api-Secret": secret})
                call(http, "wrong", "GET", "/quipu/users", headers=bearer(secret))
                call(http, "wrong", "POST", "/quipu/oauth/token", auth=(who.quipu["app_id"], secret + "x"),
                     data={"grant_type": "client_credentials"})
                call(http, "wrong", "POST", "/oneconnect/oauth2/token", data={
                    "grant_type": "client_credentials", "client_id": who.oneconnect["client_id"],
                    "client_secret": secret})
                call(http, "wrong", "GET", f"/oneconnect/v1/integrations/{who.oneconnect['integration_id']}",
                     headers={**bearer(jwt), "x-oneconnect-api-key": secret + "x"})
                call(http, "wrong", "POST", TOKEN, data={"grant_type": "refresh_token", "client_id": oauth.client_id,
                                                         "client_secret": secret, "refresh_token": secret})
        # the OAuth code flow, with PKCE, and a refresh
        page = call(http, "login page", "GET", "/oneup/oauth2/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        call(http, "wrong password", "POST", "/oneup/oauth2/login", data={
            "email": org.login.email, "password": org.login.password + "x", "csrf_token": csrf})
        call(http, "sign in", "POST", "/oneup/oauth2/login", data={
            "email": org.login.email, "password": org.login.password, "csrf_token": csrf})
        verifier = secrets.token_urlsafe(48)
        params = {"response_type": "code", "client_id": oauth.client_id, "redirect_uri": REDIRECT,
                  "scope": "offline_access", "state": "st", "code_challenge": s256(verifier),
                  "code_challenge_method": "S256"}
        consent = call(http, "consent page", "GET", "/oneup/oauth2/auth", params=params)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', consent.text).group(1)
        allowed = call(http, "consent", "POST", "/oneup/oauth2/auth", data={**params, "decision": "allow",
                                                                           "csrf_token": csrf})
        code = parse_qs(urlparse(allowed.headers["location"]).query)["code"][0]
        issued[code] = "consent"
        tokens = call(http, "oauth token", "POST", TOKEN, data={
            "grant_type": "authorization_code", "client_id": oauth.client_id, "client_secret": oauth.client_secret,
            "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}).json()
        issued[tokens["access_token"]] = issued[tokens["refresh_token"]] = "oauth token"
        call(http, "oauth bearer", "GET", "/oneup/v1/me", headers=bearer(tokens["access_token"]))
        renewed = call(http, "oauth refresh", "POST", TOKEN, data={
            "grant_type": "refresh_token", "client_id": oauth.client_id, "client_secret": oauth.client_secret,
            "refresh_token": tokens["refresh_token"]}).json()
        issued[renewed["access_token"]] = issued[renewed["refresh_token"]] = "oauth refresh"
        # a reused code (it revokes the grant: last)
        call(http, "oauth reuse", "POST", TOKEN, data={
            "grant_type": "authorization_code", "client_id": oauth.client_id, "client_secret": oauth.client_secret,
            "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier})

    secrets_by_name: dict[str, str] = {}
    for who in (org, other_org):
        secrets_by_name.update({
            f"{who.slug} OneUp API key": who.oneup.api_key, f"{who.slug} Upflow secret": who.upflow["api_secret"],
            f"{who.slug} Quipu app secret": who.quipu["app_secret"],
            f"{who.slug} OneConnect client secret": who.oneconnect["client_secret"],
            f"{who.slug} integration secret": who.oneconnect["integration_secret"],
            f"{who.slug} web password": who.login.password})
    secrets_by_name["OAuth client secret"] = oauth.client_secret
    for value, label in issued.items():
        secrets_by_name[f"{label} {value[:6]}"] = value

    assert len(responses) > 150 and all(r.status_code < 500 for _, r in responses)
    assert any("GET /oneup/v1/me" in line for line in handler.lines), "the access log was not captured"
    assert any(line.startswith("sqlalchemy.engine") for line in handler.lines), "SQL was not captured"
    leaks = []
    for name, value in secrets_by_name.items():
        for line in handler.lines:
            if value in line:
                leaks.append(f"{name} in the log: {line[:200]}")
        for label, response in responses:
            text = response.text + "".join(f"{k}: {v}\n" for k, v in response.headers.multi_items())
            if value in text and issued.get(value) != label:
                leaks.append(f"{name} in the answer to {label} {response.request.method} {response.request.url.path}")
    with context.database.transaction() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)):
                text = repr(tuple(row))
                leaks += [f"{name} in a row of {table.name}" for name, value in secrets_by_name.items() if value in text]
    assert not leaks, "\n".join(leaks[:20])
