"""SQLite reads of the log that must not walk it: `EXPLAIN QUERY PLAN` of each fixed text, and
the log's size kept by triggers.

A filter such as `(? IS NULL OR run_uuid = ?)` reads the same but cannot use an index, so a
run's events were found by scanning the log from its first entry: 80 ms at 100k events."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from lineage import ids
from lineage.store.base import EventFilter
from lineage.store.sqlite import _COUNT_EVENTS, _EVENTS, SqliteStore, _event_query
from tests import scenario as s
from tests.conformance.test_projection_rules import ML_STORY, ingest

RUN = "0e7c5b1a-0000-4000-8000-000000000001"


def plan(store: SqliteStore, sql: str, params: tuple[object, ...]) -> str:
    rows = store._reader.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    return " | ".join(str(r[3]) for r in rows)


def test_a_runs_events_are_read_from_the_run_index(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "plans.db"))
    try:
        key, lead, rest = _event_query(EventFilter(run_uuid=RUN, since="2026-01-01T00:00:00.000000Z"))
        listing = plan(store, _EVENTS[key], (*lead, 0, *rest, 50))
        counting = plan(store, _COUNT_EVENTS[key], (*lead, *rest))
        assert "events_run (run_uuid=?" in listing and "SCAN" not in listing, listing
        assert "events_run (run_uuid=?" in counting and "SCAN" not in counting, counting
    finally:
        store.close()


def test_a_subjects_events_are_counted_from_its_kept_count(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "plans.db"))
    try:
        counting = plan(store, _COUNT_EVENTS["subject only"], ("ds-1",))
        # One row of the kept counts: neither the subject's index entries nor its events.
        assert "subject_counts USING PRIMARY KEY (node_id=?)" in counting, counting
        assert "event_subjects" not in counting and "SCAN subject_counts" not in counting, counting
        key, lead, rest = _event_query(EventFilter(subject="ds-1"))
        listing = plan(store, _EVENTS[key], (*lead, 0, *rest, 50))
        assert "SCAN" not in listing, listing
    finally:
        store.close()


def test_the_log_size_is_kept_without_counting_the_log(tmp_path: Path) -> None:
    """`event_count` reads a size that triggers keep, so it follows every change to the log,
    also one made by SQL behind the store's back, and a database from before gets it counted."""
    path = str(tmp_path / "size.db")
    store = SqliteStore(path)
    try:
        assert store.event_count() == 0
        ingest(store, *ML_STORY)
        assert store.event_count() == len(ML_STORY)
        assert "SCAN" not in plan(store, "SELECT entries FROM log_size WHERE id = 1", ())
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("DELETE FROM events WHERE seq = 3")
        assert store.event_count() == len(ML_STORY) - 1
        # As from a build without the size: it is counted when the store opens.
        other.executescript("DROP TRIGGER log_size_in; DROP TRIGGER log_size_out; DROP TABLE log_size;")
        other.close()
    finally:
        store.close()
    reopened = SqliteStore(path)
    try:
        assert reopened.event_count() == len(ML_STORY) - 1
        ingest(reopened, s.event("late#1", "COMPLETE", s.ts(9)))
        assert reopened.event_count() == len(ML_STORY)
        reopened.reset()
        assert reopened.event_count() == 0
    finally:
        reopened.close()


def test_subject_counts_are_kept_by_triggers_and_filled_once_for_a_database_from_before(tmp_path: Path) -> None:
    """The count of entries about a subject, which the audit reports for every fact, is kept as
    the log changes (by SQL behind the store's back too), and a database written before the
    counts existed gets them counted when it is opened."""
    path = str(tmp_path / "counts.db")
    customers = ids.dataset_id("s3://lake", "customers")
    store = SqliteStore(path)
    try:
        ingest(store, *ML_STORY)
        about = EventFilter(subject=customers)
        listed = len(store.events(about, 0, 1000))
        assert listed >= 2 and store.count_events(about) == listed
        other = sqlite3.connect(path, isolation_level=None)
        seq = store.events(about, 0, 1)[0].seq
        other.execute("DELETE FROM event_subjects WHERE node_id = ? AND seq = ?", (customers, seq))
        assert store.count_events(about) == listed - 1
        # As from a build without the counts: they are counted when the store opens.
        other.executescript("DROP TRIGGER subject_counts_in; DROP TRIGGER subject_counts_out; DROP TABLE subject_counts;")
        other.close()
    finally:
        store.close()
    reopened = SqliteStore(path)
    try:
        assert reopened.count_events(about) == listed - 1
        ingest(reopened, s.event("late#1", "COMPLETE", s.ts(9), inputs=[s.dataset("customers")]))
        assert reopened.count_events(about) == listed
        reopened.close()
        reopened = SqliteStore(path)  # a store opened again does not count them a second time
        assert reopened.count_events(about) == listed
        reopened.reset()
        assert reopened.count_events(about) == 0
        ingest(reopened, *ML_STORY)
        assert reopened.count_events(about) == listed == len(reopened.events(about, 0, 1000))
    finally:
        reopened.close()
