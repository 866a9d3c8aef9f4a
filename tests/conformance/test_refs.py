"""Refs (docs/refs.md): every form resolves, every printed label reads back to its node, and an
ambiguous ref lists candidates that each name exactly one node; on both stores."""

from __future__ import annotations

import random

import pytest

from lineage import ids
from lineage.errors import Ambiguous, NotFound
from lineage.graph import DATASET, JOB, RUN, VERSION, Node
from lineage.ingest.parse import parse_event
from lineage.queries import impact, upstream
from lineage.refs import resolve_ref, summary
from lineage.store.base import Store
from tests import gaps
from tests import scenario as s
from tests.conformance.test_corpus_replay import corpus_events, load
from tests.conformance.test_projection_rules import NOW, ingest


def every_node(store: Store) -> list[Node]:
    return [Node(n["id"], n["kind"], frozenset(n["labels"]), n["props"]) for n in store.dump()["nodes"]]


def test_every_label_and_ref_of_the_corpus_and_the_stories_resolves_to_its_node(store: Store) -> None:
    events, _ = corpus_events()
    load(store, events)
    ingest(store, *gaps.EVENTS)  # the incident, and its story's holes
    nodes = every_node(store)
    assert len(nodes) > 400 and {n.kind for n in nodes} >= {DATASET, JOB, RUN, VERSION, "Commit", "Alias"}
    wrong = []
    for node in nodes:
        shown = summary(node)
        for field in ("label", "ref"):
            try:
                found = resolve_ref(store, shown[field]).id
            except (Ambiguous, NotFound) as exc:
                found = type(exc).__name__
            if found != node.id:
                wrong.append((field, shown[field], node.id, found))
    assert wrong == []


def test_no_run_label_is_a_uuid_prefix_and_runs_of_one_second_get_a_suffix(store: Store) -> None:
    # Two runs of one job in the same second, with time-ordered UUIDs that share their head.
    first, second = "01936898-5bd1-7e2c-a5f9-48dbad475045", "01936898-5bd1-7e2c-b000-000000000001"
    bodies = [
        s.event("x", "START", "2026-09-02T08:30:12.100Z", job="load") | {"run": {"runId": uuid, "facets": {}}}
        for uuid in (first, second)
    ]
    bodies.append(s.event("other#1", "START", "2026-09-02T08:30:13Z", job="load"))
    ingest(store, *bodies)
    runs = {n.props["run_id"]: summary(n)["label"] for n in every_node(store) if n.kind == RUN}
    assert runs[first] == "load @ 2026-09-02T08:30:12Z ~5045" and runs[second] == "load @ 2026-09-02T08:30:12Z ~0001"
    assert runs[s.run_uuid("other#1")] == "load @ 2026-09-02T08:30:13Z"  # alone in its second: no suffix
    assert resolve_ref(store, "load @ 2026-09-02T08:30:12Z ~0001").props["run_id"] == second
    with pytest.raises(Ambiguous) as both:
        resolve_ref(store, "load @ 2026-09-02T08:30:12Z")
    assert sorted(resolve_ref(store, c["ref"]).props["run_id"] for c in both.value.candidates) == [first, second]
    # The same labels whatever order the events came in.
    store.reset()
    ingest(store, *reversed(bodies))
    assert {n.props["run_id"]: summary(n)["label"] for n in every_node(store) if n.kind == RUN} == runs


def test_a_run_without_start_is_labelled_by_its_first_event_time(store: Store) -> None:
    ingest(store, s.event("late#1", "COMPLETE", "2026-09-02T09:00:00.999Z", job="load"))
    ingest(store, s.event("late#1", "RUNNING", "2026-09-02T08:59:59.5Z", job="load"))
    run = resolve_ref(store, s.run_uuid("late#1"))
    assert summary(run)["label"] == "load @ 2026-09-02T08:59:59Z"
    ingest(store, s.event("late#1", "START", "2026-09-02T08:59:58Z", job="load"))  # a START, late: it wins
    assert summary(store.node(run.id))["label"] == "load @ 2026-09-02T08:59:58Z"  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        resolve_ref(store, "load @ 2026-09-02T08:59:59Z")


def orders_in_two_namespaces(store: Store) -> None:
    ingest(
        store,
        s.event("a#1", "COMPLETE", s.ts(1), job="etl", outputs=[s.dataset("orders", namespace="postgres://db1:5432")]),
        s.event("b#1", "COMPLETE", s.ts(2), job="etl", namespace="other", outputs=[s.dataset("orders", "v7", namespace="warehouse")]),
    )


def test_namespaced_forms_name_datasets_and_jobs(store: Store) -> None:
    orders_in_two_namespaces(store)
    pg, wh = ids.dataset_id("postgres://db1:5432", "orders"), ids.dataset_id("warehouse", "orders")
    assert resolve_ref(store, "postgres://db1:5432/orders").id == pg  # the naming-spec URI
    assert resolve_ref(store, "postgres://db1:5432:orders").id == pg  # namespace:name, split at the right colon
    assert resolve_ref(store, "dataset:postgres://db1:5432:orders").id == pg  # Marquez's node id
    assert resolve_ref(store, "warehouse:orders").id == wh
    assert resolve_ref(store, "job:ml-pipelines:etl").id == ids.job_id("ml-pipelines", "etl")
    assert resolve_ref(store, "other:etl").id == ids.job_id("other", "etl")
    assert resolve_ref(store, "warehouse:orders@v7").id == ids.version_id(wh, "v7")  # dataset@version
    assert resolve_ref(store, "orders@v7").id == ids.version_id(wh, "v7")
    with pytest.raises(NotFound):
        resolve_ref(store, "postgres://db1:5432/nothing")


