"""`rebuild` on both stores: a rebuild that fails part-way leaves the graph as it was, and on
Neo4j (where a rebuild is not one transaction) ingest and readiness are refused while it runs."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from lineage.errors import StoreUnavailable
from lineage.ingest.parse import parse_event
from lineage.settings import Settings
from lineage.store.base import Store
from tests import scenario as s
from tests.conformance.test_projection_rules import ML_STORY, NOW, ingest


class Stop(Exception):
    """Raised by a progress callback to break a rebuild part-way."""


def big_log(store: Store, runs: int) -> None:
    """ML_STORY and `runs` more runs: more than one replay chunk (1,000 entries on both stores)."""
    ingest(store, *ML_STORY)
    bodies = [s.event(f"etl{i}#1", "COMPLETE", s.ts(1 + i % 20, i % 60), outputs=[s.dataset(f"t{i}", "v1")]) for i in range(runs)]
    for at in range(0, len(bodies), 500):
        store.ingest([parse_event(b) for b in bodies[at : at + 500]], NOW)


def test_a_rebuild_that_fails_part_way_leaves_the_graph_as_it_was(store: Store) -> None:
    big_log(store, 1100)  # 1,100+ events: the failure comes after a first chunk was replayed
    before = store.dump()
    calls = 0

    def fail_on_second_chunk(count: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise Stop

    with pytest.raises(Stop):
        store.rebuild(fail_on_second_chunk)
    assert calls == 2
    assert store.dump() == before
    # The store works on: ingest is accepted again and a full rebuild gives the same graph.
    store.ping()
    assert ingest(store, s.event("after#1", "COMPLETE", s.ts(23), outputs=[s.dataset("late", "v1")])) == [True]
    grown = store.dump()
    assert grown != before
    assert store.rebuild() == store.event_count()
    assert store.dump() == grown


def test_neo4j_refuses_ingest_and_readiness_while_it_rebuilds(neo4j_store: Store, settings: Settings) -> None:
    store = neo4j_store
    store.reset()
    ingest(store, *ML_STORY)
    before = store.dump()
    seen: dict[str, Any] = {}
    late = s.event("late#1", "COMPLETE", s.ts(23), outputs=[s.dataset("late", "v1")])
    with TestClient(create_app(settings, store)) as client:
        assert client.get("/readyz").status_code == 200

        def look(count: int) -> None:
            if seen:
                return
            with pytest.raises(StoreUnavailable, match="rebuilt"):
                store.ingest([parse_event(late)], NOW)
            with pytest.raises(StoreUnavailable, match="rebuilt"):
                store.ping()
            ready, posted = client.get("/readyz"), client.post("/api/v1/lineage", json=late)
            seen["ready"] = (ready.status_code, ready.headers.get("Retry-After"))
            seen["post"] = (posted.status_code, posted.headers.get("Retry-After"))
            seen["graph"] = store.dump()  # readers still see the whole old graph

        assert store.rebuild(look) == len(ML_STORY)
        assert seen["ready"] == (503, "1")
        assert seen["post"] == (503, "1")
        assert seen["graph"] == before
        # Done: ready again, and the refused event goes in when the client retries.
        assert client.get("/readyz").status_code == 200
        assert client.post("/api/v1/lineage", json=late).status_code == 201
    assert store.event_count() == len(ML_STORY) + 1
