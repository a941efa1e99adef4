"""OneUp's OAuth2 authorization server, on Authlib's server components.

Authorization code flow with PKCE (plain by default, S256), refresh tokens that rotate, client
secrets in the form body or in Basic auth, errors with `error`, `error_description`, `error_hint`
and `state` as the OneUp seed lists them. Authlib is synchronous: every call here runs inside one
database transaction the caller opened (`OAuthRequest.session`).
"""

from __future__ import annotations

import logging
import os
import secrets
from collections import defaultdict
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Mapping

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, OAuth2Error, OAuth2Payload, OAuth2Request
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge

from comptoir.domain.organizations import Principal
from comptoir.services.access import identity

# TLS ends at the proxy in front of Comptoir; Authlib would otherwise refuse the plain-HTTP URL it sees.
os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")

SCOPE = "offline_access"
# The database session of the request being served; Authlib's query_client has no request argument.
_session: ContextVar[Any] = ContextVar("oauth_session")
ONEUP = "oneup"
HINTS = {
    "invalid_request": "Check that every required parameter is present and sent once.",
    "invalid_client": "Check the client_id and client_secret OneUp gave you.",
    "invalid_grant": "The code or refresh token is unknown, used, expired, or was issued for another "
                     "client or redirect_uri; start the authorization again.",
    "unauthorized_client": "This client may not use this grant type.",
    "unsupported_grant_type": "Use grant_type=authorization_code or grant_type=refresh_token.",
    "unsupported_response_type": "Use response_type=code.",
    "invalid_scope": "The only scope is offline_access.",
    "access_denied": "The user denied the request.",
}


DESCRIPTIONS = {
    "invalid_grant": "The provided authorization grant or refresh token is invalid, expired or revoked.",
    "unsupported_grant_type": "The authorization grant type is not supported by the authorization server.",
    "invalid_client": "Client authentication failed.",
}


class _Payload(OAuth2Payload):
    def __init__(self, values: Mapping[str, list[str]]) -> None:
        self._values = values

    @property
    def data(self) -> dict[str, str]:
        return {key: values[-1] for key, values in self._values.items() if values}

    @property
    def datalist(self) -> defaultdict[str, list]:
        return defaultdict(list, {key: list(values) for key, values in self._values.items()})


class OAuthRequest(OAuth2Request):
    """A request as Authlib wants it, built from an already-read Starlette request."""

    def __init__(self, method: str, url: str, headers: Mapping[str, str], query: Mapping[str, list[str]],
                 form: Mapping[str, list[str]], session: Any) -> None:
        super().__init__(method=method, uri=url, headers=headers)
        merged: dict[str, list[str]] = defaultdict(list)
        for source in (query, form):
            for key, values in source.items():
                merged[key].extend(values)
        self.payload = _Payload(merged)
        self._query = {key: values[-1] for key, values in query.items() if values}
        self._form = {key: values[-1] for key, values in form.items() if values}
        self.session = session

    @property
    def args(self) -> dict[str, str]:
        return self._query

    @property
    def form(self) -> dict[str, str]:
        return self._form


