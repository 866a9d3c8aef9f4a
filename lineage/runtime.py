"""How the garbage collector runs while a process ingests or serves.

Ingest allocates many short-lived containers (parsed events, a batch's nodes, edges and props),
and CPython's default collects the youngest generation every 700 net allocations: a bulk load
of 20k events on SQLite spent about a quarter of its time in about 2,800 collections. Each full
collection also walks everything the process holds, modules and routes included: tens of ms,
which an ingest queued behind it sees as its p99.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Net allocations between collections of the youngest generation (CPython's default: 700);
# the older generations keep their ratios to it. Cycles are rare here, so little garbage waits.
YOUNG_THRESHOLD = 50_000
OLDER_THRESHOLDS = (20, 20)


@contextmanager
def tuned_gc() -> Iterator[None]:
    """While the block runs: what exists at its start is frozen out of collections, and the
    youngest generation is collected every YOUNG_THRESHOLD allocations. Both are undone at the
    end, so the frozen objects become collectable again (a test process starts many apps)."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
