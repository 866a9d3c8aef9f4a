"""An in-memory SQLite store is one database for all its connections, and its own."""

from __future__ import annotations

import threading

from lineage.ingest.parse import parse_event
from lineage.store.sqlite import SqliteStore
from tests import scenario as s

EVENTS = [parse_event(s.event(f"r#{i}", "COMPLETE", s.ts(1, i), outputs=[s.dataset("t", f"v{i}")])) for i in range(3)]


def test_reads_on_any_thread_and_a_chunked_import_see_the_same_database() -> None:
    store = SqliteStore(":memory:")
    try:
        outcomes = [o for chunk in store.ingest_chunks([(EVENTS[:2], s.ts(2)), (EVENTS[2:], s.ts(2))]) for o in chunk]
        assert [o.created for o in outcomes] == [True, True, True]
        seen: list[int] = []
        reader = threading.Thread(target=lambda: seen.append(store.event_count()))
        reader.start()
        reader.join()
        assert seen == [3] and store.event_count() == 3
        other = SqliteStore(":memory:")
        assert other.event_count() == 0  # a second in-memory store is a database of its own
        other.close()
    finally:
        store.close()
