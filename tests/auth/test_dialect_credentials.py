"""Credentials of the Upflow, Quipu and OneConnect dialects, over HTTP."""

from __future__ import annotations

import base64

import httpx
from joserfc import jwk, jwt

from comptoir.services.access.credentials import revoke


def quipu_token(client, org, **kwargs) -> str:
    response = client.post("/quipu/oauth/token", auth=(org.quipu["app_id"], org.quipu["app_secret"]),
                           data={"grant_type": "client_credentials", "scope": "ecommerce"}, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def oneconnect_token(client, org) -> str:
    response = client.post("/oneconnect/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": org.oneconnect["client_id"],
        "client_secret": org.oneconnect["client_secret"]})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def integration_headers(client, org, secret_header="x-oneconnect-api-key") -> dict:
    return {"Authorization": f"Bearer {oneconnect_token(client, org)}", secret_header: org.oneconnect["integration_secret"]}


# -- Upflow ------------------------------------------------------------------------------------

def test_upflow_key_and_secret_in_any_case_open_upflow(client, org):
    for key_header, secret_header in (("X-Api-Key", "X-Api-Secret"), ("x-api-key", "x-api-secret"),
                                      ("X-API-KEY", "X-API-SECRET")):
        response = client.get("/upflow/v1/users", headers={key_header: org.upflow["api_key"],
                                                           secret_header: org.upflow["api_secret"]})
        assert response.status_code == 200, response.text
        assert "users" in response.json()


def test_upflow_refuses_missing_or_wrong_credentials(client, org):
    for headers in ({}, {"X-Api-Key": org.upflow["api_key"]},
                    {"X-Api-Key": org.upflow["api_key"], "X-Api-Secret": "wrong"}):
        response = client.get("/upflow/v1/users", headers=headers)
        assert response.status_code == 401
        assert response.json()["message"]


# -- Quipu -------------------------------------------------------------------------------------

def test_quipu_token_with_basic_auth_in_urlencoded_and_multipart_bodies(client, org):
    urlencoded = client.post("/quipu/oauth/token", auth=(org.quipu["app_id"], org.quipu["app_secret"]),
                             data={"grant_type": "client_credentials", "scope": "ecommerce"})
    multipart = client.post("/quipu/oauth/token", auth=(org.quipu["app_id"], org.quipu["app_secret"]),
                            files={"grant_type": (None, "client_credentials"), "scope": (None, "ecommerce")})
    for response in (urlencoded, multipart):
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] == 7200
        assert body["scope"] == "ecommerce"
        assert isinstance(body["created_at"], int)


def test_quipu_token_opens_both_path_shapes_of_its_own_account(client, org):
    headers = {"Authorization": f"Bearer {quipu_token(client, org)}", "Accept": "application/vnd.quipu.v1+json"}
    for path in ("/quipu/users", f"/quipu/{org.slug}/users"):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["data"][0]["type"] == "users"
        assert response.headers["RateLimit-Limit"] == "5"
        assert 0 <= int(response.headers["RateLimit-Remaining"]) <= 5
        assert 0 <= int(response.headers["RateLimit-Reset"]) <= 5


def test_quipu_token_errors_keep_doorkeepers_shape(client, org):
    wrong = client.post("/quipu/oauth/token", auth=(org.quipu["app_id"], "wrong"),
                        data={"grant_type": "client_credentials", "scope": "ecommerce"})
    assert wrong.status_code == 401
    assert wrong.json() == {"error": "invalid_client", "error_description": "Client authentication failed.",
                            "status_code": 401}
    scope = client.post("/quipu/oauth/token", auth=(org.quipu["app_id"], org.quipu["app_secret"]),
                        data={"grant_type": "client_credentials", "scope": "admin"})
    assert scope.status_code == 400
    assert scope.json()["error"] == "invalid_scope" and scope.json()["status_code"] == 401


def test_quipu_without_a_token_is_a_jsonapi_401(client):
    response = client.get("/quipu/users")
    assert response.status_code == 401
    assert response.json() == {"errors": [{"status": "401", "detail": "Not authorized", "source": {"pointer": ""}}]}


def test_quipu_owner_slug_of_another_account_is_forbidden(client, org, other_org):
    headers = {"Authorization": f"Bearer {quipu_token(client, org)}"}
    response = client.get(f"/quipu/{other_org.slug}/users", headers=headers)
    assert response.status_code == 403
    assert response.json()["errors"][0]["detail"] == "You are not authorized to access this resource"


# -- OneConnect --------------------------------------------------------------------------------

