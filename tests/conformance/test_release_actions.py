"""Release actions on both stores (issue 37): the checklist of a model version, the rollback
playbook of an alias, and the artifact check against the recorded sha256."""

from __future__ import annotations

from typing import Any

import pytest

from lineage import actions, ids
from lineage.ingest.parse import parse_event
from lineage.service import annotation_body
from lineage.store.base import EventFilter, Store
from tests import scenario as s
from tests.conformance.test_projection_rules import ingest, node, ver

GOOD_SHA = "a" * 64
BAD_SHA = "b" * 64
OWNERSHIP = {"ownership": s.facet(owners=[{"name": "team:churn"}, {"name": "alice"}])}
ENVIRONMENT = {"ml_environment": s.facet(python="3.11.9", framework="sklearn==1.5.0", lockfileSha256="c" * 64)}


def artifact(name: str, version: str, sha: str) -> dict[str, Any]:
    out = s.model(name, version, framework="sklearn", metrics={"auc": 0.8}, params={"lr": 0.1})
    out["facets"]["ml_artifact"] = s.facet(sha256=sha, uri=f"s3://models/{name}/{version}.pkl")
    return out


def story() -> list[dict[str, Any]]:
    """2.2.0 with the whole record, trained on data-v1; 2.3.1 with a partial one, trained on
    data-v2 through a feature view, promoted to Production; data-v2 is then quarantined."""
    return [
        s.event("snap#1", "COMPLETE", s.ts(6), job="snapshot", outputs=[s.dataset("customers", "data-v1")]),
        s.event(
            "train#1", "COMPLETE", s.ts(7), job="train-churn", inputs=[s.dataset("customers", "data-v1")],
            outputs=[artifact("churn", "2.2.0", GOOD_SHA)], job_facets=s.git("1" * 40) | OWNERSHIP,
            run_facets={"ml_training": s.facet(params={"lr": 0.1}, metrics={"auc": 0.8}, seed=7)} | ENVIRONMENT,
        ),
        s.event("snap#2", "COMPLETE", s.ts(8), job="snapshot", outputs=[s.dataset("customers", "data-v2")]),
        s.event("feat#2", "COMPLETE", s.ts(8, 30), job="features", inputs=[s.dataset("customers", "data-v2")], outputs=[s.feature_view("churn_features", "fv-2")]),
        s.event(
            "train#2", "COMPLETE", s.ts(9), job="train-churn-v2", inputs=[s.feature_view("churn_features", "fv-2")],
            outputs=[s.model("churn", "2.3.1", metrics={"auc": 0.84})],
            run_facets={"ml_training": s.facet(params={"lr": 0.05}, metrics={"auc": 0.84})},
        ),
        s.promote("prom#1", s.ts(10), "churn", "Production", "2.2.0"),
        s.promote("prom#2", s.ts(11), "churn", "Production", "2.3.1"),
        annotation_body(ver("customers", "data-v2"), "customers@data-v2", "quarantined", "biased labels", "oncall", s.ts(12)),
    ]


def event_id(body: dict[str, Any]) -> str:
    return parse_event(body).id


def by_item(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["item"]: row for row in answer["items"]}


@pytest.fixture
def told(store: Store) -> Store:
    ingest(store, *story())
    return store


# --- the checklist -----------------------------------------------------------------------------
def test_a_complete_record_names_each_item_and_the_event_it_came_from(told: Store) -> None:
    events = story()
    train = event_id(events[1])
    answer = actions.checklist(told, "churn", "2.2.0")
    items = by_item(answer)
    assert list(items) == list(actions.CHECKLIST_ITEMS)
    present = {k for k, row in items.items() if row["status"] == "present"}
    # 2.2.0 is the first version (nothing to compare with) and no alias points to it any more
    assert set(actions.CHECKLIST_ITEMS) - present == {"feature_views", "stage", "change_summary"}
    assert (answer["present"], answer["missing"], answer["total"]) == (8, 3, 11)
    assert items["identity_and_owners"]["value"]["owners"] == ["alice", "team:churn"]
    assert items["identity_and_owners"]["event"] == train
    assert items["code_commit"]["value"] == [{"repo": "https://git.example.com/ml/churn.git", "sha": "1" * 40}]
    assert items["data_versions"]["value"] == ["s3://lake/customers@data-v1"]
    assert items["data_versions"]["event"] == train
    assert items["training_setup_and_seed"]["value"]["seed"] == 7
    assert items["artifacts_and_hashes"]["value"]["sha256"] == GOOD_SHA
    assert items["artifacts_and_hashes"]["event"] == train
    assert items["environment"]["value"]["framework"] == "sklearn==1.5.0"
    assert items["environment"]["event"] == train
    assert items["approvals"]["value"][0]["decision"] == "approved"
    assert items["approvals"]["event"] == event_id(events[5])


