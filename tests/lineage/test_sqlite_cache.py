"""Page caches of the SQLite store: the writer's grows to hold what a bulk chunk touches only
while a pipelined import runs; otherwise every connection keeps SQLite's small default, so an
API's memory does not grow by the import's cache (nor by it for every thread that reads)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.workload import Workload
from lineage.events import Event
from lineage.ingest.parse import parse_event
from lineage.store import sqlite as sqlite_module
from lineage.store.sqlite import BULK_CACHE_KIB, SQLITE_DEFAULT_CACHE_KIB, SqliteStore

NOW = "2026-06-01T00:00:00.000000Z"


def cache_kib(conn: sqlite3.Connection) -> int:
    size = int(conn.execute("PRAGMA cache_size").fetchone()[0])
    assert size < 0, "a cache size in pages, not KiB"
    return -size


def reader_caches(store: SqliteStore, threads: int) -> list[int]:
    seen: list[int] = []
    readers = [threading.Thread(target=lambda: seen.append(cache_kib(store._reader))) for _ in range(threads)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    return seen


def test_only_a_pipelined_import_gives_the_writer_the_big_cache(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "lineage.db"))
    events = [parse_event(e) for e in Workload(300).events()]
    chunks = [(events[i : i + 100], NOW) for i in range(0, len(events), 100)]
    try:
        assert cache_kib(store._writer) == SQLITE_DEFAULT_CACHE_KIB
        assert BULK_CACHE_KIB * 1024 > 7_400 * 4096  # a 500-event chunk's pages at 60k events
        during = [cache_kib(store._writer) for _ in store.ingest_chunks(iter(chunks))]
        assert during == [BULK_CACHE_KIB] * 3
        assert cache_kib(store._writer) == SQLITE_DEFAULT_CACHE_KIB
        assert reader_caches(store, 3) == [SQLITE_DEFAULT_CACHE_KIB] * 3
        store.ingest(events[:1], NOW)  # the API's way: small commits, the default cache
        assert cache_kib(store._writer) == SQLITE_DEFAULT_CACHE_KIB
    finally:
        store.close()


def test_an_import_that_fails_gives_the_cache_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_module, "PIPELINE_WINDOW", 1)  # the first chunk is written before the failure
    store = SqliteStore(str(tmp_path / "lineage.db"))
    events = [parse_event(e) for e in Workload(200).events()]

    def chunks() -> Iterator[tuple[list[Event], str]]:
        yield events[:100], NOW
        raise OSError("the import file could not be read")

    try:
        with pytest.raises(OSError, match="could not be read"):
            for _ in store.ingest_chunks(chunks()):
                pass
        assert cache_kib(store._writer) == SQLITE_DEFAULT_CACHE_KIB
        assert store.event_count() == 100
    finally:
        store.close()
