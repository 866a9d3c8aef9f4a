"""Read-your-writes and freshness on the HTTP-to-topic path (issue 34), end to end: `lineage serve`
writing to a real broker, `lineage consume` storing, both stores.

A 202 answer gives where Kafka put the event and a token; a read passing the token back is
answered once the store holds the event, or 503 with Retry-After once the bound passed while no
consumer runs. Every read answer says the store's log head in its headers.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from lineage.ingest.parse import parse_event
from lineage.store.base import Store
from tests.kafka.harness import Consume
from tests.reliability.harness import event_id, store_url, stream_event
from tests.server import running

BOUND_S = 8.0


def test_a_read_with_the_token_holds_the_event_and_waits_no_longer_than_the_bound(
    backend: str, store: Store, request: pytest.FixtureRequest, kafka_bootstrap: str, topic: Callable[..., str],
    tmp_path: Path,
) -> None:
    name, group = topic(partitions=2), f"g-{uuid.uuid4().hex[:8]}"
    url = store_url(backend, store, request)
    env = {
        "LINEAGE_KAFKA_BOOTSTRAP": kafka_bootstrap, "LINEAGE_KAFKA_TOPICS": name, "LINEAGE_KAFKA_GROUP": group,
        "LINEAGE_KAFKA_DEAD_LETTER_TOPIC": "", "LINEAGE_KAFKA_HTTP_TO_TOPIC": "true",
        "LINEAGE_KAFKA_READ_AFTER_MAX_WAIT_SECONDS": str(BOUND_S),
    }
    first, second, third = stream_event(0, 0), stream_event(1, 0), stream_event(0, 1)
    consumer = Consume(url, kafka_bootstrap, name, group, tmp_path, LINEAGE_KAFKA_DEAD_LETTER_TOPIC="")
    with running(url, **env) as base, httpx.Client(base_url=base, timeout=60) as http, consumer:
        deadline = time.monotonic() + 60
        while "partitions assigned" not in consumer.log_path.read_text():  # a member of the group
            assert time.monotonic() < deadline, consumer.log_tail()
            time.sleep(0.1)
        posted = http.post("/api/v1/lineage", json=first)
        assert posted.status_code == 202, posted.text
        place = posted.json()["kafka"]
        assert place["topic"] == name and place["partition"] in (0, 1) and place["offset"] >= 0
        token = posted.json()["after"]
        assert token == f"{name}:{place['partition']}:{place['offset']}"

        read = http.get("/api/v1/events", params={"run": parse_event(first).run_uuid}, headers={"X-Lineage-After": token})
        assert read.status_code == 200, read.text
        assert [e["id"] for e in read.json()["events"]] == [event_id(first)]
        # The answer says how fresh it is: at least as far as the event it holds.
        seq = read.json()["events"][0]["seq"]
        assert int(read.headers["X-Lineage-Head-Seq"]) >= seq
        assert read.headers["X-Lineage-Head-Received-At"] >= read.json()["events"][0]["received_at"]
        # The Marquez-compatible routes carry it too, their bodies unchanged.
        marquez = http.get("/api/v1/namespaces")
        assert marquez.status_code == 200 and int(marquez.headers["X-Lineage-Head-Seq"]) >= seq
        assert set(marquez.json()) == {"namespaces"}

        # No consumer runs: a token for an offset not consumed is answered 503 after the bound.
        assert consumer.stop() == 0, consumer.log_tail()
        batch = http.post("/api/v1/lineage/batch", json=[second, third])
        assert batch.status_code == 200, batch.text
        assert [r["status"] for r in batch.json()["results"]] == ["accepted", "accepted"]
        later = batch.json()["after"]
        started = time.monotonic()
        waited = http.get("/api/v1/events", params={"run": parse_event(second).run_uuid}, headers={"X-Lineage-After": later})
        elapsed = time.monotonic() - started
        assert waited.status_code == 503, waited.text
        assert waited.json()["error"] == "not_yet_stored" and set(waited.json()) >= {"error", "field", "detail"}
        assert int(waited.headers["Retry-After"]) >= 1
        assert BOUND_S <= elapsed < BOUND_S + 10
        assert store.event_count() == 1

        # Once a consumer stored them, the same token is answered, with both events.
        with Consume(url, kafka_bootstrap, name, group, tmp_path, name="again", LINEAGE_KAFKA_DEAD_LETTER_TOPIC=""):
            for body in (second, third):
                deadline = time.monotonic() + 120
                while True:  # the consumer's start (imports, group join) may take longer than the bound
                    read = http.get("/api/v1/events", params={"run": parse_event(body).run_uuid},
                                    headers={"X-Lineage-After": later})
                    if read.status_code != 503 or time.monotonic() > deadline:
                        break
                assert read.status_code == 200, read.text
                assert event_id(body) in [e["id"] for e in read.json()["events"]]


def test_a_token_that_is_not_one_is_refused(
    backend: str, store: Store, request: pytest.FixtureRequest, kafka_bootstrap: str, topic: Callable[..., str],
) -> None:
    env = {
        "LINEAGE_KAFKA_BOOTSTRAP": kafka_bootstrap, "LINEAGE_KAFKA_TOPICS": topic(),
        "LINEAGE_KAFKA_HTTP_TO_TOPIC": "true",
    }
    with running(store_url(backend, store, request), **env) as base, httpx.Client(base_url=base, timeout=30) as http:
        answer = http.get("/api/v1/events", headers={"X-Lineage-After": "no token"})
        assert answer.status_code == 400
        assert answer.json()["error"] == "invalid_input" and answer.json()["field"] == "x-lineage-after"
        assert answer.headers["X-Lineage-Head-Seq"] == "0"  # an empty log
        assert "X-Lineage-Head-Received-At" not in answer.headers
