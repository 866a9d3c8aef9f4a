"""The command line pointed at the test's own store, of each backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from lineage.cli.main import app
from lineage.store.base import Store
from tests import incident
from tests.conformance.test_projection_rules import ingest

runner = CliRunner()


@pytest.fixture
def store_env(store: Store, backend: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, request: pytest.FixtureRequest) -> Store:
    """`store`, with LINEAGE_STORE naming it (the SQLite file the `store` fixture opened, or the
    test Neo4j) and no LINEAGE_URL, so the commands read it directly."""
    if backend == "sqlite":
        monkeypatch.setenv("LINEAGE_STORE", f"sqlite:///{tmp_path / 'lineage.db'}")
    else:
        monkeypatch.setenv("LINEAGE_STORE", request.getfixturevalue("neo4j_uri"))
    monkeypatch.delenv("LINEAGE_URL", raising=False)
    return store


@pytest.fixture
def loaded(store_env: Store) -> Store:
    """The incident's events in `store_env` (a module with another story overrides it)."""
    ingest(store_env, *incident.EVENTS)
    return store_env


def run(*args: str, **env: str) -> str:
    """What `lineage ARGS` prints on a wide terminal; it must succeed."""
    result = runner.invoke(app, list(args), env={"COLUMNS": "200", **env})
    assert result.exit_code == 0, result.output
    return result.stdout
