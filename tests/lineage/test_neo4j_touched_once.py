"""Neo4j ingest works out the nodes each event touches (`projection.touched`) once: its first
round trip reads them with the log head, and the batch's prefetch takes them from there."""

from __future__ import annotations

from collections import Counter

import pytest

import lineage.store.batch as batch_module
import lineage.store.neo4j as neo4j_module
from lineage import projection
from lineage.events import Event
from lineage.ingest.parse import parse_event
from lineage.store.base import Store
from tests.conformance.test_projection_rules import ML_STORY, NOW

pytestmark = pytest.mark.neo4j


def test_each_events_touched_nodes_are_worked_out_once(neo4j_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    neo4j_store.reset()
    calls: Counter[str] = Counter()

    def counting(event: Event, its_subjects: list[str] | None = None) -> list[str]:
        calls[event.id] += 1
        return projection.touched(event, its_subjects)

    monkeypatch.setattr(neo4j_module, "touched", counting)
    monkeypatch.setattr(batch_module, "touched", counting)
    events = [parse_event(b) for b in ML_STORY]
    neo4j_store.ingest(events[:5], NOW)
    neo4j_store.ingest(events, NOW)  # five of them are in the log already
    assert calls == Counter({e.id: 1 for e in events[:5]}) + Counter({e.id: 1 for e in events})
    # And the graph is the one a replay of the log makes.
    before = neo4j_store.dump()
    neo4j_store.rebuild()
    assert neo4j_store.dump() == before
