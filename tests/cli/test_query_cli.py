"""The query commands: tables for people, --json for scripts, on a store or over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from lineage import queries
from lineage.cli.main import app
from lineage.store.base import Store
from tests import incident
from tests.server import running
from tests.conformance.test_projection_rules import ingest

runner = CliRunner()


@pytest.fixture
def loaded(store: Store, backend: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, request: pytest.FixtureRequest) -> Store:
    uri = f"sqlite:///{tmp_path / 'lineage.db'}" if backend == "sqlite" else request.getfixturevalue("neo4j_uri")
    monkeypatch.setenv("LINEAGE_STORE", uri)
    monkeypatch.delenv("LINEAGE_URL", raising=False)
    ingest(store, *incident.EVENTS)
    return store


def run(*args: str) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_json_output_is_the_api_answer(loaded: Store) -> None:
    assert json.loads(run("impact", "data-v1.8.2", "--json")) == json.loads(json.dumps(queries.impact(loaded, "data-v1.8.2")))


def table_rows(text: str, first_column: str) -> dict[str, dict[str, str]]:
    """The rows of the table whose first column is `first_column`, by their first cell, each a
    mapping of column name to cell."""

    def cells(line: str, bar: str) -> list[str]:
        return [c.strip() for c in line.strip().strip(bar).split(bar)]

    lines = text.splitlines()
    top = next(i for i, line in enumerate(lines) if line.lstrip().startswith("┃") and cells(line, "┃")[0] == first_column)
    names, rows = cells(lines[top], "┃"), {}
    for line in lines[top + 1 :]:
        if line.lstrip().startswith("└"):
            break
        if line.lstrip().startswith("│"):
            row = cells(line, "│")
            rows[row[0]] = dict(zip(names, row))
    return rows


def test_tables_answer_the_incident_questions(loaded: Store) -> None:
    impact = run("impact", "data-v1.8.2")
    endpoints = table_rows(impact, "endpoint")
    # Each endpoint's own row says whether it still serves the affected model.
    assert {name: row["still serving it"] for name, row in endpoints.items()} == {"churn-eu": "YES", "churn-us": "YES", "churn-prod": "no"}
    assert "churn-batch" not in impact
    assert "data-v1.8.2" in run("upstream", "churn@2.3.1")
    diff = run("diff", "churn@2.2.0", "churn@2.3.1")
    assert "data-v1.7.1" in diff and "data-v1.8.2" in diff and "0.05" in diff
    assert "at 2026-03-02T12:00:00.000000Z: churn@2.3.1" in run("endpoint", "churn-prod", "--at", "2026-03-02T12:00:00Z")
    assert "churn-prod" in run("search", "churn-p")
    assert "tagged" in run("annotate", "churn@2.2.0", "deprecated", "--author", "alice", "--reason", "old")
    assert "last known good before 2.3.1: none" in run("versions", "churn", "--before", "2.3.1")


def test_unknown_ref_exits_nonzero_with_suggestions(loaded: Store) -> None:
    result = runner.invoke(app, ["impact", "data-v1.8.3"])
    assert result.exit_code == 1
    assert "did you mean data-v1.8.2" in result.stderr


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    with running(f"sqlite:///{tmp_path / 'served.db'}") as url:
        assert httpx.post(f"{url}/api/v1/lineage/batch", json=incident.EVENTS).json()["created"] == len(incident.EVENTS)
        yield url


def test_over_http_with_url(server: str) -> None:
    answer = json.loads(run("impact", "data-v1.8.2", "--url", server, "--json"))
    assert {e["name"] for e in answer["endpoints"]} == {"churn-prod", "churn-eu", "churn-us"}
    assert "rollback" in run("endpoint", "churn-prod", "--url", server)
    run("annotate", "data-v1.8.2", "quarantined", "--author", "oncall", "--url", server)
    versions = json.loads(run("versions", "churn", "--before", "2.3.1", "--url", server, "--json"))
    assert versions["last_known_good"]["version"] == "2.2.0"
    result = runner.invoke(app, ["upstream", "nope", "--url", server])
    assert result.exit_code == 1 and "nothing matches" in result.stderr


def test_the_readme_incident_file_is_the_incident_story() -> None:
    lines = (Path(__file__).resolve().parents[2] / "examples" / "incident.ndjson").read_text().splitlines()
    assert [json.loads(line) for line in lines] == incident.EVENTS
