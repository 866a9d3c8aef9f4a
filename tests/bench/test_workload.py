"""The benchmark's workload: realistic, deterministic, and its probes answer something."""

from __future__ import annotations

from bench.workload import Workload
from lineage import queries
from lineage.ingest.parse import parse_event
from lineage.store.sqlite import SqliteStore

NOW = "2026-06-01T00:00:00.000000Z"


def test_the_same_seed_gives_the_same_events_and_another_seed_other_runs() -> None:
    first, again, other = (list(Workload(600, seed=seed).events()) for seed in (7, 7, 8))
    assert len(first) == 600 and first == again
    assert {e["run"]["runId"] for e in first}.isdisjoint({e["run"]["runId"] for e in other})


def test_its_events_are_accepted_and_the_probes_reach_endpoints(tmp_path) -> None:
    workload = Workload(1500)
    store = SqliteStore(str(tmp_path / "w.db"))
    try:
        outcomes = store.ingest([parse_event(e) for e in workload.events()], NOW)
        assert all(o.created for o in outcomes) and store.event_count() == 1500
        probes = workload.probes()
        impact = queries.impact(store, probes["impact"][0])
        assert impact["counts"]["runs"] > 0 and impact["counts"]["deployments"] > 0
        assert impact["endpoints"] and impact["endpoints"][0]["affected_deployments"]
        upstream = queries.upstream(store, probes["upstream"][0])
        assert upstream["counts"]["dataset_versions"] > 0 and upstream["counts"]["commits"] > 0
    finally:
        store.close()


def test_a_later_first_day_continues_the_timeline_without_reusing_versions(tmp_path) -> None:
    earlier, later = Workload(800, seed=1), Workload(800, seed=2, first_day=100)
    a, b = list(earlier.events()), list(later.events())
    assert max(e["eventTime"] for e in a) < min(e["eventTime"] for e in b)
    store = SqliteStore(str(tmp_path / "t.db"))
    try:
        store.ingest([parse_event(e) for e in a + b], NOW)
        versions = [n for n in store.dump()["nodes"] if n["kind"] == "DatasetVersion"]
        # Each run of the benchmark writes versions of its own: none is written twice with
        # different content (which the projection would record as a violation).
        assert versions and not any(n["props"].get("immutability_violations") for n in versions)
    finally:
        store.close()
