"""One error shape everywhere (issue 31): `{error, field, detail}` for validation, unknown
routes and methods, the ingest body deviations, and 5xx answers that keep their cause to the log."""

from __future__ import annotations

import gzip
import logging
from collections.abc import Iterator

import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from lineage.cli.main import app as cli
from lineage.settings import Settings
from lineage.store.base import Store
from tests import scenario as s
from tests.server import free_port


@pytest.fixture
def client(store: Store, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store=store)) as test_client:
        yield test_client


def event(run: str = "etl#1") -> bytes:
    return orjson.dumps(s.event(run, "COMPLETE", s.ts(10), inputs=[s.dataset("raw", "v1")], outputs=[s.dataset("clean")]))


def assert_shape(response: object, status: int, error: str) -> dict[str, object]:
    body = response.json()  # type: ignore[attr-defined]
    assert response.status_code == status, body  # type: ignore[attr-defined]
    assert {"error", "field", "detail"} <= set(body) and body["error"] == error and body["detail"], body
    return body  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/impact", {"ref": "x", "depth": "deep"}, "depth"),
        ("/api/v1/impact", {"ref": "x", "depth": "-1"}, "depth"),
        ("/api/v1/upstream", {"depth": "2"}, "ref"),
        ("/api/v1/events", {"limit": "many"}, "limit"),
        ("/api/v1/verify", {"entries": "-3", "head": "0" * 64}, "entries"),
        # Past Marquez's own int: a clear 400, not a store overflow.
        ("/api/v1/jobs", {"offset": str(2**100)}, "offset"),
        ("/api/v1/namespaces/shop/datasets", {"offset": str(2**63)}, "offset"),
    ],
    ids=["depth-not-int", "depth-negative", "ref-missing", "limit-not-int", "entries-negative", "jobs-offset-huge", "datasets-offset-huge"],
)
def test_bad_query_parameters_are_400_naming_the_field(client: TestClient, path: str, params: dict, field: str) -> None:
    body = assert_shape(client.get(path, params=params), 400, "invalid_input")
    assert body["field"] == field


def test_several_bad_parameters_are_all_listed(client: TestClient) -> None:
    body = assert_shape(client.get("/api/v1/events", params={"limit": "x", "cursor": "y"}), 400, "invalid_input")
    assert {p["field"] for p in body["problems"]} == {"limit", "cursor"}  # type: ignore[union-attr]


def test_unknown_routes_and_methods_answer_in_the_same_shape(client: TestClient) -> None:
    missing = assert_shape(client.get("/api/v1/nothing-here"), 404, "not_found")
    assert "/api/v1/nothing-here" in str(missing["detail"])
    assert_shape(client.delete("/api/v1/lineage"), 405, "method_not_allowed")
    assert_shape(client.get("/api/v1/lineage/batch"), 405, "method_not_allowed")


def test_empty_batch_is_400_and_stores_nothing(client: TestClient, store: Store) -> None:
    for content in (b"[]", b"  [ ]\n"):
        body = assert_shape(client.post("/api/v1/lineage/batch", content=content), 400, "invalid_input")
        assert "empty batch" in str(body["detail"])
    assert store.event_count() == 0


def gzipped(content: bytes) -> dict[str, object]:
    return {"content": content, "headers": {"Content-Encoding": "gzip", "Content-Type": "application/json"}}


def test_gzip_followed_by_junk_is_refused_and_not_stored(client: TestClient, store: Store) -> None:
    body = assert_shape(client.post("/api/v1/lineage", **gzipped(gzip.compress(event()) + b"junk")), 400, "invalid_input")
    assert body["field"] == "Content-Encoding" and "not gzip" in str(body["detail"])
    assert store.event_count() == 0


def test_concatenated_gzip_members_are_one_body(client: TestClient, store: Store) -> None:
    raw = event()
    response = client.post("/api/v1/lineage", **gzipped(gzip.compress(raw[:40]) + gzip.compress(raw[40:])))
    assert response.status_code == 201 and store.event_count() == 1


@pytest.mark.parametrize("cut", ["truncated", "corrupt"])
def test_broken_gzip_says_gzip(client: TestClient, store: Store, cut: str) -> None:
    packed = gzip.compress(event())
    content = packed[: len(packed) // 2] if cut == "truncated" else packed[:10] + bytes(b ^ 0x5A for b in packed[10:])
    body = assert_shape(client.post("/api/v1/lineage", **gzipped(content)), 400, "invalid_input")
    assert "gzip" in str(body["detail"]) and "empty body" not in str(body["detail"])
    assert store.event_count() == 0


def test_verify_with_a_malformed_head_is_400_not_tampering(client: TestClient) -> None:
    body = assert_shape(client.get("/api/v1/verify", params={"entries": 0, "head": "deadbeef"}), 400, "invalid_input")
    assert body["field"] == "head"


def test_cli_verify_with_a_malformed_head_is_a_usage_error(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINEAGE_STORE", settings.store)
    result = CliRunner().invoke(cli, ["verify", "--entries", "0", "--head", "deadbeef"])
    assert result.exit_code == 2 and "TAMPERED" not in result.output
    assert "64 lowercase hex" in result.output


def test_store_outage_answers_keep_addresses_and_driver_words_to_the_log(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    down = settings.model_copy(update={"store": f"bolt://127.0.0.1:{port}", "neo4j_retry_seconds": 0.2})
    with caplog.at_level(logging.WARNING), TestClient(create_app(down)) as client:
        answers = [
            client.get("/readyz"),
            client.post("/api/v1/lineage", content=event()),
            client.get("/api/v1/search", params={"q": "x"}),
        ]
    for answer in answers:
        assert answer.status_code == 503 and answer.headers["Retry-After"]
        assert str(port) not in answer.text and "127.0.0.1" not in answer.text and "neo4j:" not in answer.text
    assert str(port) in caplog.text  # the cause is still there for the operator


def test_the_openapi_document_promises_the_400_that_is_answered(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    responses = [op["responses"] for path in document["paths"].values() for op in path.values()]
    assert not [r for r in responses if "422" in r]
    impact = document["paths"]["/api/v1/impact"]["get"]["responses"]["400"]
    assert impact["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert document["components"]["schemas"]["Error"]["required"] == ["error", "field", "detail"]
