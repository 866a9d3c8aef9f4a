"""A poison event on the Kafka path (issue 34): an event whose ingest fails with an error of ours
is set aside, and the consumer goes on.

The consumer, the broker and both stores are real; the only fault injected is the one that no
real event raises on purpose: the projection made to fail for one event id.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

import lineage.store.batch
from lineage.deadletter import DeadLetters
from lineage.events import Event
from lineage.kafka_ingest import TopicConsumer, committed_ingest
from lineage.metrics import Metrics
from lineage.service import GroupCommitter
from lineage.settings import Settings
from lineage.store.base import Store
from tests.kafka.harness import check_exactly, committed, ends, produce, read_topic
from tests.reliability.harness import event_id, stream_event


class Running:
    """A TopicConsumer in a thread of the test, over the test's store, with its own committer."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.metrics = Metrics()
        self.committer = GroupCommitter(store, 500, 0.0, self.metrics, deadline_s=60)
        self.consumer = TopicConsumer(
            settings, committed_ingest(self.committer.submit), DeadLetters(store, settings), self.metrics
        )
        self.failure: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.consumer.run()
        except BaseException as exc:  # the test says the consumer died, rather than hang
            self.failure.append(exc)

    def __enter__(self) -> Running:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.consumer.stop()
        self.thread.join(60)
        self.committer.close()

    def wait(self, done: Callable[[], bool], what: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            assert self.thread.is_alive(), f"the consumer stopped: {self.failure}"
            assert time.monotonic() < deadline, f"not within {timeout:.0f} s: {what} ({self.consumer.status})"
            time.sleep(0.1)


@pytest.fixture
def poison(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[str]]:
    """Ids of events whose projection raises, as a bug in it would for an event it cannot take."""
    ids: set[str] = set()
    real = lineage.store.batch.project

    def project(event: Event, view: Any) -> Sequence[Any]:
        if event.id in ids:
            raise RuntimeError(f"projection broke on run {event.run_uuid}")
        return real(event, view)

    monkeypatch.setattr(lineage.store.batch, "project", project)
    yield ids


def test_a_poison_event_is_set_aside_and_the_consumer_goes_on(
    backend: str, store: Store, kafka_bootstrap: str, topic: Callable[..., str], poison: set[str],
) -> None:
    name, dead = topic(partitions=1), topic(prefix="dead")
    group = f"g-{uuid.uuid4().hex[:8]}"
    settings = Settings(
        store="sqlite:///unused.db", kafka_bootstrap=kafka_bootstrap, kafka_topics=name, kafka_group=group,
        kafka_dead_letter_topic=dead, kafka_batch_max_events=50,
    )
    first, later, after_restart = (
        [stream_event(0, i) for i in range(20)],
        [stream_event(1, i) for i in range(6)],
        [stream_event(2, i) for i in range(4)],
    )
    culprit = first[7]
    poison.add(event_id(culprit))
    # Produced before the consumer starts: the culprit comes in one batch with the others.
    produce(kafka_bootstrap, name, first)
    good = {event_id(e) for e in first} - poison
    with Running(store, settings) as running:
        running.wait(lambda: running.consumer.status.poisoned == 1, "the culprit set aside")
        running.wait(lambda: store.event_count() == len(good), "the rest of the batch stored")
        produce(kafka_bootstrap, name, later)  # the consumer keeps consuming after it
        running.wait(lambda: store.event_count() == len(good) + len(later), "the later events stored")
        running.wait(lambda: committed(kafka_bootstrap, group, name, 1) == ends(kafka_bootstrap, name, 1),
                     "offsets committed to the end")
        status = running.consumer.status.to_dict()  # what /readyz's kafka block says
        metrics = running.metrics.render().decode()
    assert status["poisoned"] == 1 and status["ingested"] == len(good) + len(later)
    assert 'lineage_kafka_messages_total{outcome="poisoned"} 1.0' in metrics
    check_exactly(store, good | {event_id(e) for e in later})

    # The culprit is kept, with the error and where it was in Kafka: offset 7 of partition 0.
    source = f"{name}/0/7"
    (kept,) = store.rejections(None, 10)
    assert kept.error == "ingest_failed"
    assert "RuntimeError" in kept.detail and "projection broke on run" in kept.detail and source in kept.detail
    assert kept.body == read_topic(kafka_bootstrap, name, 8)[7].value()
    assert event_id(culprit) in {e.id for e in _replayable(kept.body)}
    (message,) = read_topic(kafka_bootstrap, dead, 1)
    headers = dict(message.headers() or [])
    assert headers["lineage.error"] == b"ingest_failed"
    assert headers["lineage.exception"] == b"RuntimeError"
    assert headers["lineage.source"].decode() == source
    assert b"projection broke on run" in headers["lineage.detail"]
    assert message.value() == kept.body

    # A restarted member of the group starts past it: the culprit, still poison, is not met again.
    with Running(store, settings) as again:
        produce(kafka_bootstrap, name, after_restart)
        again.wait(lambda: store.event_count() == len(good) + len(later) + len(after_restart), "stored after restart")
        again.wait(lambda: committed(kafka_bootstrap, group, name, 1) == ends(kafka_bootstrap, name, 1),
                   "offsets committed after restart")
        assert again.consumer.status.poisoned == 0
    assert len(store.rejections(None, 10)) == 1
    assert len(read_topic(kafka_bootstrap, dead, 2, timeout=5)) == 1


def _replayable(body: bytes) -> list[Event]:
    """The events a dead-letter body holds, as `lineage rejections replay` would read them."""
    from lineage.ingest.parse import decode_json, parse_event

    return [parse_event(decode_json(body))]
