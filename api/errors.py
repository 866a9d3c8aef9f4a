"""The one table mapping our error tree to HTTP: bad input 4xx, our faults 5xx."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.responses import json_response
from lineage.deadletter import rejection_of
from lineage.errors import (
    Ambiguous,
    BodyTimeout,
    DiskFull,
    InvalidEvent,
    LineageError,
    Forbidden,
    NotFound,
    NotYetStored,
    PayloadTooLarge,
    StoreError,
    StoreUnavailable,
    Unauthorized,
)
from lineage.service import Overloaded, now

log = logging.getLogger("lineage.api")

# Most specific first: the first matching class decides the status.
STATUS: list[tuple[type[LineageError], int, str]] = [
    (InvalidEvent, 400, "invalid_input"),
    (PayloadTooLarge, 413, "payload_too_large"),
    (BodyTimeout, 408, "body_timeout"),
    (NotFound, 404, "not_found"),
    (Ambiguous, 409, "ambiguous"),
    (Unauthorized, 401, "unauthorized"),
    (Forbidden, 403, "forbidden"),
    (NotYetStored, 503, "not_yet_stored"),
    (DiskFull, 503, "disk_full"),
    (StoreUnavailable, 503, "store_unavailable"),
    (StoreError, 500, "store_error"),
]


# What a caller reads of our own faults: the cause (a driver message, an internal address, a
# path) goes to the log only, since 5xx answers reach callers without a token too (issue 31).
GENERIC_DETAIL = {
    "store_unavailable": "the store is unavailable right now; retry later",
    "disk_full": "the store's disk is full; retry later",
    "store_error": "the store failed; retry later",
    "internal": "internal error",
}


def error_body(exc: LineageError) -> tuple[int, dict[str, object]]:
    """The status and `{error, field, detail}` body of an answer that failed with `exc`."""
    for cls, status, code in STATUS:
        if isinstance(exc, cls):
            detail = public_detail(exc) if status >= 500 else str(exc)
            body: dict[str, object] = {"error": code, "field": getattr(exc, "field", None), "detail": detail}
            if isinstance(exc, NotFound):
                body["suggestions"] = exc.suggestions
            if isinstance(exc, Ambiguous):
                body["candidates"] = exc.candidates
            return status, body
    return 500, {"error": "internal", "field": None, "detail": GENERIC_DETAIL["internal"]}


def public_detail(exc: LineageError) -> str:
    """What a 5xx answer says of `exc`: a message written for callers (`public`), else a generic one."""
    public = getattr(exc, "public", None)
    if public:
        return str(public)
    kind = "disk_full" if isinstance(exc, DiskFull) else "store_unavailable" if isinstance(exc, StoreUnavailable) else "store_error"
    return GENERIC_DETAIL[kind]


def reject_reason(exc: LineageError) -> str:
    """A bounded label for a refusal: the error code and the top-level field it names."""
    if isinstance(exc, InvalidEvent):
        top = exc.field.split(".")[0].split("[")[0]
        return f"invalid:{top or 'body'}"
    return "too_large" if isinstance(exc, PayloadTooLarge) else "other"


INGEST_ROUTES = frozenset({"/api/v1/lineage", "/api/v1/lineage/batch"})


def error_response(request: Request, exc: LineageError, problems: list[dict[str, str]] | None = None) -> Response:
    """The answer to a request that failed with `exc`: refusals of ingest routes are counted as
    rejects, other client errors as query errors, and the request's log line names the cause."""
    status, body = error_body(exc)
    if problems:
        body["problems"] = problems
    metrics = request.app.state.metrics
    if status in (400, 413) and request.url.path in INGEST_ROUTES:
        metrics.rejects.labels(reject_reason(exc)).inc()
    elif 400 <= status < 500:
        metrics.query_errors.labels(str(body["error"])).inc()
    if isinstance(exc, DiskFull):
        request.app.state.ingest.committer.note_disk_full(exc)  # once per episode
    elif isinstance(exc, Overloaded):
        pass  # shed by design: counted in the metrics and named in the request's log line, no more
    elif status >= 500:
        # The cause, which the answer keeps to itself.
        log.error("request failed: %s %s: %s", request.method, request.url.path, exc)
    # The request log line (api/observe.py) carries the error code, the field and the detail.
    request.scope["lineage.error"] = {k: body[k] for k in ("error", "field", "detail") if k in body}
    retry = str(getattr(exc, "retry_after", None) or 1)
    headers = {"Retry-After": retry} if status == 503 else {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if request.scope.get("lineage.unread_body"):
        # The rest of that body is not wanted: close, rather than read it to reuse the connection.
        headers = (headers or {}) | {"Connection": "close"}
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
                if isinstance(kept, DiskFull):
                    return error_response(request, kept)  # logged once per episode there
                log.error("a refused event could not be kept: %s", kept)
                return error_response(request, StoreUnavailable(f"refused ({exc}), and it could not be kept: {kept}"))
    return error_response(request, exc)


def field_of(location: tuple[object, ...] | list[object]) -> str:
    """`depth` for ("query", "depth"), `body.tag` for ("body", "tag"): where a value was wrong."""
    parts = [str(p) for p in location]
    if parts and parts[0] in {"query", "path", "header", "cookie"}:
        parts = parts[1:]
    return ".".join(parts)


HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 400: "invalid_input", 413: "payload_too_large"}


