"""The API documentation in a real browser on a host without internet: headless Chromium (Debian's,
/usr/bin/chromium) driven by Playwright, against the real app served by uvicorn on a free loopback
port, with every request to another host aborted, as an offline host would fail it. Swagger UI and
ReDoc render the dialects' operations all the same, and the pages asked nothing of any other host
(docs/decisions/0030). A missing Chromium or Playwright is a failure, never a skip."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from comptoir.app import create_app
from tests.browser_support import launched_browser
from tests.helpers import served

TIMEOUT_MS = 20_000  # Swagger UI parses a 1.8 MB script and OneUp's document on a shared machine


@pytest.fixture(scope="module")
def base_url(context) -> Iterator[str]:
    """The real app on uvicorn in a thread, on a free loopback port, over the suite's database."""
    with served(create_app(context=context)) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launched_browser() as launched:
        yield launched


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
