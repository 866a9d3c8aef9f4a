"""The store's lookup, search, data-flow and count queries, and annotation events, on both stores."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from lineage import ids
from lineage.graph import (
    ALIAS,
    ANNOTATES,
    ANNOTATION,
    COMMIT,
    DATASET,
    JOB,
    READ,
    RUN,
    SERVES,
    VERSION,
    VERSION_OF,
    WROTE,
    Node,
    PutNode,
)
from lineage.ingest.parse import parse_event
from lineage.store.base import EventFilter, Hop, Store, Subgraph
from lineage.store.sqlite import SqliteStore
from tests import scenario as s
from tests.conformance.test_projection_rules import ML_STORY, NOW, deployment_of, ds, ingest, model_version, node, ver


def run(name: str) -> str:
    return ids.run_id(s.run_uuid(name))


def annotation(target: str, at: str, tag: str = "quarantined", reason: str = "r") -> dict[str, Any]:
    return {"eventTime": at, "producer": "p", "annotation": {"target": target, "tag": tag, "reason": reason, "author": "a"}}


def annotation_node_id(body: dict[str, Any]) -> str:
    return ids.annotation_id(parse_event(body).id)


def found_ids(nodes: list[Node]) -> list[str]:
    return [n.id for n in nodes]


def assert_subgraph_is_closed_and_sorted(sub: Subgraph) -> None:
    """What every flow answer promises: depths for exactly its nodes, edges among them, in order."""
    assert set(sub.depth) == set(sub.nodes)
    assert all(e.src in sub.nodes and e.dst in sub.nodes for e in sub.edges)
    assert [e.ident for e in sub.edges] == sorted(e.ident for e in sub.edges)
    assert len({e.ident for e in sub.edges}) == len(sub.edges)
    assert {e.type for e in sub.edges} <= {WROTE, READ, SERVES, "AT_COMMIT", "CHILD_OF"}


# --- find --------------------------------------------------------------------------------------
def test_find_exact_match_on_each_kind_of_handle(store: Store) -> None:
    ingest(store, *ML_STORY)
    assert found_ids(store.find("model_ref", "churn@2.3.1")) == [model_version("churn", "2.3.1")]
    assert store.find("model_ref", "churn@2.3") == []  # exact means exact, not a prefix
    assert store.find("model_ref", "CHURN@2.3.1") == []  # and case-sensitive
    # A name is shared by a dataset and its versions; the kind filter picks one, ids give the order.
    customers = [ds("customers"), ver("customers", "data-v1.7.1"), ver("customers", "data-v1.8.2")]
    assert found_ids(store.find("name", "customers")) == sorted(customers)
    assert found_ids(store.find("name", "customers", kind=DATASET)) == [ds("customers")]
    assert found_ids(store.find("name", "customers", kind=VERSION)) == sorted(customers[1:])
    assert store.find("name", "customers", kind=JOB) == []
    assert found_ids(store.find("alias_ref", "churn@Production")) == [ids.alias_id("churn", "Production")]
    assert found_ids(store.find("model", "churn", kind=ALIAS)) == [ids.alias_id("churn", "Production")]
    assert found_ids(store.find("run_id", s.run_uuid("train#2"), kind=RUN)) == [run("train#2")]
    assert found_ids(store.find("feature_view_ref", "churn@fv-2")) == [ver("features/churn", "fv-2", "feast://store")]
    deployments = [deployment_of(r, "churn-prod") for r in ("dep#1", "dep#2", "dep#3")]
    assert found_ids(store.find("endpoint", "churn-prod", kind=VERSION)) == sorted(deployments)
    assert found_ids(store.find("endpoint", "churn-eu", kind=VERSION)) == [deployment_of("canary#1", "churn-eu")]


def test_lookup_asks_many_properties_at_once(store: Store) -> None:
    """What ref resolution asks in one round trip: the node by id and each property's matches,
    as find() gives them (same order, same limit), and nothing for properties not asked."""
    ingest(store, *ML_STORY)
    asked = ["id", "name", "version", "model_ref", "alias_ref"]
    answer = store.lookup("customers", asked, 2)
    assert set(answer) == set(asked)
    assert answer["name"] == store.find("name", "customers", limit=2) and len(answer["name"]) == 2
    assert answer["id"] == answer["version"] == answer["model_ref"] == answer["alias_ref"] == []
    by_id = store.lookup(ds("customers"), ["id", "name"], 5)
    assert (found_ids(by_id["id"]), by_id["name"]) == ([ds("customers")], [])
    assert found_ids(store.lookup("churn@2.3.1", ["model_ref"], 5)["model_ref"]) == [model_version("churn", "2.3.1")]
    assert "name" not in store.lookup("customers", ["version"], 5)


def test_find_by_prefix_and_limit(store: Store) -> None:
    ingest(store, *ML_STORY)
    versions = sorted([model_version("churn", "2.2.0"), model_version("churn", "2.3.1")])
    assert found_ids(store.find("model_ref", "churn@2.", prefix=True)) == versions
    assert found_ids(store.find("model_ref", "churn@2.3", prefix=True)) == [model_version("churn", "2.3.1")]
    assert store.find("model_ref", "2.3.1", prefix=True) == []  # a prefix, not a substring
    assert found_ids(store.find("model_ref", "churn@2.", prefix=True, limit=1)) == versions[:1]
    commits = store.find("sha", "1111", kind=COMMIT, prefix=True)
    assert [n.props["sha"] for n in commits] == ["1111111aaaa"]
    assert store.find("sha", "1111", kind=RUN, prefix=True) == []
    both = store.find("version", "data-v1.", prefix=True, kind=VERSION)
    assert found_ids(both) == sorted([ver("customers", "data-v1.7.1"), ver("customers", "data-v1.8.2")])
    assert found_ids(store.find("version", "data-v1.", prefix=True, kind=VERSION, limit=1)) == found_ids(both)[:1]


def test_find_forgets_a_value_the_node_no_longer_has(store: Store) -> None:
    def write(run_name: str, hour: int, view: str) -> dict[str, Any]:
        facets = {"ml_featureView": s.facet(name=view, version="fv-1")}
        out = s.dataset("features/customer", "fv-1", namespace="feast://store", facets=facets)
        return s.event(run_name, "COMPLETE", s.ts(hour), outputs=[out])

    version = ver("features/customer", "fv-1", "feast://store")
    ingest(store, write("feat#1", 8, "old_view"))
    assert found_ids(store.find("feature_view_ref", "old_view@fv-1")) == [version]
    ingest(store, write("feat#2", 9, "new_view"))  # newer facets rename the view
    assert store.find("feature_view_ref", "old_view@fv-1") == []
    assert store.find("feature_view", "old_view", kind=VERSION) == []
    assert found_ids(store.find("feature_view_ref", "new_view@fv-1")) == [version]
    assert store.suggest("old_view", None, 10) == []


def _put_nodes(store: Store, nodes: list[Node]) -> None:
    """Apply PutNode mutations directly, as a projection would hand them over."""
    mutations = [PutNode(n) for n in nodes]
    if isinstance(store, SqliteStore):
        from lineage.store.sqlite import _apply as apply_sqlite

        store._writer.execute("BEGIN IMMEDIATE")
        apply_sqlite(store._writer, mutations)  # type: ignore[arg-type]
        store._writer.execute("COMMIT")
    else:
        from lineage.store.neo4j import _apply as apply_neo4j

        with store._session() as session:  # type: ignore[attr-defined]
            session.execute_write(lambda tx: apply_neo4j(tx, mutations))


def test_a_node_put_whole_drops_lookup_values_it_no_longer_carries(store: Store) -> None:
    """PutNode replaces a node whole: a lookup property absent from the new props is gone."""
    first = Node("job-x", JOB, frozenset(), {"name": "nightly", "sha": "abc123", "model": "m"})
    _put_nodes(store, [first])
    assert found_ids(store.find("sha", "abc", prefix=True)) == ["job-x"]
    _put_nodes(store, [Node("job-x", JOB, frozenset(), {"name": "nightly", "sha": 7})])
    assert store.find("sha", "abc", prefix=True) == []
    assert store.find("model", "m") == []
    assert found_ids(store.find("name", "nightly", kind=JOB)) == ["job-x"]
    assert store.dump()["nodes"] == [{"id": "job-x", "kind": JOB, "labels": [], "props": {"name": "nightly", "sha": 7}}]


# --- suggest -----------------------------------------------------------------------------------
def test_suggest_matches_any_handle_case_insensitively_ordered_by_kind_then_id(store: Store) -> None:
    ingest(store, *ML_STORY)
    found = store.suggest("CHURN", None, 100)
    assert [(n.kind, n.id) for n in found] == sorted((n.kind, n.id) for n in found)
    got = set(found_ids(found))
    assert {
        ids.alias_id("churn", "Production"),  # alias_ref churn@Production
        model_version("churn", "2.3.1"),  # model_ref
        ds("endpoints/churn-prod", "k8s://serving"),  # name
        deployment_of("canary#1", "churn-eu"),  # endpoint churn-eu
        ids.job_id("ml-pipelines", "deploy-churn-prod"),
    } <= got
    assert ds("customers") not in got and run("train#2") not in got
    assert store.suggest("Churn", None, 100) == found
    assert store.suggest("CHURN", None, 3) == found[:3]
    assert found_ids(store.suggest("urn@PROD", ALIAS, 10)) == [ids.alias_id("churn", "Production")]
    assert store.suggest("urn@PROD", VERSION, 10) == []
    assert [n.props["sha"] for n in store.suggest("2222222BB", None, 10)] == ["2222222bbbb"]  # shas are lowercase
    assert store.suggest("no-such-thing", None, 10) == []


def test_suggest_ignores_annotation_targets(store: Store) -> None:
    target = ver("customers", "data-v1.8.2")
    ingest(store, *ML_STORY[:2], annotation(target, s.ts(12)))
    assert store.suggest(target, None, 10) == []  # `target` is indexed for lookups, not for search
    assert found_ids(store.find("target", target, kind=ANNOTATION)) == [annotation_node_id(annotation(target, s.ts(12)))]


def test_suggest_folds_case_beyond_ascii(store: Store) -> None:
    ingest(store, s.event("load#1", "COMPLETE", s.ts(8), outputs=[s.dataset("Évian_orders", "v1")]))
    assert ds("Évian_orders") in found_ids(store.suggest("ÉVIAN", DATASET, 10))


# --- flow --------------------------------------------------------------------------------------
def test_flow_down_from_a_dataset_version_reaches_what_was_made_from_it(store: Store) -> None:
    ingest(store, *ML_STORY)
    start = ver("customers", "data-v1.7.1")
    sub = store.flow([start], "down", 10)
    assert_subgraph_is_closed_and_sorted(sub)
    assert sub.depth == {
        start: 0,
        run("train#1"): 1,  # read it
        model_version("churn", "2.2.0"): 2,  # written by that run
        run("dep#1"): 3,  # deploys and a promotion read the model version
        run("dep#3"): 3,
        run("prom#2"): 3,
        deployment_of("dep#1", "churn-prod"): 3,  # deployments serve it
        deployment_of("dep#3", "churn-prod"): 3,
    }
    # Nothing that did not come from it: the newer data, its readers, the other model version.
    for other in (ver("customers", "data-v1.8.2"), run("clean#1"), model_version("churn", "2.3.1"), run("dep#2"), ds("customers")):
        assert other not in sub.nodes
    assert sub.nodes[model_version("churn", "2.2.0")].props["model_ref"] == "churn@2.2.0"
    idents = {e.ident for e in sub.edges}
    assert (run("train#1"), READ, start, "") in idents
    assert (run("train#1"), WROTE, model_version("churn", "2.2.0"), "") in idents
    assert any(e.src == deployment_of("dep#1", "churn-prod") and e.type == SERVES for e in sub.edges)


def test_flow_up_from_a_deployment_reaches_its_whole_provenance(store: Store) -> None:
    ingest(store, *ML_STORY)
    start = deployment_of("dep#2", "churn-prod")
    sub = store.flow([start], "up", 20)
    assert_subgraph_is_closed_and_sorted(sub)
    commit = ids.commit_id("https://git.example.com/ml/churn.git", "2222222bbbb")
    clean = ver("clean", s.run_uuid("clean#1"))
    assert sub.depth == {
        start: 0,
        model_version("churn", "2.3.1"): 1,  # it serves
        run("dep#2"): 1,  # the deploy that wrote it
        run("train#2"): 2,
        ver("features/churn", "fv-2", "feast://store"): 3,
        run("feat#1"): 4,
        clean: 5,
        run("clean#1"): 6,
        ver("customers", "data-v1.8.2"): 7,
        run("snap#2"): 8,
        commit: 9,
    }
    assert sub.nodes[commit].props["sha"] == "2222222bbbb"
    for other in (ver("customers", "data-v1.7.1"), run("train#1"), run("prom#1"), model_version("churn", "2.2.0")):
        assert other not in sub.nodes


def test_flow_respects_the_depth_bound(store: Store) -> None:
    ingest(store, *ML_STORY)
    start = ver("customers", "data-v1.7.1")
    assert store.flow([start], "down", 0).depth == {start: 0}
    one = store.flow([start], "down", 1)
    assert one.depth == {start: 0, run("train#1"): 1}
    assert [e.ident for e in one.edges] == [(run("train#1"), READ, start, "")]
    two = store.flow([start], "down", 2)
    assert two.depth == {start: 0, run("train#1"): 1, model_version("churn", "2.2.0"): 2}
    assert len(two.edges) == 2
    up = store.flow([deployment_of("dep#2", "churn-prod")], "up", 3)
    assert max(up.depth.values()) == 3 and ver("features/churn", "fv-2", "feast://store") in up.depth
    assert run("feat#1") not in up.depth


def test_flow_through_a_cycle_ends_with_minimum_depths(store: Store) -> None:
    # Each run reads what the other wrote: x@v1 -> a -> y@v1 -> b -> x@v1.
    ingest(
        store,
        s.event("a#1", "COMPLETE", s.ts(8), inputs=[s.dataset("x", "v1")], outputs=[s.dataset("y", "v1")]),
        s.event("b#1", "COMPLETE", s.ts(9), inputs=[s.dataset("y", "v1")], outputs=[s.dataset("x", "v1")]),
    )
    x, y = ver("x", "v1"), ver("y", "v1")
    began = time.monotonic()
    down = store.flow([x], "down", 200_000)  # far more levels than nodes: only visiting each once ends soon
    assert time.monotonic() - began < 30
    assert down.depth == {x: 0, run("a#1"): 1, y: 2, run("b#1"): 3}
    assert {e.ident for e in down.edges} == {
        (run("a#1"), READ, x, ""), (run("a#1"), WROTE, y, ""), (run("b#1"), READ, y, ""), (run("b#1"), WROTE, x, ""),
    }
    up = store.flow([x], "up", 50)
    assert up.depth == {x: 0, run("b#1"): 1, y: 2, run("a#1"): 3}
    assert_subgraph_is_closed_and_sorted(down)


def test_flow_along_a_long_chain_keeps_every_depth_and_the_bound(store: Store) -> None:
    # d0 -> r0 -> d1 -> r1 -> ... -> d12: longer than any number of levels a store may walk
    # in one go, so a walk in steps must carry its frontier and depths across them.
    links = 12
    ingest(
        store,
        *(
            s.event(f"r{i}#1", "COMPLETE", s.ts(i), inputs=[s.dataset(f"d{i}", "v1")], outputs=[s.dataset(f"d{i + 1}", "v1")])
            for i in range(links)
        ),
    )
    chain = [node for i in range(links) for node in (ver(f"d{i}", "v1"), run(f"r{i}#1"))] + [ver(f"d{links}", "v1")]
    down = store.flow([chain[0]], "down", 50)
    assert down.depth == {node: level for level, node in enumerate(chain)}
    assert len(down.edges) == 2 * links
    for bound in (7, 8, 9, 16, 17):
        assert store.flow([chain[0]], "down", bound).depth == {node: level for level, node in enumerate(chain[: bound + 1])}
    up = store.flow([chain[-1]], "up", 50)
    assert up.depth == {node: level for level, node in enumerate(reversed(chain))}
    middle = store.flow([chain[10]], "up", 9)
    assert middle.depth == {node: 10 - i for i, node in enumerate(chain[1:11], start=1)}
    assert_subgraph_is_closed_and_sorted(down)


def test_flow_from_several_starts_and_missing_ones(store: Store) -> None:
    ingest(store, *ML_STORY)
    assert store.flow(["no-such-node"], "down", 5) == Subgraph()
    a, b = ver("customers", "data-v1.7.1"), ver("customers", "data-v1.8.2")
    both = store.flow([a, b, "no-such-node", a], "down", 1)
    assert both.depth == {a: 0, b: 0, run("train#1"): 1, run("clean#1"): 1}


# --- count_events ------------------------------------------------------------------------------
def test_count_events_applies_the_same_filters_as_listing(store: Store) -> None:
    assert store.count_events(EventFilter()) == 0
    ingest(store, *ML_STORY)
    assert store.count_events(EventFilter()) == len(ML_STORY) == store.event_count()
    assert store.count_events(EventFilter(run_uuid=s.run_uuid("clean#1"))) == 2
    assert store.count_events(EventFilter(subject=ds("customers"))) == 5  # snap#1, snap#2, clean#1 x2, train#1
    window = EventFilter(since="2026-03-01T07:00:00.000000Z", until="2026-03-01T07:35:00.000000Z")
    assert store.count_events(window) == 2
    assert store.count_events(EventFilter(run_uuid=s.run_uuid("clean#1"), since="2026-03-01T07:35:00.000000Z")) == 1
    assert store.count_events(EventFilter(subject=ds("customers"), until="2026-03-01T06:59:00.000000Z")) == 2  # snap#1, train#1
    assert store.count_events(EventFilter(run_uuid="00000000-0000-0000-0000-000000000000")) == 0
    filters = [
        EventFilter(subject=model_version("churn", "2.2.0")),
        EventFilter(subject=run("dep#2"), run_uuid=s.run_uuid("dep#2")),
        EventFilter(run_uuid=s.run_uuid("clean#1")),
        EventFilter(run_uuid=s.run_uuid("clean#1"), until="2026-03-01T07:35:00.000000Z"),
        EventFilter(since="2026-03-01T10:00:00.000000Z"),
        window,
    ]
    for flt in filters:
        assert store.count_events(flt) == len(store.events(flt, 0, 1000)) > 0, flt


def test_a_runs_events_page_in_log_order(store: Store) -> None:
    ingest(store, *ML_STORY)
    flt = EventFilter(run_uuid=s.run_uuid("clean#1"))
    both = store.events(flt, 0, 10)
    assert [e.run_uuid for e in both] == [s.run_uuid("clean#1")] * 2 and both[0].seq < both[1].seq
    assert store.events(flt, 0, 1) == both[:1]
    assert store.events(flt, both[0].seq, 10) == both[1:]
    assert store.events(EventFilter(run_uuid="00000000-0000-0000-0000-000000000000"), 0, 10) == []


def test_events_about_many_subjects_at_once(store: Store) -> None:
    """What an audit report reads for its evidence, in one round trip: the oldest entries about
    each subject, as listing them one subject at a time gives them, and nothing for the unknown."""
    ingest(store, *ML_STORY)
    subjects = [ds("customers"), model_version("churn", "2.2.0"), run("dep#2"), "no-such-node"]
    for limit in (2, 100):
        answer = store.events_about(subjects, limit)
        assert set(answer) == set(subjects)
        for subject in subjects:
            assert answer[subject] == store.events(EventFilter(subject=subject), 0, limit), (subject, limit)
    assert len(store.events_about([ds("customers")], 2)[ds("customers")]) == 2
    assert store.events_about(["no-such-node"], 5) == {"no-such-node": []}


# --- annotations -------------------------------------------------------------------------------
def test_annotation_event_tags_its_target(store: Store) -> None:
    ingest(store, *ML_STORY)
    target = ver("customers", "data-v1.8.2")
    body = annotation(target, "2026-03-03T00:00:00Z")
    ann = annotation_node_id(body)
    assert ingest(store, body) == [True]
    n = node(store, ann)
    assert n.kind == ANNOTATION
    assert (n.props["target"], n.props["tag"], n.props["reason"], n.props["author"]) == (target, "quarantined", "r", "a")
    assert [e.dst for e in store.out_edges(ann, ANNOTATES)] == [target]
    assert [e.src for e in store.in_edges(target, ANNOTATES)] == [ann]
    assert node(store, target).props["annotations"] == [
        {"id": ann, "tag": "quarantined", "reason": "r", "author": "a", "created_at": "2026-03-03T00:00:00.000000Z"}
    ]
    assert found_ids(store.find("target", target)) == [ann]
    # The writer's event and the annotation (clean#1's reads named no version: evidence for the dataset).
    assert store.count_events(EventFilter(subject=target)) == 2
    # A second tag is added to the summary in time order; the annotation is no data flow.
    second = annotation(target, "2026-03-02T00:00:00Z", tag="reviewed")
    ingest(store, second)
    assert [a["tag"] for a in node(store, target).props["annotations"]] == ["reviewed", "quarantined"]
    assert ann not in store.flow([target], "down", 5).nodes
    assert ann not in store.flow([target], "up", 5).nodes
    before = store.dump()
    assert store.rebuild() == len(ML_STORY) + 2
    assert store.dump() == before


def test_annotation_before_its_target_attaches_when_the_target_appears(store: Store) -> None:
    target = ver("late", "v1")
    body = annotation(target, "2026-03-03T00:00:00Z")
    ann = annotation_node_id(body)
    ingest(store, body)
    assert node(store, ann).props["target"] == target
    assert store.node(target) is None
    assert store.out_edges(ann, ANNOTATES) == []
    writer = s.event("load#1", "COMPLETE", s.ts(8), outputs=[s.dataset("late", "v1")])
    ingest(store, writer)
    assert [e.dst for e in store.out_edges(ann, ANNOTATES)] == [target]
    assert [a["id"] for a in node(store, target).props["annotations"]] == [ann]
    late_first = store.dump()
    # The same graph whichever arrives first, and after a replay of the log.
    store.reset()
    ingest(store, writer, body)
    assert store.dump() == late_first
    store.rebuild()
    assert store.dump() == late_first


# --- the two stores agree ----------------------------------------------------------------------
def test_neo4j_answers_exactly_as_sqlite(neo4j_store: Store, tmp_path: Path) -> None:
    neo4j_store.reset()
    reference = SqliteStore(str(tmp_path / "reference.db"))
    try:
        early = annotation(ver("late", "v1"), "2026-03-03T00:00:00Z")
        bodies = [
            early,
            *ML_STORY,
            annotation(model_version("churn", "2.3.1"), "2026-03-03T01:00:00Z", tag="bad-model"),
            annotation(run("train#2"), "2026-03-03T02:00:00Z", tag="x.y:z"),
            s.event("load#1", "COMPLETE", s.ts(12), inputs=[s.dataset("clean")], outputs=[s.dataset("late", "v1")]),
            s.event("a#1", "COMPLETE", s.ts(13), inputs=[s.dataset("late", "v1")], outputs=[s.dataset("loop", "l1")]),
            s.event("b#1", "COMPLETE", s.ts(14), inputs=[s.dataset("loop", "l1")], outputs=[s.dataset("late", "v1")]),
        ]
        for st in (neo4j_store, reference):
            for i in range(0, len(bodies), 4):
                st.ingest([parse_event(b) for b in bodies[i : i + 4]], NOW)
        assert neo4j_store.dump() == reference.dump()
        for args, kwargs in [
            (("name", "customers"), {}),
            (("name", "customers"), {"kind": VERSION, "limit": 1}),
            (("model_ref", "churn@"), {"prefix": True}),
            (("endpoint", "churn"), {"prefix": True, "kind": VERSION}),
            (("sha", "2222"), {"prefix": True, "kind": COMMIT}),
            (("target", ver("late", "v1")), {"kind": ANNOTATION}),
            (("model", "churn"), {}),
            (("version", ""), {"prefix": True}),
            (("version", ""), {"prefix": True, "limit": -1}),
        ]:
            assert neo4j_store.find(*args, **kwargs) == reference.find(*args, **kwargs), (args, kwargs)
        for text, kind, limit in [("churn", None, 100), ("CHURN", VERSION, 3), ("v1", None, 50), ("1.8", None, 5), ("", JOB, 100)]:
            assert neo4j_store.suggest(text, kind, limit) == reference.suggest(text, kind, limit), (text, kind)
        starts = [
            [ver("customers", "data-v1.7.1")],
            [ver("late", "v1")],
            [deployment_of("dep#3", "churn-prod"), ver("clean", s.run_uuid("clean#1"))],
            [ids.commit_id("https://git.example.com/ml/churn.git", "1111111aaaa"), "missing"],
        ]
        for start in starts:
            for direction in ("down", "up"):
                for depth in (0, 1, 2, 5, 50):
                    got, want = neo4j_store.flow(start, direction, depth), reference.flow(start, direction, depth)
                    assert (got.depth, got.nodes, got.edges) == (want.depth, want.nodes, want.edges), (start, direction, depth)
        for flt in [
            EventFilter(),
            EventFilter(subject=ver("late", "v1")),
            EventFilter(run_uuid=s.run_uuid("dep#1"), since="2026-03-01T08:00:00.000000Z"),
            EventFilter(since="2026-03-01T09:00:00.000000Z", until="2026-03-03T01:00:00.000000Z"),
        ]:
            assert neo4j_store.count_events(flt) == reference.count_events(flt), flt
    finally:
        reference.close()


def test_bulk_reads_answer_as_the_single_ones_in_one_call(store: Store) -> None:
    ingest(store, *ML_STORY)
    deployments = [deployment_of(r, "churn-prod") for r in ("dep#1", "dep#2", "dep#3")]
    missing = ver("endpoints/churn-prod", "no-such-run", "k8s://serving")
    assert sorted(found_ids(store.nodes([*deployments, missing]))) == sorted(deployments)
    serves = store.edges_from([*deployments, missing], SERVES)
    assert serves == [e for d in sorted(deployments) for e in store.out_edges(d, SERVES)]
    assert {e.dst for e in serves} == {model_version("churn", "2.2.0"), model_version("churn", "2.3.1")}
    writers = store.edges_to(deployments, WROTE)
    assert writers == [e for d in sorted(deployments) for e in store.in_edges(d, WROTE)]
    assert {e.src for e in writers} == {run(r) for r in ("dep#1", "dep#2", "dep#3")}
    assert store.edges_from([], SERVES) == [] and store.nodes([]) == []


def test_around_gives_nodes_their_edges_and_far_ends_in_one_call(store: Store) -> None:
    ingest(store, *ML_STORY)
    endpoint = ds("endpoints/churn-prod", "k8s://serving")
    deployments = sorted(deployment_of(r, "churn-prod") for r in ("dep#1", "dep#2", "dep#3"))
    history = store.around([endpoint, endpoint, "no-such-node"], in_types=[VERSION_OF])
    assert history.edges == store.in_edges(endpoint, VERSION_OF) and {e.src for e in history.edges} == set(deployments)
    assert history.nodes == {n.id: n for n in store.nodes([endpoint, *deployments])}
    made = store.around(deployments, out_types=[SERVES], in_types=[WROTE])
    expected = [e for d in deployments for e in (*store.out_edges(d, SERVES), *store.in_edges(d, WROTE))]
    assert made.edges == sorted(expected, key=lambda e: e.ident)
    far = {model_version("churn", "2.2.0"), model_version("churn", "2.3.1")} | {run(r) for r in ("dep#1", "dep#2", "dep#3")}
    assert set(made.nodes) == set(deployments) | far
    assert made.nodes[model_version("churn", "2.3.1")] == store.node(model_version("churn", "2.3.1"))
    alone = store.around(deployments)
    assert alone.edges == [] and set(alone.nodes) == set(deployments)
    assert store.around([], out_types=[SERVES]).nodes == {}


def test_hops_go_on_from_each_steps_far_ends_in_one_call(store: Store) -> None:
    ingest(store, *ML_STORY)
    endpoint = ds("endpoints/churn-prod", "k8s://serving")
    deployments = sorted(deployment_of(r, "churn-prod") for r in ("dep#1", "dep#2", "dep#3"))
    models = [model_version("churn", "2.2.0"), model_version("churn", "2.3.1")]
    runs = [run(r) for r in ("dep#1", "dep#2", "dep#3")]
    steps = [Hop(in_types=(VERSION_OF,)), Hop(out_types=(SERVES,), in_types=(WROTE,)), Hop(out_types=(VERSION_OF,))]
    history, made, owners = store.hops([endpoint, "no-such-node"], steps)
    assert history == store.around([endpoint], in_types=[VERSION_OF])
    assert made == store.around(deployments, out_types=[SERVES], in_types=[WROTE])
    # The third step starts from the models and runs only: the deployments' own VERSION_OF
    # edges (to the endpoint) are not followed again.
    assert owners == store.around([*models, *runs], out_types=[VERSION_OF])
    assert {e.src for e in owners.edges} == set(models) and endpoint not in owners.nodes
    assert all(found.nodes == {} for found in store.hops(["no-such-node"], steps))
    assert store.hops([endpoint], []) == []


# --- snapshots ---------------------------------------------------------------------------------
def test_a_snapshot_returns_its_work_and_a_nested_one_joins_it(store: Store) -> None:
    ingest(store, *ML_STORY)
    snapshot_id = ver("customers", "data-v1.8.2")
    inner = store.snapshot(lambda: store.snapshot(lambda: store.node(snapshot_id)))
    assert inner == store.node(snapshot_id) and inner is not None
    assert store.snapshot(lambda: store.flow([snapshot_id], "down", 3)) == store.flow([snapshot_id], "down", 3)


def test_a_failing_snapshot_leaves_the_store_answering(store: Store) -> None:
    ingest(store, *ML_STORY)

    def broken() -> None:
        assert store.node(ver("customers", "data-v1.8.2")) is not None
        raise LookupError("the question failed half-way")

    with pytest.raises(LookupError):
        store.snapshot(broken)
    # No transaction is left pinned: reads, nested snapshots and writes all still work.
    assert store.snapshot(lambda: store.node(ver("customers", "data-v1.7.1"))) is not None
    assert ingest(store, annotation(ver("customers", "data-v1.8.2"), "2026-03-05T00:00:00Z")) == [True]


def test_reads_on_another_thread_do_not_join_a_snapshot(store: Store) -> None:
    ingest(store, *ML_STORY)
    seen: dict[str, object] = {}

    def elsewhere() -> None:
        seen["node"] = store.node(ver("customers", "data-v1.8.2"))
        seen["inner"] = store.snapshot(lambda: store.count_events(EventFilter()))

    def work() -> int:
        thread = threading.Thread(target=elsewhere)
        thread.start()
        thread.join(timeout=30)
        return store.count_events(EventFilter())

    assert store.snapshot(work) == len(ML_STORY)
    assert seen == {"node": store.node(ver("customers", "data-v1.8.2")), "inner": len(ML_STORY)}


def test_sqlite_snapshot_does_not_see_a_commit_made_during_it(tmp_path: Path) -> None:
    """SQLite's WAL gives a read transaction one state of the file: a question asked while an
    ingest commits answers wholly from before it. (Neo4j reads are read-committed; there a
    snapshot only shares one transaction.)"""
    store = SqliteStore(str(tmp_path / "s.db"))
    try:
        ingest(store, *ML_STORY[:1])
        later = ML_STORY[1]

        def work() -> tuple[int, int]:
            before = store.count_events(EventFilter())
            writer = threading.Thread(target=lambda: ingest(store, later))
            writer.start()
            writer.join(timeout=30)
            return before, store.count_events(EventFilter())

        assert store.snapshot(work) == (1, 1)
        assert store.count_events(EventFilter()) == 2  # and the commit is there once it ends
    finally:
        store.close()


def test_ingest_reads_of_many_lookups_answer_as_the_single_ones(store: Store) -> None:
    """What an ingest batch asks in one round trip (`nodes_with_many`) equals one ask per value."""
    ingest(store, *ML_STORY)
    values = ["churn@2.2.0", "churn@2.3.1", "churn@9.9.9", "churn@2.2.0"]

    def both(view: Any) -> tuple[dict[str, list[Node]], dict[str, list[Node]]]:
        return view.nodes_with_many(VERSION, "model_ref", values), {v: view.nodes_with(VERSION, "model_ref", v) for v in values}

    # The graph reads an ingest batch is handed: internal to each store, so reached directly.
    if isinstance(store, SqliteStore):
        many, single = both(store._reads())
    else:
        many, single = store._read(both)  # type: ignore[attr-defined]
    assert many == single
    assert [n.props["model_ref"] for n in many["churn@2.3.1"]] == ["churn@2.3.1"] and many["churn@9.9.9"] == []
