"""The churn story's release record (issue 37), told to a real `lineage serve` on each store:
the environment drift of one endpoint, the contract break of data-v1.8.2, both checklists, the
rollback of Production with its recorded event and the owners' webhook, and artifact checks."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from examples.churn.__main__ import run
from examples.churn.questions import report
from examples.churn.record import ENDPOINTS, drifts
from examples.churn.story import DRIFTING, OWNERS
from lineage.store.base import Store
from tests.server import running

START = datetime(2026, 3, 1, tzinfo=timezone.utc)


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A loopback receiver for the owners' webhook: its URL and the bodies POSTed to it."""
    received: list[dict[str, Any]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/owners", received
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(params=["sqlite", "neo4j"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'lineage.db'}"
    store: Store = request.getfixturevalue("neo4j_store")
    store.reset()
    return str(request.getfixturevalue("neo4j_uri"))


def test_the_story_answers_the_release_record_questions(
    store_url: str, tmp_path: Path, clean_env: Path, webhook: tuple[str, list[dict[str, Any]]]
) -> None:
    hook, received = webhook
    password = os.environ.get("LINEAGE_TEST_NEO4J_PASSWORD", "")
    with running(store_url, LINEAGE_OWNER_WEBHOOK_URL=hook, LINEAGE_NEO4J_PASSWORD=password) as url:
        outcome, answers = run(url, tmp_path / "out", start=START)

    # 1. Environment drift on exactly the endpoint whose image was built from other pins.
    drifting = {name for name in ENDPOINTS if drifts(answers["endpoints"][name])}
    assert drifting == {DRIFTING}
    (detail,) = drifts(answers["endpoints"][DRIFTING])
    assert "churn@2.3.1" in detail and "lockfile sha256" in detail
    assert [w["kind"] for w in answers["impact"]["warnings"]].count("environment_drift") == 1

    # 2. data-v1.8.2 dropped `region` under a minor bump: a contract break, with its data checks.
    (customers,) = [c for c in answers["diff"]["data_changes"] if c["to"] and "customers@" in c["to"]]
    assert customers["columns"]["removed"] == [{"name": "region", "type": "string"}]
    assert customers["columns"]["added"] == customers["columns"]["retyped"] == []
    assert "data-v1.7.1 -> data-v1.8.2" in customers["contract_break"]
    assert (customers["statistics"]["from"]["rowCount"], customers["statistics"]["to"]["rowCount"]) == (600, 800)
    assert customers["quality_metrics"]["to"]["rowCount"] == 800
    assert customers["failed_assertions"]["from"] == []
    assert {a["assertion"] for a in customers["failed_assertions"]["to"]} == {"columns_match_contract", "label_mapping_matches_contract"}
    assert answers["diff"]["summary"]["contract_breaks"] == 1
    breaks = [w for w in answers["impact"]["warnings"] if w["kind"] == "contract_break"]
    assert len(breaks) == 1 and "data-v1.8.2" in breaks[0]["detail"]

    # 3. The checklists: the bad model lacks its seed and (after the rollback) any stage; the
    # good one lacks only a version before it to compare with.
    def missing(version: str) -> set[str]:
        return {i["item"] for i in answers["checklists"][version]["items"] if i["status"] == "missing"}

    assert missing("2.3.1") == {"training_setup_and_seed", "stage"}
    assert missing("2.2.0") == {"change_summary"}
    for version, checklist in answers["checklists"].items():
        assert checklist["total"] == len(checklist["items"]) == 11
        assert checklist["present"] == checklist["total"] - len(missing(version))
        owners = next(i for i in checklist["items"] if i["item"] == "identity_and_owners")
        assert owners["value"]["owners"] == sorted(OWNERS) and owners["event"]

    # 4. The rollback: planned, then recorded as an event of its own, and the owners told.
    plan = answers["rollback_plan"]
    assert (plan["dry_run"], plan["current_version"], plan["last_known_good"]["version"]) == (True, "2.3.1", "2.2.0")
    moved = answers["rollback"]
    assert (moved["dry_run"], moved["moved_to"]) == (False, "2.2.0")
    (event,) = answers["rollback_events"]
    assert event["id"] == moved["event"]
    facet = event["event"]["run"]["facets"]["lineage_rollback"]
    assert (facet["from_version"], facet["to_version"], facet["by"]) == ("2.3.1", "2.2.0", "oncall")
    production = next(a for a in answers["versions"]["aliases"] if a["alias"] == "Production")
    assert production["current_version"] == "2.2.0"
    assert moved["notified"]["delivered"] is True
    (sent,) = received
    assert (sent["kind"], sent["from_version"], sent["to_version"], sent["event"]) == ("rollback", "2.3.1", "2.2.0", moved["event"])
    assert set(OWNERS) <= set(sent["owners"])

    # 5. The model file of 2.2.0 matches its record; 2.3.1's file offered as 2.2.0 does not.
    verify = answers["verify"]
    assert verify["match"]["result"] == "match"
    assert verify["mismatch"]["result"] == "mismatch"
    assert verify["match"]["expected"] == hashlib.sha256(outcome.models["2.2.0"].read_bytes()).hexdigest()

    text = report(answers, outcome)
    assert f"{DRIFTING:<12} DRIFT: lockfile sha256" in text
    assert "CONTRACT BREAK: lake://demo/customers@data-v1.8.2 breaks the schema" in text
    assert "churn@2.3.1: 9/11 items; missing: training_setup_and_seed, stage" in text
    assert "mismatch -> mismatch" in text
