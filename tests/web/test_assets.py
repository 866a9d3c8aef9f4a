"""The explorer page's assets (issue 8): served without a token, nothing from outside the
service, built from the committed sources, license notices shipped. No browser needed."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from api.routes.web import STATIC
from lineage.auth import new_token
from lineage.settings import Settings
from lineage.store.sqlite import SqliteStore

WEB = Path(__file__).resolve().parents[2] / "web"


def test_page_and_assets_need_no_token_while_the_api_does(settings: Settings, tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "auth.db"))
    _, record = new_token("oncall", ["read"], "2026-01-01T00:00:00.000000Z")
    store.put_token(record)
    try:
        with TestClient(create_app(settings, store=store)) as client:
            page = client.get("/")
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            assert '<script type="module" src="/static/app.js">' in page.text
            assert "default-src 'self'" in page.headers["content-security-policy"]
            for asset, kind in (("app.js", "javascript"), ("style.css", "text/css"), ("THIRD_PARTY_LICENSES.txt", "text/plain")):
                response = client.get(f"/static/{asset}")
                assert response.status_code == 200 and kind in response.headers["content-type"], asset
            assert client.get("/api/v1/search", params={"q": "x"}).status_code == 401
            assert client.get("/static/missing.js").status_code == 404
            assert "/" not in client.get("/openapi.json").json()["paths"]
    finally:
        store.close()


def test_the_page_names_nothing_outside_the_service() -> None:
    for name in ("index.html", "style.css"):
        text = (STATIC / name).read_text()
        assert not re.search(r"(https?:)?//[a-z0-9]", text, re.I), name
        assert "@import" not in text and "url(" not in text, name


def source_digest() -> str:
    """The digest web/build.mjs records in build.json: each source file's path and sha256."""
    files = ["build.mjs", "package.json", "package-lock.json"]
    files += [p.relative_to(WEB).as_posix() for p in (WEB / "src").rglob("*") if p.is_file()]
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(f"{name}\n{hashlib.sha256((WEB / name).read_bytes()).hexdigest()}\n".encode())
    return digest.hexdigest()


def test_the_committed_bundle_is_built_from_the_committed_sources() -> None:
    recorded = json.loads((STATIC / "build.json").read_text())
    assert recorded["sources_sha256"] == source_digest(), "api/static is stale: run `make web` and commit api/static"


def test_bundled_libraries_are_pinned_and_their_licenses_ship() -> None:
    package = json.loads((WEB / "package.json").read_text())
    lock = json.loads((WEB / "package-lock.json").read_text())["packages"]
    pinned = package["dependencies"] | package["devDependencies"]
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", version) for version in pinned.values()), pinned
    notices = (STATIC / "THIRD_PARTY_LICENSES.txt").read_text()
    for name in ("cytoscape", "cytoscape-dagre", "@dagrejs/dagre", "@dagrejs/graphlib"):
        assert f"{name} {lock[f'node_modules/{name}']['version']} (MIT)" in notices
    assert "Permission is hereby granted" in notices
