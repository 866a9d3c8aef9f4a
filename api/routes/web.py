"""The lineage explorer page (issue 8) at `/`, the API reference at `/docs`, and their built assets under `/static`.

Both are open without a token: the page holds no data, and asks for a token itself when the
JSON API answers 401. The assets are built from `web/` by `make web` and ship in the package.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parents[1] / "static"

# Everything the page loads or calls is on this service; the policy makes the browser refuse
# anything else. Inline styles: Cytoscape.js adds one small <style> for its container.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)

# The API reference page (/docs): Swagger UI from api/static/docs (web/build.mjs copies it from
# the pinned swagger-ui-dist package), never a CDN (issue 31). Its scripts are files of this
# service; Swagger UI sets style attributes, and draws its icons as data: images.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)

router = APIRouter(include_in_schema=False)


@router.get("/")
def index() -> FileResponse:
    return FileResponse(
        STATIC / "index.html",
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/docs")
def docs() -> FileResponse:
    return FileResponse(
        STATIC / "docs" / "index.html",
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": DOCS_CSP, "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
