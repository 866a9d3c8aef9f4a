"""The service starts and answers while its Neo4j is unreachable: 503s clients retry, not a crash."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from lineage.settings import Settings
from tests import scenario as s
from tests.server import free_port


def test_starts_without_neo4j_and_answers_503(settings: Settings) -> None:
    down = settings.model_copy(update={"store": f"neo4j://127.0.0.1:{free_port()}", "neo4j_retry_seconds": 0.2})
    with TestClient(create_app(down)) as client:
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.headers["Retry-After"] == "1"
        ingest = client.post("/api/v1/lineage", json=s.event("etl#1", "COMPLETE", s.ts(1)))
        assert ingest.status_code == 503 and ingest.headers["Retry-After"] == "1"
        assert client.get("/api/v1/search", params={"q": "x"}).status_code == 503
