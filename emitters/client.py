"""The OpenLineage client a pipeline sends through, and what happens while the service is away.

Where events go is OpenLineage configuration, read by openlineage-python itself (code, then
`openlineage.yml`, then `OPENLINEAGE__...` variables, or `OPENLINEAGE_URL`): HTTP to this
service or another backend, a file, the console, Kafka, several at once. Only when none of
them names a transport do we pick HTTP to the local service, rather than the client's silent
console fallback.

Resilience (issue 4): the HTTP transport already retries 5xx and connection errors a bounded
number of times with backoff (its `retry` setting). When that is not enough the `Emitter` warns
and the pipeline goes on: the event is kept in memory, and for `offline_seconds` later events
are kept too without trying (an outage costs one retry cycle, not one per step); they are sent
with the next event after that and at `close()`. A 4xx is final: the service refused that event
and sending it again cannot help. With `strict`, any undelivered event raises `EmitError`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import requests
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import RunEvent
from openlineage.client.transport import Transport
from openlineage.client.transport.noop import NoopConfig, NoopTransport
from openlineage.client.utils import deep_merge_dicts

from emitters.facets import DEFAULT_SERVICE_URL, stamp_facets

log = logging.getLogger("emitters")

# Fewer retries than the client's default (5, about 9 s of backoff), so an absent service costs
# a pipeline about a second per outage rather than nine.
DEFAULT_RETRY: dict[str, Any] = {"total": 3, "connect": 3, "read": 3, "backoff_factor": 0.2}


def http_transport(url: str, api_key: str | None = None) -> dict[str, Any]:
    """OpenLineage HTTP transport configuration for our service at `url` (Bearer `api_key`)."""
    config: dict[str, Any] = {"type": "http", "url": url, "retry": dict(DEFAULT_RETRY)}
    if api_key:
        config["auth"] = {"type": "api_key", "apiKey": api_key}
    return config


# Our default when nothing is configured: the service `make run` starts.
DEFAULT_TRANSPORT = http_transport(DEFAULT_SERVICE_URL)
# 4xx answers that mean "not now" rather than "not this event".
_RETRYABLE_4XX = {408, 425, 429}


class EmitError(RuntimeError):
    """Strict mode: an event could not be delivered (the cause is chained)."""


def _configured(config: dict[str, Any] | None) -> bool:
    """Does OpenLineage configuration (code, file, environment) name a transport?"""
    if os.environ.get("OPENLINEAGE_URL") or os.environ.get("OPENLINEAGE_DISABLED", "").strip().lower() == "true":
        return True
    # A client given a transport does not resolve one; its merged config is what we ask.
    probe = OpenLineageClient(transport=NoopTransport(NoopConfig()), config=config)
    return bool((probe.config.transport or {}).get("type"))


def build_client(config: dict[str, Any] | None = None) -> OpenLineageClient:
    """An OpenLineage client configured the OpenLineage way; HTTP to the local service when
    nothing says otherwise."""
    if not _configured(config):
        config = deep_merge_dicts({"transport": DEFAULT_TRANSPORT}, config or {})
    return OpenLineageClient(config=config)


def service_url(transport: Transport) -> str | None:
    """Base URL of the (first) HTTP transport, where our facet schemas are published."""
    if transport.kind in ("http", "async_http"):
        url = getattr(transport, "url", None)
        return str(url).rstrip("/") if url else None
    for child in getattr(transport, "transports", None) or []:
        if url := service_url(child):
            return url
    return None


def _refused(exc: Exception) -> int | None:
    """The status of a final 4xx answer, else None (unreachable, 5xx, timeouts...)."""
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        status = exc.response.status_code
        if 400 <= status < 500 and status not in _RETRYABLE_4XX:
            return status
    return None


def _describe(event: RunEvent) -> str:
    return f"{event.eventType.value if event.eventType else 'OTHER'} of {event.job.namespace}/{event.job.name} (run {event.run.runId})"


class Emitter:
    """Sends events through an OpenLineage client; keeps the pipeline going when it cannot."""

    def __init__(
        self,
        client: OpenLineageClient,
        *,
        strict: bool = False,
        schema_base_url: str | None = None,
        offline_seconds: float = 30.0,
        max_backlog: int = 1000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.strict = strict
        self.schema_base_url = (schema_base_url or service_url(client.transport) or DEFAULT_SERVICE_URL).rstrip("/")
        self.offline_seconds = offline_seconds
        self.max_backlog = max(1, max_backlog)
        self._monotonic = monotonic
        self._backlog: deque[RunEvent] = deque()
        self._offline_until: float | None = None
        self._lock = threading.Lock()
        self.delivered = 0
        self.refused = 0
        self.dropped = 0

    @property
    def pending(self) -> int:
        """Events kept while the service was away, not yet delivered."""
        return len(self._backlog)

    def emit(self, event: RunEvent) -> bool:
        """Send one event; True when it was delivered now. Raises EmitError only when strict."""
        stamp_facets(event, self.schema_base_url)
        with self._lock:
            if self.strict:
                self._send_strict(event)
                return True
            if self._offline_until is not None and self._monotonic() < self._offline_until:
                self._keep(event)
                return False
            if not self._drain():
                self._keep(event)
                return False
            return self._send(event)

    def flush(self) -> bool:
        """Try to deliver the kept events now, whatever the cool-down; True when none is left."""
        with self._lock:
            return self._drain()

    def close(self) -> bool:
        """Deliver what was kept (one more bounded try), close the transport; True when nothing
        was lost."""
        with self._lock:
            drained = self._drain()
            if not drained:
                log.warning(
                    "lineage: %d event(s) could not be delivered and are lost; first: %s",
                    len(self._backlog),
                    _describe(self._backlog[0]),
                )
                self.dropped += len(self._backlog)
                self._backlog.clear()
        self.client.close()
        return drained and self.dropped == 0

    # --- internals (called with the lock held) -------------------------------------------
    def _send_strict(self, event: RunEvent) -> None:
        try:
            self.client.emit(event)
        except Exception as exc:
            raise EmitError(f"lineage: could not deliver {_describe(event)}: {exc}") from exc
        self.delivered += 1

    def _send(self, event: RunEvent) -> bool:
        """One attempt (the transport retries within it); False when the event was not delivered."""
        try:
            self.client.emit(event)
        except Exception as exc:
            if (status := _refused(exc)) is not None:
                self.refused += 1
                log.error("lineage: the service refused %s with %d: %s", _describe(event), status, exc)
                return False
            self._went_offline(exc)
            self._keep(event)
            return False
        self.delivered += 1
        return True

    def _drain(self) -> bool:
        """Send kept events oldest first; stop at the first one that still cannot go."""
        recovered = 0
        while self._backlog:
            event = self._backlog.popleft()
            try:
                self.client.emit(event)
            except Exception as exc:
                if (status := _refused(exc)) is not None:
                    self.refused += 1
                    log.error("lineage: the service refused %s with %d: %s", _describe(event), status, exc)
                    continue
                self._backlog.appendleft(event)
                self._went_offline(exc)
                return False
            self.delivered += 1
            recovered += 1
        if recovered:
            log.warning("lineage: the service is back; delivered %d kept event(s)", recovered)
        self._offline_until = None
        return True

    def _went_offline(self, exc: Exception) -> None:
        first = self._offline_until is None
        self._offline_until = self._monotonic() + self.offline_seconds
        if first:
            log.warning(
                "lineage: cannot deliver events (%s); the pipeline goes on, events are kept and retried "
                "in %.0f s and at close (set LINEAGE_EMIT_STRICT=true to fail instead)",
                exc,
                self.offline_seconds,
            )

    def _keep(self, event: RunEvent) -> None:
        if len(self._backlog) >= self.max_backlog:
            self._backlog.popleft()
            self.dropped += 1
            if self.dropped == 1:
                log.warning("lineage: more than %d undelivered events; dropping the oldest", self.max_backlog)
        self._backlog.append(event)
