"""Request deadlines (issue 31): an answer within a bound, whatever the store, writer or lock does.

A request still unanswered at its deadline is answered 503 with Retry-After, in the error shape
of api/errors.py, so an OpenLineage client (5 s timeout by default) retries it instead of timing
out. The work itself cannot be interrupted (it may be a thread blocked in SQLite, or a commit in
the writer process): it goes on, its answer is dropped, and a commit that lands late is logged by
the group committer. Ingest is idempotent, so the client's retry is acknowledged as a duplicate.

The clock starts once the request's body has arrived whole: uploading is bounded on its own
(`body_read_seconds`, api/deps.py), and a slow link must not eat the store's time.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.responses import json_response

log = logging.getLogger("lineage.api")

# Routes answered within the short deadline; every other one gets the query deadline.
SHORT_ROUTES = ("/api/v1/lineage", "/readyz", "/healthz", "/metrics")


class Deadline:
    """Plain ASGI middleware (see api/observe.py for why not BaseHTTPMiddleware)."""

    def __init__(self, app: ASGIApp, short_s: float, long_s: float) -> None:
        self.app = app
        self.short = short_s
        self.long = long_s
        self._detached: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        bound = self.short if path.startswith(SHORT_ROUTES) else self.long
        clock = {"start": time.monotonic(), "reading": False}
        answered = {"started": False, "by_us": False}

        async def timed_receive() -> Message:
            clock["reading"] = True
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                clock["reading"] = False
                clock["start"] = time.monotonic()  # the body is whole: the deadline counts from here
            return message

        async def guarded_send(message: Message) -> None:
            if answered["by_us"]:
                return  # the deadline answered already; this late answer is dropped
            if message["type"] == "http.response.start":
                answered["started"] = True
            await send(message)

        task = asyncio.ensure_future(self.app(scope, timed_receive, guarded_send))
        while True:
            remaining = clock["start"] + bound - time.monotonic()
            done, _ = await asyncio.wait({task}, timeout=max(remaining, 0.0) if not clock["reading"] else bound)
            if done:
                task.result()
                return
            if clock["reading"] or answered["started"]:
                continue  # still uploading (bounded elsewhere), or already answering
            if time.monotonic() >= clock["start"] + bound:
                break
        answered["by_us"] = True
        # Not cancelled: a thread it waits for would hold the cancellation until it returns.
        self._detached.add(task)
        task.add_done_callback(self._finished)
        log.error("request deadline: %s %s unanswered after %.1f s", scope["method"], path, bound)
        scope["lineage.error"] = {"error": "deadline", "detail": f"no answer within {bound:g} s"}
        body = {
            "error": "store_unavailable",
            "field": None,
            "detail": f"the service could not answer within {bound:g} s (the store or its writer is not responding); retry later",
        }
        response = json_response(body, status_code=503, headers={"Retry-After": str(max(1, math.ceil(bound)))})
        await response(scope, receive, send)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._detached.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("a request answered at its deadline failed later: %s", task.exception())
