"""The customer portal in a real browser: headless Chromium (Debian's, /usr/bin/chromium) driven by
Playwright, against the real app served by uvicorn on a free loopback port, as
tests/auth/test_browser.py does it. Two tiny HTTP servers stand in for the integrator's app that embeds
the portal in an iframe: one at an origin the link allows (frameAncestors), one at an origin it does
not. A missing Chromium or Playwright is a failure, never a skip.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, expect

from comptoir.app import create_app
from tests.browser_support import launched_browser
from comptoir.services.tenancy.organizations import NewOrganization, create_organization

from ..conftest import make_context
from .portal_world import BALANCE, PDF, Statement, make_statement

TIMEOUT_MS = 10_000


def _free_socket() -> socket.socket:
    """A listening-ready socket on a free loopback port (handed to the server: no race for the port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class _Embedder(BaseHTTPRequestHandler):
    """The integrator's page: `/embed?src=<portal URL>` frames the portal."""

    def do_GET(self) -> None:
        src = parse_qs(urlsplit(self.path).query).get("src", [""])[0]
        quoted = src.replace("&", "&amp;").replace('"', "&quot;")
        body = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">'
                '<title>Integrator</title></head><body><h1>Integrator app</h1>'
                f'<iframe title="Customer portal" src="{quoted}" width="900" height="700"></iframe>'
                "</body></html>").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@dataclass(frozen=True)
class Site:
    base_url: str  # the app
    allowed: str  # an origin listed in frameAncestors
    refused: str  # an origin that is not


@pytest.fixture(scope="module")
def site(context, database_url, tmp_path_factory) -> Iterator[Site]:
    """The real app on uvicorn in a thread, its public URL its own address (portal URLs point at it),
    over the suite's database; and two embedding servers."""
    sock = _free_socket()
    port = sock.getsockname()[1]
    served = make_context(database_url, tmp_path_factory.mktemp("portal-site"), public_url=f"http://127.0.0.1:{port}")
    server = uvicorn.Server(uvicorn.Config(create_app(context=served), log_level="warning", access_log=False,
                                           lifespan="off"))
    app_thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True)
    app_thread.start()
    embedders = [ThreadingHTTPServer(("127.0.0.1", 0), _Embedder) for _ in range(2)]  # free ports
    threads = [threading.Thread(target=e.serve_forever, name="embedder", daemon=True) for e in embedders]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            assert app_thread.is_alive(), "uvicorn stopped before it started serving"
            assert time.monotonic() < deadline, "uvicorn did not start within 15 s"
            time.sleep(0.02)
        yield Site(f"http://127.0.0.1:{port}", *(f"http://127.0.0.1:{e.server_address[1]}" for e in embedders))
    finally:
        server.should_exit = True
        for embedder in embedders:
            embedder.shutdown()
            embedder.server_close()
        app_thread.join(timeout=10)
        for thread in threads:
            thread.join(timeout=10)
        sock.close()
        served.database.dispose()


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
    with _new_context(browser, java_script_enabled=False, accept_downloads=True) as context:
        yield context.new_page()


@dataclass(frozen=True)
class World:
    company: NewOrganization
    statement: Statement
    http: httpx.Client

    def portal_url(self, **body) -> str:
        response = self.http.post(f"/upflow/v1/customers/{self.statement.customer['id']}/portal", json=body)
        assert response.status_code == 200, response.text
        return response.json()["url"]


@pytest.fixture(scope="module")
def world(context, site) -> Iterator[World]:
    """A customer's statement, made through the served app's Upflow API."""
    company = create_organization(context.database, "Portal Browser & Co")
    headers = {"X-Api-Key": company.upflow["api_key"], "X-Api-Secret": company.upflow["api_secret"]}
    with httpx.Client(base_url=site.base_url, headers=headers, timeout=30) as http:
        def post(path: str, body) -> dict:
            response = http.post("/upflow/v1" + path, json=body)
            assert response.status_code == 200, (path, response.text)
            return response.json()

        def upload(path: str, pdf: bytes) -> int:
            return http.post("/upflow/v1" + path, files={"file": ("uploaded.pdf", pdf, "application/pdf")}).status_code

        yield World(company, make_statement(post, upload), http)


