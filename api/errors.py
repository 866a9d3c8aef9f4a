"""The one table mapping our error tree to HTTP: bad input 4xx, our faults 5xx."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.responses import json_response
from lineage.deadletter import rejection_of
from lineage.errors import (
    Ambiguous,
    InvalidEvent,
    LineageError,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    StoreError,
    StoreUnavailable,
    Unauthorized,
)
from lineage.service import now

log = logging.getLogger("lineage.api")

# Most specific first: the first matching class decides the status.
STATUS: list[tuple[type[LineageError], int, str]] = [
    (InvalidEvent, 400, "invalid_input"),
    (PayloadTooLarge, 413, "payload_too_large"),
    (NotFound, 404, "not_found"),
    (Ambiguous, 409, "ambiguous"),
    (Unauthorized, 401, "unauthorized"),
    (Forbidden, 403, "forbidden"),
    (StoreUnavailable, 503, "store_unavailable"),
    (StoreError, 500, "store_error"),
]


def error_body(exc: LineageError) -> tuple[int, dict[str, object]]:
    for cls, status, code in STATUS:
        if isinstance(exc, cls):
            body: dict[str, object] = {"error": code, "detail": str(exc)}
            if isinstance(exc, InvalidEvent):
                body["field"] = exc.field
            if isinstance(exc, NotFound):
                body["suggestions"] = exc.suggestions
            if isinstance(exc, Ambiguous):
                body["candidates"] = exc.candidates
            return status, body
    return 500, {"error": "internal", "detail": str(exc)}


def reject_reason(exc: LineageError) -> str:
    """A bounded label for a refusal: the error code and the top-level field it names."""
    if isinstance(exc, InvalidEvent):
        top = exc.field.split(".")[0].split("[")[0]
        return f"invalid:{top or 'body'}"
    return "too_large" if isinstance(exc, PayloadTooLarge) else "other"


INGEST_ROUTES = frozenset({"/api/v1/lineage", "/api/v1/lineage/batch"})


def error_response(request: Request, exc: LineageError) -> Response:
    """The answer to a request that failed with `exc`: refusals of ingest routes are counted as
    rejects, other client errors as query errors, and the request's log line names the cause."""
    status, body = error_body(exc)
    metrics = request.app.state.metrics
    if status in (400, 413) and request.url.path in INGEST_ROUTES:
        metrics.rejects.labels(reject_reason(exc)).inc()
    elif 400 <= status < 500:
        metrics.query_errors.labels(str(body["error"])).inc()
    if status >= 500:
        log.error("request failed: %s %s: %s", request.method, request.url.path, exc)
    # The request log line (api/observe.py) carries the error code, the field and the detail.
    request.scope["lineage.error"] = {k: body[k] for k in ("error", "field", "detail") if k in body}
    headers = {"Retry-After": "1"} if status == 503 else {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return json_response(body, status_code=status, headers=headers)


async def refusal_response(request: Request, exc: LineageError) -> Response:
    """`error_response`, after keeping a refused ingest body in the dead-letter store (issue 29).
    A refusal that cannot be kept is not answered 4xx, which clients never retry: it is our
    fault then, a 503 that they send again."""
    status, _ = error_body(exc)
    if status in (400, 413) and request.url.path in INGEST_ROUTES:
        body = getattr(request.state, "body", b"")
        if body or isinstance(exc, PayloadTooLarge):
            entry = rejection_of(body, exc, now(), keep=request.app.state.settings.rejection_sample_bytes)
            try:
                await run_in_threadpool(request.app.state.dead_letters.keep, [entry])
            except StoreError as kept:
                log.error("a refused event could not be kept: %s", kept)
                return error_response(request, StoreUnavailable(f"refused ({exc}), and it could not be kept: {kept}"))
    return error_response(request, exc)


def install(app: FastAPI) -> None:
    @app.exception_handler(LineageError)
    async def _lineage_error(request: Request, exc: LineageError) -> Response:
        return await refusal_response(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error: %s %s", request.method, request.url.path)
        return json_response({"error": "internal", "detail": "internal error"}, status_code=500)
