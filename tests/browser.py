"""Shared set-up for the browser tests: Debian's Chromium driven by Playwright.

Browser tests skip with a visible reason when Chromium or Playwright is missing (`.ci/run`
installs Chromium, so in CI they always run). Screenshots go to a temporary folder unless
EASYCARS_SCREENSHOTS=1 (`make screenshots`), which refreshes the ones in docs/screenshots/.
"""

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DOCS_SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    expect = sync_playwright = None

browser_marks = [
    pytest.mark.browser,
    pytest.mark.skipif(sync_playwright is None, reason="Playwright is not installed (pip install playwright)"),
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason=f"Chromium not found at {CHROMIUM} (apt install chromium)"),
]


@contextmanager
def chromium_page(width=1400, height=900, **context_options):
    """A fresh page in a fresh headless Chromium, closed afterwards."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": width, "height": height}, **context_options)
        page = context.new_page()
        page.set_default_timeout(20_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


@pytest.fixture
def screenshot_dir(tmp_path):
    """Where a browser test saves its screenshots: docs/screenshots/ only when asked to refresh them."""
    if os.environ.get("EASYCARS_SCREENSHOTS") == "1":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return DOCS_SCREENSHOTS
    return tmp_path
