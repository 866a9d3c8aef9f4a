"""The store reads behind Marquez's listings (namespaces, pages by namespace, events by time), on both stores."""

from __future__ import annotations

import pytest

from lineage.graph import DATASET, JOB
from lineage.ingest.parse import parse_event
from lineage.store.base import Store
from tests.marquez import reference


@pytest.fixture
def loaded(store: Store) -> Store:
    store.setup()
    store.ingest([parse_event(e) for e in reference.EVENTS], "2026-12-01T00:00:00.000000Z")
    return store


def test_namespaces_are_those_jobs_and_datasets_name(loaded: Store) -> None:
    expected = sorted({e["job"]["namespace"] for e in reference.EVENTS if "job" in e}
                      | {d["namespace"] for e in reference.EVENTS for d in e.get("inputs", []) + e.get("outputs", [])}
                      | {e["dataset"]["namespace"] for e in reference.EVENTS if "dataset" in e}
                      # the names a symlinks facet gives a dataset (issue 30 point 3)
                      | {i["namespace"] for e in reference.EVENTS for d in e.get("inputs", []) + e.get("outputs", [])
                         for i in ((d.get("facets") or {}).get("symlinks") or {}).get("identifiers", [])})
    assert loaded.namespaces() == expected


def test_a_namespace_pages_by_name(loaded: Store) -> None:
    total, everything = loaded.in_namespace(DATASET, "shop_eu", 100, 0)
    names = [n.props["name"] for n in everything]
    assert total == 3 and names == sorted(names) == ["orders", "raw_orders", "tmp_orders_stage"]
    assert [n.props["name"] for n in loaded.in_namespace(DATASET, "shop_eu", 1, 1)[1]] == ["raw_orders"]
    assert loaded.in_namespace(JOB, "shop_eu", 1, 5) == (3, [])
    assert loaded.in_namespace(JOB, "no_such_namespace", 10, 0) == (0, [])


def test_events_by_time_read_a_half_open_window_in_either_direction(loaded: Store) -> None:
    window = ("2024-06-03T00:00:00.000000Z", "2024-06-04T00:00:00.000000Z")
    run_times = sorted(
        (e["eventTime"], e["run"]["runId"]) for e in reference.EVENTS if "run" in e and "2024-06-03" <= e["eventTime"] < "2024-06-04"
    )
    ascending = loaded.events_by_time(*window, ["run"], False, 100, 0)
    assert [(e.event_time[:19], e.run_uuid) for e in ascending] == [(t[:19], r) for t, r in run_times]
    descending = loaded.events_by_time(*window, ["run"], True, 2, 1)
    assert [e.seq for e in descending] == [e.seq for e in reversed(ascending)][1:3]
    # The end is open: an event exactly at `until` is left out, one exactly at `since` is in.
    first = ascending[0].event_time
    assert loaded.events_by_time(None, first, ["run"], False, 100, 0)[-1].event_time < first
    assert loaded.events_by_time(first, None, ["run"], False, 1, 0)[0].event_time == first
    # Counting by kind: the job event and the two dataset events are there, not listed as runs.
    assert loaded.count_by_time(None, None, ["run"]) == 65
    assert loaded.count_by_time(None, None, ["run", "job", "dataset"]) == 68
    assert loaded.count_by_time(*window, ["run"]) == len(run_times)
