"""Request metrics and one structured log line per request."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

log = logging.getLogger("lineage.http")


def install(app: FastAPI) -> None:
    @app.middleware("http")
    async def _observe(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.monotonic()
        response = await call_next(request)
        elapsed = time.monotonic() - started
        route = getattr(request.scope.get("route"), "path", "unmatched")  # the template: bounded label values
        metrics = request.app.state.metrics
        metrics.requests.labels(request.method, route, str(response.status_code)).inc()
        metrics.request_latency.labels(route).observe(elapsed)
        if route in ("/api/v1/lineage", "/api/v1/lineage/batch") and response.status_code < 300:
            metrics.ack_latency.observe(elapsed)
        log.info(
            "request",
            extra={"method": request.method, "route": route, "status": response.status_code, "duration_ms": round(elapsed * 1000, 2)},
        )
        return response
