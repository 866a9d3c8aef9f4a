"""`lineage checklist`, `rollback` and `verify-artifact` on both stores and over HTTP (issue 37)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from lineage import ids
from lineage.cli.main import app
from lineage.store.base import EventFilter, Store
from tests.conformance.test_projection_rules import ingest
from tests.conformance.test_release_actions import artifact, story
from tests import scenario as s
from tests.server import running

runner = CliRunner()


@pytest.fixture
def loaded(store_env: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.delenv("LINEAGE_OWNER_WEBHOOK_URL", raising=False)
    ingest(store_env, *story())
    return store_env


def invoke(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == code, result.output
    return result.stdout


def test_checklist_table_and_json(loaded: Store) -> None:
    text = invoke("checklist", "churn@2.3.1")
    assert "environment" in text and "6 of 11 items present" in text
    answer = json.loads(invoke("checklist", "churn@2.2.0", "--json"))
    assert answer["present"] == 8
    assert invoke("checklist", "churn", code=2) == ""  # not model@version: a usage error


def test_rollback_dry_run_then_apply(loaded: Store) -> None:
    before = loaded.count_events(EventFilter())
    text = invoke("rollback", "churn@Production")
    assert "last known good: churn@2.2.0" in text and "dry run" in text
    assert loaded.count_events(EventFilter()) == before
    invoke("rollback", "churn@Production", "--apply", "--by", "oncall", code=1)  # no reason: refused
    assert loaded.count_events(EventFilter()) == before
    text = invoke("rollback", "churn@Production", "--apply", "--reason", "biased labels", "--by", "oncall")
    assert "recorded: churn@Production -> 2.2.0" in text
    assert loaded.count_events(EventFilter()) == before + 1
    alias = loaded.node(ids.alias_id("churn", "Production"))
    assert alias is not None and alias.props["current_version"] == "2.2.0"


def test_verify_artifact_exit_codes(loaded: Store, tmp_path: Path) -> None:
    good = tmp_path / "model.pkl"
    good.write_bytes(b"the model 2.4.0")
    ingest(loaded, s.event("train#3", "COMPLETE", s.ts(15), job="train-churn", outputs=[artifact("churn", "2.4.0", hashlib.sha256(good.read_bytes()).hexdigest())]))
    assert invoke("verify-artifact", str(good), "--ref", "churn@2.4.0").startswith("match")
    tampered = tmp_path / "tampered.pkl"
    tampered.write_bytes(b"the model 2.4.0, changed")
    assert invoke("verify-artifact", str(tampered), "--ref", "churn@2.4.0", code=2).startswith("mismatch")
    assert json.loads(invoke("verify-artifact", str(good), "--ref", "churn@2.3.1", "--json"))["result"] == "unknown"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    with running(f"sqlite:///{tmp_path / 'served.db'}") as url:
        assert httpx.post(f"{url}/api/v1/lineage/batch", json=story()).json()["created"] == len(story())
        yield url


def test_over_http_with_url(server: str, tmp_path: Path) -> None:
    assert json.loads(invoke("checklist", "churn@2.2.0", "--url", server, "--json"))["present"] == 8
    invoke("rollback", "churn@Production", "--url", server, "--apply", "--reason", "r", "--by", "b")
    versions = httpx.get(f"{server}/api/v1/models/churn/versions").json()
    assert {a["alias"]: a["current_version"] for a in versions["aliases"]} == {"Production": "2.2.0"}
    other = tmp_path / "other.bin"
    other.write_bytes(b"not it")
    invoke("verify-artifact", str(other), "--ref", "churn@2.2.0", "--url", server, code=2)
