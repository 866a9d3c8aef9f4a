"""Environment drift between training and serving, and what changed in the data between two
releases, with breaking schema changes under a minor version flagged (issue 37, points 1 and
2), identically on both stores."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest

from lineage import queries, releases
from lineage.reports.audit import build_report
from lineage.store.base import Store
from bench.corpus import CORPUS
from tests import scenario as s
from tests.conformance.test_projection_rules import ingest, ver

LOCK_A, LOCK_B = "a" * 64, "b" * 64


def schema(**columns: str) -> dict[str, Any]:
    return {"schema": s.facet(fields=[{"name": n, "type": t} for n, t in columns.items()])}


def assertions(**results: bool) -> dict[str, Any]:
    return {"dataQualityAssertions": s.facet(assertions=[{"assertion": "not_null", "column": c, "success": ok} for c, ok in results.items()])}


def customers(version: str, columns: dict[str, str], rows: int, checks: dict[str, bool]) -> dict[str, Any]:
    return s.dataset(
        "customers", version, facets=schema(**columns),
        io_facets={"outputStatistics": s.facet(rowCount=rows, size=rows * 10), **assertions(**checks)}, io_key="outputFacets",
    )


def env(framework_version: str, lock: str, **extra: Any) -> dict[str, Any]:
    return {
        "ml_environment": s.facet(
            language="python", languageVersion="3.12.3", framework="scikit-learn", frameworkVersion=framework_version,
            packages={"scikit-learn": framework_version, "numpy": "1.26.4"}, lockfileSha256=lock, **extra,
        )
    }


def prep(run: str, hour: int, data: dict[str, Any]) -> dict[str, Any]:
    return s.event(run, "COMPLETE", s.ts(hour), job="prep-customers", outputs=[data])


def train(run: str, hour: int, data_version: str, model_version: str, run_facets: dict[str, Any]) -> dict[str, Any]:
    return s.event(
        run, "COMPLETE", s.ts(hour), job="train-churn", inputs=[s.dataset("customers", data_version)],
        outputs=[s.model("churn", model_version)], run_facets=run_facets,
    )


def deploy(run: str, hour: int, model_version: str, endpoint: str, run_facets: dict[str, Any]) -> dict[str, Any]:
    return s.event(
        run, "COMPLETE", s.ts(hour), job=f"deploy-{endpoint}", inputs=[s.model("churn", model_version)],
        outputs=[s.endpoint(endpoint)], run_facets=run_facets,
    )


EVENTS = [
    prep("prep#1", 1, customers("1.0.0", {"id": "int", "plan": "string", "churned": "boolean"}, 1000, {"plan": True})),
    # 1.1.0 drops `churned` and turns `plan` into an int: a breaking change under a minor bump.
    prep("prep#2", 3, customers("1.1.0", {"id": "int", "plan": "int", "tenure": "int"}, 800, {"plan": False, "id": True})),
    # 2.0.0 drops `tenure` too, but says so with its major part.
    prep("prep#3", 5, customers("2.0.0", {"id": "int", "plan": "int"}, 790, {"plan": True})),
    train("train#1", 2, "1.0.0", "1.0", env("1.4.2", LOCK_A)),
    train("train#2", 4, "1.1.0", "1.1", env("1.4.2", LOCK_A)),
    deploy("deploy#a", 6, "1.0", "churn-same", env("1.4.2", LOCK_A)),
    deploy("deploy#b", 7, "1.1", "churn-drift", env("1.5.0", LOCK_A)),
    # Only OpenLineage's environmentVariables facet: the lockfile hash differs from training's.
    deploy("deploy#c", 8, "1.0", "churn-vars", {
        "environmentVariables": s.facet(environmentVariables=[{"name": "LOCKFILE_SHA256", "value": LOCK_B}, {"name": "HOME", "value": "/root"}]),
    }),
    # A deploy that says nothing of its environment: unknown, not drifted.
    deploy("deploy#d", 9, "1.1", "churn-silent", {}),
]


@pytest.fixture
def release(store: Store) -> Store:
    ingest(store, *EVENTS)
    return store


def kinds(answer: dict[str, Any], kind: str) -> list[dict[str, str]]:
    return [w for w in answer["warnings"] if w["kind"] == kind]


def test_endpoint_warns_when_serving_framework_differs_from_training(release: Store) -> None:
    drift = kinds(releases.endpoint(release, "churn-drift"), "environment_drift")
    assert len(drift) == 1
    assert "scikit-learn 1.4.2 in training, 1.5.0 serving" in drift[0]["detail"]
    assert "churn@1.1" in drift[0]["detail"]


def test_the_same_environment_or_an_unknown_one_is_no_drift(release: Store) -> None:
    assert kinds(releases.endpoint(release, "churn-same"), "environment_drift") == []
    assert kinds(releases.endpoint(release, "churn-silent"), "environment_drift") == []


def test_a_lockfile_named_only_in_environment_variables_is_compared(release: Store) -> None:
    drift = kinds(releases.endpoint(release, "churn-vars"), "environment_drift")
    assert len(drift) == 1 and "lockfile sha256 aaaaaaaaaaaa in training, bbbbbbbbbbbb serving" in drift[0]["detail"]


def test_impact_and_audit_carry_the_drift(release: Store) -> None:
    impact = kinds(queries.impact(release, "churn@1.1"), "environment_drift")
    assert [w["detail"] for w in impact] and all("1.5.0 serving" in w["detail"] for w in impact)
    report = build_report(release, "churn-drift", generated_at="2026-03-02T00:00:00Z")
    assert any(w["kind"] == "environment_drift" for w in report["warnings"])


def test_diff_shows_columns_statistics_and_quality_of_the_data(release: Store) -> None:
    answer = releases.diff(release, "churn@1.0", "churn@1.1")
    change = next(c for c in answer["data_changes"] if c["name"] == "customers")
    assert change["columns"] == {
        "added": [{"name": "tenure", "type": "int"}],
        "removed": [{"name": "churned", "type": "boolean"}],
        "retyped": [{"name": "plan", "from": "string", "to": "int"}],
    }
    assert change["statistics"]["from"]["rowCount"] == 1000 and change["statistics"]["to"]["rowCount"] == 800
    assert change["failed_assertions"]["from"] == []
    assert [a["column"] for a in change["failed_assertions"]["to"]] == ["plan"]
    assert "without a new major version (1.0.0 -> 1.1.0)" in change["contract_break"]
    assert answer["summary"]["contract_breaks"] == 1


def test_a_breaking_change_under_a_minor_label_warns_on_the_new_version(release: Store) -> None:
    breaks = kinds(queries.upstream(release, "churn@1.1"), "contract_break")
    assert [w["node"] for w in breaks] == [ver("customers", "1.1.0")]
    assert "removed churned" in breaks[0]["detail"] and "plan string -> int" in breaks[0]["detail"]
    assert kinds(queries.upstream(release, "churn@1.0"), "contract_break") == []  # 1.0.0 had nothing before it


def test_a_major_bump_may_break_the_schema(release: Store) -> None:
    assert kinds(queries.impact(release, "customers@2.0.0"), "contract_break") == []


def test_labels_that_are_not_semver_are_not_judged(store: Store) -> None:
    ingest(
        store,
        prep("prep#x", 1, customers("2026-03-01", {"id": "int", "plan": "string"}, 10, {})),
        prep("prep#y", 2, customers("2026-03-02", {"id": "int"}, 10, {})),
    )
    assert kinds(queries.impact(store, "customers@2026-03-02"), "contract_break") == []


def test_the_previous_version_is_the_newest_earlier_by_event_time_in_any_arrival_order(store: Store) -> None:
    shuffled = list(EVENTS)
    random.Random(37).shuffle(shuffled)
    for body in shuffled:
        ingest(store, body)
    # Whatever the arrival order, 1.1.0 is compared with 1.0.0, the version written just before it.
    assert kinds(queries.impact(store, "customers@1.1.0"), "contract_break")[0]["node"] == ver("customers", "1.1.0")
    late = prep("prep#late", 4, customers("1.2.0", {"id": "int", "plan": "int", "tenure": "int"}, 805, {}))
    ingest(store, late)
    # 1.2.0 keeps 1.1.0's columns: no break, though it loses 1.0.0's.
    assert kinds(queries.impact(store, "customers@1.2.0"), "contract_break") == []


SPARK_EVENT = CORPUS / "OpenLineage-compatibility-tests/consumer/scenarios/spark_dataproc_simple_producer_test_complete/events/13.json"


def test_a_spark_listener_event_gives_the_columns_and_statistics_of_the_diff(store: Store) -> None:
    """The Spark integration's own schema and outputStatistics facets, and a later run of the same
    job that retypes `b`, adds `c` and writes more rows."""
    first = json.loads(SPARK_EVENT.read_text())
    second = copy.deepcopy(first)
    second["run"]["runId"] = s.run_uuid("spark-rerun")
    second["eventTime"] = "2024-10-17T10:18:28.643Z"
    output = second["outputs"][0]
    output["facets"]["schema"]["fields"] = [{"name": "a", "type": "integer"}, {"name": "b", "type": "long"}, {"name": "c", "type": "string"}]
    output["outputFacets"]["outputStatistics"]["rowCount"] = 5
    ingest(store, first, second)
    name = first["outputs"][0]["name"]
    refs = [f"{first['outputs'][0]['namespace']}{name}@{e['run']['runId']}" for e in (first, second)]
    answer = releases.diff(store, *refs)
    change = next(c for c in answer["data_changes"] if c["name"] == name)
    assert change["columns"] == {"added": [{"name": "c", "type": "string"}], "removed": [], "retyped": [{"name": "b", "from": "string", "to": "long"}]}
    assert (change["statistics"]["from"]["rowCount"], change["statistics"]["to"]["rowCount"]) == (2, 5)
    assert change["contract_break"] is None  # run-derived version labels are not SemVer


def test_a_dataset_version_shows_its_changes_against_the_version_before(release: Store) -> None:
    detail = queries.node_detail(release, ver("customers", "1.1.0"))
    changes = detail["data_changes"]
    assert (changes["from"], changes["to"]) == ("s3://lake/customers@1.0.0", "s3://lake/customers@1.1.0")
    assert [c["name"] for c in changes["columns"]["added"]] == ["tenure"]
    assert (changes["statistics"]["from"]["rowCount"], changes["statistics"]["to"]["rowCount"]) == (1000, 800)
    assert changes["contract_break"] is not None
    assert queries.node_detail(release, ver("customers", "2.0.0"))["data_changes"]["contract_break"] is None
    assert queries.node_detail(release, ver("customers", "1.0.0"))["data_changes"] is None  # nothing before it
