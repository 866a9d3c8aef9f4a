"""Prometheus /metrics: ingest counts, rejects by reason, batch sizes, latency."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from lineage.metrics import Metrics
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


def test_metrics_of_several_api_processes_are_summed(tmp_path, monkeypatch) -> None:
    """`lineage serve --workers N`: each worker writes its samples under PROMETHEUS_MULTIPROC_DIR
    and any of them renders the sum (prometheus_client picks its file-backed values when it is
    imported, so each worker here is a fresh interpreter, as the real ones are)."""
    import os
    import subprocess
    import sys

    script = (
        "import sys; from lineage.metrics import Metrics; m = Metrics(); n = int(sys.argv[1]);"
        "m.events.labels('created').inc(n); [m.commit_batch.observe(4) for _ in range(n)]"
    )
    env = os.environ | {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for n in (3, 5):
        subprocess.run([sys.executable, "-c", script, str(n)], env=env, check=True, timeout=60)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    text = Metrics().render().decode()
    assert value(text, 'lineage_ingest_events_total{outcome="created"}') == 8
    assert value(text, "lineage_commit_batch_events_count") == 8
    assert value(text, "lineage_commit_batch_events_sum") == 32
