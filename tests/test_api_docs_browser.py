"""The API documentation in a real browser on a host without internet: headless Chromium (Debian's,
/usr/bin/chromium) driven by Playwright, against the real app served by uvicorn on a free loopback
port, with every request to another host aborted, as an offline host would fail it. Swagger UI and
ReDoc render the dialects' operations all the same, and the pages asked nothing of any other host
(docs/decisions/0030). A missing Chromium or Playwright is a failure, never a skip."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright

from comptoir.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 20_000  # Swagger UI parses a 1.8 MB script and OneUp's document on a shared machine


@pytest.fixture(scope="module")
def base_url(context) -> Iterator[str]:
    """The real app on uvicorn in a thread, on a free loopback port, over the suite's database."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(context=context), log_level="warning", access_log=False,
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            assert thread.is_alive(), "uvicorn stopped before it started serving"
            assert time.monotonic() < deadline, "uvicorn did not start within 15 s"
            time.sleep(0.02)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: run scripts/setup (it installs Debian's chromium)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Offline:
    """A page whose requests reach the server under test only: any other host is aborted and noted."""

    page: Page
    elsewhere: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # requests to the server that did not answer 2xx
    refused: list[str] = field(default_factory=list)  # what the pages' Content-Security-Policy refused


@pytest.fixture
def offline(browser, base_url) -> Iterator[Offline]:
    server = urlsplit(base_url).netloc
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = context.new_page()
    seen = Offline(page)

    def only_the_server(route: Route) -> None:
        if urlsplit(route.request.url).netloc == server:
            route.continue_()
        else:
            seen.elsewhere.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", only_the_server)
    page.on("response", lambda response: response.ok or seen.failed.append(f"{response.status} {response.url}"))
    page.on("console", lambda message: "Content Security Policy" in message.text and seen.refused.append(message.text))
    try:
        yield seen
    finally:
        context.close()


def test_swagger_ui_shows_the_operations_with_no_other_host_reachable(offline, base_url):
    page = offline.page
    page.goto(base_url + "/oneup/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Comptoir: OneUp v1")
    operations = page.locator(".opblock-summary-path")
    expect(operations.first).to_be_visible()
    assert operations.count() > 50  # OneUp's resources, each with its list, create, read, update, delete
    expect(page.locator(".opblock-summary-path", has_text="/invoices").first).to_be_visible()
    page.locator(".opblock-get .opblock-summary-control").first.click()  # the operation opens: React runs
    expect(page.locator(".opblock.is-open .opblock-body").first).to_be_visible()
    assert offline.elsewhere == [] and offline.failed == [] and offline.refused == []


def test_redoc_shows_the_operations_with_no_other_host_reachable(offline, base_url):
    page = offline.page
    page.goto(base_url + "/quipu/redoc")
    expect(page.locator("h1").first).to_contain_text("Comptoir: Quipu v1")
    expect(page.locator("[data-section-id^='operation/']").first).to_be_attached()
    assert page.locator("[data-section-id^='operation/']").count() > 10
    page.get_by_placeholder("Search...").fill("contacts")  # the search index, built in a blob: worker
    expect(page.locator("[data-role='search:results'] li").first).to_be_visible()
    assert offline.elsewhere == [] and offline.failed == []
    # The one thing ReDoc's script asks of another host, its "API docs by Redocly" logo, never leaves
    # the browser: the page's policy refuses it, and the logo is hidden.
    assert [text for text in offline.refused if "cdn.redoc.ly/redoc/logo-mini.svg" not in text] == []


def test_the_index_leads_to_each_dialects_swagger_ui(offline, base_url):
    page = offline.page
    page.goto(base_url + "/docs")
    expect(page.get_by_role("heading", name="Comptoir API documentation")).to_be_visible()
    for dialect in ("OneUp v1", "Upflow v1", "Quipu v1", "OneConnect v1"):
        page.goto(base_url + "/docs")
        page.get_by_role("link", name=f"{dialect}: Swagger UI").click()
        expect(page.locator(".swagger-ui .info .title")).to_contain_text(f"Comptoir: {dialect}")
        expect(page.locator(".opblock-summary-path").first).to_be_visible()
    page.goto(base_url + "/docs")
    page.get_by_role("link", name="/healthz").click()
    expect(page.locator("body")).to_contain_text('"status":"ok"')
    assert offline.elsewhere == [] and offline.failed == [] and offline.refused == []
