"""A store from before the dataset/job-level adjacency, or before it kept the declared support,
gets it counted from its graph at setup."""

from __future__ import annotations

from lineage.store.base import Store
from tests.conformance.test_levels_declared import DECLARE, REPORT_RUN
from tests.conformance.test_projection_rules import ML_STORY, ingest
from tests.conformance.test_static_lineage import job_event
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


def test_an_adjacency_without_the_declared_support_gets_it_at_setup_once(store: Store) -> None:
    ingest(store, *ML_STORY, DECLARE, REPORT_RUN)
    expected = kept(store)
    assert any(p[3] for p in expected["pairs"])  # the declaration is part of it
    if store.backend == "sqlite":
        # As a database from before keeps it: the pairs' support, and no declared column.
        conn = store._writer  # type: ignore[attr-defined]
        conn.executescript(
            "CREATE TABLE old_edges (src TEXT NOT NULL, dst TEXT NOT NULL, support INTEGER NOT NULL, PRIMARY KEY (src, dst))"
            " WITHOUT ROWID; INSERT INTO old_edges SELECT src, dst, support FROM level_edges;"
            " DROP TABLE level_edges; ALTER TABLE old_edges RENAME TO level_edges;"
        )
        assert "declared" not in {r[1] for r in conn.execute("PRAGMA table_info(level_edges)")}
    else:
        with store._driver.session() as session:  # type: ignore[attr-defined]
            session.run("MATCH (:Level)-[f:FLOWS]->(:Level) REMOVE f.declared").consume()
            session.run("MATCH (h:LogHead {name: 'head'}) REMOVE h.levels_declared_ready").consume()
        stale = store.level_dump()
        assert stale["members"] == expected["members"] and not any(p[3] for p in stale["pairs"])
    store.setup()
    assert kept(store) == expected
    # Ingest keeps it from then on, declarations included.
    ingest(store, job_event("2026-03-02T00:00:00Z", "orders_report", ["raw_orders"], ["orders_report"]))
    after = kept(store)
    assert after != expected
    # Once: a later start does not count the graph again (that costs what the history is). A
    # count changed behind the store's back shows whether it did.
    if store.backend == "sqlite":
        store._writer.execute("UPDATE level_edges SET declared = declared + 100")  # type: ignore[attr-defined]
    else:
        with store._driver.session() as session:  # type: ignore[attr-defined]
            session.run("MATCH (:Level)-[f:FLOWS]->(:Level) SET f.declared = f.declared + 100").consume()
    store.setup()
    assert store.level_dump()["pairs"] == [[s, d, n, k + 100] for s, d, n, k in after["pairs"]]  # type: ignore[misc]
