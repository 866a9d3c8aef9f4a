"""`lineage diff` shows what changed in the data and the contract breaks; `lineage endpoint`
shows an environment drift (issue 37), on both stores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lineage.store.base import Store
from tests.cli.conftest import run
from tests.cli.test_query_cli import table_rows
from tests.conformance.test_environment_and_data_changes import EVENTS
from tests.conformance.test_projection_rules import ingest


@pytest.fixture
def loaded(store: Store, backend: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, request: pytest.FixtureRequest) -> Store:
    uri = f"sqlite:///{tmp_path / 'lineage.db'}" if backend == "sqlite" else request.getfixturevalue("neo4j_uri")
    monkeypatch.setenv("LINEAGE_STORE", uri)
    monkeypatch.delenv("LINEAGE_URL", raising=False)
    ingest(store, *EVENTS)
    return store


def test_diff_prints_columns_rows_failed_assertions_and_the_contract_break(loaded: Store) -> None:
    text = run("diff", "churn@1.0", "churn@1.1")
    row = table_rows(text[text.index("Data changes") :], "name")["customers"]
    assert row["columns"] == "+tenure int, -churned, ~plan string->int"
    assert row["rows"] == "1,000 -> 800"
    assert row["failed assertions"] == "none -> not_null(plan)"
    assert "contract break" in text and "without a new major version (1.0.0 -> 1.1.0)" in " ".join(text.split())
    answer = json.loads(run("diff", "churn@1.0", "churn@1.1", "--json"))
    assert answer["summary"]["contract_breaks"] == 1


def test_a_diff_without_schema_or_quality_prints_no_data_changes(loaded: Store) -> None:
    assert "Data changes" not in run("diff", "churn-same", "churn-vars")


def test_endpoint_prints_the_drift(loaded: Store) -> None:
    text = " ".join(run("endpoint", "churn-drift").split())
    assert "environment_drift" in text
    assert "1.4.2 in training, 1.5.0 serving" in text
