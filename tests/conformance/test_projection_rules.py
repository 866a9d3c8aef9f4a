"""One focused test per projection rule of DESIGN.md sections 3 and 4, on both stores."""

from __future__ import annotations

import random
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lineage import ids
from lineage.chain import GENESIS, entry_hash
from lineage.graph import (
    AT_COMMIT,
    CHILD_OF,
    DEPLOYMENT,
    ENDPOINT,
    FEATURE_VIEW,
    FEATURE_VIEW_VERSION,
    MODEL,
    MODEL_VERSION,
    POINTS_TO,
    READ,
    RUN_OF,
    SERVES,
    VERSION_OF,
    WROTE,
    MemoryGraph,
    Node,
)
from lineage.ingest.parse import parse_event
from lineage.projection import project
from lineage.store.base import EventFilter, Store, sort_dump
from lineage.store.levels import from_graph
from tests import scenario as s
from tests.levels import kept

NOW = "2026-03-02T00:00:00.000000Z"


def ingest(store: Store, *bodies: dict[str, Any]) -> list[bool]:
    return [o.created for o in store.ingest([parse_event(b) for b in bodies], NOW)]


def ds(name: str, namespace: str = "s3://lake") -> str:
    return ids.dataset_id(namespace, name)


def ver(name: str, version: str, namespace: str = "s3://lake") -> str:
    return ids.version_id(ds(name, namespace), version)


def model_version(name: str, version: str) -> str:
    return ver(f"models/{name}", version, "registry://models")


def deployment_of(run: str, endpoint: str) -> str:
    return ver(f"endpoints/{endpoint}", s.run_uuid(run), "k8s://serving")


def node(store: Store, node_id: str) -> Node:
    found = store.node(node_id)
    assert found is not None, node_id
    return found


def targets(store: Store, src: str, edge_type: str) -> list[str]:
    return [e.dst for e in store.out_edges(src, edge_type)]


def test_run_job_datasets_and_version_exact_edges(store: Store) -> None:
    ingest(
        store,
        s.event("etl#1", "COMPLETE", s.ts(10), inputs=[s.dataset("raw", "v1")], outputs=[s.dataset("clean", "c7")]),
    )
    run = ids.run_id(s.run_uuid("etl#1"))
    assert node(store, run).props["state"] == "COMPLETE"
    assert targets(store, run, RUN_OF) == [ids.job_id("ml-pipelines", "etl")]
    assert targets(store, run, READ) == [ver("raw", "v1")]
    assert targets(store, run, WROTE) == [ver("clean", "c7")]
    assert targets(store, ver("clean", "c7"), VERSION_OF) == [ds("clean")]
    assert node(store, ver("clean", "c7")).props["declared"] is True
    assert node(store, ver("clean", "c7")).props["written_at"] == "2026-03-01T10:00:00.000000Z"


def test_output_without_version_gets_one_derived_from_the_run(store: Store) -> None:
    ingest(store, s.event("etl#1", "COMPLETE", s.ts(10), outputs=[s.dataset("clean")]))
    derived = ver("clean", s.run_uuid("etl#1"))
    assert targets(store, ids.run_id(s.run_uuid("etl#1")), WROTE) == [derived]
    assert node(store, derived).props["version"] == s.run_uuid("etl#1")
    assert node(store, derived).props["declared"] is False


def test_input_without_version_binds_to_the_version_current_at_event_time(store: Store) -> None:
    ingest(
        store,
        s.event("load#1", "COMPLETE", s.ts(8), outputs=[s.dataset("t", "v1")]),
        s.event("load#2", "COMPLETE", s.ts(12), outputs=[s.dataset("t", "v2")]),
        s.event("read#1", "COMPLETE", s.ts(10), inputs=[s.dataset("t")]),
        s.event("read#2", "COMPLETE", s.ts(13), inputs=[s.dataset("t")]),
    )
    assert targets(store, ids.run_id(s.run_uuid("read#1")), READ) == [ver("t", "v1")]
    assert targets(store, ids.run_id(s.run_uuid("read#2")), READ) == [ver("t", "v2")]


