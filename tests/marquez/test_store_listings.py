"""The store reads behind Marquez's listings (namespaces, pages by namespace by name or jobs newest
first, events by time), on both stores."""

from __future__ import annotations

import importlib

import pytest

from lineage.graph import DATASET, JOB, Node, job_updated_at
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


def test_jobs_page_newest_first_from_the_store_with_a_count(loaded: Store) -> None:
    jobs = [n for n in (Node(d["id"], d["kind"], frozenset(d["labels"]), d["props"]) for d in loaded.dump()["nodes"]) if n.kind == JOB]
    newest = sorted(jobs, key=lambda n: (job_updated_at(n.props), n.props["name"], n.id), reverse=True)
    assert job_updated_at(newest[0].props) > job_updated_at(newest[-1].props)  # the order is not by accident
    for namespace in (None, "shop_eu", "dbt_prod", "no_such_namespace"):
        wanted = [n.id for n in newest if namespace is None or n.props["namespace"] == namespace]
        total, page = loaded.newest_jobs(namespace, 100, 0)
        assert (total, [n.id for n in page]) == (len(wanted), wanted), namespace
        for limit, offset in ((1, 0), (3, 2), (2, max(len(wanted) - 1, 0)), (5, len(wanted) + 3)):
            total, page = loaded.newest_jobs(namespace, limit, offset)
            assert (total, [n.id for n in page]) == (len(wanted), wanted[offset : offset + limit]), (namespace, limit, offset)
    # A job known only from its JobEvent is placed by that event's time.
    report = next(n for n in jobs if n.props["name"] == "weekly_revenue_report")
    assert job_updated_at(report.props) == min(e["eventTime"] for e in reference.EVENTS if e.get("job", {}).get("name") == "weekly_revenue_report")[:19] + ".000000Z"


def test_marquez_job_listing_filters_states_across_chunks_as_over_the_whole_listing(loaded: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    jobs_module = importlib.import_module("lineage.marquez.jobs")
    whole = jobs_module.jobs(loaded, None, 100, 0)
    assert whole["totalCount"] == len(whole["jobs"]) == 14
    for states in (("FAILED",), ("COMPLETED",), ("RUNNING", "ABORTED")):
        kept = [b for b in whole["jobs"] if b["latestRun"] is None or b["latestRun"]["state"] in states]
        for chunk in (2, 5, 200):  # the listing read a few jobs at a time gives what one read gives
            monkeypatch.setattr(jobs_module, "STATE_CHUNK", chunk)
            for limit, offset in ((100, 0), (2, 1), (1, 3)):
                answer = jobs_module.jobs(loaded, None, limit, offset, states)
                assert answer == {"totalCount": 14, "jobs": kept[offset : offset + limit]}, (states, chunk, limit, offset)


def test_listings_read_an_index_in_order_as_far_as_the_page(loaded: Store, backend: str) -> None:
    """Neither listing sorts or scans a namespace: the plan reads an index in its order."""
    if backend == "sqlite":
        from lineage.store import sqlite

        for sql, params in ((sqlite._IN_NAMESPACE, ("shop_eu", "Dataset", 1, 1)), (sqlite._NEWEST_JOBS, ("shop_eu", 1, 1)), (sqlite._NEWEST_JOBS_ALL, (1, 1))):
            plan = " | ".join(str(r[3]) for r in loaded._reader.execute("EXPLAIN QUERY PLAN " + sql, params))  # type: ignore[attr-defined]
            assert "USING INDEX nodes_" in plan and "TEMP B-TREE" not in plan, plan
        return
    from lineage.store import neo4j

    queries = ((neo4j.IN_NAMESPACE[DATASET], "shop_eu"), (neo4j.IN_NAMESPACE[JOB], "dbt_prod"), (neo4j.NEWEST_JOBS, "dbt_prod"), (neo4j.NEWEST_JOBS_ALL, None))
    for query, namespace in queries:
        with loaded._driver.session(database=loaded.database) as session:  # type: ignore[attr-defined]
            profile = session.run("PROFILE " + query, p={"namespace": namespace, "limit": 1, "offset": 1}).consume().profile
        ops, todo = [], [profile]
        while todo:
            op = todo.pop()
            ops.append((op["operatorType"].split("@")[0], op.get("rows", 0)))
            todo += op.get("children", [])
        names = [name for name, _ in ops]
        assert not any("Sort" in n or n == "Top" or n == "NodeByLabelScan" for n in names), ops
        # The page's index read stops at offset + limit (the count is the other read).
        assert min(rows for name, rows in ops if name.startswith("NodeIndex")) <= 2, ops
