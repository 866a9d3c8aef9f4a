"""Kafka as a way in (issue 35): the consumer loop of `lineage consume` (HTTP ingest into the topic is lineage/kafka_writer.py).

The consumer reads OpenLineage events (one JSON event per message, as openlineage-python's and
the Java client's Kafka transports send them) from one or more topics as a member of a consumer
group, and puts each batch through the same ingest as HTTP: the same parsing and warnings, the
same group committer and store transaction, the same dead-letter store for what is refused. A
batch's offsets are committed to Kafka only after its store transaction committed, so a crash
between the two gives the batch again to whoever owns the partition next: at-least-once
delivery, made exactly-once in the graph by the content hash (a second copy of an event is a
duplicate of the log, never a second entry). Refused messages also go to a dead-letter topic,
with why in their headers. An event whose ingest fails with an error of ours (neither the
store's nor Kafka's) is found by ingesting the batch event by event, and set aside like a
refusal, so that it cannot stop the consumer for good. docs/kafka.md says how this meets
partitions and the hash chain.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from lineage.deadletter import DeadLetters, rejection_of
from lineage.errors import IngestFault, InvalidEvent, LineageError, PayloadTooLarge, StoreError
from lineage.events import Event
from lineage.ingest.parse import decode_json, parse_event
from lineage.metrics import Metrics
from lineage.service import now
from lineage.settings import Settings
from lineage.store.base import IngestOutcome, Rejection

log = logging.getLogger("lineage.kafka")

# A store or Kafka failure puts the batch back and waits this long, doubling up to the maximum.
RETRY_FIRST_S = 0.2
RETRY_MAX_S = 5.0
STATS_INTERVAL_MS = 2000

Ingest = Callable[[Sequence[Event]], list[IngestOutcome]]


def client_config(settings: Settings) -> dict[str, Any]:
    """What every Kafka client of the service is configured with."""
    if not settings.kafka_bootstrap:
        raise ValueError("LINEAGE_KAFKA_BOOTSTRAP is not set: name the Kafka brokers (host:port)")
    return {"bootstrap.servers": settings.kafka_bootstrap, **settings.kafka_config}


def _coordinates(message: Message) -> str:
    return f"{message.topic()}/{message.partition()}/{message.offset()}"


# The dead-letter error code of an event whose ingest failed with a fault of ours.
INGEST_FAILED = "ingest_failed"


def is_fault(exc: BaseException) -> bool:
    """An error that retrying will not cure: neither the store's nor Kafka's (those are put back
    and retried), but ours, raised by one event (issue 34: a poison event)."""
    return isinstance(exc, IngestFault) or not isinstance(exc, (StoreError, KafkaException))


def fault_of(exc: BaseException) -> tuple[str, str]:
    """The class name and message of the original error behind `exc`."""
    if isinstance(exc, IngestFault) and exc.kind:
        return exc.kind, exc.original
    return type(exc).__name__, str(exc)


@dataclass
class ConsumerStatus:
    """What `/readyz` and the logs say of a running consumer."""

    group: str
    topics: list[str]
    lag: int | None = None  # messages of the assigned partitions not yet ingested (None: not yet known)
    assigned: int = 0
    ingested: int = 0
    last_commit_at: str | None = None
    retrying: str | None = None  # why the batch in hand waits for a retry, while it does
    poisoned: int = 0  # events set aside because their ingest failed with a fault of ours

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group, "topics": self.topics, "lag": self.lag, "assigned_partitions": self.assigned,
            "ingested": self.ingested, "last_commit_at": self.last_commit_at, "retrying": self.retrying,
            "poisoned": self.poisoned,
        }


@dataclass
class _Batch:
    messages: list[Message]
    events: list[Event] = field(default_factory=list)
    sources: list[Message] = field(default_factory=list)  # the message of each event
    rejected: list[tuple[Message, Rejection]] = field(default_factory=list)
    # Coordinates of the events set aside, with the class name of the error that set each aside.
    faults: dict[str, str] = field(default_factory=dict)


class TopicConsumer:
    """One member of the consumer group: consume a batch, ingest it, then commit its offsets."""

    def __init__(
        self,
        settings: Settings,
        ingest: Ingest,
        dead_letters: DeadLetters,
        metrics: Metrics | None = None,
        overrides: dict[str, Any] | None = None,
    ) -> None:
        self.settings = settings
        self.ingest = ingest
        self.dead_letters = dead_letters
        self.metrics = metrics
        self.topics = settings.kafka_topic_list()
        if not self.topics:
            raise ValueError("LINEAGE_KAFKA_TOPICS names no topic")
        self.status = ConsumerStatus(settings.kafka_group, self.topics)
        self.stop_event = threading.Event()
        config = client_config(settings) | {
            "group.id": settings.kafka_group,
            # Offsets are committed by hand, after the store commits; never by the client on a timer.
            "enable.auto.commit": False,
            # A new group starts at the oldest message: events produced before the first
            # consumer started are lineage too.
            "auto.offset.reset": "earliest",
            "statistics.interval.ms": STATS_INTERVAL_MS,
            "stats_cb": self._stats,
        }
        config.update(overrides or {})
        self.consumer = Consumer(config)
        self.producer: Producer | None = None
        if settings.kafka_dead_letter_topic:
            self.producer = Producer(client_config(settings) | {"enable.idempotence": True, "acks": "all"})
        # Coordinates already kept (store, topic) while their batch waits for a retry: a retry
        # does not keep them twice. Forgotten once the batch's offsets are committed.
        self._kept: set[str] = set()
        self._produced: set[str] = set()

    def stop(self) -> None:
        """Ask the loop to end after the batch in hand (SIGTERM's handler calls this)."""
        self.stop_event.set()

    def run(self) -> None:
        """Consume until stop(): each batch ingested, dead-lettered and committed, or put back."""
        self.consumer.subscribe(self.topics, on_assign=self._assigned, on_revoke=self._revoked)
        log.info("consuming", extra={"topics": self.topics, "group": self.settings.kafka_group})
        wait = self.settings.kafka_batch_max_wait_ms / 1000
        backoff = RETRY_FIRST_S
        try:
            while not self.stop_event.is_set():
                messages = self.consumer.consume(self.settings.kafka_batch_max_events, timeout=max(wait, 0.05))
                messages = [m for m in messages if self._usable(m)]
                if not messages:
                    continue
                try:
                    self.handle(messages)
                    backoff = RETRY_FIRST_S
                    self.status.retrying = None
                except (StoreError, KafkaException) as exc:
                    # Nothing of the batch is committed to Kafka: read it again after a pause.
                    reason = "store" if isinstance(exc, StoreError) else "kafka"
                    self.status.retrying = f"{reason}: {exc}"
                    if self.metrics:
                        self.metrics.kafka_retries.labels(reason).inc()
                    log.warning("batch put back for a retry in %.1f s: %s", backoff, exc, extra={"reason": reason})
                    self._rewind(messages)
                    self.stop_event.wait(backoff)
                    backoff = min(backoff * 2, RETRY_MAX_S)
        finally:
            self.close()

    def close(self) -> None:
        try:
            # Leaves the group at once, so its partitions go to the other members now rather
            # than after the session timeout.
            self.consumer.close()
        except RuntimeError:
            pass  # closed already
        if self.producer is not None:
            self.producer.flush(10)
        if self.metrics:
            self.metrics.kafka_lag.set(0)

    def _usable(self, message: Message) -> bool:
        error = message.error()
        if error is None:
            return True
        if error.fatal():
            raise KafkaException(error)
        if error.code() != KafkaError._PARTITION_EOF:
            log.warning("consumer: %s", error.str())
        return False

    def handle(self, messages: list[Message]) -> None:
        """Ingest one batch; its offsets are committed only once every event of it is stored and
        every refused message kept. Raises StoreError or KafkaException with nothing committed."""
        batch = self._parse(messages)
        if batch.events:
            try:
                self.ingest(batch.events)
            except Exception as exc:
                if not is_fault(exc):
                    raise
                self._isolate(batch, exc)
        received = now()
        if batch.rejected:
            fresh = [(m, r) for m, r in batch.rejected if _coordinates(m) not in self._kept]
            if fresh:
                self.dead_letters.keep([r for _, r in fresh])
                self._kept.update(_coordinates(m) for m, _ in fresh)
            self._to_dead_letter_topic(batch.rejected, received, batch.faults)
        self._commit(messages)
        self._kept.clear()
        self._produced.clear()
        poisoned = len(batch.faults)
        self.status.ingested += len(batch.events) - poisoned
        self.status.poisoned += poisoned
        self.status.last_commit_at = received
        if self.metrics:
            self.metrics.kafka_messages.labels("ingested").inc(len(batch.events) - poisoned)
            self.metrics.kafka_messages.labels("rejected").inc(len(batch.rejected) - poisoned)
            self.metrics.kafka_messages.labels("poisoned").inc(poisoned)

    def _isolate(self, batch: _Batch, first: BaseException) -> None:
        """The batch failed with a fault of ours: ingest it event by event, so that the others
        are stored and each culprit joins the batch's refusals. A store or Kafka error meanwhile
        is raised as from the whole batch (put back; what was stored comes again as duplicates)."""
        log.warning("a batch of %d events failed (%s: %s): ingesting it event by event to find the culprit",
                    len(batch.events), *fault_of(first))
        received = now()
        for message, event in zip(batch.sources, batch.events, strict=True):
            try:
                self.ingest([event])
            except Exception as exc:
                if not is_fault(exc):
                    raise
                kind, text = fault_of(exc)
                where = _coordinates(message)
                log.error(
                    "event %s at %s set aside: its ingest failed with %s: %s", event.id, where, kind, text,
                    exc_info=exc, extra={"event": event.id, "source": where, "error": kind},
                )
                fault = exc if isinstance(exc, IngestFault) else IngestFault.of(exc)
                kept = rejection_of(message.value() or b"", fault, received, orjson.loads(event.canonical))
                entry = replace(kept, error=INGEST_FAILED, detail=f"{kind}: {text} (ingest failed; Kafka {where})")
                batch.rejected.append((message, entry))
                batch.faults[where] = kind

    def _parse(self, messages: list[Message]) -> _Batch:
        batch = _Batch(messages)
        limit = self.settings.max_body_bytes
        received = now()
        for message in messages:
            raw = message.value() or b""
            value: Any = None
            try:
                if len(raw) > limit:
                    raise PayloadTooLarge(f"message of {len(raw)} bytes is over the limit of {limit} bytes")
                value = decode_json(raw)
                batch.events.append(parse_event(value))
                batch.sources.append(message)
            except (InvalidEvent, PayloadTooLarge) as exc:
                keep = self.settings.rejection_sample_bytes
                batch.rejected.append((message, rejection_of(raw, exc, received, value, keep)))
                if self.metrics:
                    reason = "too_large" if isinstance(exc, PayloadTooLarge) else "invalid"
                    self.metrics.rejects.labels(f"kafka_{reason}").inc()
        return batch

    def _to_dead_letter_topic(
        self, rejected: list[tuple[Message, Rejection]], received: str, faults: dict[str, str] | None = None
    ) -> None:
        if self.producer is None:
            return
        failures: list[KafkaError] = []
        faults = faults or {}

        def delivered(error: KafkaError | None, _message: Message) -> None:
            if error is not None:
                failures.append(error)

        sent = []
        for message, rejection in rejected:
            where = _coordinates(message)
            if where in self._produced:
                continue
            headers = [
                ("lineage.error", rejection.error.encode()),
                ("lineage.field", rejection.field.encode()),
                ("lineage.detail", rejection.detail.encode()),
                ("lineage.source", where.encode()),
                ("lineage.received_at", received.encode()),
            ]
            if where in faults:  # the class of the error that set an event aside
                headers.append(("lineage.exception", faults[where].encode()))
            self.producer.produce(
                self.settings.kafka_dead_letter_topic, value=message.value(), key=message.key(),
                headers=headers, on_delivery=delivered,
            )
            sent.append(where)
        remaining = self.producer.flush(30)
        if remaining or failures:
            raise KafkaException(failures[0] if failures else KafkaError(KafkaError._MSG_TIMED_OUT))
        self._produced.update(sent)

    def _commit(self, messages: list[Message]) -> None:
        last: dict[tuple[str, int], int] = {}
        for message in messages:
            key = (message.topic(), message.partition())
            last[key] = max(last.get(key, -1), message.offset())
        offsets = [TopicPartition(t, p, offset + 1) for (t, p), offset in last.items()]
        try:
            self.consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            # The partitions moved to another member meanwhile (a rebalance): it reads them from
            # the last committed offset, and what this batch stored comes back as duplicates.
            log.warning("offsets not committed (%s): the batch's events will be seen again as duplicates", exc)

    def _rewind(self, messages: list[Message]) -> None:
        first: dict[tuple[str, int], int] = {}
        for message in messages:
            key = (message.topic(), message.partition())
            first[key] = min(first.get(key, message.offset()), message.offset())
        for (topic, partition), offset in first.items():
            try:
                self.consumer.seek(TopicPartition(topic, partition, offset))
            except KafkaException:
                pass  # no longer ours: its new owner starts from the committed offset

    def _assigned(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.status.assigned = len(partitions)  # the eager protocol hands out the whole assignment
        log.info("partitions assigned", extra={"partitions": [f"{p.topic}/{p.partition}" for p in partitions]})

    def _revoked(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Called inside consume(), never during a batch: every batch handed out so far was
        # committed or rewound, so there is nothing to flush here.
        self.status.assigned = 0  # and takes it back whole
        self._kept.clear()
        self._produced.clear()
        log.info("partitions revoked", extra={"partitions": [f"{p.topic}/{p.partition}" for p in partitions]})

    def _stats(self, raw: str) -> None:
        try:
            stats = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return
        lag, known = 0, False
        for topic in stats.get("topics", {}).values():
            for number, partition in topic.get("partitions", {}).items():
                if number == "-1" or partition.get("fetch_state") in (None, "none", "stopped"):
                    continue
                value = partition.get("consumer_lag", -1)
                if value >= 0:
                    lag, known = lag + value, True
        self.status.lag = lag if known else self.status.lag
        if known and self.metrics:
            self.metrics.kafka_lag.set(lag)


def committed_ingest(submit: Callable[[Sequence[Event]], Future[list[IngestOutcome]]]) -> Ingest:
    """The consumer's ingest through a group committer: the call returns once the store committed."""

    def ingest(events: Sequence[Event]) -> list[IngestOutcome]:
        try:
            return submit(events).result()
        except LineageError:
            raise
        except Exception as exc:  # a fault of ours, not the store's: the consumer sets the event aside
            raise IngestFault.of(exc) from exc

    return ingest