@dataclass
class Client(ClientMixin):
    row: Any

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> str:
        return self.row.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        return SCOPE if scope and SCOPE in scope.split() else ""

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.row.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return identity.client_secret_matches(self.row, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_post", "client_secret_basic")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


class CodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_post", "client_secret_basic"]

    def save_authorization_code(self, code: str, request: OAuthRequest) -> None:
        data = request.payload.data
        method = data.get("code_challenge_method") or ("plain" if data.get("code_challenge") else None)
        identity.save_code(request.session, code, client_id=request.client.get_client_id(), principal=request.user,
                           redirect_uri=data.get("redirect_uri") or "", scope=data.get("scope") or "",
                           code_challenge=data.get("code_challenge"), code_challenge_method=method)

    def query_authorization_code(self, code: str, client: Client):
        row = identity.usable_code(self.request.session, code, client.get_client_id())
        return _Code(row) if row is not None else None

    def delete_authorization_code(self, authorization_code: _Code) -> None:
        identity.spend_code(authorization_code.row)

    def authenticate_user(self, authorization_code: _Code) -> Principal:
        row = authorization_code.row
        return Principal(row.org_id, row.credential_id, row.employee_id)


@dataclass
class _Code:
    row: Any

    @property
    def code_challenge(self) -> str | None:
        return self.row.code_challenge

    @property
    def code_challenge_method(self) -> str | None:
        return self.row.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope


@dataclass
class _Token:
    row: Any

    def check_client(self, client: Client) -> bool:
        return self.row.client_id == client.get_client_id()

    def get_scope(self) -> str:
        return self.row.scope

    def is_revoked(self) -> bool:
        return self.row.revoked_at is not None

    def is_expired(self) -> bool:
        return False  # usable_refresh_token already refused expired refresh tokens


class BurningCodeChallenge(CodeChallenge):
    """PKCE (RFC 7636) that spends the code when its verifier is refused, as a code presented twice is:
    whoever holds a stolen code gets one guess of the verifier, not as many as its lifetime allows.
    The token endpoint's transaction commits what an error answer did (storage: the code's row)."""

    def validate_code_verifier(self, grant, result):
        try:
            super().validate_code_verifier(grant, result)
        except OAuth2Error:
            code = grant.request.authorization_code
            if code is not None:
                identity.spend_code(code.row)
            raise


class RefreshGrant(RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_post", "client_secret_basic"]
    INCLUDE_NEW_REFRESH_TOKEN = True  # refresh tokens rotate: each one works once

    def authenticate_refresh_token(self, refresh_token: str):
        row = identity.usable_refresh_token(self.request.session, refresh_token, self.request.client.get_client_id())
        return _Token(row) if row is not None else None

    def authenticate_user(self, refresh_token: _Token) -> Principal:
        return identity.principal_of_token(refresh_token.row)

    def revoke_old_credential(self, refresh_token: _Token) -> None:
        identity.revoke_token(refresh_token.row)


class OneUpAuthorizationServer(AuthorizationServer):
    def __init__(self) -> None:
        super().__init__(scopes_supported=[SCOPE])
        self.register_grant(CodeGrant, [BurningCodeChallenge(required=False)])
        self.register_grant(RefreshGrant)
        self.register_token_generator("default", BearerTokenGenerator(
            access_token_generator=lambda *_, **__: secrets.token_hex(32),
            refresh_token_generator=lambda *_, **__: secrets.token_hex(32),
            expires_generator=lambda *_, **__: identity.ONEUP_ACCESS_TOKEN_S,
        ))

    def query_client(self, client_id: str):
        row = identity.find_client(_session.get(), client_id)
        return Client(row) if row is not None else None

    def save_token(self, token: dict, request: OAuthRequest) -> None:
        identity.save_token(request.session, ONEUP, access_token=token["access_token"],
                            refresh_token=token.get("refresh_token"), expires_in_s=token["expires_in"],
                            client_id=request.client.get_client_id(), principal=request.user,
                            scope=token.get("scope") or "", refresh_expires_in_s=identity.ONEUP_REFRESH_TOKEN_S)

    def create_oauth2_request(self, request: OAuthRequest) -> OAuthRequest:
        _session.set(request.session)
        return request

    def create_json_request(self, request: OAuthRequest) -> OAuthRequest:
        return self.create_oauth2_request(request)

    def handle_response(self, status: int, body: Any, headers: list) -> tuple[int, Any, dict]:
        return status, body, dict(headers)

    def handle_error_response(self, request: OAuthRequest, error) -> tuple[int, Any, dict]:
        """Errors carry the OneUp `error_hint` too; to the redirect URI when one is known."""
        body = dict(error.get_body())
        body.setdefault("error_description", DESCRIPTIONS.get(error.error, error.error.replace("_", " ")))
        body["error_hint"] = HINTS.get(error.error, "")
        status = 401 if error.error == "invalid_client" else error.status_code  # never tell which client ids exist
        if getattr(error, "redirect_uri", None) and error.redirect_uri:
            location = add_params_to_uri(error.redirect_uri, list(body.items()))
            return 302, "", {"Location": location}
        return status, body, {"Content-Type": "application/json", "Cache-Control": "no-store",
                                         "Pragma": "no-cache"}

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None


def denied_redirect(redirect_uri: str, state: str | None) -> str:
    params = [("error", "access_denied"), ("error_description", "the resource owner denied the request"),
              ("error_hint", HINTS["access_denied"])]
    if state is not None:
        params.append(("state", state))
    return add_params_to_uri(redirect_uri, params)


class _RedactTokens(logging.Filter):
    """Authlib logs every token it issues at DEBUG ("Issue token {...} to ..."): the tokens in such a
    record are replaced, so that a server run with DEBUG logging never writes a usable token."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple({key: ("<redacted>" if key in ("access_token", "refresh_token") else value)
                                 for key, value in arg.items()} if isinstance(arg, dict) else arg
                                for arg in record.args)
        return True


for _grant in ("authorization_code", "refresh_token"):
    logging.getLogger(f"authlib.oauth2.rfc6749.grants.{_grant}").addFilter(_RedactTokens())

SERVER = OneUpAuthorizationServer()
