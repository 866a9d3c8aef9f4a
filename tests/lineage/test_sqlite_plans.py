"""SQLite reads of the log that must not walk it: `EXPLAIN QUERY PLAN` of each fixed text.

A filter such as `(? IS NULL OR run_uuid = ?)` reads the same but cannot use an index, so a
run's events were found by scanning the log from its first entry: 80 ms at 100k events."""

from __future__ import annotations

from pathlib import Path

from lineage.store.base import EventFilter
from lineage.store.sqlite import _COUNT_EVENTS, _EVENTS, SqliteStore, _event_query

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


def test_a_subjects_events_are_counted_from_its_own_index_entries(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "plans.db"))
    try:
        counting = plan(store, _COUNT_EVENTS["subject only"], ("ds-1",))
        # Only the subject's index entries: no visit of each event it counts.
        assert "event_subjects" in counting and "events" not in counting.replace("event_subjects", ""), counting
        key, lead, rest = _event_query(EventFilter(subject="ds-1"))
        listing = plan(store, _EVENTS[key], (*lead, 0, *rest, 50))
        assert "SCAN" not in listing, listing
    finally:
        store.close()
