"""Debian's Chromium driven by Playwright, as every browser test launches it (never `playwright
install`: browser builds cannot be downloaded; scripts/setup --test installs Debian's chromium)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@contextmanager
def launched_browser() -> Iterator[Browser]:
    """Headless Chromium for the block; a missing one is a failure that says how to install it."""
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: run scripts/setup --test (it installs Debian's chromium)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
