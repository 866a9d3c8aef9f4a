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
    down = impact(store, "warehouse:raw_orders", level="version")
    assert [(j["id"], j.get("declared")) for j in down["jobs"]] == [(JOB, True)]
    assert [(d["id"], d.get("declared"), d["namespace"]) for d in down["datasets"]] == [(DAILY, True, "warehouse")]
    up = upstream(store, "warehouse:orders_daily")
    assert {i["id"] for i in up["jobs"] + up["datasets"]} == {JOB, RAW}
    drawn = graph(store, "dbt:orders_daily", "both", level="version")
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


PATH_NS, PATH, TABLE_NS, TABLE = "s3://bucket", "warehouse/db/orders", "hive://metastore:9083", "db.orders"


def symlink_story() -> list[dict[str, Any]]:
    """Spark writes a Hive table by its path (the table name in the symlinks facet); another
    engine reads it by the table name alone, then writes a report."""
    table = {"symlinks": s.facet(identifiers=[{"namespace": TABLE_NS, "name": TABLE, "type": "TABLE"}])}
    write = s.event(
        "spark#1", "COMPLETE", s.ts(1), job="spark_orders", outputs=[s.dataset(PATH, namespace=PATH_NS, facets=table)]
    )
    read = s.event(
        "trino#1", "COMPLETE", s.ts(2), job="orders_report",
        inputs=[s.dataset(TABLE, namespace=TABLE_NS)], outputs=[s.dataset("report", namespace="s3://reports")],
    )
    return [write, read]


def test_lineage_crosses_from_a_path_to_its_table_name_and_back_in_any_order(store: Store) -> None:
    path_version = ids.version_id(ids.dataset_id(PATH_NS, PATH), s.run_uuid("spark#1"))
    dumps = []
    for order in (symlink_story(), symlink_story()[::-1]):
        store.reset()
        one_by_one(store, order)
        dumps.append(store.dump())
        down = impact(store, f"{PATH_NS}/{PATH}@{s.run_uuid('spark#1')}")
        assert down["node"]["id"] == path_version
        assert {r["job"] for r in down["runs"]} == {"orders_report"}
        assert {v["name"] for v in down["dataset_versions"]} == {"report"}
        up = upstream(store, "s3://reports/report", level="version")
        assert {r["job"] for r in up["runs"]} == {"spark_orders", "orders_report"}
        assert path_version in {v["id"] for v in up["dataset_versions"]}
        # Either name of the dataset answers for both.
        assert {r["job"] for r in impact(store, f"{TABLE_NS}/{TABLE}", level="version")["runs"]} == {"orders_report"}
        assert {r["job"] for r in upstream(store, f"{TABLE_NS}/{TABLE}", level="version")["runs"]} == {"spark_orders"}
        assert {r["job"] for r in impact(store, f"{PATH_NS}/{PATH}", level="version")["runs"]} >= {"orders_report"}
    assert dumps[0] == dumps[1]


def test_a_symlink_learned_after_both_runs_joins_them(store: Store) -> None:
    write, read = symlink_story()
    write["outputs"][0]["facets"] = {}  # the writer did not say the table name ...
    link = {  # ... a DatasetEvent says it afterwards
        "eventTime": s.ts(3),
        "producer": s.PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
        "dataset": s.dataset(PATH, namespace=PATH_NS, facets={"symlinks": s.facet(identifiers=[{"namespace": TABLE_NS, "name": TABLE, "type": "TABLE"}])}),
    }
    one_by_one(store, [write, read])
    assert {r["job"] for r in upstream(store, "s3://reports/report", level="version")["runs"]} == {"orders_report"}  # not joined yet
    one_by_one(store, [link])
    assert {r["job"] for r in upstream(store, "s3://reports/report", level="version")["runs"]} == {"spark_orders", "orders_report"}
    joined = store.dump()
    store.reset()
    one_by_one(store, [link, read, write])
    assert store.dump() == joined


def dbt_story() -> list[dict[str, Any]]:
    """A dbt model run (a child of the dbt invocation) reads a source and writes a model; its
    SQL statements are child runs of it that touch no dataset."""
    def parent(run: str, job: str) -> dict[str, Any]:
        return {"parent": s.facet(run={"runId": s.run_uuid(run)}, job={"namespace": "dbt", "name": job})}

    model = s.event(
        "model#1", "COMPLETE", s.ts(1), job="jaffle.orders", namespace="dbt", run_facets=parent("invocation#1", "dbt-run"),
        inputs=[s.dataset("raw.orders", namespace="duckdb://jaffle")], outputs=[s.dataset("main.orders", namespace="duckdb://jaffle")],
    )
    statements = [
        s.event(f"stmt#{i}", "COMPLETE", s.ts(1, i), job=f"jaffle.orders.sql.{i}", namespace="dbt", run_facets=parent("model#1", "jaffle.orders"))
        for i in (1, 2, 3)
    ]
    return [model, *statements]


def test_child_runs_that_touch_no_dataset_are_folded_under_their_parent(store: Store) -> None:
    one_by_one(store, dbt_story())
    model_run = ids.run_id(s.run_uuid("model#1"))
    down = impact(store, "duckdb://jaffle/raw.orders", level="version")
    assert [r["id"] for r in down["runs"]] == [model_run]
    assert down["runs"][0]["child_runs_folded"] == 3
    assert down["folded_runs"]["count"] == 3 and [(p["id"], p["child_runs"]) for p in down["folded_runs"]["parents"]] == [(model_run, 3)]
    everything = impact(store, "duckdb://jaffle/raw.orders", all_runs=True, level="version")
    assert sorted(r["job"] for r in everything["runs"]) == ["jaffle.orders", "jaffle.orders.sql.1", "jaffle.orders.sql.2", "jaffle.orders.sql.3"]
    assert {r.get("parent_run") for r in everything["runs"] if r["job"] != "jaffle.orders"} == {model_run}
    # Upstream, the dbt invocation is a parent with no dataset of its own, and no child: listed.
    up = upstream(store, "duckdb://jaffle/main.orders", level="version")
    assert sorted(r["job"] for r in up["runs"]) == ["dbt-run", "jaffle.orders"] and up["folded_runs"]["count"] == 0
    up_statement = upstream(store, ids.run_id(s.run_uuid("stmt#2")))  # a ref to a folded run still answers
    assert up_statement["node"]["job"] == "jaffle.orders.sql.2"
