"""Setup warms Neo4j's plans for the ingest path with an ingest it rolls back: nothing of it
stays in the store (on either backend: SQLite's setup has nothing to warm), and on Neo4j the
ingests that follow find every statement they run already planned."""

from __future__ import annotations

import re
from typing import Any

import pytest

from lineage.ingest.parse import parse_event
from lineage.store.base import Store
from tests import incident

# The first releases of the incident, then events of its next day, each the first after a
# (simulated) restart: a new version of a dataset already stored (inferred reads to rebind), a
# cleaning run's START, a new training of a model, an alias moved, a deployment to an endpoint
# that serves an older model.
BEFORE = incident.EVENTS[:12]
AFTER = [incident.EVENTS[i] for i in (12, 13, 16, 17, 19)]
RECEIVED_AT = "2026-03-05T00:00:00.000000Z"


def _state(store: Store) -> dict[str, Any]:
    """What a warm-up must leave as it was, read through the store protocol."""
    last = store.last_entry()
    return {
        "dump": store.dump(),
        "events": store.event_count(),
        "head": store.log_head(),
        "last_hash": last.hash if last else None,
        "levels": store.level_dump(),
        "rejections": store.rejection_stats(),
    }


def _cypher(store: Store, query: str) -> list[Any]:
    with store._driver.session(database=store.database) as session:  # type: ignore[attr-defined]
        return [r[0] for r in session.run(query)]


def _clear_plans(store: Store) -> int:
    """Empty Neo4j's plan caches, as a restart does; how many plans they held."""
    message = _cypher(store, "CALL db.clearQueryCaches()")[0]
    found = re.search(r"cleared of (\d+) quer", message)
    assert found or "already empty" in message, message
    return int(found.group(1)) if found else 0


def _all_nodes(store: Store) -> int:
    """Every node of the database, the log head, tree, levels and dead letters included."""
    return int(_cypher(store, "MATCH (n) RETURN count(n)")[0])


@pytest.mark.parametrize("stored", [0, len(BEFORE)], ids=["empty-store", "stored-events"])
def test_setup_leaves_the_store_as_it_was(store: Store, stored: int) -> None:
    if stored:
        store.ingest([parse_event(e) for e in BEFORE], RECEIVED_AT)
    before = _state(store)
    nodes = _all_nodes(store) if store.backend == "neo4j" else None
    if store.backend == "neo4j":
        _clear_plans(store)  # the warm-up then plans, and writes, for real
    store.setup()
    assert _state(store) == before
    if nodes is not None:
        assert _all_nodes(store) == nodes
    # And the log goes on from the same head: the next event links to the last one stored.
    outcome = store.ingest([parse_event(AFTER[0])], RECEIVED_AT)[0]
    assert outcome.seq == (before["head"][0] if before["head"] else 0) + 1
    assert store.last_entry().prev_hash == (before["last_hash"] or store.entries_at([1])[0].prev_hash)  # type: ignore[union-attr]


@pytest.mark.neo4j
def test_the_first_ingest_after_setup_plans_nothing(neo4j_store: Store) -> None:
    """With the plans evicted, setup caches `n` plans; with the plans evicted again, setup and
    then the first ingest leave the same `n`: each statement the ingest ran had been planned by
    the warm-up (Neo4j keys a plan by text, parameter types and whether the transaction wrote,
    so a statement run in another state would add one). One ingest after each setup: a plan
    run about ten times has its expressions compiled again (Neo4j's expression engine, "only
    when hot"), a cache entry more that is no planning."""
    store = neo4j_store
    store.reset()
    store.ingest([parse_event(e) for e in BEFORE], RECEIVED_AT)
    _clear_plans(store)
    store.setup()
    planned_by_setup = _clear_plans(store)
    assert planned_by_setup > 0
    for event in AFTER:
        store.setup()
        store.ingest([parse_event(event)], RECEIVED_AT)
        assert _clear_plans(store) == planned_by_setup, event["job"]["name"]
    assert store.event_count() == len(BEFORE) + len(AFTER)  # each ingest logged its event
