"""Prometheus /metrics: ingest counts, rejects by reason, batch sizes, latency."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from lineage.settings import Settings
from lineage.store.sqlite import SqliteStore
from tests import scenario as s


def value(text: str, sample: str) -> float:
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{sample} not in metrics")


def test_metrics_count_what_happened(tmp_path, settings: Settings) -> None:
    store = SqliteStore(str(tmp_path / "m.db"))
    with TestClient(create_app(settings, store=store)) as client:
        body = s.event("etl#1", "COMPLETE", s.ts(1))
        client.post("/api/v1/lineage", json=body)
        client.post("/api/v1/lineage", json=body)
        client.post("/api/v1/lineage", json={**body, "eventTime": "never"})
        client.post("/api/v1/lineage/batch", json=[s.event("etl#2", "COMPLETE", s.ts(2)), {"run": {}}])
        text = client.get("/metrics").text
    store.close()
    assert value(text, 'lineage_ingest_events_total{outcome="created"}') == 2
    assert value(text, 'lineage_ingest_events_total{outcome="duplicate"}') == 1
    assert value(text, 'lineage_ingest_rejects_total{reason="invalid:eventTime"}') == 2  # one single, one in the batch
    assert value(text, "lineage_commit_batch_events_count") == 3
    assert value(text, 'lineage_http_requests_total{method="POST",route="/api/v1/lineage",status="201"}') == 1
    assert value(text, "lineage_ingest_ack_seconds_count") == 3
