"""The dead-letter store of refused events (issue 29), the same on both stores."""

from __future__ import annotations

import hashlib
from dataclasses import replace

from lineage.store.base import Rejection, Store


def entry(n: int, size: int = 10, subjects: tuple[str, ...] = ()) -> Rejection:
    body = (b"%d:" % n).ljust(size, b"x")
    return Rejection(
        0, f"2026-03-01T10:00:{n:02d}.000000Z", "invalid_input", "run.runId", f"not a UUID #{n}", "p", body,
        len(body), hashlib.sha256(body).hexdigest(), False, subjects,
    )


def test_an_entry_is_kept_whole_and_listed_newest_first(store: Store) -> None:
    first = store.put_rejection(entry(1, subjects=("job-a",)), 100, 10_000)
    second = store.put_rejection(entry(2), 100, 10_000)
    assert second.id > first.id > 0
    assert store.rejection(first.id) == replace(entry(1, subjects=("job-a",)), id=first.id)
    assert [r.id for r in store.rejections(None, 10)] == [second.id, first.id]
    assert [r.id for r in store.rejections(second.id, 10)] == [first.id]  # the cursor pages on
    assert store.rejection_stats().entries == 2 and store.rejection_stats().bytes == 20


def test_the_bounds_drop_the_oldest_entries_and_count_them(store: Store) -> None:
    ids = [store.put_rejection(entry(n), 3, 10_000).id for n in range(5)]
    assert [r.id for r in store.rejections(None, 10)] == ids[:1:-1]  # the three newest
    stats = store.rejection_stats()
    assert (stats.entries, stats.dropped) == (3, 2)
    # A byte bound as well: three bodies of 100 bytes in 250 leave two.
    store.reset()
    ids = [store.put_rejection(entry(n, size=100), 100, 250).id for n in range(3)]
    assert [r.id for r in store.rejections(None, 10)] == ids[:0:-1]
    assert store.rejection_stats().bytes == 200 and store.rejection_stats().dropped == 1


def test_entries_are_found_by_the_nodes_they_name(store: Store) -> None:
    store.put_rejection(entry(1, subjects=("job-a", "dataset-x")), 100, 10_000)
    store.put_rejection(entry(2, subjects=("dataset-x",)), 100, 10_000)
    assert store.rejections_about(["dataset-x", "job-a", "job-b"]) == {"dataset-x": 2, "job-a": 1}


def test_a_deleted_entry_is_gone_and_not_counted_as_dropped(store: Store) -> None:
    kept = store.put_rejection(entry(1, subjects=("job-a",)), 100, 10_000)
    assert store.delete_rejection(kept.id) and not store.delete_rejection(kept.id)
    assert store.rejection(kept.id) is None and store.rejections_about(["job-a"]) == {}
    stats = store.rejection_stats()
    assert (stats.entries, stats.bytes, stats.dropped) == (0, 0, 0)


def test_dead_letters_stay_out_of_the_log_and_the_graph(store: Store) -> None:
    store.put_rejection(entry(1, subjects=("job-a",)), 100, 10_000)
    assert store.event_count() == 0 and store.dump() == {"nodes": [], "edges": []}
