"""Replaying the OpenLineage corpus (tests/corpus/): accepted, rejected, and order-independent."""

from __future__ import annotations

import random

from lineage.errors import InvalidEvent
from lineage.events import Event
from lineage.ingest.parse import parse_event
from lineage.store.base import Store
from tests import corpus

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
    assert sorted(set(rejected)) == sorted(corpus.INVALID)
    unique = len({e.id for e in events})
    assert load(store, events) == unique  # byte-identical duplicates in the corpus are stored once
    assert store.event_count() == unique
    expected = store.dump()
    assert len(expected["nodes"]) > 100 and len(expected["edges"]) > 100

    assert load(store, events) == 0  # the whole corpus again: nothing new
    assert store.dump() == expected

    store.reset()
    shuffled = events[:]
    random.Random(7).shuffle(shuffled)
    load(store, shuffled, chunk=17)
    assert store.dump() == expected

    assert store.rebuild() == unique
    assert store.dump() == expected
