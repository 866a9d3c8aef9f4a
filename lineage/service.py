"""Ingest service: request bodies -> events -> group-committed store transactions."""

from __future__ import annotations

import gzip
import logging
import queue
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import orjson

from lineage.errors import DiskFull, IngestFault, InvalidEvent, PayloadTooLarge, StoreError, StoreUnavailable
from lineage.events import Event
from lineage.ids import format_time
from lineage.ingest.parse import decode_json, parse_event
from lineage.metrics import Metrics
from lineage.store.base import IngestOutcome, Store


log = logging.getLogger("lineage.ingest")


def now() -> str:
    return format_time(datetime.now(timezone.utc))


def decompress(body: bytes, encoding: str | None, limit: int) -> bytes:
    """Undo `Content-Encoding: gzip` without ever holding more than `limit` bytes (zip bombs).
    Concatenated gzip members are one stream (RFC 1952); anything else after the last member,
    and a member cut short, is refused rather than stored as if the body were whole."""
    if not encoding or encoding.lower() == "identity":
        return body
    if encoding.lower() not in {"gzip", "x-gzip"}:
        raise InvalidEvent("Content-Encoding", f"unsupported encoding {encoding!r} (use gzip)")
    out, rest = bytearray(), body
    while True:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            out += inflater.decompress(rest, limit + 1 - len(out))
        except zlib.error as exc:
            raise InvalidEvent("Content-Encoding", f"body is not valid gzip: {exc}") from None
        if len(out) > limit or inflater.unconsumed_tail:
            raise PayloadTooLarge(f"decompressed body is over the limit of {limit} bytes")
        if not inflater.eof:
            raise InvalidEvent("Content-Encoding", "gzip body is truncated: the stream ends before its last block")
        rest = inflater.unused_data
        if not rest:
            return bytes(out)
        if not rest.startswith(GZIP_MAGIC):
            raise InvalidEvent("Content-Encoding", f"{len(rest)} bytes that are not gzip follow the gzip body")


GZIP_MAGIC = b"\x1f\x8b"


def split_batch(raw: bytes) -> list[Any]:
    """A JSON array of events, or NDJSON (one event per line); a line that is not JSON is kept
    as an error so the rest of the batch can still be accepted."""
    text = raw.lstrip()
    if text.startswith(b"["):
        value = decode_json(raw)
        if not isinstance(value, list):
            raise InvalidEvent("", "a batch must be a JSON array or NDJSON")
        return value
    items: list[Any] = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            error = InvalidEvent(f"line {number}", f"malformed JSON: {exc}")
            error.raw = line  # what the dead-letter store keeps of it
            items.append(error)
    return items


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One event of a batch: its outcome, or why it was rejected."""

    index: int
    outcome: IngestOutcome | None = None
    error: InvalidEvent | None = None
    raw: bytes = b""  # a rejected item as it came (re-encoded where it was valid JSON)
    value: Any = None  # a rejected item's JSON value, where it had one


@dataclass
class _Request:
    events: Sequence[Event]
    future: Future[list[IngestOutcome]]
    queued: float = 0.0  # time.monotonic() at submit


class Overloaded(StoreUnavailable):
    """Ingest is refused at once: the queue's wait is over its bound, or the writer is stuck (issue 31)."""


