"""The command line pointed at the test's own store, of each backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from lineage.store.base import Store


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