def test_late_version_rebinds_inferred_reads_and_drops_the_placeholder(store: Store) -> None:
    reader = ids.run_id(s.run_uuid("read#1"))
    ingest(store, s.event("read#1", "COMPLETE", s.ts(10), inputs=[s.dataset("t")]))
    (placeholder,) = targets(store, reader, READ)
    assert node(store, placeholder).props["placeholder"] is True
    ingest(store, s.event("load#1", "COMPLETE", s.ts(9), outputs=[s.dataset("t", "v1")]))
    assert targets(store, reader, READ) == [ver("t", "v1")]
    assert store.node(placeholder) is None
    # A version written after the read changes nothing.
    ingest(store, s.event("load#2", "COMPLETE", s.ts(11), outputs=[s.dataset("t", "v2")]))
    assert targets(store, reader, READ) == [ver("t", "v1")]


def test_run_that_updates_a_dataset_reads_the_version_before_its_own(store: Store) -> None:
    ingest(
        store,
        s.event("load#1", "COMPLETE", s.ts(8), outputs=[s.dataset("t", "v1")]),
        s.event("upd#1", "COMPLETE", s.ts(9), inputs=[s.dataset("t")], outputs=[s.dataset("t", "v2")]),
    )
    upd = ids.run_id(s.run_uuid("upd#1"))
    assert targets(store, upd, READ) == [ver("t", "v1")]
    assert targets(store, upd, WROTE) == [ver("t", "v2")]


def test_late_start_never_regresses_a_terminal_state(store: Store) -> None:
    ingest(store, s.event("etl#1", "COMPLETE", s.ts(11)), s.event("etl#1", "START", s.ts(10)))
    run = node(store, ids.run_id(s.run_uuid("etl#1")))
    assert run.props["state"] == "COMPLETE"
    assert run.props["started_at"] == "2026-03-01T10:00:00.000000Z"
    assert run.props["ended_at"] == "2026-03-01T11:00:00.000000Z"
    ingest(store, s.event("etl#1", "RUNNING", s.ts(12)))
    assert node(store, ids.run_id(s.run_uuid("etl#1"))).props["state"] == "COMPLETE"


def test_facets_merge_by_event_time_not_arrival(store: Store) -> None:
    newer = s.event("etl#1", "COMPLETE", s.ts(11), run_facets={"tag": s.facet(value="new")})
    older = s.event("etl#1", "START", s.ts(10), run_facets={"tag": s.facet(value="old"), "other": s.facet(x=1)})
    ingest(store, newer, older)
    facets = node(store, ids.run_id(s.run_uuid("etl#1"))).props["facets"]
    assert facets["tag"]["value"] == "new"
    assert facets["other"]["x"] == 1  # unknown facets are kept as they came


def test_parent_run_and_commit(store: Store) -> None:
    child = s.event(
        "task#1",
        "COMPLETE",
        s.ts(10),
        run_facets={
            "parent": s.facet(run={"runId": s.run_uuid("dag#1")}, job={"namespace": "airflow", "name": "dag"})
        },
        job_facets=s.git("ABCDEF1234567"),
    )
    ingest(store, child)
    run = ids.run_id(s.run_uuid("task#1"))
    parent = ids.run_id(s.run_uuid("dag#1"))
    assert targets(store, run, CHILD_OF) == [parent]
    assert targets(store, parent, RUN_OF) == [ids.job_id("airflow", "dag")]
    (commit,) = targets(store, run, AT_COMMIT)
    props = node(store, commit).props
    assert (props["sha"], props["branch"], props["repo"]) == ("abcdef1234567", "main", "https://git.example.com/ml/churn.git")


def test_ml_facets_label_datasets_and_versions(store: Store) -> None:
    ingest(
        store,
        s.event("feat#1", "COMPLETE", s.ts(9), outputs=[s.feature_view("churn_features", "fv-3")]),
        s.event("train#1", "COMPLETE", s.ts(10), inputs=[s.feature_view("churn_features", "fv-3")], outputs=[s.model("churn", "2.3.1")]),
        *s.deploy("dep#1", s.ts(11), "churn", "2.3.1", "churn-prod"),
    )
    fv = node(store, ver("features/churn_features", "fv-3", "feast://store"))
    assert FEATURE_VIEW_VERSION in fv.labels
    assert FEATURE_VIEW in node(store, ds("features/churn_features", "feast://store")).labels
    mv = node(store, model_version("churn", "2.3.1"))
    assert MODEL_VERSION in mv.labels and mv.props["model_ref"] == "churn@2.3.1"
    assert MODEL in node(store, ds("models/churn", "registry://models")).labels
    assert ENDPOINT in node(store, ds("endpoints/churn-prod", "k8s://serving")).labels
    assert DEPLOYMENT in node(store, deployment_of("dep#1", "churn-prod")).labels


