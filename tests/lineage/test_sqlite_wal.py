"""The SQLite write-ahead log is copied back into the database by a thread of its own
(lineage/store/wal.py): a long ingest keeps the log short, and what was acknowledged stays."""

from __future__ import annotations

import os
from pathlib import Path

from bench.workload import Workload
from lineage.ingest.parse import parse_event
from lineage.store.sqlite import SqliteStore
from lineage.store.wal import WRITER_BACKSTOP_PAGES

NOW = "2026-06-01T00:00:00.000000Z"


def test_a_long_ingest_keeps_the_wal_about_one_commit_long(tmp_path: Path) -> None:
    path = str(tmp_path / "wal.db")
    store = SqliteStore(path)
    events = [parse_event(e) for e in Workload(2_000).events()]
    try:
        biggest = 0
        for start in range(0, len(events), 50):
            store.ingest(events[start : start + 50], NOW)
            assert store._checkpointer is not None and store._checkpointer.wait_idle()
            biggest = max(biggest, os.path.getsize(path + "-wal"))
        # 2,000 events write far more pages than the writer's own threshold, which would let
        # the log grow to that; checkpointed after each commit it stays a few commits long.
        assert biggest < WRITER_BACKSTOP_PAGES * 4096 / 4
        assert store.event_count() == len(events)
        graph = store.dump()
    finally:
        store.close()
    assert store._checkpointer is not None and not store._checkpointer._thread.is_alive()
    reopened = SqliteStore(path)
    try:
        assert reopened.event_count() == len(events)
        assert reopened.dump() == graph
    finally:
        reopened.close()


def test_a_pipelined_import_keeps_the_wal_short(tmp_path: Path) -> None:
    """`ingest_chunks` reads while its thread commits. A read transaction held open across
    those commits would keep every one of them in the log (here about ten times the size of
    the database); without one the checkpoints, and at worst the writer's backstop, bound it."""
    path = str(tmp_path / "wal.db")
    store = SqliteStore(path)
    events = [parse_event(e) for e in Workload(3_000).events()]
    try:
        biggest = 0
        for _ in store.ingest_chunks((events[start : start + 50], NOW) for start in range(0, len(events), 50)):
            biggest = max(biggest, os.path.getsize(path + "-wal"))
        assert store.event_count() == len(events)
        assert biggest < (WRITER_BACKSTOP_PAGES + 1_000) * 4096, (biggest, os.path.getsize(path))
    finally:
        store.close()
