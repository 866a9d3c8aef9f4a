"""Replaying the OpenLineage corpus (tests/corpus/): accepted, rejected, and order-independent."""

from __future__ import annotations

import random

from lineage import ids
from lineage.errors import InvalidEvent
from lineage.events import Event
from lineage.ingest.parse import parse_event
from lineage.store.base import EventFilter, Store
from tests import corpus
from tests.levels import kept

NOW = "2026-03-02T00:00:00.000000Z"


def corpus_events() -> tuple[list[Event], list[str]]:
    accepted, rejected = [], []
    for item in corpus.load():
        try:
            accepted.append(parse_event(item.body))
        except InvalidEvent:
            rejected.append(item.path)
    return accepted, rejected


def load(store: Store, events: list[Event], chunk: int = 64) -> int:
    created = 0
    for start in range(0, len(events), chunk):
        created += sum(o.created for o in store.ingest(events[start : start + chunk], NOW))
    return created


def test_corpus_replay_twice_shuffled_and_rebuilt_gives_one_graph(store: Store) -> None:
    events, rejected = corpus_events()
    assert sorted(set(rejected)) == sorted(corpus.REFUSED)  # only events that cannot be identified
    unique = len({e.id for e in events})
    assert load(store, events) == unique  # byte-identical duplicates in the corpus are stored once
    assert store.event_count() == unique
    expected, levels = store.dump(), kept(store)
    assert len(expected["nodes"]) > 100 and len(expected["edges"]) > 100 and len(levels["pairs"]) > 100

    assert load(store, events) == 0  # the whole corpus again: nothing new
    assert store.dump() == expected

    store.reset()
    shuffled = events[:]
    random.Random(7).shuffle(shuffled)
    load(store, shuffled, chunk=17)
    assert store.dump() == expected
    assert kept(store) == levels  # the dataset/job-level adjacency is order-independent too

    assert store.rebuild() == unique
    assert store.dump() == expected
    assert kept(store) == levels


def test_corpus_events_with_problems_are_stored_and_their_problems_shown_on_the_nodes(store: Store) -> None:
    events, _ = corpus_events()
    load(store, events)
    flagged = [e for e in events if e.warnings]
    assert {w.field for e in flagged for w in e.warnings} >= set(corpus.FLAGGED.values())
    for event in flagged:
        home = ids.run_id(event.run_uuid) if event.run_uuid else ids.job_id(event.job_namespace, event.job_name)
        node = store.node(home)
        assert node is not None and not node.props.get("problems_truncated")
        shown = {(p["event"], p["field"]) for p in node.props["problems"]}
        assert {(event.id, w.field) for w in event.warnings} <= shown
    logged = {e.id: e.warnings for e in store.events(EventFilter(), 0, 10_000)}
    for event in flagged:
        assert [w.to_dict() for w in event.warnings] == list(logged[event.id])
