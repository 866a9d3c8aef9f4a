"""`lineage consume` with openlineage-python's Kafka transport as the producer (issue 35).

Every event the real client emits is in the log once (the client's duplicates too), the group's
offsets are committed past every message once it stopped on SIGTERM with exit code 0, and a
message that is not an event is in the dead-letter store and on the dead-letter topic, with why.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.serde import Serde
from openlineage.client.transport.kafka import KafkaConfig, KafkaTransport

from lineage.ingest.parse import parse_event
from lineage.store.base import Store
from tests.kafka.harness import Consume, check_exactly, ends, produce, read_topic, wait_for_commits, wait_for_events
from tests.reliability.harness import store_url

PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python"


def client_events(runs: int) -> list[RunEvent]:
    """START and COMPLETE of `runs` runs of a three-step pipeline, each step reading the one before."""
    out = []
    for n in range(runs):
        step = n % 3
        run = Run(runId=str(uuid.UUID(int=n + 1)))
        job = Job(namespace="kafka-test", name=f"step-{step}")
        io = {"inputs": [InputDataset("warehouse", f"table-{step}")], "outputs": [OutputDataset("warehouse", f"table-{step + 1}")]}
        for minute, state in ((0, RunState.START), (5, RunState.COMPLETE)):
            when = f"2026-05-01T{n // 60:02d}:{n % 60:02d}:{minute:02d}Z"
            out.append(RunEvent(eventType=state, eventTime=when, run=run, job=job, producer=PRODUCER, **io))
    return out


def test_openlineage_kafka_transport_into_the_store_once_with_refusals_dead_lettered(
    backend: str, store: Store, request: pytest.FixtureRequest, kafka_bootstrap: str,
    topic: Callable[..., str], tmp_path: Path,
) -> None:
    events_topic, dead_topic = topic(partitions=3), topic(prefix="dead")
    events = client_events(30)
    client = OpenLineageClient(transport=KafkaTransport(KafkaConfig(
        config={"bootstrap.servers": kafka_bootstrap, "acks": "all"}, topic=events_topic, flush=True,
    )))
    for event in events + events[:10]:  # the client sends the first ten again: duplicates
        client.emit(event)
    expected = {parse_event(orjson.loads(Serde.to_json(e))).id for e in events}
    assert len(expected) == len(events)
    refused = [b"{not json", orjson.dumps({
        "eventType": "START", "eventTime": "2026-05-01T00:00:00Z", "run": {"runId": "not-a-uuid"},
        "job": {"namespace": "kafka-test", "name": "bad"}, "producer": PRODUCER,
    })]
    produce(kafka_bootstrap, events_topic, refused, key="refused")  # type: ignore[arg-type]

    group = f"g-{uuid.uuid4().hex[:8]}"
    consumer = Consume(store_url(backend, store, request), kafka_bootstrap, events_topic, group, tmp_path,
                       LINEAGE_KAFKA_DEAD_LETTER_TOPIC=dead_topic)
    with consumer:
        wait_for_events(store, len(expected), 120, [consumer])
        # Every message, the refused ones too, is consumed and its offset committed.
        wait_for_commits(kafka_bootstrap, group, events_topic, 3)
        assert consumer.stop() == 0, consumer.log_tail()

    assert sum(ends(kafka_bootstrap, events_topic, 3)) == len(events) + 10 + len(refused)
    check_exactly(store, expected)

    kept = store.rejections(None, 10)
    assert sorted(r.body for r in kept) == sorted(refused)
    assert {r.field for r in kept} >= {"run.runId"}
    dead = read_topic(kafka_bootstrap, dead_topic, len(refused))
    assert sorted(m.value() for m in dead) == sorted(refused)
    for message in dead:
        headers = dict(message.headers() or [])
        assert headers["lineage.error"] == b"invalid_input"
        assert headers["lineage.source"].decode().startswith(f"{events_topic}/")
    assert any(dict(m.headers() or [])["lineage.field"] == b"run.runId" for m in dead)
