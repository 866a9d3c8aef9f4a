"""The real openlineage-python client, configured the OpenLineage way, against a running service."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import requests
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState

from lineage.auth import new_token
from lineage.store.base import EventFilter
from lineage.store.sqlite import SqliteStore
from tests import scenario as s
from tests.server import running


def event(name: str) -> RunEvent:
    return RunEvent(
        eventType=RunState.COMPLETE,
        eventTime="2026-03-01T10:00:00.000Z",
        run=Run(runId=s.run_uuid(name)),
        job=Job(namespace="ml-pipelines", name=name),
        producer=s.PRODUCER,
    )


def test_client_api_key_is_the_bearer_token_and_gzip_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "lineage.db"
    store = SqliteStore(str(db))
    secret, record = new_token("airflow", ["ingest"], "2026-01-01T00:00:00.000000Z")
    store.put_token(record)
    store.close()
    with running(f"sqlite:///{db}") as url:
        monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "http")
        monkeypatch.setenv("OPENLINEAGE__TRANSPORT__URL", url)
        monkeypatch.setenv("OPENLINEAGE__TRANSPORT__AUTH__TYPE", "api_key")
        monkeypatch.setenv("OPENLINEAGE__TRANSPORT__AUTH__APIKEY", secret)
        monkeypatch.setenv("OPENLINEAGE__TRANSPORT__COMPRESSION", "gzip")
        OpenLineageClient().emit(event("train"))
        monkeypatch.setenv("OPENLINEAGE__TRANSPORT__AUTH__APIKEY", "lgt_not-a-token")
        with pytest.raises(requests.HTTPError, match="401"):
            OpenLineageClient().emit(event("rogue"))
        page = httpx.get(f"{url}/api/v1/events", headers={"Authorization": f"Bearer {secret}"})
    assert page.status_code == 403  # an ingest token cannot read
    store = SqliteStore(str(db))
    try:
        jobs = [e.job_name for e in store.events(EventFilter(), 0, 10)]
    finally:
        store.close()
    assert jobs == ["train"]