def test_deployments_serve_model_versions_and_a_rollback_ends_the_bad_one(store: Store) -> None:
    ingest(
        store,
        *s.deploy("dep#1", s.ts(8), "churn", "2.2.0", "churn-prod"),
        *s.deploy("dep#2", s.ts(9), "churn", "2.3.1", "churn-prod"),
        *s.deploy("dep#3", s.ts(10), "churn", "2.2.0", "churn-prod"),  # rollback
    )
    first, bad, rollback = (deployment_of(f"dep#{i}", "churn-prod") for i in (1, 2, 3))
    assert targets(store, bad, SERVES) == [model_version("churn", "2.3.1")]
    assert targets(store, rollback, SERVES) == [model_version("churn", "2.2.0")]
    assert (node(store, first).props["until"], node(store, first).props["status"]) == ("2026-03-01T09:00:00.000000Z", "ended")
    bad_props = node(store, bad).props
    assert (bad_props["since"], bad_props["until"]) == ("2026-03-01T09:00:00.000000Z", "2026-03-01T10:00:00.000000Z")
    rb = node(store, rollback).props
    assert (rb["until"], rb["status"], rb["rollback"]) == (None, "live", True)
    (serves,) = store.out_edges(bad, SERVES)
    assert serves.props["until"] == "2026-03-01T10:00:00.000000Z"


def test_canary_runs_beside_the_live_deployment_until_a_full_rollout(store: Store) -> None:
    ingest(
        store,
        *s.deploy("dep#1", s.ts(8), "churn", "2.2.0", "churn-prod"),
        *s.deploy("canary#1", s.ts(9), "churn", "2.3.1", "churn-prod", traffic=10),
    )
    main, canary = deployment_of("dep#1", "churn-prod"), deployment_of("canary#1", "churn-prod")
    assert node(store, main).props["status"] == "live"
    assert (node(store, canary).props["status"], node(store, canary).props["canary"]) == ("live", True)
    ingest(store, *s.deploy("dep#2", s.ts(10), "churn", "2.3.1", "churn-prod"))
    assert node(store, main).props["until"] == node(store, canary).props["until"] == "2026-03-01T10:00:00.000000Z"


def test_a_failed_deploy_never_goes_live(store: Store) -> None:
    ingest(store, *s.deploy("dep#1", s.ts(8), "churn", "2.2.0", "churn-prod"))
    failed = s.event(
        "dep#2", "FAIL", s.ts(9), job="deploy-churn-prod", inputs=[s.model("churn", "2.3.1")], outputs=[s.endpoint("churn-prod")]
    )
    ingest(store, failed)
    assert node(store, deployment_of("dep#2", "churn-prod")).props["status"] == "failed"
    assert targets(store, deployment_of("dep#2", "churn-prod"), SERVES) == []
    assert node(store, deployment_of("dep#1", "churn-prod")).props["status"] == "live"


def test_alias_moved_twice_keeps_its_history(store: Store) -> None:
    ingest(
        store,
        s.event("train#1", "COMPLETE", s.ts(7), outputs=[s.model("churn", "2.2.0")]),
        s.event("train#2", "COMPLETE", s.ts(8), outputs=[s.model("churn", "2.3.1")]),
        s.promote("prom#2", s.ts(10), "churn", "Production", "2.3.1"),
        s.promote("prom#1", s.ts(9), "churn", "Production", "2.2.0"),
        s.promote("prom#3", s.ts(11), "churn", "Production", "2.2.0"),
        s.promote("prom#4", s.ts(12), "churn", "Production", "2.3.1", decision="rejected"),
    )
    alias = ids.alias_id("churn", "Production")
    props = node(store, alias).props
    assert [(h["version"], h["since"], h["until"]) for h in props["history"]] == [
        ("2.2.0", "2026-03-01T09:00:00.000000Z", "2026-03-01T10:00:00.000000Z"),
        ("2.3.1", "2026-03-01T10:00:00.000000Z", "2026-03-01T11:00:00.000000Z"),
        ("2.2.0", "2026-03-01T11:00:00.000000Z", None),
    ]
    assert props["current_version"] == "2.2.0"
    edges = store.out_edges(alias, POINTS_TO)
    live = [e for e in edges if e.props["until"] is None]
    assert len(edges) == 3 and [e.dst for e in live] == [model_version("churn", "2.2.0")]


