"""OneUp's OAuth2 pages in a real browser: headless Chromium (Debian's, /usr/bin/chromium, which
scripts/setup --test installs) driven by Playwright, against the real app served by uvicorn on a free
loopback port, with a tiny HTTP server standing in for the client application's redirect_uri.

tests/auth/test_oauth_flow.py covers the same flow over HTTP without a browser; here the browser
follows the redirects, keeps the session cookie, submits the forms as a person does, and finds the
fields by their labels. A missing Chromium or Playwright is a failure, never a skip.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, expect

from comptoir.app import create_app
from tests.browser_support import launched_browser
from comptoir.services.access.identity import NewClient, register_client
from comptoir.services.tenancy.organizations import NewOrganization, create_organization

CLIENT_NAME = "Ledger Sync & Co"
AUTH = "/oneup/oauth2/auth"
LOGIN = "/oneup/oauth2/login"
TOKEN = "/oneup/oauth2/token"
TIMEOUT_MS = 10_000


def _free_socket() -> socket.socket:
    """A listening-ready socket on a free loopback port (handed to the server: no race for the port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@dataclass
class Recorder:
    """The client application's side: every request its redirect_uri server received."""

    url: str
    _requests: list[tuple[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, path: str, query: str) -> None:
        with self._lock:
            self._requests.append((path, query))

    def requests(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._requests)

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()


def _recording_handler(recorder: Recorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            recorder.record(parts.path, parts.query)
            # The empty icon keeps Chromium from asking this server for /favicon.ico.
            body = (b'<!doctype html><html lang="en"><head><meta charset="utf-8">'
                    b'<link rel="icon" href="data:,"><title>Callback</title></head>'
                    b"<body><h1>Callback received</h1></body></html>")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    return Handler


@dataclass(frozen=True)
class Site:
    base_url: str
    recorder: Recorder
    oauth_client: NewClient


@pytest.fixture(scope="session")
def site(context) -> Iterator[Site]:
    """The real app on uvicorn in a thread, the redirect_uri recorder, and a registered OAuth client."""
    sock = _free_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(context=context), log_level="warning", access_log=False,
                                           lifespan="off"))
    app_thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True)
    app_thread.start()

    recorder = Recorder("")
    callback_server = ThreadingHTTPServer(("127.0.0.1", 0), _recording_handler(recorder))  # a free port
    recorder.url = f"http://127.0.0.1:{callback_server.server_address[1]}/callback"
    callback_thread = threading.Thread(target=callback_server.serve_forever, name="redirect-uri", daemon=True)
    callback_thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            assert app_thread.is_alive(), "uvicorn stopped before it started serving"
            assert time.monotonic() < deadline, "uvicorn did not start within 15 s"
            time.sleep(0.02)
        oauth_client = register_client(context.database, CLIENT_NAME, [recorder.url])
        yield Site(f"http://127.0.0.1:{port}", recorder, oauth_client)
    finally:
        server.should_exit = True
        callback_server.shutdown()
        callback_server.server_close()
        app_thread.join(timeout=10)
        callback_thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launched_browser() as launched:
        yield launched


@contextmanager
def _new_context(browser: Browser, **options) -> Iterator[BrowserContext]:
    context = browser.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(browser, site) -> Iterator[Page]:
    site.recorder.clear()
    with _new_context(browser) as context:
        yield context.new_page()


@pytest.fixture
def page_without_js(browser, site) -> Iterator[Page]:
    site.recorder.clear()
    with _new_context(browser, java_script_enabled=False) as context:
        yield context.new_page()


@pytest.fixture
def company(context) -> NewOrganization:
    """A fresh organization, with characters a page must escape in its name."""
    return create_organization(context.database, f"Müller & Fils <{secrets.token_hex(3)}>")


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def _authorize_url(site: Site, state: str, verifier: str, client_id: str | None = None) -> str:
    params = {"response_type": "code", "client_id": client_id or site.oauth_client.client_id,
              "redirect_uri": site.recorder.url, "scope": "offline_access", "state": state,
              "code_challenge": _s256(verifier), "code_challenge_method": "S256"}
    return f"{site.base_url}{AUTH}?{urlencode(params)}"


def _path_of(page: Page) -> str:
    return urlsplit(page.url).path


