"""OneUp's OAuth2 authorization code flow over HTTP, without a browser (tests/auth/test_browser.py
drives the same pages in Chromium)."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import update

from comptoir.services.access.identity import register_client
from comptoir.storage.tables import AccessToken

REDIRECT = "http://127.0.0.1:9/callback"
AUTH = "/oneup/oauth2/auth"
TOKEN = "/oneup/oauth2/token"


@pytest.fixture
def oauth_client(context):
    return register_client(context.database, "Test App", [REDIRECT])


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(client, org) -> None:
    page = client.get("/oneup/oauth2/login")
    response = client.post("/oneup/oauth2/login", data={"email": org.login.email, "password": org.login.password,
                                                        "csrf_token": _csrf(page.text), "next": ""},
                           follow_redirects=False)
    assert response.status_code == 303


def authorize(client, oauth_client, *, state="xyz", decision="allow", **extra) -> dict:
    params = {"response_type": "code", "client_id": oauth_client.client_id, "redirect_uri": REDIRECT,
              "scope": "offline_access", "state": state, **extra}
    consent = client.get(AUTH, params=params)
    assert consent.status_code == 200, consent.text
    assert "Allow" in consent.text and "Deny" in consent.text
    response = client.post(AUTH, data={**params, "decision": decision, "csrf_token": _csrf(consent.text)},
                           follow_redirects=False)
    assert response.status_code == 302
    location = urlparse(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return {key: values[0] for key, values in parse_qs(location.query).items()}


def exchange(client, oauth_client, code: str, **extra):
    return client.post(TOKEN, data={"grant_type": "authorization_code", "client_id": oauth_client.client_id,
                                    "client_secret": oauth_client.client_secret, "code": code,
                                    "redirect_uri": REDIRECT, **extra})


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def test_code_flow_with_s256_pkce_gives_a_token_that_opens_oneup(client, org, oauth_client):
    sign_in(client, org)
    verifier = secrets.token_urlsafe(48)
    result = authorize(client, oauth_client, code_challenge=s256(verifier), code_challenge_method="S256")
    assert result["state"] == "xyz"
    token = exchange(client, oauth_client, result["code"], code_verifier=verifier)
    assert token.status_code == 200, token.text
    body = token.json()
    assert body["token_type"].lower() == "bearer"
    assert body["scope"] == "offline_access"
    assert body["expires_in"] == 3600
    assert body["refresh_token"] and body["access_token"]
    me = client.get("/oneup/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["company"]["name"] == org.name


def test_pkce_without_a_method_means_plain(client, org, oauth_client):
    sign_in(client, org)
    verifier = secrets.token_urlsafe(48)
    code = authorize(client, oauth_client, code_challenge=verifier)["code"]
    assert exchange(client, oauth_client, code, code_verifier=verifier).status_code == 200


def test_pkce_mismatch_is_refused(client, org, oauth_client):
    sign_in(client, org)
    code = authorize(client, oauth_client, code_challenge=s256(secrets.token_urlsafe(48)),
                     code_challenge_method="S256")["code"]
    refused = exchange(client, oauth_client, code, code_verifier=secrets.token_urlsafe(48))
    assert refused.status_code == 400
    assert refused.json()["error"] in ("invalid_grant", "invalid_request")
    assert set(refused.json()) >= {"error", "error_description", "error_hint"}


@pytest.mark.parametrize("wrong", ["guessed", "missing"])
def test_a_refused_verifier_burns_the_code(client, org, oauth_client, wrong):
    """Issue 16 §12: one wrong (or missing) code_verifier and the code is spent, as a reused code is: the
    right verifier afterwards is refused too, so a stolen code gets one guess."""
    sign_in(client, org)
    verifier = secrets.token_urlsafe(48)
    code = authorize(client, oauth_client, code_challenge=s256(verifier), code_challenge_method="S256")["code"]
    attempt = {"code_verifier": secrets.token_urlsafe(48)} if wrong == "guessed" else {}
    assert exchange(client, oauth_client, code, **attempt).status_code == 400
    late = exchange(client, oauth_client, code, code_verifier=verifier)
    assert late.status_code == 400, late.text
    assert late.json()["error"] == "invalid_grant"


def test_a_code_works_once(client, org, oauth_client):
    sign_in(client, org)
    code = authorize(client, oauth_client)["code"]
    assert exchange(client, oauth_client, code).status_code == 200
    again = exchange(client, oauth_client, code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_redirect_uri_must_match_at_exchange(client, org, context, oauth_client):
    sign_in(client, org)
    code = authorize(client, oauth_client)["code"]
    other = exchange(client, oauth_client, code, redirect_uri="http://127.0.0.1:9/other")
    assert other.status_code == 400


def test_wrong_client_secret_is_invalid_client(client, org, oauth_client):
    sign_in(client, org)
    code = authorize(client, oauth_client)["code"]
    refused = exchange(client, oauth_client, code, client_secret="nope")
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"


def test_deny_redirects_with_access_denied_and_the_state(client, org, oauth_client):
    sign_in(client, org)
    result = authorize(client, oauth_client, decision="deny", state="s-42")
    assert result == {"error": "access_denied", "error_description": "the resource owner denied the request",
                      "error_hint": result["error_hint"], "state": "s-42"}


@pytest.mark.parametrize("params", [
    {"client_id": "unknown", "redirect_uri": REDIRECT},
    {"redirect_uri": REDIRECT},
    {"client_id": "{client}", "redirect_uri": "http://evil.example/cb"},
    {"client_id": "{client}"},
])
def test_untrusted_client_or_redirect_uri_gets_an_error_page_not_a_redirect(client, oauth_client, params):
    params = {key: value.replace("{client}", oauth_client.client_id) for key, value in params.items()}
    response = client.get(AUTH, params={"response_type": "code", "scope": "offline_access", **params},
                          follow_redirects=False)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "location" not in response.headers


def test_a_bad_response_type_is_redirected_as_an_error(client, org, oauth_client):
    sign_in(client, org)
    response = client.get(AUTH, params={"response_type": "token", "client_id": oauth_client.client_id,
                                        "redirect_uri": REDIRECT, "state": "abc"}, follow_redirects=False)
    assert response.status_code == 302
    query = parse_qs(urlparse(response.headers["location"]).query)
    assert query["error"] == ["unsupported_response_type"]
    assert query["state"] == ["abc"]
    assert query["error_hint"][0]


def test_not_signed_in_goes_to_the_login_page_first(client, oauth_client):
    response = client.get(AUTH, params={"response_type": "code", "client_id": oauth_client.client_id,
                                        "redirect_uri": REDIRECT, "scope": "offline_access"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/oneup/oauth2/login?next=")


def test_wrong_password_stays_on_the_login_page(client, org):
    page = client.get("/oneup/oauth2/login")
    response = client.post("/oneup/oauth2/login", data={"email": org.login.email, "password": "wrong",
                                                        "csrf_token": _csrf(page.text)})
    assert response.status_code == 401
    assert "Wrong email or password." in response.text


def test_refresh_tokens_rotate_and_work_once(client, org, oauth_client):
    sign_in(client, org)
    first = exchange(client, oauth_client, authorize(client, oauth_client)["code"]).json()
    refresh = {"grant_type": "refresh_token", "client_id": oauth_client.client_id,
               "client_secret": oauth_client.client_secret, "refresh_token": first["refresh_token"]}
    second = client.post(TOKEN, data=refresh)
    assert second.status_code == 200, second.text
    assert second.json()["refresh_token"] != first["refresh_token"]
    assert client.get("/oneup/v1/me", headers={"Authorization": f"Bearer {second.json()['access_token']}"}
                      ).status_code == 200
    reused = client.post(TOKEN, data=refresh)
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"


def test_an_expired_token_is_not_active(client, org, context, oauth_client):
    sign_in(client, org)
    token = exchange(client, oauth_client, authorize(client, oauth_client)["code"]).json()["access_token"]
    with context.database.transaction() as session:
        session.execute(update(AccessToken).where(AccessToken.org_id == org.id)
                        .values(expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
    response = client.get("/oneup/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["error"] == {"status": 401, "code": "1",
                                        "message": "Unauthorized: the provided token is not active"}


def test_a_token_sees_only_its_organization(client, org, other_oneup, oauth_client):
    sign_in(client, org)
    token = exchange(client, oauth_client, authorize(client, oauth_client)["code"]).json()["access_token"]
    theirs = other_oneup.ok("POST", "/projects", {"name": "Secret"})
    response = client.get(f"/oneup/v1/projects/{theirs['id']}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404


def test_revoking_the_client_stops_its_tokens(client, org, context, oauth_client):
    from comptoir.services.access.identity import revoke_client, revoke_tokens_of

    sign_in(client, org)
    token = exchange(client, oauth_client, authorize(client, oauth_client)["code"]).json()
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert client.get("/oneup/v1/me", headers=bearer).status_code == 200
    revoke_client(context.database, oauth_client.client_id)
    assert revoke_tokens_of(context.database, client_id=oauth_client.client_id) >= 1
    refused = client.get("/oneup/v1/me", headers=bearer)
    assert refused.status_code == 401
    assert refused.json()["error"]["message"] == "Unauthorized: the provided token is not active"
    refresh = client.post(TOKEN, data={"grant_type": "refresh_token", "client_id": oauth_client.client_id,
                                       "client_secret": oauth_client.client_secret,
                                       "refresh_token": token["refresh_token"]})
    assert refresh.status_code in (400, 401)


def test_the_token_endpoint_takes_the_client_secret_in_basic_auth_too(client, org, oauth_client):
    sign_in(client, org)
    code = authorize(client, oauth_client)["code"]
    response = client.post(TOKEN, data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
                           auth=(oauth_client.client_id, oauth_client.client_secret))
    assert response.status_code == 200, response.text


def test_an_unknown_client_is_401_like_a_wrong_secret(client):
    response = client.post(TOKEN, data={"grant_type": "refresh_token", "client_id": "nobody",
                                        "client_secret": "x", "refresh_token": "y"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.json()["error_description"]
