"""Refused events are kept, listed, replayed (issue 29), on both stores; a refusal that cannot
be kept is a 503 clients retry, and a 4xx's log line names its cause."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator

import orjson
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from lineage import ids
from lineage.deadletter import rejection_of
from lineage.errors import InvalidEvent
from lineage.settings import Settings
from lineage.store.base import Store
from tests import scenario as s
from tests.server import free_port

UUID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


@pytest.fixture
def client(store: Store, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store=store)) as test_client:
        yield test_client


def event(run: str = "etl#1") -> dict:
    return s.event(run, "COMPLETE", s.ts(10), inputs=[s.dataset("raw", "v1")], outputs=[s.dataset("clean")])


def kept(client: TestClient) -> list[dict]:
    return client.get("/api/v1/rejections").json()["entries"]


def test_a_refused_event_is_kept_with_its_reason_and_the_nodes_it_names(client: TestClient, store: Store) -> None:
    bad = {**event(), "run": {"runId": "run-1"}}
    response = client.post("/api/v1/lineage", json=bad)
    assert response.status_code == 400 and response.json()["field"] == "run.runId"
    (entry,) = kept(client)
    assert (entry["error"], entry["field"], entry["producer"]) == ("invalid_input", "run.runId", bad["producer"])
    assert ids.job_id(bad["job"]["namespace"], bad["job"]["name"]) in entry["subjects"]
    assert ids.dataset_id(bad["inputs"][0]["namespace"], "raw") in entry["subjects"]
    shown = client.get(f"/api/v1/rejections/{entry['id']}").json()
    assert orjson.loads(shown["body"]) == bad and shown["sha256"] == hashlib.sha256(shown["body"].encode()).hexdigest()
    assert store.event_count() == 0


def test_refused_batch_items_and_malformed_lines_are_kept_one_by_one(client: TestClient, store: Store) -> None:
    good = orjson.dumps(event("etl#2"))
    lines = b"\n".join([good, b"{not json", orjson.dumps({**event(), "eventTime": "soon"})])
    response = client.post("/api/v1/lineage/batch", content=lines)
    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == ["created", "rejected", "rejected"]
    entries = {e["field"]: e for e in kept(client)}
    assert set(entries) == {"line 2", "eventTime"}
    assert client.get(f"/api/v1/rejections/{entries['line 2']['id']}").json()["body"] == "{not json"
    assert store.event_count() == 1


def test_a_body_refused_for_its_size_keeps_its_head_size_and_hash(store: Store, settings: Settings) -> None:
    small = settings.model_copy(update={"max_body_bytes": 1024, "rejection_sample_bytes": 100})
    body = orjson.dumps({**event(), "padding": "x" * 5000})
    with TestClient(create_app(small, store=store)) as client:
        assert client.post("/api/v1/lineage", content=body).status_code == 413
        (entry,) = kept(client)
        assert (entry["error"], entry["size"], entry["truncated"]) == ("payload_too_large", len(body), True)
        assert entry["sha256"] == hashlib.sha256(body).hexdigest()
        assert client.get(f"/api/v1/rejections/{entry['id']}").json()["body"] == body[:100].decode()
        # Replaying cannot bring back what was not kept: it says so and keeps the entry.
        replayed = client.post(f"/api/v1/rejections/{entry['id']}/replay").json()
        assert replayed["status"] == "still_refused" and "first 100 of" in replayed["errors"][0]["detail"]
        assert len(kept(client)) == 1


def test_replay_stores_an_entry_todays_rules_accept_and_removes_it(client: TestClient, store: Store) -> None:
    # Refused by an earlier rule (say, a stricter facet check), accepted by today's.
    body = orjson.dumps(event())
    store.put_rejection(rejection_of(body, InvalidEvent("outputs[0].facets", "old rule"), s.ts(11)), 10, 10**6)
    (entry,) = kept(client)
    replayed = client.post(f"/api/v1/rejections/{entry['id']}/replay").json()
    assert replayed == {"id": entry["id"], "status": "replayed", "created": 1, "duplicate": 0, "errors": []}
    assert kept(client) == [] and store.event_count() == 1
    still = client.post("/api/v1/lineage", json={**event(), "run": {"runId": "x"}})
    assert still.status_code == 400
    (again,) = kept(client)
    assert client.post(f"/api/v1/rejections/{again['id']}/replay").json()["status"] == "still_refused"
    assert client.delete(f"/api/v1/rejections/{again['id']}").json()["status"] == "dismissed"
    assert kept(client) == [] and client.get(f"/api/v1/rejections/{again['id']}").status_code == 404


def test_the_dead_letter_store_needs_the_admin_scope(store: Store, settings: Settings) -> None:
    from lineage.auth import new_token

    secret, record = new_token("pipeline", ["ingest", "read"], s.ts(1))
    store.put_token(record)
    with TestClient(create_app(settings, store=store)) as client:
        assert client.get("/api/v1/rejections").status_code == 401
        headers = {"Authorization": f"Bearer {secret}"}
        assert client.get("/api/v1/rejections", headers=headers).status_code == 403


def test_warnings_are_counted_apart_from_rejections_and_query_errors(client: TestClient) -> None:
    flawed = event()
    flawed["outputs"][0]["outputFacets"] = {"outputStatistics": {"rowCount": "many"}}
    response = client.post("/api/v1/lineage", json=flawed)
    assert response.status_code == 201
    assert response.json()["warnings"] == [
        {"field": "outputs[0].outputFacets.outputStatistics.rowCount", "problem": "facet_schema",
         "detail": response.json()["warnings"][0]["detail"]}
    ]
    client.post("/api/v1/lineage", json=flawed)  # a duplicate is not counted again
    client.get("/api/v1/impact", params={"ref": "no-such-thing"})
    text = client.get("/metrics").text
    assert 'lineage_ingest_warnings_total{kind="facet_schema"} 1.0' in text
    assert 'lineage_query_errors_total{error="not_found"} 1.0' in text
    assert "lineage_ingest_rejects_total{" not in text


def test_a_4xx_log_line_names_the_error_the_field_and_the_detail(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="lineage.http"):
        client.post("/api/v1/lineage", json={**event(), "run": {"runId": "x"}})
    (line,) = [r for r in caplog.records if r.name == "lineage.http" and getattr(r, "status", 0) == 400]
    assert (line.error, line.field) == ("invalid_input", "run.runId") and "not a UUID" in line.detail


def test_a_refusal_that_cannot_be_kept_is_a_503_clients_retry(settings: Settings) -> None:
    down = settings.model_copy(update={"store": f"neo4j://127.0.0.1:{free_port()}", "neo4j_retry_seconds": 0.2})
    with TestClient(create_app(down)) as client:
        response = client.post("/api/v1/lineage", content=b"{not json")
        assert response.status_code == 503 and response.headers["Retry-After"] == "1"
