"""The dataset/job level says what only a JobEvent's declaration joins (issues 30 and 34): the
declared part of each pair's support, kept at ingest in any arrival order, and the marks it puts
on dataset-level answers; on both stores."""

from __future__ import annotations

import itertools
from typing import Any

from lineage import ids, queries
from lineage.ingest.parse import parse_event
from lineage.store.base import Store
from tests import scenario as s
from tests.conformance.test_projection_rules import NOW
from tests.conformance.test_static_lineage import job_event, one_by_one
from tests.levels import kept

JOB = ids.job_id("dbt", "orders_daily")
RAW, DAILY = ids.dataset_id("warehouse", "raw_orders"), ids.dataset_id("warehouse", "orders_daily")
REPORT_JOB, REPORT = ids.job_id("dbt", "orders_report"), ids.dataset_id("warehouse", "orders_report")

DECLARE = job_event("2026-03-01T12:00:00Z", "orders_daily", ["raw_orders"], ["orders_daily"])
# A run of the declared job before the declaration (so the declaration stands) that really reads RAW.
EARLIER_READ = s.event(
    "od#1", "COMPLETE", "2026-03-01T11:00:00Z", job="orders_daily", namespace="dbt",
    inputs=[s.dataset("raw_orders", namespace="warehouse")],
)
# A run after the declaration: what runs did stands instead of it (issue 30).
LATER_RUN = s.event(
    "od#2", "COMPLETE", "2026-03-01T13:00:00Z", job="orders_daily", namespace="dbt",
    inputs=[s.dataset("raw_orders", namespace="warehouse")], outputs=[s.dataset("orders_daily", namespace="warehouse")],
)
# Another job's run that really reads what the declared job is said to write.
REPORT_RUN = s.event(
    "rep#1", "COMPLETE", "2026-03-01T15:00:00Z", job="orders_report", namespace="dbt",
    inputs=[s.dataset("orders_daily", namespace="warehouse")], outputs=[s.dataset("orders_report", namespace="warehouse")],
)


def entries(answer: dict[str, Any]) -> dict[str, bool]:
    """Each dataset/job-level entry of an answer, with whether it is marked declared."""
    return {e["id"]: bool(e.get("declared")) for g in ("jobs", "datasets", "feature_views", "models", "endpoints") for e in answer[g]}


def edges(answer: dict[str, Any]) -> dict[tuple[str, str], bool]:
    return {(e["src"], e["dst"]): bool(e.get("declared")) for e in answer["edges"]}


def pairs(store: Store) -> dict[tuple[str, str], tuple[int, int]]:
    """The kept pairs as (support, declared support), after checking them against a count from
    the graph."""
    return {(p[0], p[1]): (p[2], p[3]) for p in kept(store)["pairs"]}  # type: ignore[misc]


def test_a_job_declared_with_no_run_is_marked_declared_at_dataset_level(store: Store) -> None:
    one_by_one(store, [DECLARE, REPORT_RUN])
    assert pairs(store) == {(RAW, JOB): (1, 1), (JOB, DAILY): (1, 1), (DAILY, REPORT_JOB): (1, 0), (REPORT_JOB, REPORT): (1, 0)}
    down = queries.impact(store, "warehouse:raw_orders")
    assert down["level"] == "dataset"
    # Only the declaration joins raw_orders to the job and to what it writes; what a run reads
    # from there on is reached through that declaration all the same.
    assert entries(down) == {JOB: True, DAILY: True, REPORT_JOB: True, REPORT: True}
    assert edges(down) == {(RAW, JOB): True, (JOB, DAILY): True, (DAILY, REPORT_JOB): False, (REPORT_JOB, REPORT): False}
    up = queries.upstream(store, "warehouse:orders_daily")
    assert entries(up) == {JOB: True, RAW: True}
    assert edges(up) == {(RAW, JOB): True, (JOB, DAILY): True}
    # From orders_daily down, a run joins everything: nothing is marked.
    assert entries(queries.impact(store, "warehouse:orders_daily")) == {REPORT_JOB: False, REPORT: False}
    drawn = queries.graph(store, "warehouse:orders_daily", "both")
    assert drawn["level"] == "dataset"
    assert {(e["src"], e["dst"]): bool(e["props"].get("declared")) for e in drawn["edges"]} == {
        (RAW, JOB): True, (JOB, DAILY): True, (DAILY, REPORT_JOB): False, (REPORT_JOB, REPORT): False,
    }
    assert {n["id"]: bool(n.get("declared")) for n in drawn["nodes"]} == {
        DAILY: False, JOB: True, RAW: True, REPORT_JOB: False, REPORT: False,
    }


def test_a_run_that_really_reads_takes_the_mark_off_what_it_reads(store: Store) -> None:
    one_by_one(store, [DECLARE, EARLIER_READ])
    # The run came before the declaration: the declaration stands, and the read stands beside it.
    assert pairs(store) == {(RAW, JOB): (2, 1), (JOB, DAILY): (1, 1)}
    down = queries.impact(store, "warehouse:raw_orders")
    assert entries(down) == {JOB: False, DAILY: True}
    assert edges(down) == {(RAW, JOB): False, (JOB, DAILY): True}
    # A later run supersedes the declaration: only what runs did is left, and nothing is marked.
    one_by_one(store, [LATER_RUN])
    assert all(declared == 0 for _, declared in pairs(store).values())
    down = queries.impact(store, "warehouse:raw_orders")
    assert entries(down) == {JOB: False, DAILY: False}
    assert not any(edges(down).values())


def test_the_declared_support_is_the_same_in_any_arrival_order(store: Store) -> None:
    events = [DECLARE, EARLIER_READ, REPORT_RUN, LATER_RUN]
    seen = []
    for order in itertools.permutations(events):
        store.reset()
        one_by_one(store, list(order))  # each event its own transaction, in this order
        seen.append(pairs(store))  # kept() checks each against a count from the graph
    store.reset()
    store.ingest([parse_event(e) for e in reversed(events)], NOW)  # all in one transaction
    seen.append(pairs(store))
    assert all(p == seen[0] for p in seen)
    assert seen[0] == {(RAW, JOB): (2, 0), (JOB, DAILY): (1, 0), (DAILY, REPORT_JOB): (1, 0), (REPORT_JOB, REPORT): (1, 0)}
    # Without the superseding run the declaration stands, and is counted the same in any order.
    without = []
    for order in itertools.permutations([DECLARE, EARLIER_READ, REPORT_RUN]):
        store.reset()
        one_by_one(store, list(order))
        without.append(pairs(store))
    assert all(p == without[0] for p in without)
    assert without[0] == {(RAW, JOB): (2, 1), (JOB, DAILY): (1, 1), (DAILY, REPORT_JOB): (1, 0), (REPORT_JOB, REPORT): (1, 0)}


def test_a_rebuild_keeps_the_declared_support(store: Store) -> None:
    one_by_one(store, [REPORT_RUN, EARLIER_READ, DECLARE])
    before = pairs(store)
    assert before[(JOB, DAILY)] == (1, 1)
    assert store.rebuild() == 3
    assert pairs(store) == before
    assert entries(queries.impact(store, "warehouse:raw_orders")) == {JOB: False, DAILY: True, REPORT_JOB: True, REPORT: True}
