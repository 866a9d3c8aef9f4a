"""uvicorn's HTTP protocol with the limits it lacks (issue 31): a deadline for a request's head,
a bound on its size (431), idle new connections closed like idle kept-alive ones, and the
concurrency limit's 503 in the service's error shape with Retry-After.

uvicorn (0.54, httptools) arms its keep-alive timer only after a response, and disarms it at
the first byte received: a connection that never sends a byte, or sends half a head and stops,
was held forever, and httptools buffers a header line of any length until it ends. This
subclass counts a head's bytes as they arrive (feeding the parser no more than the limit
allows), closes a head that has not arrived whole within its deadline, and arms the idle timer
when a connection opens. Everything else is uvicorn's own. Removing it loses the limits, not a
feature: `lineage serve` would then need a proxy in front for them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
    b"connection: close\r\ncontent-length: %d\r\n\r\n%s"
)


# How long a connection refused mid-request keeps reading (and dropping) what its client still
# sends, after the answer and a half-close: closing with unread bytes makes the kernel reset the
# connection, and the client would see a reset instead of the 408, 431 or 503 it can act on.
LINGER_SECONDS = 2.0


class _Lingering:
    """The connection's transport, whose `close()` half-closes first while the request is still
    arriving (see LINGER_SECONDS); every other call goes to the transport itself."""

    def __init__(self, transport: asyncio.Transport, protocol: LimitedHttpTools) -> None:
        self._transport = transport
        self._protocol = protocol
        self.lingering = False

    def close(self) -> None:
        if self.lingering or self._transport.is_closing():
            return
        if not self._protocol.unread() or not self._transport.can_write_eof():
            self._transport.close()
            return
        self.lingering = True
        self._transport.write_eof()  # after what is buffered: the answer goes out whole
        self._transport.resume_reading()
        self._protocol.loop.call_later(LINGER_SECONDS, self._transport.close)

    def is_closing(self) -> bool:
        return self.lingering or self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


@dataclass(frozen=True)
class HeadLimits:
    """What `lineage serve` hands each connection (picklable: workers are spawned processes)."""

    max_bytes: int
    read_seconds: float


async def _busy(scope: Scope, receive: Receive, send: Send) -> None:
    """The answer past the concurrency limit (uvicorn's own is plain text without Retry-After)."""
    body = b'{"error":"overloaded","field":null,"detail":"too many connections at once; retry later"}'
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body)),
               (b"retry-after", b"1"), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class LimitedHttpTools(HttpToolsProtocol):
    """HttpToolsProtocol with `HeadLimits`; built by uvicorn as `http=partial(LimitedHttpTools, limits=...)`."""

    def __init__(self, *args: Any, limits: HeadLimits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits
        # The concurrency limit is checked here (on_headers_complete), to answer it our way.
        self._max_concurrency, self.limit_concurrency = self.limit_concurrency, None
        self._in_head = True  # the next bytes belong to a request's head
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._lingering = _Lingering(transport, self)
        super().connection_made(self._lingering)  # type: ignore[arg-type]
        # A connection that opens and never speaks is idle like a kept-alive one.
        self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self.timeout_keep_alive_handler)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def unread(self) -> bool:
        """Whether the client is still sending this request: part of a head, or a body not yet whole."""
        if self._in_head:
            return self._head_bytes > 0
        return self.cycle is not None and self.cycle.more_body

    def data_received(self, data: bytes) -> None:
        if self._lingering.lingering:
            return  # refused already: what still comes is dropped
        if not self._in_head:
            super().data_received(data)
            return
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.limits.read_seconds, self._head_late)
        room = self.limits.max_bytes - self._head_bytes
        if len(data) <= room:
            self._head_bytes += len(data)
            super().data_received(data)
            return
        # Feed only what the limit allows: if the head ends within it, the rest is body (or the
        # next request) and goes on as usual; if not, the head is too large.
        self._head_bytes += room
        super().data_received(data[:room])
        if self.transport.is_closing():
            return
        if self._in_head:
            self._refuse_head()
            return
        self.data_received(data[room:])

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._stop_head_timer()
        limit = self._max_concurrency
        if limit is None or (len(self.connections) < limit and len(self.tasks) < limit):
            super().on_headers_complete()
            return
        app, self.app = self.app, _busy  # uvicorn runs `self.app` for the request being started
        try:
            super().on_headers_complete()
        finally:
            self.app = app

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head, self._head_bytes = True, 0  # a pipelined request's head may follow

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_late(self) -> None:
        self._head_timer = None
        if self._in_head and not self.transport.is_closing():
            self.transport.close()  # too slow to be a client worth an answer; frees what it sent

    def _refuse_head(self) -> None:
        self._stop_head_timer()
        body = b'{"error":"headers_too_large","field":null,"detail":"the request line and headers are over %d bytes"}' % (
            self.limits.max_bytes
        )
        self.transport.write(TOO_LARGE % (len(body), body))
        self.transport.close()
