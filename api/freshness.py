"""Answers that say how fresh they are, and reads that wait for a read-after token (issue 34).

Where the Kafka path is in front of the store (HTTP into the topic, or a consumer beside the
API), an event can be acknowledged before the graph holds it. Every answer of a read under
`/api/` then carries, in response headers, the store's log head as it was before the answer was
computed (so the answer holds at least that much), and the lag of this process's consumer where
it runs one. Headers rather than a body field: every answer keeps its body shape, the
Marquez-compatible ones included. A request that passes a token (`X-Lineage-After`, from a 202
ingest answer) is answered only once the consumers committed past its offsets, or 503 with
Retry-After after `LINEAGE_KAFKA_READ_AFTER_MAX_WAIT_SECONDS`. docs/kafka.md has the contract.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response
from lineage.errors import InvalidEvent, LineageError, NotYetStored, StoreError
from lineage.freshness import AFTER_HEADER, CommittedOffsets, Position, parse_token
from lineage.settings import Settings

log = logging.getLogger("lineage.api")

# Beside the audit report's X-Lineage-Log-Head (the head's hash) and -Log-Entries, not instead.
HEAD_HEADER = "X-Lineage-Head-Seq"  # the seq of the newest log entry (0: an empty log)
HEAD_AT_HEADER = "X-Lineage-Head-Received-At"  # when the store received it
LAG_HEADER = "X-Lineage-Consumer-Lag"  # messages this process's consumer has yet to ingest
# How often a waiting read asks Kafka again; committed offsets seen are remembered, so a
# satisfied token costs no round trip.
POLL_S = 0.1
READS = frozenset({"GET", "HEAD"})


class Freshness:
    """Plain ASGI middleware (see api/observe.py for why not BaseHTTPMiddleware), outside the
    request deadline: waiting for a token is bounded on its own."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.kafka = bool(settings.kafka_bootstrap)
        self.stamp = self.kafka and (settings.kafka_http_to_topic or settings.kafka_consume)
        self.bound = settings.kafka_read_after_max_wait_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        after = Headers(scope=scope).get(AFTER_HEADER)
        stamp = self.stamp and scope["method"] in READS
        if after is None and not stamp:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        failure: LineageError | None = None
        if after is not None:
            try:
                await self._wait(request, after)
            except LineageError as exc:
                failure = exc
        extra = await self._headers(request) if stamp else {}

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start" and extra:
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    headers.setdefault(name, value)
            await send(message)

        if failure is not None:
            await error_response(request, failure)(scope, receive, stamped)
            return
        await self.app(scope, receive, stamped)

    async def _wait(self, request: Request, after: str) -> None:
        if not self.kafka:
            raise InvalidEvent(AFTER_HEADER, "this service takes no events through Kafka: no token of it to wait for")
        places = parse_token(after)
        offsets = committed_offsets(request.app)
        deadline = time.monotonic() + self.bound
        while True:
            pending = await run_in_threadpool(offsets.pending, places, max(min(deadline - time.monotonic(), 5.0), 0.5))
            if not pending:
                return
            if time.monotonic() >= deadline:
                raise NotYetStored(_not_yet(pending, len(places), self.bound))
            await asyncio.sleep(POLL_S)

    async def _headers(self, request: Request) -> dict[str, str]:
        out: dict[str, str] = {}
        try:
            head = await run_in_threadpool(request.app.state.store.log_head)
        except StoreError as exc:
            # The answer itself says whether the store answers; freshness is left out.
            log.debug("log head not read: %s", exc)
        else:
            out[HEAD_HEADER] = str(head[0] if head else 0)
            if head:
                out[HEAD_AT_HEADER] = head[1]
        consumer = getattr(request.app.state, "kafka_consumer", None)
        if consumer is not None and consumer.status.lag is not None:
            out[LAG_HEADER] = str(consumer.status.lag)
        return out


def _not_yet(pending: list[Position], places: int, bound: float) -> str:
    first = pending[0]
    return (
        f"the store does not hold the token's events yet: the consumers have not committed past {len(pending)} of"
        f" its {places} partition offsets (first {first.topic}:{first.partition}:{first.offset}) within {bound:g} s"
    )


_lock = threading.Lock()


def committed_offsets(app: FastAPI) -> CommittedOffsets:
    """The app's reader of the group's committed offsets, made at the first token it waits for."""
    with _lock:
        offsets = getattr(app.state, "committed_offsets", None)
        if offsets is None:
            offsets = app.state.committed_offsets = CommittedOffsets(app.state.settings)
        return offsets


def close(app: FastAPI) -> None:
    offsets = getattr(app.state, "committed_offsets", None)
    if offsets is not None:
        offsets.close()
        app.state.committed_offsets = None


def install(app: FastAPI, settings: Settings) -> None:
    """After the deadline's middleware (so outside it), before `observe.install` (inside the
    metrics and the request log, which see a wait and its 503)."""
    app.add_middleware(Freshness, settings=settings)
