"""Neo4j: a batch's write creates the nodes it knows are new, only updates the nodes whose labels
stay, relabels the others, and links each log entry to each of its subjects once (one MERGE per
subject of the batch); the runs behind the batch's run labels come with the head. Whatever path a
node or an entry takes, the store must hold what the SQLite store holds after the same batches,
with Neo4j's own labels matching each node."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import lineage.store.neo4j as neo4j_module
from lineage import ids
from lineage.events import Event
from lineage.graph import FEATURE_VIEW
from lineage.ingest.parse import parse_event
from lineage.projection import subjects
from lineage.store.base import EventFilter, Store
from lineage.store.sqlite import SqliteStore
from tests import scenario as s

pytestmark = pytest.mark.neo4j

FEATURES = ids.dataset_id("s3://lake", "features")


@pytest.fixture
def store(neo4j_store: Store) -> Store:
    neo4j_store.reset()
    return neo4j_store


def cypher(store: Store, query: str, **params: Any) -> list[list[Any]]:
    with store._driver.session(database=store.database) as session:  # type: ignore[attr-defined]
        return [list(r.values()) for r in session.run(query, params)]


def batches() -> list[list[Event]]:
    """A dataset first plain, then (in a later batch) carrying a feature view facet, which adds
    a label; then only its facet's values change. Each batch also has events of a shared job."""
    def run(n: int, facets: dict[str, Any] | None) -> Event:
        out = s.dataset("features", f"v{n}", facets=facets) if facets is not None else s.dataset("features", f"v{n}")
        return parse_event(s.event(f"features#{n}", "COMPLETE", s.ts(1, n), job="build", outputs=[out]))

    def view(name: str) -> dict[str, Any]:
        return {"ml_featureView": s.facet(name=name, version="1", features=["tenure"], entities=["customer"])}

    return [
        [run(0, None), run(1, None)],
        [run(2, view("churn")), run(3, None)],
        [run(4, view("churn-v2")), run(5, None), run(6, None)],
    ]


def neo4j_labels(store: Store, node_id: str) -> list[str]:
    return sorted(cypher(store, "MATCH (n:Node {id: $id}) RETURN labels(n)", id=node_id)[0][0])


def test_nodes_created_updated_and_relabelled_as_sqlite_holds_them(store: Store, tmp_path: Path) -> None:
    reference = SqliteStore(str(tmp_path / "reference.db"))
    try:
        seen: list[list[str]] = []
        for i, batch in enumerate(batches()):
            at = s.ts(9, i)
            assert store.ingest(batch, at) == reference.ingest(batch, at)
            assert store.dump() == reference.dump()
            node = store.node(FEATURES)
            assert node is not None
            labels = neo4j_labels(store, FEATURES)
            assert labels == sorted({"Node", node.kind, *node.labels})
            seen.append(labels)
        # The label came with the second batch and stayed through the third.
        assert FEATURE_VIEW not in seen[0] and FEATURE_VIEW in seen[1] and seen[2] == seen[1]
        assert store.node(FEATURES).props["feature_view"] == "churn-v2"  # type: ignore[union-attr]
        # Every node's Neo4j labels match its kind and labels, not just the one above.
        for node_id, labels in cypher(store, "MATCH (n:Node) RETURN n.id, labels(n)"):
            node = store.node(node_id)
            assert node is not None and sorted(labels) == sorted({"Node", node.kind, *node.labels}), node_id
    finally:
        reference.close()


def test_each_entry_is_about_each_of_its_subjects_once(store: Store) -> None:
    events = [e for batch in batches() for e in batch]
    store.ingest(events[:4], s.ts(9))
    store.ingest(events[2:], s.ts(9, 1))  # two again, already logged: they add no entries
    logged = store.events(EventFilter(), 0, 100)
    assert [e.id for e in logged] == [e.id for e in events]
    pairs = {(e.id, subject) for e in events for subject in subjects(e)}
    found = cypher(store, "MATCH (e:Event)-[:ABOUT]->(s:Subject) RETURN e.id, s.id")
    assert sorted(map(tuple, found)) == sorted(pairs)  # each pair once: no entry linked twice, none missed
    for subject in {subject for _, subject in pairs}:
        expected = [e.seq for e in logged if (e.id, subject) in pairs]
        assert [e.seq for e in store.events(EventFilter(subject=subject), 0, 100)] == expected, subject
        assert cypher(store, "MATCH (s:Subject {id: $id}) RETURN s.first_seqs", id=subject) == [[expected]]


def test_run_labels_come_with_the_head_and_runs_sharing_one_are_told_apart_as_on_sqlite(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runs of one job started within one second share a label (`graph.run_key`) and are told
    apart by suffix; the runs behind each label an ingest needs come with its first round trip."""
    asked: list[str] = []
    original = neo4j_module._run

    def counting(runner: Any, query: Any, params: Any = None, **named: Any) -> Any:
        asked.append(query)
        return original(runner, query, params, **named)

    monkeypatch.setattr(neo4j_module, "_run", counting)

    def run(n: int, state: str, minute: int = 0) -> Event:
        return parse_event(s.event(f"train#{n}", state, s.ts(3, minute), job="train"))

    batches = [[run(0, "START"), run(1, "START")], [run(2, "START"), run(0, "COMPLETE", 5)], [run(1, "COMPLETE", 6), run(3, "START")]]
    reference = SqliteStore(str(tmp_path / "reference.db"))
    try:
        for i, batch in enumerate(batches):
            assert store.ingest(batch, s.ts(9, i)) == reference.ingest(batch, s.ts(9, i))
        assert store.dump() == reference.dump()
    finally:
        reference.close()
    labels = {n["props"].get("run_label") for n in store.dump()["nodes"] if n["kind"] == "Run"}
    assert len(labels) == 4  # four runs of one label, each with a label of its own
    assert neo4j_module.FIND_MANY["run_key"] not in asked
