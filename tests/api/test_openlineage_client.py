"""The real openlineage-python client, configured the OpenLineage way, against a running service."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes


# Headers that belong to one hop; the proxy's own client sets them for the next.
HOP = {"host", "connection", "content-length", "transfer-encoding", "keep-alive"}


@contextmanager
def recording_proxy(upstream: str) -> Iterator[tuple[str, list[Received]]]:
    """An HTTP proxy in front of `upstream` that records each request's headers and body as
    they arrived on the wire, then forwards them unchanged: the service itself has no record of
    how a body was encoded once it has decoded it."""
    seen: list[Received] = []

    class Handler(BaseHTTPRequestHandler):
        def _forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            seen.append(Received(self.path, headers, body))
            sent = {k: v for k, v in headers.items() if k not in HOP}
            answer = httpx.request(self.command, upstream + self.path, headers=sent, content=body, timeout=60)
            self.send_response(answer.status_code)
            self.send_header("Content-Type", answer.headers.get("content-type", "application/json"))
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        do_POST = do_GET = _forward

        def log_message(self, format: str, *args: object) -> None:
            pass  # the test reads `seen`, not a log

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_client_api_key_is_the_bearer_token_and_gzip_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "lineage.db"
    store = SqliteStore(str(db))
    secret, record = new_token("airflow", ["ingest"], "2026-01-01T00:00:00.000000Z")
    store.put_token(record)
    store.close()
    with running(f"sqlite:///{db}") as url, recording_proxy(url) as (proxy, seen):
        monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "http")
        monkeypatch.setenv("OPENLINEAGE__TRANSPORT__URL", proxy)
        monkeypatch.setenv("OPENLINEAGE__TRANSPORT__AUTH__TYPE", "api_key")
        monkeypatch.setenv("OPENLINEAGE__TRANSPORT__AUTH__APIKEY", secret)
        monkeypatch.setenv("OPENLINEAGE__TRANSPORT__COMPRESSION", "gzip")
        OpenLineageClient().emit(event("train"))
        monkeypatch.setenv("OPENLINEAGE__TRANSPORT__AUTH__APIKEY", "lgt_not-a-token")
        with pytest.raises(requests.HTTPError, match="401"):
            OpenLineageClient().emit(event("rogue"))
        page = httpx.get(f"{url}/api/v1/events", headers={"Authorization": f"Bearer {secret}"})
    assert page.status_code == 403  # an ingest token cannot read
    # What the service was sent: the event gzip-encoded on the wire, the key as a bearer token.
    train, rogue = seen
    assert train.path == rogue.path == "/api/v1/lineage"
    assert train.headers.get("content-encoding") == "gzip" and train.body[:2] == b"\x1f\x8b"
    assert json.loads(gzip.decompress(train.body))["job"]["name"] == "train"
    assert train.headers.get("authorization") == f"Bearer {secret}"
    store = SqliteStore(str(db))
    try:
        jobs = [e.job_name for e in store.events(EventFilter(), 0, 10)]
    finally:
        store.close()
    assert jobs == ["train"]
