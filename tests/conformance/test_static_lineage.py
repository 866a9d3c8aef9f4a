"""Static lineage, symlinks and child runs (issue 30): declared edges from JobEvents, one
dataset under two names, and child runs folded under their parent; on both stores."""

from __future__ import annotations

from typing import Any

from lineage import ids
from lineage.graph import DECLARED_READ, DECLARED_WRITE
from lineage.ingest.parse import parse_event
from lineage.queries import graph, impact, upstream
from lineage.store.base import Store
from tests import scenario as s
from tests.conformance.test_projection_rules import NOW


def job_event(time: str, job: str, inputs: list[str], outputs: list[str]) -> dict[str, Any]:
    """A JobEvent (design-time lineage): a job and the datasets it reads and writes, no run."""
    return {
        "eventTime": time,
        "producer": s.PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent",
        "job": {"namespace": "dbt", "name": job, "facets": {}},
        "inputs": [s.dataset(n, namespace="warehouse") for n in inputs],
        "outputs": [s.dataset(n, namespace="warehouse") for n in outputs],
    }


def one_by_one(store: Store, bodies: list[dict[str, Any]]) -> None:
    for body in bodies:  # each in its own transaction: the order is the arrival order
        store.ingest([parse_event(body)], NOW)


def declared_edges(store: Store) -> set[tuple[str, str, str]]:
    return {(e["type"], e["src"], e["dst"]) for e in store.dump()["edges"] if e["type"] in (DECLARED_READ, DECLARED_WRITE)}


JOB = ids.job_id("dbt", "orders_daily")
RAW, DAILY = ids.dataset_id("warehouse", "raw_orders"), ids.dataset_id("warehouse", "orders_daily")


def test_a_job_event_declares_edges_that_impact_upstream_and_the_graph_follow(store: Store) -> None:
    one_by_one(store, [job_event("2026-03-01T00:00:00Z", "orders_daily", ["raw_orders"], ["orders_daily"])])
    assert declared_edges(store) == {(DECLARED_READ, JOB, RAW), (DECLARED_WRITE, JOB, DAILY)}
    down = impact(store, "warehouse:raw_orders")
    assert [(j["id"], j.get("declared")) for j in down["jobs"]] == [(JOB, True)]
    assert [(d["id"], d.get("declared"), d["namespace"]) for d in down["datasets"]] == [(DAILY, True, "warehouse")]
    up = upstream(store, "warehouse:orders_daily")
    assert {i["id"] for i in up["jobs"] + up["datasets"]} == {JOB, RAW}
    drawn = graph(store, "dbt:orders_daily", "both")
    assert {(e["type"], e["props"]["declared"]) for e in drawn["edges"]} == {(DECLARED_READ, True), (DECLARED_WRITE, True)}


def test_a_later_run_supersedes_the_declaration_and_an_earlier_one_does_not_in_any_order(store: Store) -> None:
    declare = job_event("2026-03-01T12:00:00Z", "orders_daily", ["raw_orders"], ["orders_daily"])
    earlier = s.event("od#1", "COMPLETE", "2026-03-01T11:00:00Z", job="orders_daily", namespace="dbt")
    later = s.event("od#2", "COMPLETE", "2026-03-01T13:00:00Z", job="orders_daily", namespace="dbt")
    newer_declaration = job_event("2026-03-01T14:00:00Z", "orders_daily", ["raw_orders", "customers"], ["orders_daily"])
    one_by_one(store, [declare, earlier])
    assert len(declared_edges(store)) == 2  # a run before the declaration leaves it standing
    for order in ([declare, earlier, later], [later, earlier, declare]):
        store.reset()
        one_by_one(store, order)
        assert declared_edges(store) == set()
        job = store.node(JOB)
        assert job is not None and job.props["declared_superseded"] is True
        assert impact(store, "warehouse:raw_orders")["jobs"] == []
    one_by_one(store, [newer_declaration])  # declared after the last run: it stands again, whole
    assert declared_edges(store) == {
        (DECLARED_READ, JOB, RAW), (DECLARED_READ, JOB, ids.dataset_id("warehouse", "customers")), (DECLARED_WRITE, JOB, DAILY)
    }
    dump = store.dump()
    store.reset()
    one_by_one(store, [newer_declaration, later, declare, earlier])
    assert store.dump() == dump
