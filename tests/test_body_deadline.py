"""A request body that never ends is cut off (issue 16 §11): 408 in the dialect's format, and the
connection closed, for a client that stops sending (the idle bound) and one that trickles a body
that never ends (the total bound), on the dialects' APIs and on an unauthenticated token endpoint.
Through a real `comptoir serve` (raw sockets: a test client cannot trickle), with short bounds."""

from __future__ import annotations

import base64
import json
import socket
import time

import pytest

from .serve_support import serving

IDLE_S, TOTAL_S = 1, 3


def _connect(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    connection = socket.create_connection((host, int(port)), timeout=15)
    return connection


def _answer(connection: socket.socket) -> tuple[int, dict, bytes, float]:
    """Status, headers, body of the answer, read until the server closes; and how long that took."""
    started, received = time.monotonic(), b""
    while chunk := connection.recv(65536):
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value for name, _, value in (line.partition(": ") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body, time.monotonic() - started


def _stalled(base: str, path: str, headers: dict[str, str], start: bytes) -> tuple[int, dict, bytes, float]:
    """A request that announces a longer body than it sends, then sends nothing more."""
    connection = _connect(base)
    lines = [f"POST {path} HTTP/1.1", "Host: comptoir", f"Content-Length: {len(start) + 1000}",
             *(f"{name}: {value}" for name, value in headers.items()), "", ""]
    connection.sendall("\r\n".join(lines).encode() + start)
    return _answer(connection)


@pytest.fixture
def served(database_url, org, tmp_path, client):
    token = client.post("/quipu/oauth/token", auth=(org.quipu["app_id"], org.quipu["app_secret"]),
                        data={"grant_type": "client_credentials"}).json()["access_token"]
    partner = client.post("/oneconnect/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": org.oneconnect["client_id"],
        "client_secret": org.oneconnect["client_secret"]}).json()["access_token"]
    with serving(database_url, tmp_path, workers=1, COMPTOIR_BODY_IDLE_TIMEOUT_S=str(IDLE_S),
                 COMPTOIR_BODY_TOTAL_TIMEOUT_S=str(TOTAL_S)) as (base, _):
        yield base, token, partner


def test_a_body_that_stops_coming_is_408_in_each_dialects_format(served, org):
    base, token, partner = served
    basic = base64.b64encode(f"{org.oneup.email}:{org.oneup.api_key}".encode()).decode()
    json_type = {"Content-Type": "application/json"}
    cases = {
        "/oneup/v1/customers": ({**json_type, "Authorization": f"Basic {basic}"},
                                lambda body: body["error"]["status"] == 408 and body["error"]["code"] == "5"),
        "/upflow/v1/customers": ({**json_type, "X-Api-Key": org.upflow["api_key"],
                                  "X-Api-Secret": org.upflow["api_secret"]},
                                 lambda body: body["statusCode"] == 408 and body["error"] == "Request Timeout"),
        "/quipu/contacts": ({"Content-Type": "application/vnd.api+json", "Authorization": f"Bearer {token}"},
                            lambda body: body["errors"][0]["status"] in (408, "408")),
        f"/oneconnect/v1/integrations/{org.oneconnect['integration_id']}/purchase-invoices": (
            {"Content-Type": "multipart/form-data; boundary=x", "Authorization": f"Bearer {partner}",
             "x-oneconnect-api-key": org.oneconnect["integration_secret"]},
            lambda body: body["status"] == 408 and body["title"] == "Request Timeout"),
        "/oneup/oauth2/token": ({"Content-Type": "application/x-www-form-urlencoded"}, lambda body: True),
    }
    starts = {"multipart/form-data; boundary=x": b'--x\r\nContent-Disposition: form-data; name="filename"\r\n\r\ninv',
              "application/x-www-form-urlencoded": b"grant_type=authorization_co"}
    for path, (headers, in_format) in cases.items():
        start = starts.get(headers["Content-Type"], b'{"name": "A')
        status, answer_headers, body, waited = _stalled(base, path, headers, start)
        assert status == 408, (path, status, body)
        assert in_format(json.loads(body)), (path, body)
        assert answer_headers.get("connection") == "close", (path, answer_headers)
        assert waited < IDLE_S + 5, (path, waited)  # answered once idle, not held


def test_a_body_trickled_for_ever_is_cut_off_at_the_total_bound(served, org):
    base, _, _ = served
    basic = base64.b64encode(f"{org.oneup.email}:{org.oneup.api_key}".encode()).decode()
    connection = _connect(base)
    connection.sendall(("POST /oneup/v1/customers HTTP/1.1\r\nHost: comptoir\r\nContent-Type: application/json\r\n"
                        f"Authorization: Basic {basic}\r\nTransfer-Encoding: chunked\r\n\r\n").encode())
    started = time.monotonic()
    try:
        while time.monotonic() - started < TOTAL_S + 5:  # a byte every half second: never idle that long
            connection.sendall(b"1\r\n \r\n")
            time.sleep(0.5)
    except OSError:
        pass  # the server hung up: what is expected
    status, headers, body, _ = _answer(connection)
    assert status == 408, body
    assert headers.get("connection") == "close"
    assert json.loads(body)["error"]["status"] == 408
    assert time.monotonic() - started < TOTAL_S + 6