def test_alias_to_a_model_registered_later_resolves_when_it_arrives(store: Store) -> None:
    ingest(store, s.event("prom#1", "COMPLETE", s.ts(9), run_facets={"ml_alias": s.facet(model="churn", alias="Staging", version="3.0.0")}))
    alias = ids.alias_id("churn", "Staging")
    assert node(store, alias).props["unresolved_versions"] == ["3.0.0"]
    ingest(store, s.event("train#9", "COMPLETE", s.ts(8), outputs=[s.model("churn", "3.0.0")]))
    assert targets(store, alias, POINTS_TO) == [model_version("churn", "3.0.0")]
    assert node(store, alias).props["unresolved_versions"] == []


def test_immutability_violation_is_recorded_not_overwritten(store: Store) -> None:
    first, second = "a" * 64, "b" * 64

    def write(run: str, hour: int, sha: str) -> dict[str, Any]:
        out = s.dataset("train.parquet", "data-v1.8.2", facets={"ml_artifact": s.facet(sha256=sha, sizeBytes=10)})
        return s.event(run, "COMPLETE", s.ts(hour), outputs=[out])

    ingest(store, write("snap#2", 11, second), write("snap#1", 10, first))
    props = node(store, ver("train.parquet", "data-v1.8.2")).props
    assert props["sha256"] == first
    assert [(v["sha256"], v["expected"]) for v in props["immutability_violations"]] == [(second, first)]


def test_same_event_twice_changes_nothing(store: Store) -> None:
    body = s.event("etl#1", "COMPLETE", s.ts(10), outputs=[s.dataset("clean", "c1")])
    assert ingest(store, body) == [True]
    before = store.dump()
    assert ingest(store, body, body) == [False, False]
    assert store.dump() == before and store.event_count() == 1


ML_STORY = [
    s.event("snap#1", "COMPLETE", s.ts(6), outputs=[s.dataset("customers", "data-v1.7.1")], job_facets=s.git("1111111aaaa")),
    s.event("snap#2", "COMPLETE", s.ts(7), outputs=[s.dataset("customers", "data-v1.8.2")], job_facets=s.git("2222222bbbb")),
    s.event("clean#1", "START", s.ts(7, 30), inputs=[s.dataset("customers")], outputs=[s.dataset("clean")]),
    s.event("clean#1", "COMPLETE", s.ts(7, 40), inputs=[s.dataset("customers")], outputs=[s.dataset("clean")]),
    s.event("feat#1", "COMPLETE", s.ts(8), inputs=[s.dataset("clean")], outputs=[s.feature_view("churn", "fv-2")]),
    s.event("train#1", "COMPLETE", s.ts(6, 30), inputs=[s.dataset("customers", "data-v1.7.1")], outputs=[s.model("churn", "2.2.0")]),
    s.event("train#2", "COMPLETE", s.ts(9), inputs=[s.feature_view("churn", "fv-2")], outputs=[s.model("churn", "2.3.1")],
            run_facets={"ml_training": s.facet(params={"lr": 0.1}, metrics={"auc": 0.9}, seed=7)}),
    s.promote("prom#1", s.ts(9, 30), "churn", "Production", "2.3.1"),
    *s.deploy("dep#1", s.ts(8), "churn", "2.2.0", "churn-prod"),
    *s.deploy("dep#2", s.ts(10), "churn", "2.3.1", "churn-prod"),
    *s.deploy("canary#1", s.ts(10, 30), "churn", "2.3.1", "churn-eu", traffic=20),
    *s.deploy("dep#3", s.ts(11), "churn", "2.2.0", "churn-prod"),
    s.promote("prom#2", s.ts(11, 5), "churn", "Production", "2.2.0"),
]


def test_any_arrival_order_with_duplicates_gives_the_same_graph(store: Store) -> None:
    ingest(store, *ML_STORY)
    expected, levels = store.dump(), kept(store)
    for seed in range(3):
        store.reset()
        shuffled = ML_STORY + ML_STORY[:5]
        random.Random(seed).shuffle(shuffled)
        for body in shuffled:  # one at a time, as separate transactions
            ingest(store, body)
        assert store.dump() == expected, f"order seed {seed}"
        assert kept(store) == levels, f"order seed {seed}"  # the dataset/job-level adjacency too


def test_rebuild_replays_the_log_into_the_same_graph(store: Store) -> None:
    ingest(store, *ML_STORY)
    expected, levels = store.dump(), kept(store)
    assert store.rebuild() == len(ML_STORY)
    assert store.dump() == expected
    assert kept(store) == levels


