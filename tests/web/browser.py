"""Debian's Chromium driven by Playwright, for the explorer page tests (issue 8).

Playwright's own browser builds are never downloaded: the tests launch the system `chromium`
(`make test` installs it). A missing Chromium fails the run; only a person working locally may
opt out with LINEAGE_TEST_SKIP_BROWSER=1 (refused when CI is set), as with Neo4j.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "build" / "test-artifacts" / "web"
CHROMIUM = os.environ.get("LINEAGE_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000


def chromium_path() -> str:
    if Path(CHROMIUM).exists() or shutil.which(CHROMIUM):
        return CHROMIUM
    if os.environ.get("LINEAGE_TEST_SKIP_BROWSER") == "1":
        if os.environ.get("CI"):
            pytest.fail("LINEAGE_TEST_SKIP_BROWSER is not allowed in CI: the browser tests must run")
        pytest.skip("browser tests skipped on request (LINEAGE_TEST_SKIP_BROWSER=1)")
    pytest.fail(f"no Chromium at {CHROMIUM}: `make test` installs Debian's chromium (apt-get install chromium)")


@contextmanager
def launched() -> Iterator[Any]:
    """One headless Chromium for a test module."""
    path = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def page_on(browser: Any, base_url: str, name: str) -> Iterator[Any]:
    """A fresh page (own sessionStorage) that records every request; fails the test on a
    JavaScript error or a request that leaves the service; its screenshot is kept on failure too."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1500, "height": 900}, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    outside: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: None if request.url.startswith((base_url, "blob:", "data:")) else outside.append(request.url))
    try:
        yield page
    except BaseException:
        page.screenshot(path=ARTIFACTS / f"{name}-failed.png")
        raise
    finally:
        context.close()
    assert not errors, f"JavaScript errors: {errors}"
    assert not outside, f"requests that left the service: {outside}"


def shot(page: Any, name: str) -> None:
    page.screenshot(path=ARTIFACTS / f"{name}.png")


def load_ndjson(base_url: str, path: Path, token: str | None = None) -> None:
    headers = {"Content-Type": "application/x-ndjson"} | ({"Authorization": f"Bearer {token}"} if token else {})
    response = httpx.post(f"{base_url}/api/v1/lineage/batch", content=path.read_bytes(), headers=headers)
    response.raise_for_status()
    assert response.json()["rejected"] == 0
