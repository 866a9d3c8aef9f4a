"""`Store.ingest_chunks` (what `lineage import` runs) gives the log, graph and outcomes of one
`ingest` per chunk, on both stores; on SQLite it is pipelined (a thread commits each chunk
while the next is projected and written), so its failures and its turns with other writers are tested too."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.workload import Workload
from lineage.errors import StoreError
from lineage.events import Event
from lineage.ingest.parse import parse_event
from lineage.store import sqlite as sqlite_module
from lineage.store.base import EventFilter, IngestOutcome, Store, StoredEvent
from lineage.store.sqlite import SqliteStore
from tests import scenario as s

CHUNK = 100


def received(i: int) -> str:
    return f"2026-03-02T00:{i // 60:02d}:{i % 60:02d}.000000Z"


def workload_chunks() -> list[tuple[list[Event], str]]:
    events = [parse_event(b) for b in Workload(900).events()]
    # Names no JSON function of SQLite keeps whole (a NUL ends them there), and others beyond ASCII.
    events += [
        parse_event(s.event("odd#1", "COMPLETE", s.ts(9), job="nul\x00name", outputs=[s.dataset("odd\x00set", "v1")])),
        parse_event(s.event("odd#2", "COMPLETE", s.ts(9), job="größe \u2028 😀", inputs=[s.dataset("odd\x00set", "v1")])),
    ]
    chunks = [events[i : i + CHUNK] for i in range(0, len(events), CHUNK)]
    # Again: events of the chunk just before (still being written when this one is projected),
    # of the first chunk (long committed), and one twice within the chunk.
    chunks.insert(4, [*chunks[3][:5], *chunks[0][:5], chunks[3][40], chunks[3][40], *events[-2:]])
    return [(chunk, received(i)) for i, chunk in enumerate(chunks)]


def log(store: Store) -> list[StoredEvent]:
    return store.events(EventFilter(), 0, 100_000)


def one_ingest_per_chunk(path: Path, chunks: list[tuple[list[Event], str]]) -> tuple[SqliteStore, list[list[IngestOutcome]]]:
    reference = SqliteStore(str(path))
    return reference, [reference.ingest(events, at) for events, at in chunks]


def test_chunks_give_the_log_graph_and_outcomes_of_one_ingest_per_chunk(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_module, "PIPELINE_WINDOW", 3)  # several windows, each pipelined
    chunks = workload_chunks()
    outcomes = list(store.ingest_chunks(iter(chunks)))
    reference, expected = one_ingest_per_chunk(tmp_path / "reference.db", chunks)
    try:
        assert outcomes == expected
        assert [o.created for o in outcomes[4]].count(False) == 12  # all but the two odd ones
        assert log(store) == log(reference)
        assert store.dump() == reference.dump()
    finally:
        reference.close()
    # Ingested again: nothing changes, every event is reported with its place in the log.
    again = list(store.ingest_chunks(iter(chunks)))
    assert [[(o.id, o.seq) for o in chunk] for chunk in again] == [[(o.id, o.seq) for o in chunk] for chunk in expected]
    assert not any(o.created for chunk in again for o in chunk)


# Real failures of the fourth chunk, and how to take each away again.
FAILURES = {
    # At a statement, as a full disk would give: the chunk's log entries are refused.
    "statement": (
        f"CREATE TRIGGER refuse BEFORE INSERT ON events WHEN new.seq > {3 * CHUNK}"
        " BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;",
        "disk is full",
        "DROP TRIGGER refuse",
    ),
    # At `COMMIT` itself, on the committing thread, after the next chunk has been projected over
    # the failing one: a deferred constraint, which SQLite checks only then.
    "commit": (
        "PRAGMA foreign_keys = ON; CREATE TABLE owner (id INTEGER PRIMARY KEY);"
        " CREATE TABLE claim (owner INTEGER REFERENCES owner(id) DEFERRABLE INITIALLY DEFERRED);"
        f" CREATE TRIGGER dangling AFTER INSERT ON events WHEN new.seq = {3 * CHUNK + 1}"
        " BEGIN INSERT INTO claim VALUES (1); END;",
        "FOREIGN KEY",
        "DROP TRIGGER dangling",
    ),
}


@pytest.mark.parametrize("failing_at", sorted(FAILURES))
def test_a_failed_chunk_rolls_back_whole_after_the_chunks_before_it_and_none_after_it_is_written(tmp_path: Path, failing_at: str) -> None:
    cause, message, remedy = FAILURES[failing_at]
    chunks = workload_chunks()[:6]
    store = SqliteStore(str(tmp_path / "lineage.db"))
    store._writer.executescript(cause)
    committed = []
    try:
        with pytest.raises(StoreError, match=message):
            for outcomes in store.ingest_chunks(iter(chunks)):
                committed.append(outcomes)
        reference, expected = one_ingest_per_chunk(tmp_path / "reference.db", chunks[:3])
        try:
            assert committed == expected
            assert log(store) == log(reference)
            assert store.dump() == reference.dump()
        finally:
            reference.close()
        # No transaction is left open, and once the cause is gone the store takes writes again,
        # from where the log stopped.
        store._writer.execute(remedy)
        assert [o.seq for o in store.ingest(chunks[3][0][:2], received(9))] == [3 * CHUNK + 1, 3 * CHUNK + 2]
    finally:
        store.close()


def test_other_writers_get_their_turn_between_windows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another writer (a running API) waits for the window in writing, not for the whole import;
    the import then goes on after what it wrote."""
    monkeypatch.setattr(sqlite_module, "PIPELINE_WINDOW", 2)
    store = SqliteStore(str(tmp_path / "lineage.db"))
    chunks = workload_chunks()[:4]
    other = parse_event(s.event("api#1", "COMPLETE", s.ts(10), outputs=[s.dataset("from-the-api", "v1")]))
    written: list[IngestOutcome] = []

    def source() -> Iterator[tuple[list[Event], str]]:
        for i, chunk in enumerate(chunks):
            if i == 2:  # the first window has been written; the second is being gathered
                api = threading.Thread(target=lambda: written.extend(store.ingest([other], received(20))))
                api.start()
                api.join(timeout=30)
                assert not api.is_alive(), "the API's ingest waited for the whole import"
            yield chunk
        yield [other, *chunks[0][0][:1]], received(21)

    try:
        outcomes = list(store.ingest_chunks(source()))
        assert written[0].created and written[0].seq == 2 * CHUNK + 1
        assert [(o.created, o.seq) for o in outcomes[-1]] == [(False, 2 * CHUNK + 1), (False, 1)]
        entries = log(store)
        assert [e.seq for e in entries] == list(range(1, 4 * CHUNK + 2))
        assert all(e.prev_hash == before.hash for before, e in zip(entries, entries[1:]))
    finally:
        store.close()
