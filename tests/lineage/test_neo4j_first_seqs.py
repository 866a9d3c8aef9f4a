"""Neo4j: each subject lists the seqs of its first log entries (`first_seqs`), so the first
entries about a subject that thousands of entries speak of are read by seq rather than by
ordering all of them. What is read must be what the long way reads, whatever the batches,
for subjects written before the list existed (backfilled at start-up), and for a log altered
behind the store's back."""

from __future__ import annotations

from typing import Any

import pytest

import lineage.store.neo4j as neo4j_module
from lineage import ids
from lineage.ingest.parse import parse_event
from lineage.store.base import EventFilter, Store
from tests import scenario as s

pytestmark = pytest.mark.neo4j

CAP = 3
JOB = ids.job_id("ml-pipelines", "etl")


@pytest.fixture
def store(neo4j_store: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setattr(neo4j_module, "FIRST_SEQS", CAP)
    neo4j_store.reset()
    return neo4j_store


def cypher(store: Store, query: str, **params: Any) -> list[list[Any]]:
    with store._driver.session(database=store.database) as session:  # type: ignore[attr-defined]
        return [list(r.values()) for r in session.run(query, params)]


def ingest(store: Store, *batches: int, start: int = 0) -> None:
    """Batches of events of the `etl` job (each of them an entry about the job)."""
    n = start
    for size in batches:
        store.ingest([parse_event(s.event(f"etl#{n + i}", "COMPLETE", s.ts(1, n + i), job="etl")) for i in range(size)], s.ts(9))
        n += size


def the_long_way(store: Store, subject: str, limit: int) -> list[Any]:
    return store.events(EventFilter(subject=subject), 0, limit)


def first_seqs(store: Store, subject: str) -> list[int] | None:
    return cypher(store, "MATCH (s:Subject {id: $id}) RETURN s.first_seqs", id=subject)[0][0]


def test_first_entries_are_listed_in_log_order_across_batches(store: Store) -> None:
    ingest(store, 1, 4, 3)  # the second batch crosses the cap with several entries of the job
    everything = the_long_way(store, JOB, 100)
    assert len(everything) == 8
    assert first_seqs(store, JOB) == [e.seq for e in everything[:CAP]]
    for limit in (0, 1, CAP, CAP + 2, 100):  # within the list, and beyond it (the long way)
        assert store.events_about([JOB, "no-such-node"], limit) == {JOB: everything[:limit], "no-such-node": []}
    assert store.count_events(EventFilter(subject=JOB)) == 8
    assert store.count_events(EventFilter(subject="no-such-node")) == 0


def test_subjects_from_before_the_list_get_it_at_start_up(store: Store) -> None:
    ingest(store, 2)
    cypher(store, "MATCH (s:Subject) REMOVE s.first_seqs")
    cypher(store, "MATCH (h:LogHead) REMOVE h.first_seqs_ready")
    ingest(store, 3, start=2)
    # An ingest does not start a list it could not make whole: that is the backfill's work.
    assert first_seqs(store, JOB) is None
    assert store.events_about([JOB], CAP)[JOB] == the_long_way(store, JOB, CAP)
    store.setup()
    subjects = [row[0] for row in cypher(store, "MATCH (s:Subject) RETURN s.id")]
    assert len(subjects) > 5
    for subject in subjects:
        assert first_seqs(store, subject) == [e.seq for e in the_long_way(store, subject, CAP)], subject
    assert cypher(store, "MATCH (h:LogHead) RETURN h.first_seqs_ready") == [[True]]
    ingest(store, 1, start=5)
    assert store.events_about([JOB], CAP)[JOB] == the_long_way(store, JOB, CAP)


def test_an_entry_deleted_behind_the_stores_back_is_not_listed(store: Store) -> None:
    ingest(store, 5)
    listed = first_seqs(store, JOB)
    assert listed is not None
    cypher(store, "MATCH (e:Event {seq: $seq}) DETACH DELETE e", seq=listed[1])
    answer = store.events_about([JOB], CAP)[JOB]
    assert answer == the_long_way(store, JOB, CAP)
    assert listed[1] not in [e.seq for e in answer] and len(answer) == CAP