def test_event_log_is_a_hash_chain_and_filterable(store: Store) -> None:
    ingest(store, *ML_STORY[:4])
    entries = store.events(EventFilter(), 0, 100)
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    prev = GENESIS
    for entry in entries:
        assert entry.prev_hash == prev
        assert entry.hash == entry_hash(prev, entry.seq, entry.id, entry.received_at)
        prev = entry.hash
    by_run = store.events(EventFilter(run_uuid=s.run_uuid("clean#1")), 0, 100)
    assert [e.event_type for e in by_run] == ["START", "COMPLETE"]
    about_customers = store.events(EventFilter(subject=ds("customers")), 0, 100)
    assert len(about_customers) == 4
    assert [e.seq for e in store.events(EventFilter(), 2, 1)] == [3]
    window = store.events(EventFilter(since="2026-03-01T07:00:00.000000Z", until="2026-03-01T07:35:00.000000Z"), 0, 100)
    assert [e.seq for e in window] == [2, 3]


def test_dataset_and_job_events(store: Store) -> None:
    dataset_event = {
        "eventTime": s.ts(5),
        "producer": s.PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
        "dataset": s.dataset("customers", "data-v1.7.1", facets={"schema": s.facet(fields=[{"name": "id", "type": "int"}])}),
    }
    job_event = {
        "eventTime": s.ts(5),
        "producer": s.PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent",
        "job": {"namespace": "ml-pipelines", "name": "train", "facets": {"jobType": s.facet(jobType="TRAINING", processingType="BATCH", integration="SDK")}},
        "inputs": [s.dataset("customers")],
        "outputs": [],
    }
    ingest(store, dataset_event, job_event)
    assert node(store, ver("customers", "data-v1.7.1")).props["written_at"] == "2026-03-01T05:00:00.000000Z"
    assert node(store, ds("customers")).props["facets"]["schema"]["fields"][0]["name"] == "id"
    assert node(store, ids.job_id("ml-pipelines", "train")).props["job_type"] == "TRAINING"
    # A later reader without a version binds to the version the dataset event announced.
    ingest(store, s.event("read#1", "COMPLETE", s.ts(6), inputs=[s.dataset("customers")]))
    assert targets(store, ids.run_id(s.run_uuid("read#1")), READ) == [ver("customers", "data-v1.7.1")]


def test_what_the_writer_said_outranks_a_later_reader(store: Store) -> None:
    trained = s.event("train#1", "COMPLETE", s.ts(9), outputs=[s.model("churn", "2.3.1", metrics={"auc": 0.84})])
    ingest(store, trained, *s.deploy("dep#1", s.ts(10), "churn", "2.3.1", "churn-prod"))
    facet = node(store, model_version("churn", "2.3.1")).props["facets"]["ml_modelVersion"]
    assert facet["metrics"] == {"auc": 0.84}  # the deploy's bare reference did not replace it


@settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(range(len(ML_STORY))), repeats=st.lists(st.integers(0, len(ML_STORY) - 1), max_size=4))
def test_property_any_permutation_with_duplicates_matches_the_reference_graph(
    store: Store, order: list[int], repeats: list[int]
) -> None:
    store.reset()
    events = [ML_STORY[i] for i in order] + [ML_STORY[i] for i in repeats]
    for start in range(0, len(events), 3):  # several transactions, some holding duplicates
        ingest(store, *events[start : start + 3])
    assert store.dump() == REFERENCE
    assert kept(store) == REFERENCE_LEVELS


def _reference_levels() -> dict:
    """The adjacency of REFERENCE, counted from scratch."""
    nodes = [Node(n["id"], n["kind"], frozenset(n["labels"]), n["props"]) for n in REFERENCE["nodes"]]
    change = from_graph(nodes, [(e["src"], e["type"], e["dst"], e["key"]) for e in REFERENCE["edges"]])
    return {"pairs": sorted([list(r) for r in change.pair_rows()]), "members": sorted([list(r) for r in change.member_rows()])}


def _reference() -> dict:
    graph, seen = MemoryGraph(), set()
    for body in ML_STORY:
        event = parse_event(body)
        if event.id not in seen:
            seen.add(event.id)
            graph.apply(project(event, graph))
    return orjson.loads(orjson.dumps(sort_dump(list(graph.nodes.values()), list(graph.edges.values()))))


REFERENCE = _reference()
REFERENCE_LEVELS = _reference_levels()
