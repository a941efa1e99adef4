"""The API documentation pages work offline (issue 19, docs/decisions/0030): each dialect's Swagger UI
(`<prefix>/docs`) and ReDoc (`<prefix>/redoc`) and the root's index (`/docs`) name only assets of this
server, and every asset they name answers, with its content type and cache headers, through the real
application. The browser's view, with every other host blocked: tests/test_api_docs_browser.py."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from comptoir.app import DIALECTS
from comptoir.wire import REDOC, STATIC_DIRECTORY, SWAGGER_UI

README = Path(__file__).resolve().parent.parent / "README.md"
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
DIALECT_PAGES = [prefix + page for prefix in DIALECTS.values() for page in ("/docs", "/redoc")]


@dataclass
class Tags(HTMLParser):
    """What a page asks the browser to load (script, link and img tags; ReDoc's spec-url) and links to."""

    assets: list[str] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)  # href -> text
    specs: list[str] = field(default_factory=list)
    _href: str | None = None

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("script", "img") and values.get("src"):
            self.assets.append(values["src"])
        elif tag == "link" and values.get("href"):
            self.assets.append(values["href"])
        elif tag == "redoc":
            self.specs.append(values["spec-url"])
        elif tag == "a":
            self._href = values["href"]
            self.links[self._href] = ""

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self.links[self._href] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._href = None


def read(client, path: str) -> Tags:
    response = client.get(path)
    assert response.status_code == 200, f"{path}: {response.status_code}"
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    tags = Tags()
    tags.feed(response.text)
    return tags


def assert_same_origin(page: str, urls: list[str]) -> None:
    """Paths on this server: no scheme, no host (http://x, //x); nothing a host without internet lacks."""
    elsewhere = [url for url in urls if urlsplit(url).scheme or urlsplit(url).netloc or not url.startswith("/")]
    assert elsewhere == [], f"{page} loads from elsewhere: {elsewhere}"


def assert_assets_answer(client, page: str, assets: list[str]) -> None:
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, f"{page}: {asset} answers {response.status_code}"
        expected = CONTENT_TYPES[PurePosixPath(urlsplit(asset).path).suffix]
        assert response.headers["content-type"].split(";")[0] == expected, f"{page}: {asset}"
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable", asset
        assert response.headers["x-content-type-options"] == "nosniff", asset
        assert int(response.headers["content-length"]) == len(response.content) > 0, asset


@pytest.mark.parametrize("page", DIALECT_PAGES)
def test_a_dialects_page_loads_only_assets_of_this_server(client, page):
    tags = read(client, page)
    # Swagger UI: its script, its stylesheet, the favicon; ReDoc: its script and the favicon.
    assert len(tags.assets) == (3 if page.endswith("/docs") else 2), tags.assets
    assert all(asset.startswith("/static/") for asset in tags.assets), tags.assets
    assert_same_origin(page, tags.assets)
    assert_assets_answer(client, page, tags.assets)
    policy = client.get(page).headers["content-security-policy"]  # nothing from elsewhere, whatever the script
    assert "default-src 'self'" in policy and "img-src 'self' data:" in policy and "https:" not in policy
    named = re.findall(r"https?://[^\s\"'<>]+", client.get(page).text)
    assert named == [], f"{page} names another host"


@pytest.mark.parametrize("prefix", DIALECTS.values())
def test_swagger_uis_oauth2_redirect_page_loads_nothing(client, prefix):
    page = prefix + "/docs/oauth2-redirect"
    assert read(client, page).assets == []  # its one script is inline
    assert re.findall(r"https?://[^\s\"'<>]+", client.get(page).text) == []
    assert "default-src 'self'" in client.get(page).headers["content-security-policy"]


@pytest.mark.parametrize("prefix", DIALECTS.values())
def test_the_pages_read_their_dialects_openapi_document(client, prefix):
    """The spec the page's script fetches: Swagger UI's `url`, ReDoc's `spec-url`."""
    swagger = client.get(prefix + "/docs").text
    assert f"url: '{prefix}/openapi.json'" in swagger
    assert read(client, prefix + "/redoc").specs == [f"{prefix}/openapi.json"]
    document = client.get(prefix + "/openapi.json")
    assert document.status_code == 200 and document.json()["paths"]


def test_the_root_index_links_every_dialects_pages_and_the_health_check(client, context):
    tags = read(client, "/docs")
    assert tags.assets == []  # plain HTML: no script, no stylesheet, no image, nothing to fetch
    expected = {"/healthz", "/"}
    for prefix in DIALECTS.values():
        expected |= {f"{prefix}/docs", f"{prefix}/redoc", f"{prefix}/openapi.json"}
    assert set(tags.links) == expected
    assert_same_origin("/docs", list(tags.links))
    assert tags.links["/oneup/v1/docs"] == "Swagger UI" and tags.links["/quipu/redoc"] == "ReDoc"
    for link in tags.links:
        response = client.get(link)
        assert response.status_code == 200, f"/docs links {link}, which answers {response.status_code}"
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/").json()["docs"] == context.settings.public_url.rstrip("/") + "/docs"


def test_the_pages_find_the_assets_under_a_proxys_prefix(app):
    """Behind a reverse proxy that mounts Comptoir at /books (uvicorn --root-path /books), a dialect's
    page names the assets under /books/static, where the proxy forwards them."""
    with TestClient(app, root_path="/books") as client:  # the ASGI path keeps the root path, as uvicorn's
        swagger = read(client, "/books/oneup/v1/docs")
        assert all(asset.startswith("/books/static/") for asset in swagger.assets), swagger.assets
        assert_assets_answer(client, "/books/oneup/v1/docs", swagger.assets)
        assert "url: '/books/oneup/v1/openapi.json'" in client.get("/books/oneup/v1/docs").text
        index = read(client, "/books/docs")
        assert "/books/oneup/v1/openapi.json" in index.links and "/books/healthz" in index.links


def test_an_unknown_asset_is_not_found(client):
    for path in ("/static/nothing.js", "/static/swagger-ui-0.0.0/swagger-ui-bundle.js", "/static/../pyproject.toml"):
        assert client.get(path).status_code == 404, path


def test_the_readme_lists_the_pages_the_index_links(client):
    """README's table of documentation URLs is the index's, and each answers."""
    section = README.read_text().split("## API documentation in the browser", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`(/[\w/.]+)`", section))
    assert listed == set(read(client, "/docs").links) - {"/"} | {"/docs"}
    for url in listed:
        assert client.get(url).status_code == 200, url


def test_the_wheel_ships_every_asset_and_its_licence():
    """pyproject.toml's package data names every vendored file, so an installed Comptoir has them
    (setuptools' `*` stays within a folder, as PurePosixPath.match's does for a pattern of as many parts)."""
    patterns = tomllib.loads((README.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    package = STATIC_DIRECTORY.parent
    files = [file.relative_to(package) for file in STATIC_DIRECTORY.rglob("*") if file.is_file()]
    assert {f"{SWAGGER_UI}/LICENSE", f"{SWAGGER_UI}/NOTICE", f"{REDOC}/LICENSE"} <= {
        file.relative_to("static").as_posix() for file in files}
    unshipped = [file.as_posix() for file in files if not any(
        len(PurePosixPath(pattern).parts) == len(file.parts) and PurePosixPath(file.as_posix()).match(pattern)
        for pattern in patterns["comptoir"])]
    assert unshipped == []
