"""A stage clock on a store splits each `ingest` call's time into projecting, writing and
committing (the benchmark's bulk bounds come from it), on both stores, without changing what
is stored; without one, nothing is timed."""

from __future__ import annotations

import time

import pytest

from bench.workload import Workload
from lineage.ingest.parse import parse_event
from lineage.store.base import Store
from lineage.store.stages import STAGES, StageClock

NOW = "2026-03-02T00:00:00.000000Z"


def test_each_ingest_adds_its_stages_and_events_to_the_clock(store: Store) -> None:
    events = [parse_event(b) for b in Workload(240).events()]
    chunks = [events[i : i + 80] for i in range(0, len(events), 80)]
    clock = StageClock()
    store.stages = clock
    try:
        started = time.perf_counter()
        for chunk in chunks:
            store.ingest(chunk, NOW)
        again = store.ingest(chunks[0], NOW)  # all known: a call that reads, adds nothing and commits
        wall = time.perf_counter() - started
    finally:
        store.stages = None
    assert clock.events == len(events) + len(chunks[0])
    assert all(clock.seconds[stage] > 0 for stage in STAGES)
    # The stages are parts of the calls, one after another: together no longer than the calls.
    assert sum(clock.seconds.values()) <= wall
    assert clock.per_event_us()["write"] == pytest.approx(clock.seconds["write"] / clock.events * 1e6)
    assert clock.storage_bound() == pytest.approx(clock.events / (clock.seconds["write"] + clock.seconds["commit"]))
    # Timed ingest stores what untimed ingest does.
    assert not any(outcome.created for outcome in again)
    assert store.event_count() == len(events)


def test_a_clock_taken_off_the_store_is_no_longer_timed(store: Store) -> None:
    events = [parse_event(b) for b in Workload(80).events()]
    clock = StageClock()
    store.stages = clock
    try:
        store.ingest(events[:40], NOW)
    finally:
        store.stages = None
    seen, counted = dict(clock.seconds), clock.events
    store.ingest(events[40:60], NOW)
    assert clock.seconds == seen and clock.events == counted == 40
    # The store reads its clock at each call: one set later counts only what follows it.
    later = StageClock()
    store.stages = later
    try:
        store.ingest(events[60:], NOW)
    finally:
        store.stages = None
    assert later.events == 20 and all(later.seconds[stage] > 0 for stage in STAGES)
    assert clock.seconds == seen and clock.events == 40
    assert store.event_count() == len(events)


def _clocked(project: float, write: float, commit: float, events: int) -> StageClock:
    clock = StageClock()
    for stage, seconds in (("project", project), ("write", write), ("commit", commit)):
        clock.add(stage, seconds)
    clock.events = events
    return clock


def test_storage_bound_is_the_rate_with_projecting_free() -> None:
    clock = _clocked(3.0, 0.75, 0.25, 2_000)
    assert clock.per_event_us() == {"project": 1_500.0, "write": 375.0, "commit": 125.0}
    assert clock.storage_bound() == 2_000.0
    assert StageClock().storage_bound() == 0.0 and StageClock().per_event_us()["commit"] == 0.0


def test_pipelined_bound_is_set_by_the_slower_stage() -> None:
    clock = _clocked(3.0, 0.75, 0.25, 2_000)
    # Projection (3 s) is slower than storing (1 s): with its own cores it still sets the pace.
    assert clock.overlapped_bound() == pytest.approx(2_000 / 3.0)
    clock.add("project", -2.5)  # now 0.5 s: storing is the slower stage, the storage bound
    assert clock.overlapped_bound() == clock.storage_bound() == 2_000.0
    assert StageClock().overlapped_bound() == 0.0
