"""The tree-cost benchmark: its "without" runs really skip the tree, its "with" runs keep it whole,
and the figures it prints come from runs taken each way."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import tree_cost
from bench.run import bulk
from lineage.merkle import TreeBehind
from lineage.store import sqlite_tree
from lineage.store.sqlite import SqliteStore


def test_without_the_tree_the_load_leaves_it_behind_and_the_upkeep_comes_back_after(tmp_path: Path) -> None:
    original = sqlite_tree.extend
    store = SqliteStore(str(tmp_path / "bench.db"))
    try:
        with tree_cost.tree_kept(False):
            bulk(store, 200, 50)
        assert store.event_count() > 0
        with pytest.raises(TreeBehind):
            store.log_tree(lambda tree: tree.size)
    finally:
        store.close()
    assert sqlite_tree.extend is original


def test_each_way_is_measured_in_turns() -> None:
    cost = tree_cost.measure(events=200, runs=2, chunk=50)
    assert len(cost.with_tree) == len(cost.without_tree) == 2
    assert all(rate > 0 for rate in [*cost.with_tree, *cost.without_tree])
    assert cost.ratio > 0
    line = tree_cost.report(cost)
    assert "2 runs each way" in line and f"ratio {cost.ratio:.3f}" in line
