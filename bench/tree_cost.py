"""The Merkle tree's ingest cost (issue 33): SQLite bulk loads with the tree kept and without.

    python -m bench.run --tree-cost

Runs with and without the tree take turns in one process on fresh stores, so that the shared
cores' drift from one minute to the next falls on both sides alike; the medians are compared.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from lineage.settings import Settings
from lineage.store import open_store, sqlite_tree

EVENTS = 5_000
RUNS = 6  # each way
CHUNK = 500  # events a transaction, as `lineage import` and the bulk benchmark


@dataclass(frozen=True, slots=True)
class TreeCost:
    """Bulk rates (events/s) of each run with the tree kept and without, in the order taken."""

    with_tree: list[float]
    without_tree: list[float]

    @property
    def ratio(self) -> float:
        return statistics.median(self.with_tree) / statistics.median(self.without_tree)

    @property
    def us_per_event(self) -> float:
        return (1 / statistics.median(self.with_tree) - 1 / statistics.median(self.without_tree)) * 1e6


@contextmanager
def tree_kept(kept: bool) -> Iterator[None]:
    """Without: the store's tree upkeep does nothing, so the load costs what it did before the tree."""
    if kept:
        yield
        return
    original = sqlite_tree.extend

    def skip(conn: Any, rows: Any) -> None:
        return None

    sqlite_tree.extend = skip  # type: ignore[assignment]
    try:
        yield
    finally:
        sqlite_tree.extend = original  # type: ignore[assignment]


def measure(events: int = EVENTS, runs: int = RUNS, chunk: int = CHUNK) -> TreeCost:
    from bench.run import bulk, store_url  # run imports this module for its --tree-cost option

    rates: dict[bool, list[float]] = {True: [], False: []}
    for turn in range(2 * runs):
        kept = turn % 2 == 0
        with store_url("sqlite") as url, tree_kept(kept):
            store = open_store(Settings(store=url))
            try:
                rate, _ = bulk(store, events, chunk)
                if kept:  # the tree was kept: it must cover the log, or the figure prices nothing
                    assert store.log_tree(lambda tree: tree.size) == store.event_count()
            finally:
                store.close()
        rates[kept].append(rate)
    return TreeCost(rates[True], rates[False])


def report(cost: TreeCost) -> str:
    return (
        f"SQLite bulk, {len(cost.with_tree)} runs each way, taken in turns: median "
        f"{statistics.median(cost.with_tree):,.0f} events/s with the tree, {statistics.median(cost.without_tree):,.0f} without; "
        f"ratio {cost.ratio:.3f} (the medians differ by {cost.us_per_event:.1f} µs per event)"
    )
