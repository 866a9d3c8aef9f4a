"""Release actions over HTTP on both stores (issue 37): checklist, rollback with the owners'
webhook (a real HTTP server on loopback), artifact verification."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from lineage import ids
from lineage.settings import Settings
from lineage.store.base import EventFilter, Store
from tests.conformance.test_release_actions import GOOD_SHA, story


class Receiver:
    """An owners' webhook: a loopback HTTP server that keeps what was posted to it."""

    def __init__(self, status: int = 204) -> None:
        self.posts: list[dict[str, Any]] = []
        received = self.posts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/owners"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


def client_for(store: Store, settings: Settings) -> TestClient:
    return TestClient(create_app(settings, store=store))


@pytest.fixture
def client(store: Store, settings: Settings, receiver: Receiver) -> Iterator[TestClient]:
    settings = settings.model_copy(update={"owner_webhook_url": receiver.url})
    with client_for(store, settings) as test_client:
        response = test_client.post("/api/v1/lineage/batch", json=story())
        assert response.status_code == 200 and response.json()["rejected"] == 0
        yield test_client


def test_checklist_over_http(client: TestClient) -> None:
    answer = client.get("/api/v1/models/churn/versions/2.3.1/checklist").json()
    statuses = {row["item"]: row["status"] for row in answer["items"]}
    assert statuses["environment"] == "missing" and statuses["feature_views"] == "present"
    assert answer["present"] == sum(1 for v in statuses.values() if v == "present")
    missing = client.get("/api/v1/models/churn/versions/9.9.9/checklist")
    assert missing.status_code == 404
    assert "churn@2.3.1" in missing.json()["suggestions"]


def test_rollback_is_a_dry_run_unless_asked(client: TestClient, store: Store, receiver: Receiver) -> None:
    before = store.count_events(EventFilter())
    plan = client.post("/api/v1/models/churn/aliases/Production/rollback", json={}).json()
    assert plan["dry_run"] is True
    assert (plan["current_version"], plan["last_known_good"]["version"]) == ("2.3.1", "2.2.0")
    assert store.count_events(EventFilter()) == before
    assert receiver.posts == []


def test_a_recorded_rollback_moves_the_alias_and_notifies_the_owners(client: TestClient, store: Store, receiver: Receiver) -> None:
    body = {"dry_run": False, "reason": "biased labels in data-v2", "by": "oncall"}
    answer = client.post("/api/v1/models/churn/aliases/Production/rollback", json=body).json()
    assert answer["moved_to"] == "2.2.0"
    assert answer["notified"] == {"url": receiver.url, "delivered": True, "status": 204}
    alias = store.node(ids.alias_id("churn", "Production"))
    assert alias is not None and alias.props["current_version"] == "2.2.0"
    (post,) = receiver.posts
    assert post == {
        "kind": "rollback", "model": "churn", "alias": "Production", "from_version": "2.3.1", "to_version": "2.2.0",
        "reason": "biased labels in data-v2", "by": "oncall", "owners": ["alice", "team:churn"], "event": answer["event"],
    }
    # the move is evidence: the event is in the log with who and why
    (stored,) = [e for e in store.events(EventFilter(), 0, 200) if e.id == answer["event"]]
    assert json.loads(stored.payload)["run"]["facets"]["lineage_rollback"]["by"] == "oncall"
    versions = client.get("/api/v1/models/churn/versions").json()
    assert {a["alias"]: a["current_version"] for a in versions["aliases"]} == {"Production": "2.2.0"}


def test_a_rollback_without_reason_is_refused_and_records_nothing(client: TestClient, store: Store, receiver: Receiver) -> None:
    before = store.count_events(EventFilter())
    response = client.post("/api/v1/models/churn/aliases/Production/rollback", json={"dry_run": False, "by": "oncall"})
    assert response.status_code == 400
    assert store.count_events(EventFilter()) == before and receiver.posts == []
    assert client.post("/api/v1/models/churn/aliases/Staging/rollback", json={}).status_code == 404


def test_a_webhook_that_is_down_is_reported_and_the_move_still_recorded(store: Store, settings: Settings) -> None:
    with Receiver() as gone:
        url = gone.url
    settings = settings.model_copy(update={"owner_webhook_url": url})
    with client_for(store, settings) as test_client:
        assert test_client.post("/api/v1/lineage/batch", json=story()).status_code == 200
        answer = test_client.post("/api/v1/models/churn/aliases/Production/rollback", json={"dry_run": False, "reason": "r", "by": "b"}).json()
    assert answer["notified"]["delivered"] is False
    alias = store.node(ids.alias_id("churn", "Production"))
    assert alias is not None and alias.props["current_version"] == "2.2.0"


def test_verify_over_http(client: TestClient) -> None:
    verdict = {
        sha: client.post("/api/v1/artifacts/verify", json={"ref": "churn@2.2.0", "sha256": sha}).json()["result"]
        for sha in (GOOD_SHA, "f" * 64)
    }
    assert verdict == {GOOD_SHA: "match", "f" * 64: "mismatch"}
    assert client.post("/api/v1/artifacts/verify", json={"ref": "churn@2.2.0", "sha256": "xyz"}).status_code in (400, 422)


def test_a_read_token_may_plan_a_rollback_but_recording_it_needs_ingest_too(store: Store, settings: Settings, receiver: Receiver) -> None:
    from lineage.auth import new_token
    from tests.api.test_auth import bearer, tokens

    settings = settings.model_copy(update={"owner_webhook_url": receiver.url})
    secrets = tokens(store)
    secrets["oncall"], oncall = new_token("oncall", ["read", "ingest"], "2026-01-01T00:00:00.000000Z")
    store.put_token(oncall)
    with client_for(store, settings) as test_client:
        loaded = test_client.post("/api/v1/lineage/batch", json=story(), headers=bearer(secrets["pipeline"]))
        assert loaded.status_code == 200
        before = store.count_events(EventFilter())
        path = "/api/v1/models/churn/aliases/Production/rollback"
        assert test_client.post(path, json={}).status_code == 401
        plan = test_client.post(path, json={}, headers=bearer(secrets["responder"]))
        assert plan.status_code == 200 and plan.json()["last_known_good"]["version"] == "2.2.0"
        record = {"dry_run": False, "reason": "bad labels", "by": "oncall"}
        refused = test_client.post(path, json=record, headers=bearer(secrets["responder"]))
        assert refused.status_code == 403
        assert store.count_events(EventFilter()) == before and receiver.posts == []
        assert test_client.post(path, json=record, headers=bearer(secrets["pipeline"])).status_code == 403
        assert store.count_events(EventFilter()) == before
        recorded = test_client.post(path, json=record, headers=bearer(secrets["oncall"]))
        assert recorded.status_code == 200 and recorded.json()["moved_to"] == "2.2.0"
        assert store.count_events(EventFilter()) == before + 1