def test_the_portal_shows_the_balance_and_the_invoices(page, site, world):
    url = world.portal_url()
    assert url.startswith(site.base_url + "/portal/")
    response = page.goto(url)
    assert response is not None and response.status == 200
    statement = world.statement
    expect(page).to_have_title(f"{statement.customer['name']} · {world.company.name}")
    expect(page.get_by_role("heading", level=1)).to_have_text(statement.customer["name"])
    expect(page.get_by_role("main")).to_contain_text(world.company.name)
    expect(page.get_by_role("region", name="Balance")).to_contain_text(f"Balance due: {BALANCE}")

    open_table = page.get_by_role("table", name="Open invoices")
    expect(open_table.get_by_role("row")).to_have_count(3)  # the header and two invoices
    overdue = open_table.get_by_role("row", name=statement.overdue["customId"])
    expect(overdue.get_by_role("cell")).to_have_text(["2024-01-10", "2024-02-10", "1,200.00 USD", "1,200.00 USD",
                                                      "OVERDUE", "PDF"])
    due = open_table.get_by_role("row", name=statement.due["customId"])
    expect(due.get_by_role("cell")).to_have_text(["2024-01-10", "2099-01-31", "50.00 USD", "30.00 USD", "DUE", "PDF"])
    paid_table = page.get_by_role("table", name="Paid invoices")
    expect(paid_table.get_by_role("row")).to_have_count(2)
    expect(paid_table.get_by_role("row", name=statement.paid["customId"]).get_by_role("cell")).to_have_text(
        ["2024-01-10", "2024-02-10", "80.00 USD", "PAID", "PDF"])
    expect(page.get_by_role("main")).not_to_contain_text(statement.neighbour["name"])
    expect(page.get_by_role("link", name=f"PDF of invoice {statement.neighbour_invoice['customId']}")).to_have_count(0)


@pytest.mark.parametrize("which", ["overdue", "due"], ids=["uploaded PDF", "printed PDF"])
def test_a_pdf_link_downloads_the_invoice(page, world, which):
    invoice = getattr(world.statement, which)
    page.goto(world.portal_url())
    with page.expect_download() as download:
        page.get_by_role("link", name=f"PDF of invoice {invoice['customId']}").click()
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"%PDF")
    if which == "overdue":
        assert data == PDF
        assert download.value.suggested_filename == "uploaded.pdf"
    else:
        assert download.value.suggested_filename == f"{invoice['customId']}.pdf"


def test_an_allowed_origin_can_frame_the_portal(page, site, world):
    url = world.portal_url(frameAncestors=site.allowed)
    page.goto(f"{site.allowed}/embed?src={url}")
    frame = page.frame_locator("iframe[title='Customer portal']")
    expect(frame.get_by_role("heading", level=1)).to_have_text(world.statement.customer["name"])
    expect(frame.get_by_role("table", name="Open invoices")).to_be_visible()


def _refused(page: Page, site: Site, embedder: str, url: str) -> None:
    """The integrator's page loads, but the portal inside its iframe does not."""
    with page.expect_response(lambda response: response.url == url) as answer:
        page.goto(f"{embedder}/embed?src={url}")
    assert answer.value.status == 200  # the server answered; the browser refused to show it
    expect(page.get_by_role("heading", level=1)).to_have_text("Integrator app")
    frame = page.frame_locator("iframe[title='Customer portal']")
    page.wait_for_timeout(300)
    expect(frame.get_by_role("heading", level=1)).to_have_count(0)
    expect(frame.locator("body")).not_to_contain_text("Balance")
    content = page.locator("iframe[title='Customer portal']").element_handle().content_frame()
    assert content is not None and not content.url.startswith(site.base_url), content.url


def test_an_origin_not_listed_cannot_frame_the_portal(page, site, world):
    _refused(page, site, site.refused, world.portal_url(frameAncestors=site.allowed))


def test_without_frame_ancestors_no_one_can_frame_the_portal(page, site, world):
    url = world.portal_url()
    _refused(page, site, site.allowed, url)
