"""The Kafka path under faults (issue 35): a rebalance mid-load, a consumer SIGKILLed mid-batch,
Kafka stopped and started, Neo4j down while Kafka keeps accepting. After each, every event is
in the log exactly once, the hash chain is whole and the graph equals a rebuild of the log."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lineage.store.base import Store
from tests.kafka.harness import Consume, check_exactly, produce, wait_for_commits, wait_for_events
from tests.reliability.harness import event_id, store_url, stream_event


def stream(workers: int, per_worker: int, start: int = 0) -> list[dict[str, Any]]:
    return [stream_event(w, i) for i in range(start, start + per_worker) for w in range(workers)]


def group() -> str:
    return f"g-{uuid.uuid4().hex[:8]}"


def test_two_consumers_rebalance_mid_load_every_event_once(
    backend: str, store: Store, request: pytest.FixtureRequest, kafka_bootstrap: str,
    topic: Callable[..., str], tmp_path: Path,
) -> None:
    name, members = topic(partitions=4), group()
    first, second = stream(4, 250), stream(4, 50, start=250)
    url = store_url(backend, store, request)
    # Small batches, so that the load is still going when the second member joins.
    small = {"LINEAGE_KAFKA_BATCH_MAX_EVENTS": "5"}
    a = Consume(url, kafka_bootstrap, name, members, tmp_path, name="a", **small)
    b = Consume(url, kafka_bootstrap, name, members, tmp_path, name="b", **small)
    with a:
        produce(kafka_bootstrap, name, first)
        wait_for_events(store, 20, 120, [a])
        with b:  # joins the group mid-load: the partitions are shared out again
            deadline = time.monotonic() + 60
            while "partitions assigned" not in b.log_path.read_text():
                assert time.monotonic() < deadline, f"the second member got no partition:\n{b.log_tail()}"
                time.sleep(0.1)
            assert store.event_count() < len(first), "the load ended before the rebalance: nothing was tested"
            produce(kafka_bootstrap, name, second)
            wait_for_events(store, len(first) + len(second), 240, [a, b])
            wait_for_commits(kafka_bootstrap, members, name, 4)
            assert b.stop() == 0, b.log_tail()
        assert a.stop() == 0, a.log_tail()
    assert "partitions revoked" in a.log_path.read_text(), "no rebalance happened"
    check_exactly(store, {event_id(e) for e in first + second})


def test_consumer_killed_mid_batch_loses_and_doubles_nothing(
    backend: str, store: Store, request: pytest.FixtureRequest, kafka_bootstrap: str,
    topic: Callable[..., str], tmp_path: Path,
) -> None:
    name, members = topic(partitions=2), group()
    events = stream(4, 150)
    produce(kafka_bootstrap, name, events)
    url = store_url(backend, store, request)
    crash = Consume(url, kafka_bootstrap, name, members, tmp_path, name="crash", LINEAGE_KAFKA_BATCH_MAX_EVENTS="50")
    crash.start()
    try:
        wait_for_events(store, 1, 120, [crash])
    finally:
        crash.kill()  # in the middle of the load: a batch stored and not committed, or half-gathered
    assert store.event_count() < len(events), "the load ended before the kill: nothing was tested"
    with Consume(url, kafka_bootstrap, name, members, tmp_path, name="after") as after:
        wait_for_events(store, len(events), 240, [after])
        wait_for_commits(kafka_bootstrap, members, name, 2)
        assert after.stop() == 0, after.log_tail()
    check_exactly(store, {event_id(e) for e in events})


def test_kafka_stopped_and_started_consumer_carries_on(
    backend: str, store: Store, request: pytest.FixtureRequest, own_kafka: Any, tmp_path: Path,
    topic: Callable[..., str],
) -> None:
    import kafka_local  # ops/, on sys.path through tests/conftest.py

    bootstrap = own_kafka.bootstrap
    name, members = topic(partitions=2, bootstrap=bootstrap), group()
    before, later = stream(2, 40), stream(2, 40, start=40)
    url = store_url(backend, store, request)
    with Consume(url, bootstrap, name, members, tmp_path) as consumer:
        produce(bootstrap, name, before)
        wait_for_events(store, len(before), 120, [consumer])
        own_kafka.stop()
        time.sleep(3)  # the consumer loses its broker and keeps retrying
        assert consumer.proc is not None and consumer.proc.poll() is None, consumer.log_tail()
        again = kafka_local.start(own_kafka.home, own_kafka.port)
        try:
            produce(bootstrap, name, later)
            wait_for_events(store, len(before) + len(later), 180, [consumer])
            wait_for_commits(bootstrap, members, name, 2)
            assert consumer.stop() == 0, consumer.log_tail()
        finally:
            again.stop()
    check_exactly(store, {event_id(e) for e in before + later})


@pytest.mark.neo4j
def test_neo4j_down_kafka_keeps_accepting_then_the_consumer_catches_up(
    own_kafka: Any, tmp_path: Path, topic: Callable[..., str], request: pytest.FixtureRequest,
) -> None:
    import neo4j_local  # ops/

    from lineage.store.neo4j import Neo4jStore

    home, port = tmp_path / "neo4j", neo4j_local.free_port()
    server = neo4j_local.start(home, port)
    bootstrap = own_kafka.bootstrap
    name, members = topic(partitions=2, bootstrap=bootstrap), group()
    before, during = stream(2, 30), stream(2, 60, start=30)
    store = Neo4jStore(server.uri, "neo4j", "", "neo4j")
    try:
        store.setup()
        with Consume(server.uri, bootstrap, name, members, tmp_path, LINEAGE_NEO4J_RETRY_SECONDS="0.5") as consumer:
            produce(bootstrap, name, before)
            wait_for_events(store, len(before), 120, [consumer])
            server.stop()
            produce(bootstrap, name, during)  # Kafka acknowledges every one while the store is down
            time.sleep(5)  # the consumer's batches fail and are put back, again and again
            assert consumer.proc is not None and consumer.proc.poll() is None, consumer.log_tail()
            assert "put back for a retry" in consumer.log_path.read_text()
            server = neo4j_local.start(home, port)
            wait_for_events(store, len(before) + len(during), 240, [consumer])
            wait_for_commits(bootstrap, members, name, 2)
            assert consumer.stop() == 0, consumer.log_tail()
        check_exactly(store, {event_id(e) for e in before + during})
    finally:
        store.close()
        server.stop()