def _query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def _sign_in_and_reach_consent(page: Page, site: Site, company: NewOrganization, state: str,
                               verifier: str) -> None:
    """From the authorize URL through the login page to the consent page, as a person would."""
    response = page.goto(_authorize_url(site, state, verifier))
    assert response is not None and response.status == 200
    assert _path_of(page) == LOGIN
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Comptoir")
    expect(page).to_have_title("Sign in · Comptoir")
    email = page.get_by_label("Email", exact=True)
    password = page.get_by_label("Password", exact=True)
    expect(email).to_have_attribute("type", "email")
    expect(password).to_have_attribute("type", "password")
    email.fill(company.login.email)
    password.fill(company.login.password)
    page.get_by_role("button", name="Sign In", exact=True).click()

    page.wait_for_url(lambda url: urlsplit(url).path == AUTH)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Allow {CLIENT_NAME}?")
    expect(page.get_by_role("main")).to_contain_text(f"{CLIENT_NAME} asks to read and change the books of "
                                                     f"{company.name}")
    expect(page.get_by_role("button", name="Allow", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Deny", exact=True)).to_be_visible()
    assert site.recorder.requests() == []


def _allow_path(page: Page, site: Site, company: NewOrganization) -> None:
    state = secrets.token_urlsafe(12)
    verifier = secrets.token_urlsafe(48)
    _sign_in_and_reach_consent(page, site, company, state, verifier)
    page.get_by_role("button", name="Allow", exact=True).click()

    page.wait_for_url(lambda url: url.startswith(site.recorder.url + "?"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Callback received")
    query = _query_of(page.url)
    assert set(query) == {"code", "state"}, query
    assert query["state"] == [state]
    code = query["code"][0]
    assert site.recorder.requests() == [("/callback", urlsplit(page.url).query)]

    with httpx.Client(base_url=site.base_url, timeout=10) as http:
        token = http.post(TOKEN, data={"grant_type": "authorization_code",
                                       "client_id": site.oauth_client.client_id,
                                       "client_secret": site.oauth_client.client_secret, "code": code,
                                       "redirect_uri": site.recorder.url, "code_verifier": verifier})
        assert token.status_code == 200, token.text
        body = token.json()
        assert body["token_type"].lower() == "bearer"
        assert body["scope"] == "offline_access"
        assert body["access_token"] and body["refresh_token"]
        me = http.get("/oneup/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
        assert me.status_code == 200, me.text
        assert me.json()["company"]["name"] == company.name


def test_allow_gives_the_client_a_code_that_opens_the_book(page, site, company):
    _allow_path(page, site, company)


def test_the_pages_work_without_javascript(page_without_js, site, company):
    page_without_js.set_content('<p id="js">off</p>'
                                '<script>document.getElementById("js").textContent = "on"</script>')
    expect(page_without_js.locator("#js")).to_have_text("off")  # scripts really do not run
    _allow_path(page_without_js, site, company)


def test_deny_sends_access_denied_and_the_state_to_the_client(page, site, company):
    state = secrets.token_urlsafe(12)
    _sign_in_and_reach_consent(page, site, company, state, secrets.token_urlsafe(48))
    page.get_by_role("button", name="Deny", exact=True).click()

    page.wait_for_url(lambda url: url.startswith(site.recorder.url + "?"))
    query = _query_of(page.url)
    assert query["error"] == ["access_denied"]
    assert query["error_description"] == ["the resource owner denied the request"]
    assert query["state"] == [state]
    assert "code" not in query
    assert site.recorder.requests() == [("/callback", urlsplit(page.url).query)]


def test_a_wrong_password_shows_the_error_and_stays_on_the_login_page(page, site, company):
    response = page.goto(_authorize_url(site, "s-1", secrets.token_urlsafe(48)))
    assert response is not None and response.status == 200
    page.get_by_label("Email", exact=True).fill(company.login.email)
    page.get_by_label("Password", exact=True).fill(company.login.password + "-wrong")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Sign In", exact=True).click()
    assert navigation.value is not None and navigation.value.status == 401

    assert _path_of(page) == LOGIN
    alert = page.get_by_role("alert")
    expect(alert).to_have_text("Wrong email or password.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Comptoir")
    email = page.get_by_label("Email", exact=True)
    expect(email).to_have_value(company.login.email)  # kept, so only the password needs typing again
    password = page.get_by_label("Password", exact=True)
    expect(password).to_have_value("")
    expect(password).to_have_accessible_description("Wrong email or password.")  # the field to type again
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_be_focused()
    assert site.recorder.requests() == []


def test_an_unknown_client_gets_an_error_page_and_no_redirect(page, site):
    response = page.goto(_authorize_url(site, "s-2", secrets.token_urlsafe(48), client_id="no-such-client"))
    assert response is not None and response.status == 400
    assert response.request.redirected_from is None
    assert _path_of(page) == AUTH
    expect(page.get_by_role("heading", level=1)).to_have_text("Unknown application")
    expect(page.get_by_role("alert")).to_contain_text("client_id")
    expect(page.get_by_role("textbox")).to_have_count(0)
    expect(page.get_by_role("button")).to_have_count(0)
    page.wait_for_timeout(200)  # a late redirect would have reached the recorder by now
    assert urlsplit(page.url).netloc == urlsplit(site.base_url).netloc
    assert site.recorder.requests() == []
