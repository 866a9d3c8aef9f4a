"""The query commands print an answer's warnings above its tables (issue 29)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from rich.console import Console

from lineage.cli.warnings import print_warnings
from lineage.deadletter import rejection_of
from lineage.errors import InvalidEvent
from lineage.store.base import Store
from tests import gaps
from tests.cli.conftest import run
from tests.conformance.test_projection_rules import ingest
from tests.server import running


@pytest.fixture
def holes(store_env: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.delenv("LINEAGE_STALE_RUN_HOURS", raising=False)
    ingest(store_env, *gaps.EVENTS)
    return store_env


@pytest.mark.parametrize(
    ("args", "kind", "node", "first_table"),
    [
        (["impact", "data-v1.8.2"], "stale_run", gaps.run("report#1"), "Endpoints"),
        (["upstream", "sj-1"], "placeholder_input", gaps.SURVEY_PLACEHOLDER, "Runs"),
        (["diff", "churn@2.0.5", "churn@2.2.0"], "untrained_model_version", gaps.model_version("2.0.5"), "Data, features"),
        (["endpoint", "churn-shadow", "--at", "2026-03-01T12:00:00Z"], "failed_run", gaps.run("dep-shadow#2"), "Deployments"),
        (["versions", "churn"], "untrained_model_version", gaps.model_version("2.2.5"), "Model churn"),
    ],
    ids=["impact", "upstream", "diff", "endpoint-at", "versions"],
)
def test_warnings_come_before_the_tables(holes: Store, args: list[str], kind: str, node: str, first_table: str) -> None:
    out = run(*args)
    assert "incomplete answer" in out
    line = next(line for line in out.splitlines() if kind in line and node in line)
    assert out.index("incomplete answer") < out.index(line) < out.index(first_table)


def test_a_whole_answer_prints_no_warning(holes: Store) -> None:
    out = run("upstream", "churn@2.3.1")
    assert "incomplete answer" not in out and "churn@2.3.1" in out


def test_the_stale_age_comes_from_the_environment(holes: Store) -> None:
    assert gaps.run("report#1") in run("impact", "data-v1.8.2")
    assert gaps.run("report#1") not in run("impact", "data-v1.8.2", LINEAGE_STALE_RUN_HOURS="48")
    answer = json.loads(run("impact", "data-v1.8.2", "--json", LINEAGE_STALE_RUN_HOURS="48"))
    assert ("stale_run", gaps.run("report#1")) not in gaps.kinds(answer)


def test_last_known_good_before_a_promotion_only_version(holes: Store) -> None:
    assert "last known good before 2.2.0: 2.1.0" in run("versions", "churn", "--before", "2.2.0")
    assert "last known good before 2.1.0: 2.0.5" in run("versions", "churn", "--before", "2.1.0")
    assert "last known good before 2.0.5: none" in run("versions", "churn", "--before", "2.0.5")


def test_print_warnings_says_nothing_without_warnings() -> None:
    console = Console(record=True, width=200)
    print_warnings(console, {"warnings": []})
    print_warnings(console, {})
    assert console.export_text() == ""
    print_warnings(console, {"warnings": [{"kind": "failed_run", "node": "run-1", "detail": "run 1 ended [FAIL]"}]})
    text = console.export_text()
    assert "1 warning" in text and "failed_run run-1: run 1 ended [FAIL]" in text  # markup in data is shown as is


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    with running(f"sqlite:///{tmp_path / 'served.db'}") as url:
        assert httpx.post(f"{url}/api/v1/lineage/batch", json=gaps.EVENTS).json()["rejected"] == 0
        yield url


def test_over_http_the_warnings_are_printed_too(server: str) -> None:
    out = run("endpoint", "churn-shadow", "--url", server)
    assert "untrained_model_version" in out and gaps.model_version("2.0.5") in out


def test_flawed_and_refused_events_are_warned_of_above_the_tables(store_env: Store) -> None:
    from lineage import ids
    from tests.conformance.test_flawed_incident import TRAIN, flawed_story

    store = store_env
    ingest(store, *flawed_story())
    refused = {**flawed_story()[0], "eventTime": "never", "outputs": [], "job": {"namespace": "ml-pipelines", "name": "train-churn"}}
    store.put_rejection(rejection_of(orjson.dumps(refused), InvalidEvent("eventTime", "not a time"), "2026-03-05T00:00:00Z"), 10, 10**6)
    out = run("upstream", "churn@2.3.1")
    lines = out.splitlines()
    problems = next(i for i, line in enumerate(lines) if "event_problems" in line and ids.run_id(TRAIN) in line)
    rejected = next(i for i, line in enumerate(lines) if "rejected_events" in line and ids.run_id(TRAIN) in line)
    first_table = next(i for i, line in enumerate(lines) if line.startswith("Commits"))
    assert max(problems, rejected) < first_table
    assert "run.facets.ml_training.hardware" in out and "job ml-pipelines/train-churn" in out
