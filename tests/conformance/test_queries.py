"""Incident questions answered over the incident graph, identically on both stores."""

from __future__ import annotations

import pytest

from lineage import queries, releases
from lineage.errors import Ambiguous, InvalidEvent, NotFound
from lineage.ingest.parse import parse_event
from lineage.refs import resolve_ref
from lineage.service import annotation_body
from lineage.store.base import Store
from tests import incident
from tests.conformance.test_corpus_replay import corpus_events
from tests.conformance.test_projection_rules import NOW, ingest


@pytest.fixture
def graph(store: Store) -> Store:
    corpus, _ = corpus_events()
    store.ingest(corpus[:60], NOW)  # real producers' events in the same graph
    ingest(store, *incident.EVENTS)
    return store


def annotate(store: Store, ref: str, tag: str) -> None:
    target = resolve_ref(store, ref)
    store.ingest([parse_event(annotation_body(target.id, ref, tag, "incident 42", "oncall", "2026-03-04T00:00:00Z"))], NOW)


def labels(items: list[dict]) -> list[str]:
    return sorted(i["label"] for i in items)


def test_refs_resolve_by_every_kind_of_handle(graph: Store) -> None:
    assert resolve_ref(graph, "data-v1.8.2").props["version"] == "data-v1.8.2"
    assert resolve_ref(graph, "churn@2.3.1").props["model_ref"] == "churn@2.3.1"
    assert resolve_ref(graph, "churn@Production").kind == "Alias"
    assert resolve_ref(graph, "churn-prod").props["endpoint"] == "churn-prod"
    assert resolve_ref(graph, "clean_customers").kind == "Job"
    run = resolve_ref(graph, incident.s.run_uuid("train#231"))
    assert run.kind == "Run"
    assert resolve_ref(graph, incident.COMMIT_DATA_BAD[:7]).props["sha"] == incident.COMMIT_DATA_BAD
    assert resolve_ref(graph, run.id) == run


def test_unknown_ref_suggests_and_ambiguous_ref_lists_candidates(graph: Store) -> None:
    with pytest.raises(NotFound) as missing:
        resolve_ref(graph, "data-v1.8")
    assert "s3://lake/customers@data-v1.8.2" in [x["ref"] for x in missing.value.suggestions]
    ingest(graph, incident.s.event("other#1", "COMPLETE", incident.s.ts(5), outputs=[incident.s.dataset("orders", "data-v1.8.2")]))
    with pytest.raises(Ambiguous) as both:
        resolve_ref(graph, "data-v1.8.2")
    assert len(both.value.candidates) == 2
    for c in both.value.candidates:  # each names exactly its node, with its namespace
        assert resolve_ref(graph, c["ref"]).id == c["id"] and c["namespace"] == "s3://lake"
    with pytest.raises(InvalidEvent):
        resolve_ref(graph, "  ")


def test_impact_of_the_bad_data_reaches_every_endpoint_that_served_it(graph: Store) -> None:
    answer = queries.impact(graph, "data-v1.8.2")
    endpoints = {e["name"]: e for e in answer["endpoints"]}
    assert set(endpoints) == {"churn-prod", "churn-eu", "churn-us"}  # not churn-batch, not fraud-prod
    prod = endpoints["churn-prod"]
    assert prod["currently_serving"] is False and prod["current_model_version"] == "churn@2.2.0"
    (bad,) = prod["affected_deployments"]
    assert (bad["model_version"], bad["since"], bad["until"]) == (
        "churn@2.3.1",
        "2026-03-02T10:00:00.000000Z",
        "2026-03-03T11:00:00.000000Z",
    )
    assert endpoints["churn-eu"]["currently_serving"] is True
    us = endpoints["churn-us"]
    assert us["currently_serving"] is True and us["affected_deployments"][0]["canary"] is True
    assert labels(answer["model_versions"]) == ["churn@2.3.1"]
    assert labels(answer["feature_view_versions"]) == ["churn_features@fv-2"]
    assert {r["job"] for r in answer["runs"]} >= {"clean_customers", "build-churn-features", "train-churn"}
    everything = str(answer)
    assert "billing" not in everything and "fraud" not in everything and "fv-1" not in everything


def test_impact_depth_bounds_the_walk(graph: Store) -> None:
    shallow = queries.impact(graph, "data-v1.8.2", depth=1)
    assert [r["job"] for r in shallow["runs"]] == ["clean_customers"] and shallow["endpoints"] == []


def test_upstream_of_the_bad_model_names_its_data_code_and_params(graph: Store) -> None:
    answer = queries.upstream(graph, "churn@2.3.1")
    assert {c["sha"] for c in answer["commits"]} == {incident.COMMIT_DATA_BAD, incident.COMMIT_TRAIN_2}
    versions = labels(answer["dataset_versions"])
    assert "s3://lake/customers@data-v1.8.2" in versions and "s3://lake/customers@data-v1.7.1" not in versions
    assert labels(answer["feature_view_versions"]) == ["churn_features@fv-2"]
    train = next(r for r in answer["runs"] if r["job"] == "train-churn")
    assert train["params"] == {"lr": 0.05, "max_depth": 6}


def test_diff_between_releases_shows_what_changed(graph: Store) -> None:
    answer = releases.diff(graph, "churn@2.2.0", "churn@2.3.1")
    by_name = {d["name"]: d for d in answer["datasets"]}
    assert (by_name["customers"]["from"], by_name["customers"]["to"], by_name["customers"]["change"]) == (
        ["data-v1.7.1"],
        ["data-v1.8.2"],
        "changed",
    )
    assert (by_name["churn_features"]["from"], by_name["churn_features"]["to"]) == (["fv-1"], ["fv-2"])
    assert {(p["name"], p["from"], p["to"]) for p in answer["params"]} == {("lr", 0.1, 0.05)}
    assert {(m["name"], m["from"], m["to"]) for m in answer["metrics"]} == {("auc", 0.81, 0.84)}
    data_repo = next(c for c in answer["commits"] if c["repo"] == incident.DATA_REPO)
    assert (data_repo["from"], data_repo["to"]) == ([incident.COMMIT_DATA_OK], [incident.COMMIT_DATA_BAD])


