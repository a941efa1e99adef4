"""Header names on the wire keep the casing the dialects' specifications show (issue 16 §1).

A client published for OneUp compares `X-OneUp-Has-Next-Page` exactly: lower-cased, it never asks for
page 2. These tests read the raw bytes a real `comptoir serve` writes, under each HTTP server it can
run (uvicorn's httptools, the default, and h11): comptoir/serving.py.
"""

from __future__ import annotations

import base64
import os
import socket

import pytest

from .serve_support import serving


def raw_head(base: str, request_line: str, **headers: str) -> bytes:
    """The status line and headers of the answer to one request, as the server wrote them."""
    host, port = base.removeprefix("http://").split(":")
    lines = [request_line, f"Host: {host}:{port}", "Connection: close",
             *(f"{name.replace('_', '-')}: {value}" for name, value in headers.items()), "", ""]
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall("\r\n".join(lines).encode())
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = connection.recv(65536)
            if not chunk:
                break
            received += chunk
    return received.partition(b"\r\n\r\n")[0] + b"\r\n"


@pytest.mark.parametrize("http", ["httptools", "h11"])
def test_documented_header_names_keep_their_casing_on_the_wire(database_url, client, org, tmp_path, http):
    basic = "Basic " + base64.b64encode(f"{org.oneup.email}:{org.oneup.api_key}".encode()).decode()
    for name in ("Acme", "Globex"):
        client.post("/oneup/v1/customers", auth=(org.oneup.email, org.oneup.api_key),
                    json={"type": 1, "company_name": name}).raise_for_status()
    token = client.post("/quipu/oauth/token", auth=(org.quipu["app_id"], org.quipu["app_secret"]),
                        data={"grant_type": "client_credentials"}).json()["access_token"]

    with serving(database_url, tmp_path, workers=1, arguments=("--http", http)) as (base, _):
        paged = raw_head(base, "GET /oneup/v1/customers?limit=1 HTTP/1.1", Authorization=basic)
        assert paged.startswith(b"HTTP/1.1 200 "), paged
        assert b"\r\nX-OneUp-Has-Next-Page: true\r\n" in paged, paged
        assert b"\r\nX-MyERP-Has-Next-Page: true\r\n" in paged, paged
        assert b"\r\nContent-Type: application/json" in paged, paged

        refused = raw_head(base, "GET /oneup/v1/customers HTTP/1.1")
        assert refused.startswith(b"HTTP/1.1 401 "), refused
        assert b'\r\nWWW-Authenticate: Basic realm="OneUp API"\r\n' in refused, refused

        not_allowed = raw_head(base, "PATCH /oneup/v1/customers HTTP/1.1", Authorization=basic)
        assert not_allowed.startswith(b"HTTP/1.1 405 "), not_allowed
        assert b"\r\nAllow: " in not_allowed, not_allowed

        quipu = raw_head(base, f"GET /quipu/{org.slug}/contacts HTTP/1.1", Authorization=f"Bearer {token}",
                         Accept="application/vnd.api+json")
        assert quipu.startswith(b"HTTP/1.1 200 "), quipu
        for name in (b"RateLimit-Limit", b"RateLimit-Remaining", b"RateLimit-Reset"):
            assert b"\r\n" + name + b": " in quipu, quipu
        # Nothing else is touched: a name no dialect documents stays as the server writes it.
        assert b"\r\ndate: " in quipu.lower()

        for _ in range(20):  # Quipu's budget is 5 calls in 5 seconds: the next answers are 429
            limited = raw_head(base, f"GET /quipu/{org.slug}/contacts HTTP/1.1", Authorization=f"Bearer {token}",
                               Accept="application/vnd.api+json")
            if limited.startswith(b"HTTP/1.1 429 "):
                break
        assert limited.startswith(b"HTTP/1.1 429 "), limited
        assert b"\r\nRetry-After: " in limited and b"\r\nRateLimit-Reset: " in limited, limited

    # Started without COMPTOIR_PUBLIC_URL, the server said so, once (issue 16 §8).
    if "COMPTOIR_PUBLIC_URL" not in os.environ:
        assert (tmp_path / "serve.log").read_text().count("COMPTOIR_PUBLIC_URL is not set") == 1