def test_a_name_in_two_namespaces_is_ambiguous_and_each_candidate_names_its_namespace(store: Store) -> None:
    orders_in_two_namespaces(store)
    for ref in ("orders", "etl"):
        with pytest.raises(Ambiguous) as both:
            resolve_ref(store, ref)
        found = both.value.candidates
        assert len(found) == 2 and len({c["namespace"] for c in found}) == 2
        for c in found:
            assert resolve_ref(store, c["ref"]).id == c["id"]


def test_a_derived_version_is_dataset_at_run_uuid_and_the_bare_uuid_names_the_run(store: Store) -> None:
    orders_in_two_namespaces(store)
    uuid = s.run_uuid("a#1")
    version = ids.version_id(ids.dataset_id("postgres://db1:5432", "orders"), uuid)
    assert resolve_ref(store, uuid).kind == RUN
    assert resolve_ref(store, f"orders@{uuid}").id == version
    node = store.node(version)
    assert node is not None and summary(node)["label"] == f"postgres://db1:5432/orders@{uuid}"
    assert resolve_ref(store, summary(node)["label"]).id == version


def test_answers_name_the_namespace_of_each_dataset_version_and_run(store: Store) -> None:
    orders_in_two_namespaces(store)
    ingest(store, s.event("c#1", "COMPLETE", s.ts(3), job="report", inputs=[s.dataset("orders", "v7", namespace="warehouse")]))
    down = impact(store, "warehouse:orders@v7")
    assert down["node"]["namespace"] == "warehouse"
    assert [(r["label"], r["namespace"]) for r in down["runs"]] == [("report @ 2026-03-01T03:00:00Z", "ml-pipelines")]
    up = upstream(store, "report @ 2026-03-01T03:00:00Z")
    assert [(v["label"], v["namespace"]) for v in up["dataset_versions"]] == [("warehouse:orders@v7", "warehouse")]


def test_a_job_and_a_dataset_of_one_name_get_labels_of_their_kind_in_any_order(store: Store) -> None:
    bodies = [
        s.event("t#1", "COMPLETE", s.ts(1), job="orders", namespace="shop"),
        s.event("u#1", "COMPLETE", s.ts(2), job="load", outputs=[s.dataset("orders", "v1", namespace="shop")]),
    ]
    for order in (bodies, bodies[::-1]):
        store.reset()
        random.Random(3).shuffle(order)
        for body in order:
            store.ingest([parse_event(body)], NOW)
        with pytest.raises(Ambiguous):
            resolve_ref(store, "shop:orders")
        job, dataset = store.node(ids.job_id("shop", "orders")), store.node(ids.dataset_id("shop", "orders"))
        assert job is not None and dataset is not None
        assert (summary(job)["label"], summary(dataset)["label"]) == ("job:shop:orders", "dataset:shop:orders")
        assert resolve_ref(store, "job:shop:orders") == job and resolve_ref(store, "dataset:shop:orders") == dataset


def test_a_run_label_with_its_jobs_namespace_names_that_run(store: Store) -> None:
    # Jobs called `etl` in two namespaces, each run at the same second (so their labels share a
    # key and carry suffixes), and a job in a scheme://authority namespace, labelled as a URI.
    second = "2026-03-01T01:00:00Z"
    ingest(
        store,
        s.event("a#1", "COMPLETE", second, job="etl", inputs=[s.dataset("orders", "v7")]),
        s.event("b#1", "COMPLETE", second, job="etl", namespace="other", inputs=[s.dataset("orders", "v7")]),
        s.event("c#1", "COMPLETE", s.ts(2), job="dag.task", namespace="airflow://scheduler:8080", inputs=[s.dataset("orders", "v7")]),
    )
    runs = impact(store, "orders@v7", level="version")["runs"]
    assert {r["namespace"] for r in runs} == {"ml-pipelines", "other", "airflow://scheduler:8080"}
    for run in runs:
        node = store.node(run["id"])
        assert node is not None
        job = store.node(ids.job_id(run["namespace"], node.props["job_name"]))
        assert job is not None
        job_label = summary(job)["label"]  # what answers print for the job: ns:name, or its URI
        assert resolve_ref(store, job_label).id == job.id
        started = run["label"].split(" @ ")[1].split(" ~")[0]
        printed = [
            run["label"],  # as printed, suffix and all
            f"{run['namespace']}:{run['label']}",  # the namespace printed beside it, joined
            f"{job_label} @ {started}",  # the job as printed, and the second: no suffix needed
            f"job:{run['namespace']}:{node.props['job_name']} @ {started}",  # Marquez's job node id
        ]
        for ref in printed:
            assert resolve_ref(store, ref).id == run["id"], ref
    assert resolve_ref(store, "airflow://scheduler:8080/dag.task @ 2026-03-01T02:00:00Z").props["job_namespace"] == "airflow://scheduler:8080"
    with pytest.raises(NotFound):
        resolve_ref(store, f"nowhere:etl @ {second}")  # a namespace with no such job
    with pytest.raises(NotFound):
        resolve_ref(store, "other:etl @ 2026-03-01T01:00:01Z")  # no run of it that second
    with pytest.raises(Ambiguous) as both:
        resolve_ref(store, f"etl @ {second}")  # without the namespace or the suffix: two runs
    assert len(both.value.candidates) == 2
