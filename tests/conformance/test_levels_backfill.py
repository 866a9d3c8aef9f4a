"""A store from before the dataset/job-level adjacency gets it counted from its graph at setup."""

from __future__ import annotations

from lineage.store.base import Store
from tests.conformance.test_projection_rules import ML_STORY, ingest
from tests.levels import kept


def test_a_graph_without_the_adjacency_gets_it_at_setup(store: Store) -> None:
    ingest(store, *ML_STORY)
    expected = kept(store)
    if store.backend == "sqlite":
        conn = store._writer  # type: ignore[attr-defined]
        conn.executescript("DELETE FROM level_edges; DELETE FROM level_counts; DELETE FROM level_state;")
    else:
        with store._driver.session() as session:  # type: ignore[attr-defined]
            session.run("MATCH (l:Level) DETACH DELETE l").consume()
    assert store.level_dump() == {"pairs": [], "members": []}  # as a database from before has it
    store.setup()
    assert kept(store) == expected
