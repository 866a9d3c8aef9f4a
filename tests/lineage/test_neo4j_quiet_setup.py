"""Opening a Neo4j store on an existing database logs no schema notices (one per index and
constraint at every start would bury the log lines that matter)."""

from __future__ import annotations

import logging

import pytest

from lineage.store.neo4j import Neo4jStore


def test_setup_on_an_existing_schema_is_quiet(neo4j_uri: str, caplog: pytest.LogCaptureFixture) -> None:
    Neo4jStore(neo4j_uri, "neo4j", "", "neo4j").close()  # the schema exists from here on
    with caplog.at_level(logging.INFO):
        store = Neo4jStore(neo4j_uri, "neo4j", "", "neo4j")
        store.setup()
        store.close()
    assert not [r for r in caplog.records if "already exists" in r.getMessage()]
