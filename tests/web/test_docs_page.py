"""The API reference at /docs (issue 31): Swagger UI from assets shipped in the package, under
a policy without inline scripts, drawing the service's own OpenAPI document with nothing from
outside the service."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.routes.web import STATIC
from lineage.settings import Settings
from tests.server import running
from tests.web.browser import launched, page_on, shot


def test_docs_page_is_served_from_the_package_under_a_strict_policy(settings: Settings, tmp_path: Path) -> None:
    with TestClient(create_app(settings.model_copy(update={"store": f"sqlite:///{tmp_path / 'docs.db'}"}))) as client:
        page = client.get("/docs")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        policy = dict(part.strip().split(" ", 1) for part in page.headers["content-security-policy"].split(";"))
        assert policy["script-src"] == "'self'" and policy["connect-src"] == "'self'"
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, re.S)
        assert scripts and all(not body.strip() and 'src="/static/' in attrs for attrs, body in scripts)
        assert not re.search(r"(https?:)?//[a-z0-9]", re.sub(r"<!--.*?-->", "", page.text, flags=re.S), re.I)
        for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text):
            assert client.get(asset).status_code == 200, asset
        assert client.get("/redoc").status_code == 404
    assert "swagger-ui-dist" in (STATIC / "docs" / "VERSION").read_text()
    assert (STATIC / "docs" / "LICENSE").read_text().strip()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running(f"sqlite:///{tmp_path_factory.mktemp('docs') / 'lineage.db'}") as url:
        yield url


def test_docs_page_draws_the_api_offline_with_no_policy_violation(browser: Any, served: str) -> None:
    with page_on(browser, served, "docs") as page:
        refused: list[str] = []
        page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None)
        page.goto(f"{served}/docs")
        page.locator(".opblock-summary-path", has_text="/api/v1/lineage/batch").first.wait_for()
        assert page.locator(".opblock").count() >= 10
        shot(page, "docs")
        assert not refused, refused