class GroupCommitter:
    """Gathers concurrent ingest requests into one store transaction (DESIGN.md section 2).

    A request's future resolves only after the transaction holding its events has committed,
    so an acknowledgement always means the events are durable.
    """

    def __init__(
        self,
        store: Store,
        max_events: int = 500,
        max_wait_ms: float = 0.0,
        metrics: Metrics | None = None,
        ingest: Callable[[Sequence[Event], str], list[IngestOutcome]] | None = None,
        deadline_s: float = 3.0,
        max_queue_wait_s: float | None = None,
    ) -> None:
        self.store = store
        # A commit later than this after its request was queued is logged as late: the request
        # was likely answered 503 by then (api/deadline.py) and its retry is a duplicate.
        self.deadline = deadline_s
        # Shedding: new requests are refused while the oldest unanswered one waited this long.
        self.max_queue_wait = max_queue_wait_s
        self._oldest: list[float] = []  # queued times of unanswered requests, oldest first
        self._busy_since: float | None = None  # when the commit in hand started
        self._disk_full = False  # within a disk-full episode: logged once, at its start
        self._times = threading.Lock()
        # Where the transactions run: the store's own ingest, or a writer process's (SQLite).
        self.ingest = ingest or store.ingest
        self.metrics = metrics
        self.max_events = max_events
        self.max_wait = max_wait_ms / 1000
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
        self._thread.start()

    def submit(self, events: Sequence[Event]) -> Future[list[IngestOutcome]]:
        """A future of the events' outcomes, resolved once they committed. Raises Overloaded at
        once while the queue's wait is over its bound, so the caller answers 503 with no wait."""
        future: Future[list[IngestOutcome]] = Future()
        if not events:
            future.set_result([])
            return future
        queued = time.monotonic()
        waited = self.queue_wait(queued)
        if self.max_queue_wait is not None and waited > self.max_queue_wait:
            if self.metrics:
                self.metrics.store_errors.labels("shed").inc()
            stuck = self.stalled(queued)
            raise Overloaded(
                f"ingest refused: the oldest request has waited {waited:.1f} s for its commit"
                + (" (the writer is stuck)" if stuck else ""),
                public="the writer is not committing right now; retry later" if stuck else "ingest is overloaded; retry later",
                retry_after=1,
            )
        with self._times:
            self._oldest.append(queued)
        self._queue.put(_Request(events, future, queued))
        return future

    def note_disk_full(self, exc: DiskFull) -> None:
        """Log a full disk once per episode (until a commit succeeds again), not once per
        refused request: a full disk under load would otherwise flood the log it fills."""
        if not self._disk_full:
            self._disk_full = True
            log.error("the store's disk is full: ingest answers 503 until space is freed; reads go on: %s", exc)

    def queue_wait(self, at: float | None = None) -> float:
        """How long the oldest unanswered request (queued or in a commit) has waited, in seconds."""
        with self._times:
            oldest = self._oldest[0] if self._oldest else None
        return 0.0 if oldest is None else (at or time.monotonic()) - oldest

    def stalled(self, at: float | None = None) -> float:
        """Seconds the commit in hand has run past the deadline (0 when none has): /readyz
        answers 503 while the writer is stuck."""
        started = self._busy_since
        if started is None:
            return 0.0
        return max(0.0, (at or time.monotonic()) - started - self.deadline)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _gather(self, first: _Request) -> tuple[list[_Request], bool]:
        batch, count, stop = [first], len(first.events), False
        deadline = None
        while count < self.max_events:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                if self.max_wait <= 0:
                    break
                deadline = deadline or time.monotonic() + self.max_wait
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    item = self._queue.get(timeout=remaining)
                except queue.Empty:
                    break
            if item is None:
                stop = True
                break
            batch.append(item)
            count += len(item.events)
        return batch, stop

    def _drain(self) -> list[_Request]:
        drained = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return drained
            if item is None:
                self._queue.put(None)  # keep the stop signal for the loop
                return drained
            drained.append(item)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch, stop = self._gather(first)
            self._commit(batch)
            if stop:
                return

    def _answered(self, batch: list[_Request]) -> None:
        with self._times:
            for request in batch:
                try:
                    self._oldest.remove(request.queued)
                except ValueError:
                    pass

    def _commit(self, batch: list[_Request]) -> None:
        try:
            self._commit_batch(batch)
        finally:
            self._answered(batch)

    def _commit_batch(self, batch: list[_Request]) -> None:
        events = [e for request in batch for e in request.events]
        started = time.monotonic()
        self._busy_since = started
        try:
            outcomes = self.ingest(events, now())
        except Exception as exc:
            self._busy_since = None
            if isinstance(exc, DiskFull):
                self.note_disk_full(exc)
            if self.metrics:
                kind = "unavailable" if isinstance(exc, StoreUnavailable) else "error" if isinstance(exc, StoreError) else "unexpected"
                self.metrics.store_errors.labels(kind).inc()
            self._fail(batch, exc)
            return
        self._busy_since = None
        if self._disk_full:
            self._disk_full = False
            log.warning("the store's disk has room again: ingest is accepted again")
        finished = time.monotonic()
        late = [r for r in batch if finished - r.queued > self.deadline]
        if late:
            # Those requests were answered 503 at their deadline, yet their events are stored:
            # a client's retry of them is acknowledged as a duplicate, never stored twice.
            log.warning(
                "late commit: %d events of %d requests committed %.1f s after they were queued (deadline %.1f s)",
                sum(len(r.events) for r in late), len(late), finished - min(r.queued for r in late), self.deadline,
                extra={"late_requests": len(late), "commit_seconds": round(finished - started, 3)},
            )
        if self.metrics:
            self.metrics.commit_batch.observe(len(events))
            self.metrics.commit_latency.observe(time.monotonic() - started)
            for event, outcome in zip(events, outcomes, strict=True):
                self.metrics.events.labels("created" if outcome.created else "duplicate").inc()
                for problem in event.warnings if outcome.created else ():
                    self.metrics.warnings.labels(problem.problem).inc()
        start = 0
        for request in batch:
            _settle(request.future, outcomes[start : start + len(request.events)])
            start += len(request.events)

    def _fail(self, batch: list[_Request], exc: Exception) -> None:
        if isinstance(exc, StoreUnavailable):
            # Nothing can commit now: answer 503 to this batch and to everything already
            # queued behind it at once, rather than make each wait for another failing commit.
            drained = self._drain()
            self._answered(drained)
            for request in batch + drained:
                _settle(request.future, exc)
            return
        if len(batch) == 1:
            # A fault of ours (not the store's) is told apart, so a Kafka consumer can set the
            # event aside rather than retry it forever; HTTP answers both 500.
            _settle(batch[0].future, exc if isinstance(exc, StoreError) else IngestFault.of(exc))
            return
        # One request must not fail the others: commit each on its own.
        for request in batch:
            self._commit_batch([request])


