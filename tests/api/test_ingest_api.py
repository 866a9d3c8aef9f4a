"""The ingest HTTP contract (DESIGN.md section 5), on both stores."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import orjson
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from lineage.settings import Settings
from lineage.store.base import Store
from tests import corpus
from tests import scenario as s


@pytest.fixture
def client(store: Store, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store=store)) as test_client:
        yield test_client


def body(run: str = "etl#1", hour: int = 10) -> dict:
    return s.event(run, "COMPLETE", s.ts(hour), inputs=[s.dataset("raw", "v1")], outputs=[s.dataset("clean")])


def test_one_event_is_created_then_acknowledged_as_duplicate(client: TestClient, store: Store) -> None:
    first = client.post("/api/v1/lineage", json=body())
    assert first.status_code == 201 and first.json()["status"] == "created"
    again = client.post("/api/v1/lineage", json=body())
    assert again.status_code == 200 and again.json() == first.json() | {"status": "duplicate"}
    assert store.event_count() == 1


def test_gzip_body_is_accepted(client: TestClient, store: Store) -> None:
    raw = gzip.compress(orjson.dumps(body()))
    response = client.post("/api/v1/lineage", content=raw, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})
    assert response.status_code == 201
    assert store.event_count() == 1


@pytest.mark.parametrize(
    ("content", "status", "needle"),
    [
        (b"{not json", 400, "malformed JSON"),
        (b"", 400, "empty body"),
        (b"[1, 2]", 400, "JSON object"),
        (orjson.dumps({**body(), "eventTime": 5}), 400, "eventTime"),
        (orjson.dumps({**body(), "run": {"runId": "x"}}), 400, "run.runId"),
    ],
    ids=["malformed", "empty", "array-to-single", "wrong-type", "bad-uuid"],
)
def test_bad_input_is_a_4xx_naming_the_problem_and_stores_nothing(
    client: TestClient, store: Store, content: bytes, status: int, needle: str
) -> None:
    response = client.post("/api/v1/lineage", content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    assert needle in response.json()["detail"]
    assert store.event_count() == 0 and store.dump()["nodes"] == []


def test_oversized_bodies_are_refused_before_anything_is_stored(client: TestClient, store: Store, settings: Settings) -> None:
    big = body()
    big["run"]["facets"]["blob"] = s.facet(data="x" * settings.max_body_bytes)
    response = client.post("/api/v1/lineage", content=orjson.dumps(big), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    bomb = gzip.compress(orjson.dumps(big))  # small on the wire, too big unpacked
    assert len(bomb) < settings.max_body_bytes
    response = client.post("/api/v1/lineage", content=bomb, headers={"Content-Encoding": "gzip"})
    assert response.status_code == 413
    assert store.event_count() == 0


def test_unsupported_encoding_is_refused(client: TestClient) -> None:
    response = client.post("/api/v1/lineage", content=b"{}", headers={"Content-Encoding": "br"})
    assert response.status_code == 400 and response.json()["field"] == "Content-Encoding"


def test_batch_array_has_per_event_results_and_partial_success(client: TestClient, store: Store) -> None:
    items = [body("a#1"), {**body("c#1"), "eventTime": "nope"}, body("b#1"), body("a#1")]
    response = client.post("/api/v1/lineage/batch", json=items)
    assert response.status_code == 200
    result = response.json()
    assert [r["status"] for r in result["results"]] == ["created", "rejected", "created", "duplicate"]
    assert result["results"][1]["field"] == "eventTime"
    assert (result["created"], result["duplicate"], result["rejected"]) == (2, 1, 1)
    assert store.event_count() == 2


def test_batch_ndjson_and_all_rejected(client: TestClient, store: Store) -> None:
    ndjson = b"\n".join(orjson.dumps(b) for b in [body("a#1"), body("b#1")]) + b"\n{broken\n"
    response = client.post("/api/v1/lineage/batch", content=ndjson, headers={"Content-Type": "application/x-ndjson"})
    assert [r["status"] for r in response.json()["results"]] == ["created", "created", "rejected"]
    assert response.json()["results"][2]["field"] == "line 3"
    response = client.post("/api/v1/lineage/batch", json=[{"x": 1}])
    assert response.status_code == 400 and store.event_count() == 2


def test_batch_over_the_length_limit_is_refused_whole(client: TestClient, store: Store, settings: Settings) -> None:
    items = [body(f"r#{i}") for i in range(settings.max_batch_events + 1)]
    response = client.post("/api/v1/lineage/batch", json=items)
    assert response.status_code == 413 and store.event_count() == 0


def test_corpus_replayed_over_http(client: TestClient, store: Store) -> None:
    """Every corpus event with an identity is stored, its problems in the answer; the others
    are refused naming their field, and kept in the dead-letter store."""
    created, refused = 0, []
    for item in corpus.load():
        response = client.post("/api/v1/lineage", json=item.body)
        if item.path in corpus.REFUSED:
            assert response.status_code == 400, item.label
            assert response.json()["field"] == corpus.REFUSED[item.path]
            refused.append(item)
            continue
        assert response.status_code in (200, 201), (item.label, response.text)
        created += response.status_code == 201
        fields = [w["field"] for w in response.json()["warnings"]]
        if item.path in corpus.FLAGGED:
            assert corpus.FLAGGED[item.path] in fields, item.label
    assert len(refused) == len(corpus.REFUSED) and created == store.event_count()
    kept = client.get("/api/v1/rejections").json()
    assert kept["total"] == len(refused)
    assert sorted(e["field"] for e in kept["entries"]) == sorted(corpus.REFUSED[i.path] for i in refused)
    for entry in kept["entries"]:
        shown = client.get(f"/api/v1/rejections/{entry['id']}").json()
        assert orjson.loads(shown["body"]) in [i.body for i in refused]


def test_health_readiness_and_facet_schemas(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["status"] == "ready"
    schema = client.get("/schemas/facets/ml_modelVersion.json")
    assert schema.status_code == 200
    assert set(schema.json()["required"]) == {"name", "version"}
    assert schema.json()["$id"].endswith("/schemas/facets/ml_modelVersion.json")
    assert client.get("/schemas/facets/nope.json").status_code == 404