ERROR_SCHEMA: dict[str, object] = {
    "title": "Error",
    "type": "object",
    "required": ["error", "field", "detail"],
    "properties": {
        "error": {"type": "string", "description": "a short code: invalid_input, not_found, store_unavailable, ..."},
        "field": {"type": ["string", "null"], "description": "where the input was wrong, when it was"},
        "detail": {"type": "string"},
        "problems": {"type": "array", "items": {"type": "object"}, "description": "every invalid parameter, when several were"},
    },
}


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document as the service answers: a validation failure is our 400, not
    FastAPI's 422 with its own body (issue 31)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components["Error"] = ERROR_SCHEMA
    invalid = {
        "description": "Invalid input",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            if responses.pop("422", None) is not None:
                # The Marquez-compatible routes answer some 400s in Marquez's own shape.
                marquez = "marquez" in operation.get("tags", [])
                responses.setdefault("400", {"description": "Invalid input"} if marquez else invalid)
    return schema


def install(app: FastAPI) -> None:
    build_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(build_openapi())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        # FastAPI's own 422 `{"detail": [...]}` becomes our 400 naming the first bad field;
        # the other problems follow in `problems`, each with its field.
        problems = [{"field": field_of(e.get("loc", ())), "detail": str(e.get("msg", "invalid"))} for e in exc.errors()]
        first = problems[0] if problems else {"field": "", "detail": "invalid request"}
        return error_response(request, InvalidEvent(first["field"], first["detail"]), problems if len(problems) > 1 else None)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        # Unknown paths and methods answer in our shape too, not Starlette's `{"detail": ...}`.
        code = HTTP_CODES.get(exc.status_code, "internal" if exc.status_code >= 500 else "http_error")
        detail = {
            404: f"no route {request.url.path}",
            405: f"{request.method} is not allowed on {request.url.path}",
        }.get(exc.status_code, str(exc.detail) if exc.status_code < 500 else GENERIC_DETAIL["internal"])
        if exc.status_code < 500:
            request.app.state.metrics.query_errors.labels(code).inc()
        request.scope["lineage.error"] = {"error": code, "detail": detail}
        return json_response({"error": code, "field": None, "detail": detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(LineageError)
    async def _lineage_error(request: Request, exc: LineageError) -> Response:
        return await refusal_response(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error: %s %s", request.method, request.url.path)
        return json_response({"error": "internal", "field": None, "detail": GENERIC_DETAIL["internal"]}, status_code=500)
