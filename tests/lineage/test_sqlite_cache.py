"""Page caches of the SQLite store: the writer's holds what a bulk chunk touches, while each
reader (one per thread of the API) keeps SQLite's small default, so memory does not grow by
the writer's cache with every thread that reads."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from lineage.store.sqlite import WRITER_CACHE_KIB, SqliteStore

SQLITE_DEFAULT_CACHE = -2000  # KiB, as a negative cache_size


def cache_kib(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA cache_size").fetchone()[0])


def test_the_writer_has_the_big_cache_and_every_reader_the_default(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "lineage.db"))
    try:
        assert cache_kib(store._writer) == -WRITER_CACHE_KIB
        assert WRITER_CACHE_KIB * 1024 > 7_400 * 4096  # a 500-event chunk's pages at 60k events
        seen: list[int] = []
        readers = [threading.Thread(target=lambda: seen.append(cache_kib(store._reader))) for _ in range(3)]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join()
        assert seen == [SQLITE_DEFAULT_CACHE] * 3
    finally:
        store.close()
