"""The SQLite data-flow walk visits each node once: its work follows the answer, not the depth
asked for nor the number of paths that reach a node (issue: the recursive CTE revisited nodes
on cycles, once per depth that reached them)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lineage import ids
from lineage.store.sqlite import SqliteStore
from tests import scenario as s
from tests.conformance.test_projection_rules import ingest, ver


def vm_steps(store: SqliteStore, work: Callable[[], object]) -> int:
    """SQLite virtual-machine instructions (in hundreds) that `work` makes the store's reader run."""
    steps = 0

    def tick() -> int:
        nonlocal steps
        steps += 1
        return 0  # go on

    conn = store._reader  # the calling thread's reader, which `flow` uses
    conn.set_progress_handler(tick, 100)
    try:
        work()
    finally:
        conn.set_progress_handler(None, 0)
    return steps


def test_a_walk_around_a_cycle_costs_the_same_whatever_depth_is_asked(tmp_path: Path) -> None:
    # x@v1 -> a -> y@v1 -> b -> x@v1: four nodes, reached within three steps.
    store = SqliteStore(str(tmp_path / "cycle.db"))
    try:
        ingest(
            store,
            s.event("a#1", "COMPLETE", s.ts(8), inputs=[s.dataset("x", "v1")], outputs=[s.dataset("y", "v1")]),
            s.event("b#1", "COMPLETE", s.ts(9), inputs=[s.dataset("y", "v1")], outputs=[s.dataset("x", "v1")]),
        )
        x = ver("x", "v1")
        want = {x: 0, ids.run_id(s.run_uuid("a#1")): 1, ver("y", "v1"): 2, ids.run_id(s.run_uuid("b#1")): 3}
        shallow = vm_steps(store, lambda: store.flow([x], "down", 4))
        deep = vm_steps(store, lambda: store.flow([x], "down", 5_000))
        assert store.flow([x], "down", 5_000).depth == want
        # Walking the cycle once per level made the deep walk over a thousand times dearer.
        assert deep <= shallow * 1.5 + 10, (shallow, deep)
    finally:
        store.close()


def test_a_node_reached_by_many_paths_of_different_lengths_is_expanded_once(tmp_path: Path) -> None:
    # A ladder: run i reads d0..di and writes d(i+1), so d(k) is reached along every path
    # through the runs before it; a walk that kept (node, depth) pairs expanded d(k) once per
    # distinct path length, about k times.
    rungs = 12
    store = SqliteStore(str(tmp_path / "ladder.db"))
    try:
        ingest(
            store,
            *(
                s.event(
                    f"r{i}#1", "COMPLETE", s.ts(i),
                    inputs=[s.dataset(f"d{j}", "v1") for j in range(i + 1)], outputs=[s.dataset(f"d{i + 1}", "v1")],
                )
                for i in range(rungs)
            ),
        )
        start = ver("d0", "v1")
        down = store.flow([start], "down", 100)
        # d0 is read by every run (depth 1), each run writes d(i+1) (depth 2).
        assert down.depth[start] == 0
        assert all(down.depth[ids.run_id(s.run_uuid(f"r{i}#1"))] == 1 for i in range(rungs))
        assert all(down.depth[ver(f"d{i + 1}", "v1")] == 2 for i in range(rungs))
        assert len(down.depth) == 1 + 2 * rungs
        # The walk ends after the level that finds nothing new: asking for more levels costs nothing.
        assert vm_steps(store, lambda: store.flow([start], "down", 100)) <= vm_steps(
            store, lambda: store.flow([start], "down", 3)
        ) * 1.5 + 10
    finally:
        store.close()
