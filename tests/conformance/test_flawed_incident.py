"""The incident story with a training run that got its facets partly wrong (issue 29): every
event is stored, the answers responders rely on are the same as for the clean story, and the
problems are flagged where people look."""

from __future__ import annotations

import copy
from typing import Any

import orjson

from lineage import ids, queries, releases
from lineage.deadletter import rejection_of
from lineage.errors import InvalidEvent
from lineage.ingest.parse import parse_event
from lineage.refs import resolve_ref
from lineage.store.base import Store
from tests import incident
from tests import scenario as s
from tests.conformance.test_projection_rules import ingest

TRAIN = s.run_uuid("train#231")


def flawed_story() -> list[dict[str, Any]]:
    """The training run of churn 2.3.1 with: hardware of the wrong type in ml_training, a parent
    facet without a UUID, a model version facet disagreeing with the standard version facet, and
    output statistics of the wrong type."""
    events = copy.deepcopy(incident.EVENTS)
    (train,) = [e for e in events if e["run"]["runId"] == TRAIN]
    train["run"]["facets"]["ml_training"]["hardware"] = 42
    train["run"]["facets"]["parent"] = {"run": {"runId": "pipeline-7"}, "job": {"namespace": "airflow", "name": "nightly"}}
    model = train["outputs"][0]
    model["facets"]["version"] = s.facet(datasetVersion="2.3.1")
    model["facets"]["ml_modelVersion"]["version"] = "231"
    model["outputFacets"] = {"outputStatistics": {"rowCount": "lots"}}
    return events


def test_the_flawed_story_is_stored_whole(store: Store) -> None:
    events = [parse_event(e) for e in flawed_story()]  # nothing is refused
    ingest(store, *flawed_story())
    assert store.event_count() == len({e.id for e in events})
    train = store.node(ids.run_id(TRAIN))
    assert train is not None
    problems = {p["field"]: p["problem"] for p in train.props["problems"]}
    assert problems == {
        "run.facets.ml_training.hardware": "facet_schema",
        "run.facets.parent.run.runId": "facet_schema",
        "outputs[0].facets.ml_modelVersion.version": "version_conflict",
        "outputs[0].outputFacets.outputStatistics.rowCount": "facet_schema",
    }
    assert store.out_edges(ids.run_id(TRAIN), "CHILD_OF") == []  # a broken parent names no run
    model = resolve_ref(store, "churn@2.3.1")
    assert resolve_ref(store, "churn@231") == model  # the disagreeing version resolves too
    assert "outputs[0].facets.ml_modelVersion.version" in {p["field"] for p in model.props["problems"]}


def _answers(store: Store) -> dict[str, Any]:
    impact = queries.impact(store, "data-v1.8.2")
    upstream = queries.upstream(store, "churn@2.3.1")
    diff = releases.diff(store, "churn@2.2.0", "churn@2.3.1")
    versions = releases.model_versions(store, "churn", before="2.3.1")
    return {
        "endpoints": sorted((e["name"], e["currently_serving"], str(e["current_model_version"])) for e in impact["endpoints"]),
        "impact_models": sorted(m["label"] for m in impact["model_versions"]),
        "upstream_data": sorted(v["label"] for v in upstream["dataset_versions"]),
        "upstream_commits": sorted(c["sha"] for c in upstream["commits"]),
        "train_params": next(r["params"] for r in upstream["runs"] if r["job"] == "train-churn"),
        "diff_datasets": sorted((d["name"], tuple(d["from"]), tuple(d["to"])) for d in diff["datasets"]),
        "diff_params": sorted((p["name"], p["from"], p["to"]) for p in diff["params"]),
        "diff_metrics": sorted((m["name"], m["from"], m["to"]) for m in diff["metrics"]),
        "last_known_good": versions["last_known_good"]["version"],
    }


def test_answers_over_the_flawed_story_are_those_of_the_clean_one(store: Store) -> None:
    ingest(store, *incident.EVENTS)
    clean = _answers(store)
    store.reset()
    ingest(store, *flawed_story())
    assert _answers(store) == clean
    assert clean["last_known_good"] == "2.2.0" and ("lr", 0.1, 0.05) in clean["diff_params"]


def test_answers_that_traverse_flawed_events_or_refused_ones_say_so(store: Store) -> None:
    ingest(store, *flawed_story())
    train = ids.run_id(TRAIN)
    for answer in (queries.impact(store, "data-v1.8.2"), queries.upstream(store, "churn@2.3.1"),
                   releases.diff(store, "churn@2.2.0", "churn@2.3.1")):
        flagged = {w["node"] for w in answer["warnings"] if w["kind"] == "event_problems"}
        assert train in flagged, answer["warnings"]
    assert not [w for w in queries.upstream(store, "churn@2.2.0")["warnings"] if w["kind"] == "event_problems"]

    # A refused event of the training job: answers that reach the job's runs say it is missing.
    refused = {**incident.EVENTS[0], "eventTime": "never"}
    refused["job"] = {"namespace": "ml-pipelines", "name": "train-churn"}
    refused["outputs"] = []
    store.put_rejection(rejection_of(orjson.dumps(refused), InvalidEvent("eventTime", "not a time"), "2026-03-05T00:00:00Z"), 10, 10**6)
    job = ids.job_id("ml-pipelines", "train-churn")
    run = store.node(train)
    assert run is not None and run.props["job"] == job
    rejected = [w for w in queries.upstream(store, "churn@2.3.1")["warnings"] if w["kind"] == "rejected_events"]
    assert [(w["node"], "1 refused events name job ml-pipelines/train-churn" in w["detail"]) for w in rejected] == [(train, True)]
    assert not [w for w in queries.upstream(store, "data-v1.8.2")["warnings"] if w["kind"] == "rejected_events"]


def test_the_audit_report_of_a_model_trained_by_a_flawed_run_says_its_chain_is_incomplete(store: Store) -> None:
    from lineage.reports.audit import build_report
    from lineage.reports.render import renderer

    ingest(store, *flawed_story())
    report = build_report(store, "churn@2.3.1", generated_at="2026-03-05T00:00:00.000000Z")
    flagged = [w for w in report["warnings"] if w["kind"] == "event_problems"]
    assert ids.run_id(TRAIN) in {w["node"] for w in flagged}
    markdown = renderer("md").render(report).decode()
    head = markdown.split("## ")[1]  # the first section after the title block
    assert "ncomplete chain" in markdown[: markdown.index("## ") + len(head) + 3]
    assert "run.facets.ml_training.hardware" in markdown
