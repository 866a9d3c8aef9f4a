"""Freshness and read-after tokens without Kafka in front (issue 34): nothing is added to the
answers, a token is refused as input, and the log head the headers state is the log's last entry.
(With Kafka in front: tests/kafka/test_read_after.py and test_serve_kafka.py.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from lineage.settings import Settings
from lineage.store.base import Store
from tests import scenario as s


@pytest.fixture
def client(store: Store, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store=store)) as test_client:
        yield test_client


def test_without_kafka_answers_carry_no_freshness_and_a_token_is_refused(client: TestClient) -> None:
    assert client.post("/api/v1/lineage", json=s.event("etl#1", "START", s.ts(0))).status_code == 201
    plain = client.get("/api/v1/events")
    assert plain.status_code == 200 and len(plain.json()["events"]) == 1
    assert not [h for h in plain.headers if h.lower().startswith("x-lineage-head")]
    refused = client.get("/api/v1/events", headers={"X-Lineage-After": "openlineage:0:3"})
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_input" and refused.json()["field"] == "x-lineage-after"


def test_the_log_head_is_the_last_entry_without_reading_the_log(client: TestClient, store: Store) -> None:
    assert store.log_head() is None
    for n in range(3):
        assert client.post("/api/v1/lineage", json=s.event(f"etl#{n}", "START", s.ts(n))).status_code == 201
    last = store.last_entry()
    assert last is not None and last.seq == 3
    assert store.log_head() == (last.seq, last.received_at)