def test_endpoint_history_and_as_of(graph: Store) -> None:
    answer = releases.endpoint(graph, "churn-prod")
    assert answer["current_model_version"] == ["churn@2.2.0"]
    assert [d["model_versions"] for d in answer["history"]] == [["churn@2.2.0"], ["churn@2.3.1"], ["churn@2.2.0"]]
    assert answer["history"][0]["rollback"] is True
    then = releases.endpoint(graph, "churn-prod", at="2026-03-02T12:00:00Z")
    assert then["at"]["model_versions"] == ["churn@2.3.1"]
    before = releases.endpoint(graph, "churn-prod", at="2026-03-01T09:00:00Z")
    assert before["at"]["model_versions"] == []
    both = releases.endpoint(graph, "churn-us", at="2026-03-02T14:00:00Z")
    assert sorted(both["at"]["model_versions"]) == ["churn@2.2.0", "churn@2.3.1"]  # canary beside main
    with pytest.raises(NotFound):
        releases.endpoint(graph, "churn-nowhere")


def test_model_versions_aliases_and_last_known_good(graph: Store) -> None:
    answer = releases.model_versions(graph, "churn", before="2.3.1")
    assert [v["version"] for v in answer["versions"]] == ["2.3.1", "2.2.0"]
    assert answer["versions"][1]["aliases"] == ["Production"]
    (production,) = answer["aliases"]
    assert [h["version"] for h in production["history"]] == ["2.2.0", "2.3.1", "2.2.0"]
    good = answer["last_known_good"]
    assert good["version"] == "2.2.0"
    assert labels(good["training_data"]["feature_view_versions"]) == ["churn_features@fv-1"]
    assert "s3://lake/customers@data-v1.7.1" in labels(good["training_data"]["dataset_versions"])


def test_annotations_are_events_shown_on_nodes_and_honoured_by_last_known_good(graph: Store) -> None:
    before = graph.event_count()
    annotate(graph, "churn@2.2.0", "deprecated")
    assert graph.event_count() == before + 1
    node = queries.node_detail(graph, resolve_ref(graph, "churn@2.2.0").id)
    assert [a["tag"] for a in node["annotations"]] == ["deprecated"]
    answer = releases.model_versions(graph, "churn", before="2.3.1")
    assert answer["last_known_good"] is None
    assert answer["excluded"] == [{"version": "2.2.0", "reason": "churn@2.2.0 is deprecated"}]
    annotate(graph, "churn@2.2.0", "known-good")
    assert releases.model_versions(graph, "churn", before="2.3.1")["last_known_good"]["version"] == "2.2.0"


def test_quarantined_training_data_rules_a_version_out(graph: Store) -> None:
    ingest(graph, incident.train("train#240", 3, "fv-2", "2.4.0", 0.01, 0.85, incident.COMMIT_TRAIN_2))
    annotate(graph, "data-v1.8.2", "quarantined")
    answer = releases.model_versions(graph, "churn", before="2.4.0")
    assert answer["excluded"][0]["version"] == "2.3.1"
    assert "data-v1.8.2" in answer["excluded"][0]["reason"]
    assert answer["last_known_good"]["version"] == "2.2.0"


def test_graph_search_node_and_events(graph: Store) -> None:
    drawn = queries.graph(graph, "churn@2.3.1", "both", 2)
    ids = {n["id"] for n in drawn["nodes"]}
    assert resolve_ref(graph, "churn@2.3.1").id in ids
    assert all(e["src"] in ids and e["dst"] in ids for e in drawn["edges"])
    assert any(e["type"] == "SERVES" for e in drawn["edges"])
    found = queries.search(graph, "CHURN-P")
    assert [r["label"] for r in found["results"] if r["kind"] == "Dataset"] == ["churn-prod"]
    page = queries.events(graph, ref="clean_customers", limit=3)
    assert page["total"] == 4 and len(page["events"]) == 3 and page["next_cursor"] == page["events"][-1]["seq"]
    rest = queries.events(graph, ref="clean_customers", limit=3, cursor=page["next_cursor"])
    assert len(rest["events"]) == 1 and rest["next_cursor"] is None
    assert rest["events"][0]["event"]["job"]["name"] == "clean_customers"
    with pytest.raises(InvalidEvent):
        queries.events(graph, limit=0)


def test_statuses_of_many_endpoints_asked_together_equal_each_asked_alone(graph: Store) -> None:
    names = ["churn-prod", "churn-eu", "churn-us", "churn-batch", "fraud-prod"]
    endpoint_ids = [resolve_ref(graph, n).id for n in names]
    together = queries.endpoint_statuses(graph, [*endpoint_ids, endpoint_ids[0]])
    assert list(together) == endpoint_ids  # each once, in the order asked
    for endpoint_id in endpoint_ids:
        assert together[endpoint_id] == queries.endpoint_statuses(graph, [endpoint_id])[endpoint_id]
    prod = together[endpoint_ids[0]]
    assert prod["name"] == "churn-prod" and len(prod["deployments"]) == 3
    assert [d["model_versions"] for d in prod["live"]] == [["churn@2.2.0"]]
    assert sorted(m for d in together[endpoint_ids[2]]["live"] for m in d["model_versions"]) == ["churn@2.2.0", "churn@2.3.1"]
    assert queries.endpoint_statuses(graph, []) == {}
