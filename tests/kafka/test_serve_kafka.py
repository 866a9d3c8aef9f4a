"""`lineage serve` with Kafka beside it (issue 35): HTTP ingest written to the topic and answered
202 once Kafka has it, a consumer in the API process that stores it, and `/readyz` and every read
answer's headers saying the lag."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import httpx
import pytest

from lineage.store.base import Store
from tests.kafka.harness import check_exactly, wait_for_events
from tests.reliability.harness import event_id, store_url, stream_event
from tests.server import running


def test_http_into_the_topic_then_the_served_consumer_stores_each_event_once(
    backend: str, store: Store, request: pytest.FixtureRequest, kafka_bootstrap: str, topic: Callable[..., str],
) -> None:
    name = topic(partitions=2)
    events = [stream_event(w, i) for w in range(2) for i in range(20)]
    env = {
        "LINEAGE_KAFKA_BOOTSTRAP": kafka_bootstrap, "LINEAGE_KAFKA_TOPICS": name,
        "LINEAGE_KAFKA_GROUP": f"g-{uuid.uuid4().hex[:8]}", "LINEAGE_KAFKA_DEAD_LETTER_TOPIC": "",
        "LINEAGE_KAFKA_HTTP_TO_TOPIC": "true", "LINEAGE_KAFKA_CONSUME": "true",
    }
    with running(store_url(backend, store, request), **env) as url, httpx.Client(base_url=url, timeout=30) as http:
        for body in events[:30] + events[:5]:  # five sent twice
            answer = http.post("/api/v1/lineage", json=body)
            assert answer.status_code == 202, answer.text
            assert answer.json()["status"] == "accepted" and answer.json()["id"] == event_id(body)
        batch = http.post("/api/v1/lineage/batch", json=[*events[30:], {"eventTime": "not a time"}])
        assert batch.status_code == 200, batch.text
        statuses = [r["status"] for r in batch.json()["results"]]
        assert statuses == ["accepted"] * 10 + ["rejected"]
        wait_for_events(store, len(events), 120)
        deadline = time.monotonic() + 30
        while (kafka := http.get("/readyz").json()["kafka"])["lag"] != 0 or kafka["ingested"] < len(events) + 5:
            assert time.monotonic() < deadline, kafka
            time.sleep(0.5)
        assert kafka["group"] == env["LINEAGE_KAFKA_GROUP"] and kafka["retrying"] is None and kafka["poisoned"] == 0
        assert "lineage_kafka_consumer_lag 0.0" in http.get("/metrics").text
        # Every read answer says how fresh it is: the log head and this process's consumer lag.
        read = http.get("/api/v1/events", params={"limit": 1})
        assert read.headers["X-Lineage-Head-Seq"] == str(len(events))
        assert read.headers["X-Lineage-Consumer-Lag"] == "0"
    check_exactly(store, {event_id(e) for e in events})
    assert store.rejection_stats().entries == 1  # the refused batch item, kept by the API as always