def test_a_partial_record_says_what_is_missing_and_compares_with_the_previous_version(told: Store) -> None:
    items = by_item(actions.checklist(told, "churn", "2.3.1"))
    missing = {k for k, row in items.items() if row["status"] == "missing"}
    assert missing == {"identity_and_owners", "code_commit", "training_setup_and_seed", "artifacts_and_hashes", "environment"}
    assert all(items[k]["event"] is None for k in ("code_commit", "artifacts_and_hashes", "environment"))
    # the parameters are there, from the training run's event; only the seed is not
    assert items["training_setup_and_seed"]["note"] == "no seed recorded"
    assert items["training_setup_and_seed"]["event"] == event_id(story()[4])
    assert items["data_versions"]["value"] == ["s3://lake/customers@data-v2"]  # reached through the feature view
    assert items["feature_views"]["value"] == ["churn_features@fv-2"]
    assert items["stage"]["value"]["aliases"] == ["Production"]
    assert items["stage"]["event"] == event_id(story()[6])
    change = items["change_summary"]["value"]
    assert change["previous"] == "churn@2.2.0"
    assert change["datasets_changed"] >= 2  # the data version and the feature view


def test_the_checklist_of_an_unknown_version_is_not_found(told: Store) -> None:
    from lineage.errors import NotFound

    with pytest.raises(NotFound) as caught:
        actions.checklist(told, "churn", "9.9.9")
    assert "churn@2.3.1" in caught.value.suggestions


# --- the rollback playbook ---------------------------------------------------------------------
def test_the_plan_names_the_alias_target_the_last_known_good_and_its_training_data(told: Store) -> None:
    before = told.count_events(EventFilter())
    plan = actions.rollback_plan(told, "churn", "Production")
    assert plan["current_version"] == "2.3.1"
    good = plan["last_known_good"]
    assert good["version"] == "2.2.0"
    assert [d["label"] for d in good["trained_on"]["dataset_versions"]] == ["s3://lake/customers@data-v1"]
    assert "2.3.1" in good["why"]
    assert plan["owners"] == ["alice", "team:churn"]
    # a plan records nothing
    assert told.count_events(EventFilter()) == before
    assert node(told, ids.alias_id("churn", "Production")).props["current_version"] == "2.3.1"


def test_a_recorded_rollback_is_an_event_that_moves_the_alias(told: Store) -> None:
    plan = actions.rollback_plan(told, "churn", "Production")
    body = actions.rollback_body(plan, "biased labels in data-v2", "oncall", s.ts(13))
    (outcome,) = told.ingest([parse_event(body)], s.ts(13))
    alias = node(told, ids.alias_id("churn", "Production")).props
    assert alias["current_version"] == "2.2.0"
    assert [h["version"] for h in alias["history"]] == ["2.2.0", "2.3.1", "2.2.0"]
    (stored,) = [e for e in told.events(EventFilter(), 0, 100) if e.id == outcome.id]
    facet = parse_event(body).run_facets["lineage_rollback"]
    assert (facet["reason"], facet["by"], facet["from_version"], facet["to_version"]) == ("biased labels in data-v2", "oncall", "2.3.1", "2.2.0")
    assert stored.event_time.startswith("2026-03-01T13:00")
    # once rolled back there is nothing good before 2.2.0 to go to
    assert actions.rollback_plan(told, "churn", "Production")["last_known_good"] is None


def test_a_rollback_needs_a_reason_and_who(told: Store) -> None:
    from lineage.errors import InvalidEvent

    plan = actions.rollback_plan(told, "churn", "Production")
    with pytest.raises(InvalidEvent):
        actions.check_rollback(plan, "", "oncall")
    with pytest.raises(InvalidEvent):
        actions.check_rollback(plan, "why", " ")


# --- artifact checks ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("ref", "sha", "result"),
    [
        ("churn@2.2.0", GOOD_SHA, "match"),
        ("churn@2.2.0", GOOD_SHA.upper(), "match"),
        ("churn@2.2.0", BAD_SHA, "mismatch"),
        ("churn@2.3.1", GOOD_SHA, "unknown"),  # no hash recorded for it
        ("churn@7.7.7", GOOD_SHA, "unknown"),  # not in the graph
    ],
    ids=["match", "match-uppercase", "mismatch", "no-hash-recorded", "unknown-ref"],
)
def test_verify_artifact_answers_match_mismatch_or_unknown(told: Store, ref: str, sha: str, result: str) -> None:
    answer = actions.verify_artifact(told, ref, sha)
    assert answer["result"] == result
    assert answer["expected"] == (GOOD_SHA if ref == "churn@2.2.0" else None)


def test_a_hash_claimed_later_is_a_mismatch_named_as_a_violation(told: Store) -> None:
    ingest(told, s.event("retrain#1", "COMPLETE", s.ts(14), job="train-churn", outputs=[artifact("churn", "2.2.0", BAD_SHA)]))
    answer = actions.verify_artifact(told, "churn@2.2.0", BAD_SHA)
    assert answer["result"] == "mismatch"
    assert "immutability" in answer["reason"]
    assert actions.verify_artifact(told, "churn@2.2.0", GOOD_SHA)["result"] == "match"