def test_oneconnect_token_is_a_jwt_verified_with_the_published_keys(client, org):
    token = oneconnect_token(client, org)
    keys = jwk.KeySet.import_key_set(client.get("/.well-known/jwks.json").json())
    decoded = jwt.decode(token, keys, algorithms=["RS256"])
    assert decoded.header["typ"] == "JWT"
    assert decoded.claims["sub"] == org.oneconnect["client_id"]
    assert decoded.claims["exp"] - decoded.claims["iat"] == 3600


def test_oneconnect_token_accepts_http_basic_too(client, org):
    basic = base64.b64encode(f"{org.oneconnect['client_id']}:{org.oneconnect['client_secret']}".encode()).decode()
    response = client.post("/oneconnect/oauth2/token", data={"grant_type": "client_credentials"},
                           headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200


def test_oneconnect_integration_status_with_either_secret_header(client, org):
    for header in ("x-oneconnect-api-key", "x-one-connect-api-key"):
        response = client.get(f"/oneconnect/v1/integrations/{org.oneconnect['integration_id']}",
                              headers=integration_headers(client, org, header))
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "active"
        assert response.json()["organization"]["name"] == org.name


def test_oneconnect_revoke_then_every_call_gets_401_with_the_reason(client, org):
    path = f"/oneconnect/v1/integrations/{org.oneconnect['integration_id']}"
    headers = integration_headers(client, org)
    revoked = client.put(path + "/revoke", headers=headers)
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked"
    again = client.put(path + "/revoke", headers=headers)
    assert again.status_code == 401
    assert again.headers["content-type"].startswith("application/problem+json")
    assert again.json()["reason"] == "Revoked by the partner"
    assert client.get(path, headers=headers).json()["status"] == "revoked"


def test_oneconnect_refuses_bad_tokens_and_secrets(client, org):
    path = f"/oneconnect/v1/integrations/{org.oneconnect['integration_id']}"
    assert client.get(path, headers={"x-oneconnect-api-key": org.oneconnect["integration_secret"]}).status_code == 401
    assert client.get(path, headers={"Authorization": "Bearer not-a-jwt",
                                     "x-oneconnect-api-key": org.oneconnect["integration_secret"]}).status_code == 401
    wrong_secret = {**integration_headers(client, org), "x-oneconnect-api-key": "wrong"}
    assert client.get(path, headers=wrong_secret).status_code == 401
    bad_client = client.post("/oneconnect/oauth2/token", data={"grant_type": "client_credentials",
                                                               "client_id": "x", "client_secret": "y"})
    assert bad_client.status_code == 401 and bad_client.json()["error"] == "invalid_client"


def test_a_revoked_partner_credential_stops_its_tokens(client, org, context):
    headers = integration_headers(client, org)
    revoke(context.database, org.id, "oneconnect", org.oneconnect["client_id"])
    response = client.get(f"/oneconnect/v1/integrations/{org.oneconnect['integration_id']}", headers=headers)
    assert response.status_code == 401


def test_oneconnect_integration_of_another_organization_is_not_found(client, org, other_org):
    headers = {"Authorization": f"Bearer {oneconnect_token(client, org)}",
               "x-oneconnect-api-key": other_org.oneconnect["integration_secret"]}
    response = client.get(f"/oneconnect/v1/integrations/{other_org.oneconnect['integration_id']}", headers=headers)
    assert response.status_code == 400 and response.json()["errorCode"] == "SMB_NOTFOUND"  # the seed's table


# -- no credential opens another dialect -------------------------------------------------------

def test_a_credential_of_one_dialect_opens_no_other(client, org):
    oneup_basic = httpx.BasicAuth(org.oneup.email, org.oneup.api_key)
    assert client.get("/oneup/v1/me", auth=oneup_basic).status_code == 200
    assert client.get("/upflow/v1/users", auth=oneup_basic).status_code == 401
    assert client.get("/quipu/users", auth=oneup_basic).status_code == 401
    quipu = {"Authorization": f"Bearer {quipu_token(client, org)}"}
    assert client.get("/oneup/v1/me", headers=quipu).status_code == 401
    oneconnect = {"Authorization": f"Bearer {oneconnect_token(client, org)}"}
    assert client.get("/oneup/v1/me", headers=oneconnect).status_code == 401
    assert client.get("/quipu/users", headers=oneconnect).status_code == 401
    upflow_as_basic = httpx.BasicAuth(org.upflow["api_key"], org.upflow["api_secret"])
    assert client.get("/oneup/v1/me", auth=upflow_as_basic).status_code == 401
    quipu_app_as_oneconnect = client.post("/oneconnect/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": org.quipu["app_id"], "client_secret": org.quipu["app_secret"]})
    assert quipu_app_as_oneconnect.status_code == 401
