"""The benchmark's split of a bulk load into stages: timed on a second load of the workload,
after the first is reset, so the store ends up holding the workload once."""

from __future__ import annotations

from pathlib import Path

from bench.run import stage_split
from bench.workload import Workload
from lineage.store.sqlite import SqliteStore
from lineage.store.stages import STAGES


def test_the_timed_load_is_the_workload_once_and_leaves_the_clock_off(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "bench.db"))
    try:
        clock = stage_split(store, 300, chunk=100)
        events = len(list(Workload(300).events()))
        assert clock.events == events
        assert store.event_count() == events
        assert all(clock.seconds[stage] > 0 for stage in STAGES)
        assert store.stages is None
    finally:
        store.close()
