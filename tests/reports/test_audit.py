"""The audit report's content over the incident graph, on both stores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest

from lineage.errors import InvalidEvent, NotFound
from lineage.reports.audit import build_report
from lineage.reports.schema import AUDIT_SCHEMA
from lineage.reports.verify import verify
from lineage.store.base import EventFilter, Store
from lineage.store.sqlite import SqliteStore
from tests import incident
from tests.reports.conftest import load, log, s

AT = "2026-03-05T00:00:00.000000Z"


def rows(report: dict[str, Any], step: str) -> list[str]:
    return [r["label"] for r in report["chain"] if r["step"] == step]


def test_a_model_versions_report_holds_its_whole_release_chain(graph: Store) -> None:
    report = build_report(graph, "churn@2.3.1", generated_at=AT)
    subject = report["subject"]
    assert (subject["type"], subject["kind"], subject["labels"]) == ("model_version", "DatasetVersion", ["ModelVersion"])
    assert subject["label"] == subject["ref"] == "churn@2.3.1"
    assert rows(report, "model_version") == ["churn@2.3.1"]
    assert [r["label"] for r in report["chain"] if r["subject"]] == ["churn@2.3.1"]
    assert rows(report, "commit") == [incident.COMMIT_DATA_BAD[:12], incident.COMMIT_TRAIN_2[:12]]
    assert {r["version"] for r in report["chain"] if r["step"] == "commit"} == {incident.COMMIT_DATA_BAD, incident.COMMIT_TRAIN_2}
    assert "s3://lake/customers@data-v1.8.2" in rows(report, "dataset_version")
    assert rows(report, "feature_view_version") == ["churn_features@fv-2"]
    assert [r["name"] for r in report["chain"] if r["step"] == "training_run"] == ["train-churn"]
    assert sorted(rows(report, "deployment")) == ["churn-eu serving churn@2.3.1", "churn-prod serving churn@2.3.1", "churn-us serving churn@2.3.1"]
    everything = str(report["chain"])
    assert "data-v1.7.1" not in everything and "fv-1" not in everything and "fraud" not in everything
    # Every fact names the log entries behind it.
    assert all(r["evidence"] for r in report["chain"])


def test_training_setup_approvals_and_aliases(graph: Store) -> None:
    report = build_report(graph, "churn@2.3.1", generated_at=AT)
    (training,) = report["training"]
    assert training["params"] == {"lr": 0.05, "max_depth": 6} and training["metrics"] == {"auc": 0.84}
    assert (training["seed"], training["hardware"], training["model_versions"]) == (7, "cpu", ["churn@2.3.1"])
    decisions = [(a["reviewer"], a["decision"], a["alias"], a["checks"]) for a in report["approvals"]]
    assert decisions == [
        ("bob", "rejected", "Production", {"auc": True, "bias_audit": False}),
        ("alice", "approved", "Production", {"auc": True}),
    ]
    (alias,) = report["aliases"]
    assert alias["ref"] == "churn@Production" and alias["current_version"] == "2.2.0"
    # The rejected move never counted: 2.2.0, then 2.3.1 (alice's approval), then back to 2.2.0.
    assert [h["version"] for h in alias["history"]] == ["2.2.0", "2.3.1", "2.2.0"]


def test_deployment_timelines_show_the_rollback(graph: Store) -> None:
    report = build_report(graph, "churn@2.3.1", generated_at=AT)
    timelines = {d["endpoint"]: d for d in report["deployments"]}
    assert set(timelines) == {"churn-prod", "churn-eu", "churn-us"}
    prod = timelines["churn-prod"]
    assert [(t["model_versions"], t["status"], t["rollback"], t["in_chain"]) for t in prod["timeline"]] == [
        (["churn@2.2.0"], "ended", False, False),
        (["churn@2.3.1"], "ended", False, True),
        (["churn@2.2.0"], "live", True, False),
    ]
    assert prod["serving"] == ["churn@2.2.0"] and timelines["churn-eu"]["serving"] == ["churn@2.3.1"]
    canary = [t for t in timelines["churn-us"]["timeline"] if t["in_chain"]]
    assert [(t["canary"], t["traffic_percent"]) for t in canary] == [(True, 20.0)]


def test_annotations_and_immutability_violations_of_the_chain(graph: Store) -> None:
    report = build_report(graph, "churn@2.3.1", generated_at=AT)
    assert [(a["label"], a["tag"], a["author"], a["reason"]) for a in report["annotations"]] == [
        ("s3://lake/customers@data-v1.8.2", "quarantined", "oncall", "biased label mapping")
    ]
    (violation,) = report["immutability_violations"]
    assert (violation["label"], violation["expected"], violation["sha256"]) == ("s3://lake/customers@data-v1.8.2", "b" * 64, "c" * 64)


def test_evidence_lists_the_raw_events_behind_each_fact(graph: Store) -> None:
    report = build_report(graph, "churn@2.3.1", generated_at=AT)
    facts = {f["node"]: f for f in report["evidence"]}
    assert set(facts) >= {r["id"] for r in report["chain"]}
    training = next(r for r in report["chain"] if r["step"] == "training_run")
    (event,) = facts[training["id"]]["events"]
    stored = graph.events(EventFilter(run_uuid=s.run_uuid("train#231")), 0, 10)[0]
    assert event == {
        "seq": stored.seq, "id": stored.id, "sha256": stored.id, "received_at": stored.received_at,
        "event_time": "2026-03-02T09:00:00.000000Z", "producer": s.PRODUCER, "type": "COMPLETE", "kind": "run",
        "run_id": s.run_uuid("train#231"), "job": "ml-pipelines/train-churn",
    }
    # The quarantine annotation is evidence about the data version it tags.
    data = next(r for r in report["chain"] if r["label"] == "s3://lake/customers@data-v1.8.2")
    assert [e["type"] for e in facts[data["id"]]["events"]][-1] == "annotation"
    # Approval runs and aliases are facts with evidence too.
    assert {f["step"] for f in report["evidence"]} >= {"alias", "run", "training_run", "commit"}


def test_the_report_carries_the_chain_head_it_was_made_from(graph: Store) -> None:
    report = build_report(graph, "churn@2.3.1", generated_at=AT)
    check = verify(graph)
    listed = {e["seq"] for f in report["evidence"] for e in f["events"]}
    assert report["log"] == {
        "entries": check["entries"], "head": check["head"], "verified": True, "checked": "evidence", "first_bad": None,
        "checked_entries": len(listed), "verify_url": None,  # no service address from a direct call
    }
    assert report["log"]["head"] == log(graph)[-1].hash
    assert report["report"] == {"generated_at": AT, "generator": "lineage-graph 0.1.0", "ref": "churn@2.3.1", "requested_by": "anonymous (auth off)"}


@pytest.mark.parametrize("ref", ["churn@2.3.1", "churn-prod", "data-v1.8.2", "churn@Production", "churn_features@fv-2"])
def test_reports_validate_against_the_published_schema(graph: Store, ref: str) -> None:
    report = build_report(graph, ref, generated_at=AT)
    jsonschema.Draft202012Validator.check_schema(AUDIT_SCHEMA)
    jsonschema.Draft202012Validator(AUDIT_SCHEMA).validate(report)


def test_an_endpoints_report_covers_every_model_it_served(graph: Store) -> None:
    report = build_report(graph, "churn-prod", generated_at=AT)
    assert report["subject"]["type"] == "endpoint"
    assert rows(report, "endpoint") == ["churn-prod"]
    assert rows(report, "model_version") == ["churn@2.2.0", "churn@2.3.1"]
    assert {"s3://lake/customers@data-v1.7.1", "s3://lake/customers@data-v1.8.2"} <= set(rows(report, "dataset_version"))
    assert [d["endpoint"] for d in report["deployments"]] == ["churn-prod"]
    assert all(t["in_chain"] for t in report["deployments"][0]["timeline"])
    assert {a["model_version"] for a in report["approvals"]} == {"churn@2.2.0", "churn@2.3.1"}


def test_a_dataset_versions_report_follows_it_downstream_to_the_endpoints(graph: Store) -> None:
    report = build_report(graph, "data-v1.8.2", generated_at=AT)
    assert report["subject"]["type"] == "dataset_version"
    assert rows(report, "commit") == [incident.COMMIT_DATA_BAD[:12]]
    assert rows(report, "model_version") == ["churn@2.3.1"]
    assert {d["endpoint"] for d in report["deployments"]} == {"churn-prod", "churn-eu", "churn-us"}
    assert "churn-batch" not in str(report)


def test_an_alias_stands_for_its_current_version(graph: Store) -> None:
    assert build_report(graph, "churn@Production")["subject"]["label"] == "churn@2.2.0"


def test_unknown_refs_and_other_kinds_are_refused(graph: Store) -> None:
    with pytest.raises(NotFound) as missing:
        build_report(graph, "churn@2.3.2")
    assert "churn@2.3.1" in [x["ref"] for x in missing.value.suggestions]
    with pytest.raises(InvalidEvent, match="give a model version, an endpoint or a dataset version"):
        build_report(graph, "train-churn")  # a job


def test_the_report_is_the_same_on_both_stores(neo4j_store: Store, tmp_path: Path) -> None:
    """Same events, received at the same time: the same report on either store."""
    neo4j_store.reset()
    sqlite = SqliteStore(str(tmp_path / "lineage.db"))
    try:
        load(sqlite), load(neo4j_store)
        for ref in ("churn@2.3.1", "churn-prod", "data-v1.8.2"):
            assert build_report(sqlite, ref, generated_at=AT) == build_report(neo4j_store, ref, generated_at=AT), ref
    finally:
        sqlite.close()
