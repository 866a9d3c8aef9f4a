"""Request metrics and one structured log line per request."""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("lineage.http")
ACK_ROUTES = frozenset({"/api/v1/lineage", "/api/v1/lineage/batch"})


class Observe:
    """Plain ASGI middleware: Starlette's BaseHTTPMiddleware runs each request in an extra task
    with memory streams between, which cost more than the ingest route itself."""

    def __init__(self, app: ASGIApp, metrics: Any) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        status = 500  # what the client sees if the app fails before it answers

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            elapsed = time.monotonic() - started
            route = getattr(scope.get("route"), "path", "unmatched")  # the template: bounded label values
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.request_latency.labels(route).observe(elapsed)
            if route in ACK_ROUTES and status < 300:
                self.metrics.ack_latency.observe(elapsed)
            if log.isEnabledFor(logging.INFO):
                extra = {"method": scope["method"], "route": route, "status": status, "duration_ms": round(elapsed * 1000, 2)}
                extra |= scope.get("lineage.error") or {}  # api/errors.py: the error code, field and detail
                log.info("request", extra=extra)


def install(app: FastAPI) -> None:
    app.add_middleware(Observe, metrics=app.state.metrics)
