"""Fixtures: every storage test runs on real SQLite and on a real Neo4j 5.26 server.

Neo4j comes from, in order: LINEAGE_TEST_NEO4J_URI (an existing server), testcontainers
where a Docker engine answers, or the project's own launcher (`ops/neo4j_local.py`, jars from
Maven Central). A Neo4j that cannot be had is a test failure, never a skip, unless a person
running the tests locally opts out with LINEAGE_TEST_SKIP_NEO4J=1 (refused when CI is set).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lineage.settings import Settings
from lineage.store.base import Store
from lineage.store.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "ops"))

BACKENDS = ["sqlite", "neo4j"]


def _docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="session")
def neo4j_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if os.environ.get("LINEAGE_TEST_SKIP_NEO4J") == "1":
        if os.environ.get("CI"):
            pytest.fail("LINEAGE_TEST_SKIP_NEO4J is not allowed in CI: the Neo4j tests must run")
        pytest.skip("Neo4j tests skipped on request (LINEAGE_TEST_SKIP_NEO4J=1)")
    uri = os.environ.get("LINEAGE_TEST_NEO4J_URI")
    if uri:
        yield uri
        return
    if _docker_answers():
        from testcontainers.neo4j import Neo4jContainer  # type: ignore[import-untyped]

        with Neo4jContainer("neo4j:5.26-community").with_env("NEO4J_AUTH", "none") as container:
            yield container.get_connection_url()
        return
    import neo4j_local

    home = tmp_path_factory.mktemp("neo4j")
    server = neo4j_local.start(home, neo4j_local.free_port())
    try:
        yield server.uri
    finally:
        server.stop()


@pytest.fixture(scope="session")
def neo4j_store(neo4j_uri: str) -> Iterator[Store]:
    from lineage.store.neo4j import Neo4jStore

    store = Neo4jStore(neo4j_uri, "neo4j", os.environ.get("LINEAGE_TEST_NEO4J_PASSWORD", ""), "neo4j")
    store.setup()
    try:
        yield store
    finally:
        store.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh, empty store of each backend."""
    if backend == "sqlite":
        sqlite = SqliteStore(str(tmp_path / "lineage.db"))
        try:
            yield sqlite
        finally:
            sqlite.close()
        return
    neo4j: Store = request.getfixturevalue("neo4j_store")
    neo4j.reset()
    yield neo4j


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # In-process tests check answers, not deadlines: a Neo4j's first commit plans its queries and
    # can pass the 3 s request deadline on a loaded machine. The deadlines are tested on real
    # servers (tests/reliability/test_deadline.py, tests/api/test_edge_limits.py).
    return Settings(
        store=f"sqlite:///{tmp_path / 'unused.db'}", max_body_bytes=512 * 1024, max_batch_events=50,
        request_deadline_seconds=60, ingest_queue_max_wait_seconds=60,
    )