def _settle(future: Future[list[IngestOutcome]], result: list[IngestOutcome] | BaseException) -> None:
    """Resolve a request's future unless its waiter gave up on it (a cancelled future)."""
    if future.cancelled():
        return
    try:
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)
    except InvalidStateError:
        pass  # cancelled meanwhile


ANNOTATION_PRODUCER = "urn:lineage-graph:annotations"


def annotation_body(target: str, ref: str, tag: str, reason: str, author: str, at: str) -> dict[str, Any]:
    """An annotation as an event of the log, so it is evidence like any other (issue 3)."""
    return {
        "eventTime": at,
        "producer": ANNOTATION_PRODUCER,
        "schemaURL": "/schemas/annotation.json",
        "annotation": {"target": target, "ref": ref, "tag": tag, "reason": reason, "author": author},
    }


class IngestService:
    """Parsing and validation in front of the group committer; the API and CLI share it."""

    def __init__(self, store: Store, committer: GroupCommitter, max_batch_events: int) -> None:
        self.store = store
        self.committer = committer
        self.max_batch_events = max_batch_events
        # Where the HTTP ingest routes send events when it is not the store: a Kafka topic
        # (lineage/kafka_writer.py TopicWriter, LINEAGE_KAFKA_HTTP_TO_TOPIC), or None.
        self.topic: Any = None

    def annotation(self, ref: str, tag: str, reason: str, author: str) -> Event:
        """Resolve the ref and build the annotation event for it (not yet stored)."""
        from lineage.refs import resolve_ref

        target = resolve_ref(self.store, ref)
        return parse_event(annotation_body(target.id, ref, tag, reason, author, now()))

    def parse_one(self, raw: bytes) -> Event:
        return parse_event(decode_json(raw))

    def parse_batch(self, raw: bytes) -> tuple[list[Event], list[int], list[BatchItem]]:
        """Valid events with their positions, and the rejected items."""
        items = split_batch(raw)
        if not items:
            raise InvalidEvent("", "empty batch: send at least one OpenLineage event")
        if len(items) > self.max_batch_events:
            raise PayloadTooLarge(f"batch of {len(items)} events is over the limit of {self.max_batch_events}")
        events, positions, rejected = [], [], []
        for index, item in enumerate(items):
            try:
                if isinstance(item, InvalidEvent):
                    raise item
                events.append(parse_event(item))
                positions.append(index)
            except InvalidEvent as exc:
                raw = getattr(item, "raw", b"") if isinstance(item, InvalidEvent) else orjson.dumps(item)
                rejected.append(BatchItem(index, error=exc, raw=raw, value=None if isinstance(item, InvalidEvent) else item))
        return events, positions, rejected


def combine(positions: Iterable[int], outcomes: Iterable[IngestOutcome], rejected: list[BatchItem]) -> list[BatchItem]:
    items = [BatchItem(i, outcome=o) for i, o in zip(positions, outcomes, strict=True)] + rejected
    return sorted(items, key=lambda item: item.index)


def read_events_file(raw: bytes, name: str) -> list[Any]:
    """Events in a file: one JSON object, a JSON array, or NDJSON; `.gz` files are unpacked."""
    if name.endswith(".gz"):
        raw = gzip.decompress(raw)
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return split_batch(raw)  # NDJSON, or malformed: split_batch says which line
    return value if isinstance(value, list) else [value]
