"""The README tour's incident with its release record (tests/release_record.py), on both
stores: one endpoint drifts, data-v1.8.2 breaks its contract with failing checks, 2.3.1's
record lacks its artifact hash, `champion` rolls back to 2.2.0, and the example model files
verify as the tour says."""

from __future__ import annotations

import pytest

from lineage import actions, releases
from lineage.store.base import Store
from tests import incident, release_record
from tests.conformance.test_projection_rules import ingest

ENDPOINTS = ("churn-prod", "churn-eu", "churn-us", "churn-batch")


@pytest.fixture
def told(store: Store) -> Store:
    ingest(store, *incident.EVENTS, *release_record.EVENTS)
    return store


def test_only_the_endpoint_served_with_another_framework_version_drifts(told: Store) -> None:
    drifting = {}
    for name in ENDPOINTS:
        warnings = [w for w in releases.endpoint(told, name)["warnings"] if w["kind"] == "environment_drift"]
        if warnings:
            drifting[name] = [w["detail"] for w in warnings]
    assert list(drifting) == ["churn-eu"]
    (detail,) = drifting["churn-eu"]
    assert detail.endswith("serves churn@2.3.1 in another environment than it was trained in: scikit-learn 1.4.2 in training, 1.5.0 serving")


def test_the_diff_shows_the_dropped_column_the_rows_and_the_failed_checks(told: Store) -> None:
    answer = releases.diff(told, "churn@2.2.0", "churn@2.3.1")
    changes = {c["name"]: c for c in answer["data_changes"]}
    customers = changes["customers"]
    assert customers["columns"] == {"added": [], "removed": [{"name": "region", "type": "string"}], "retyped": []}
    assert (customers["statistics"]["from"]["rowCount"], customers["statistics"]["to"]["rowCount"]) == (600, 800)
    assert [a["assertion"] for a in customers["failed_assertions"]["to"]] == ["columns_match_contract", "label_mapping_matches_contract"]
    assert customers["failed_assertions"]["from"] == []
    assert "(removed region) without a new major version (data-v1.7.1 -> data-v1.8.2)" in customers["contract_break"]
    assert [name for name, c in changes.items() if c["contract_break"]] == ["customers"]
    assert answer["summary"]["contract_breaks"] == 1


def test_the_checklists_miss_what_the_record_lacks(told: Store) -> None:
    def missing(version: str) -> list[str]:
        return [i["item"] for i in actions.checklist(told, "churn", version)["items"] if i["status"] == "missing"]

    assert missing("2.3.1") == ["artifacts_and_hashes"]  # its upload was skipped
    assert missing("2.2.0") == ["change_summary"]  # the first version: nothing to compare with
    owners = next(i for i in actions.checklist(told, "churn", "2.3.1")["items"] if i["item"] == "identity_and_owners")
    assert owners["value"]["owners"] == ["team:churn-ml"]


def test_champion_rolls_back_to_the_last_known_good_version(told: Store) -> None:
    plan = actions.rollback_plan(told, "churn", "champion")
    assert (plan["current_version"], plan["last_known_good"]["version"], plan["owners"]) == ("2.3.1", "2.2.0", ["team:churn-ml"])
    ingest(told, actions.rollback_body(plan, "trained on data-v1.8.2", "oncall", "2026-03-04T09:00:00.000000Z"))
    assert actions.rollback_plan(told, "churn", "champion")["current_version"] == "2.2.0"


@pytest.mark.parametrize(
    ("ref", "file", "result"),
    [
        pytest.param("churn@2.2.0", "churn-2.2.0.json", "match", id="its-own-file"),
        pytest.param("churn@2.2.0", "churn-2.3.1.json", "mismatch", id="another-file"),
        pytest.param("churn@2.3.1", "churn-2.3.1.json", "unknown", id="no-recorded-hash"),
    ],
)
def test_the_example_model_files_verify_as_the_tour_shows(told: Store, ref: str, file: str, result: str) -> None:
    assert actions.verify_artifact(told, ref, release_record.sha256(file))["result"] == result
