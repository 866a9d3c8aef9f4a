"""The query HTTP contract (DESIGN.md section 5) over the incident graph, on both stores."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from lineage.settings import Settings
from lineage.store.base import Store
from tests import incident


@pytest.fixture
def client(store: Store, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store=store)) as test_client:
        response = test_client.post("/api/v1/lineage/batch", json=incident.EVENTS)
        assert response.status_code == 200 and response.json()["rejected"] == 0
        yield test_client


def test_impact_answers_which_endpoints_used_the_data_and_which_still_serve_it(client: TestClient) -> None:
    answer = client.get("/api/v1/impact", params={"ref": "data-v1.8.2"}).json()
    serving = {e["name"]: e["currently_serving"] for e in answer["endpoints"]}
    assert serving == {"churn-prod": False, "churn-eu": True, "churn-us": True}
    first = answer["endpoints"][0]
    assert set(first) >= {"name", "id", "currently_serving", "current_model_version", "affected_deployments"}
    assert set(first["affected_deployments"][0]) >= {"id", "model_version", "since", "until"}


def test_unknown_and_ambiguous_refs(client: TestClient) -> None:
    missing = client.get("/api/v1/impact", params={"ref": "data-v1.8.3"})
    assert missing.status_code == 404
    assert "s3://lake/customers@data-v1.8.2" in [s["ref"] for s in missing.json()["suggestions"]]
    client.post("/api/v1/lineage", json=incident.s.event("x#1", "COMPLETE", incident.s.ts(1), outputs=[incident.s.dataset("other", "data-v1.8.2")]))
    ambiguous = client.get("/api/v1/upstream", params={"ref": "data-v1.8.2"})
    assert ambiguous.status_code == 409 and len(ambiguous.json()["candidates"]) == 2
    chosen = ambiguous.json()["candidates"][0]["id"]
    assert client.get("/api/v1/upstream", params={"ref": chosen}).status_code == 200
    for candidate in ambiguous.json()["candidates"]:  # each carries its namespace and a ref naming only it
        answer = client.get("/api/v1/upstream", params={"ref": candidate["ref"]}).json()
        assert answer["node"]["id"] == candidate["id"] and candidate["namespace"] == "s3://lake"


@pytest.mark.parametrize(
    "ref",
    ["x' OR 1=1 --", "`) MATCH (n) DETACH DELETE n //", "데이터-v1", "\"}]);", "a" * 1000, "$ref", "%00"],
    ids=["sql", "cypher", "unicode", "quotes", "long", "dollar", "nul-ish"],
)
def test_hostile_refs_are_just_unknown(client: TestClient, store: Store, ref: str) -> None:
    before = store.event_count()
    response = client.get("/api/v1/impact", params={"ref": ref})
    assert response.status_code == 404
    assert store.event_count() == before and store.node(incident_model(client)) is not None


def incident_model(client: TestClient) -> str:
    return client.get("/api/v1/nodes/search", params={"q": "churn@2.3.1"}).json()["results"][0]["id"]


def test_bad_parameters_are_4xx(client: TestClient) -> None:
    # Validation answers 400 naming the field, like every other refusal (issue 31).
    for depth in (0, 51):
        bad = client.get("/api/v1/impact", params={"ref": "data-v1.8.2", "depth": depth})
        assert bad.status_code == 400 and bad.json()["field"] == "depth"
    assert client.get("/api/v1/graph", params={"ref": "data-v1.8.2", "direction": "sideways"}).status_code == 400
    assert client.get("/api/v1/endpoints/churn-prod", params={"at": "teatime"}).json()["field"] == "at"
    assert client.get("/api/v1/events", params={"limit": 5000}).json() | {"detail": ""} == {
        "error": "invalid_input", "field": "limit", "detail": ""}
    assert client.get("/api/v1/nodes/search", params={"q": "churn", "kind": "Planet"}).json()["field"] == "kind"


def test_upstream_diff_endpoint_and_models(client: TestClient) -> None:
    up = client.get("/api/v1/upstream", params={"ref": "churn@2.3.1"}).json()
    assert incident.COMMIT_DATA_BAD in {c["sha"] for c in up["commits"]}
    diff = client.get("/api/v1/diff", params={"from": "churn@2.2.0", "to": "churn@2.3.1"}).json()
    assert diff["summary"]["datasets_changed"] >= 2
    prod = client.get("/api/v1/endpoints/churn-prod", params={"at": "2026-03-02T12:00:00Z"}).json()
    assert prod["at"]["model_versions"] == ["churn@2.3.1"] and prod["current_model_version"] == ["churn@2.2.0"]
    assert client.get("/api/v1/endpoints/nowhere").status_code == 404
    models = client.get("/api/v1/models/churn/versions", params={"before": "2.3.1"}).json()
    assert models["last_known_good"]["version"] == "2.2.0"
    assert client.get("/api/v1/models/churn/versions", params={"before": "9.9.9"}).status_code == 404


def test_annotation_is_stored_as_evidence_and_changes_last_known_good(client: TestClient, store: Store) -> None:
    before = store.event_count()
    response = client.post("/api/v1/annotations", json={"ref": "churn@2.2.0", "tag": "deprecated", "reason": "old", "author": "alice"})
    assert response.status_code == 201 and response.json()["tag"] == "deprecated"
    assert store.event_count() == before + 1
    node = client.get(f"/api/v1/nodes/{response.json()['target']}").json()
    assert [a["tag"] for a in node["annotations"]] == ["deprecated"]
    models = client.get("/api/v1/models/churn/versions", params={"before": "2.3.1"}).json()
    assert models["last_known_good"] is None
    log = client.get("/api/v1/events", params={"ref": response.json()["target"]}).json()
    assert log["events"][-1]["event"]["annotation"]["author"] == "alice"


def test_annotation_of_unknown_ref_or_bad_tag_stores_nothing(client: TestClient, store: Store) -> None:
    before = store.event_count()
    unknown = client.post("/api/v1/annotations", json={"ref": "nope", "tag": "quarantined", "author": "a"})
    assert unknown.status_code == 404
    bad_tag = client.post("/api/v1/annotations", json={"ref": "data-v1.8.2", "tag": "not a tag!", "author": "a"})
    assert bad_tag.status_code == 400 and bad_tag.json()["field"] == "annotation.tag"
    missing = client.post("/api/v1/annotations", json={"ref": "data-v1.8.2", "tag": "x"})
    assert missing.status_code == 400 and missing.json()["field"] == "body.author"
    assert store.event_count() == before


def test_graph_search_nodes_events(client: TestClient) -> None:
    drawn = client.get("/api/v1/graph", params={"ref": "data-v1.8.2", "direction": "down", "depth": 10}).json()
    kinds = {n["kind"] for n in drawn["nodes"]}
    assert {"DatasetVersion", "Run"} <= kinds
    ids = {n["id"] for n in drawn["nodes"]}
    assert all(e["src"] in ids and e["dst"] in ids for e in drawn["edges"])
    results = client.get("/api/v1/nodes/search", params={"q": "churn", "kind": "Dataset"}).json()["results"]
    assert {"churn-prod", "churn-eu", "churn-us", "churn-batch", "churn"} <= {r["label"] for r in results}
    assert client.get("/api/v1/nodes/ds-doesnotexist").status_code == 404
    page = client.get("/api/v1/events", params={"limit": 10}).json()
    assert page["total"] == len(incident.EVENTS) and len(page["events"]) == 10
    run = incident.s.run_uuid("clean#1")
    by_run = client.get("/api/v1/events", params={"run": run}).json()
    assert [e["event_type"] for e in by_run["events"]] == ["START", "COMPLETE"]
    assert client.get("/api/v1/events", params={"run": "not-a-uuid"}).status_code == 400
    by_job = client.get("/api/v1/events", params={"job": "train-churn"}).json()
    assert by_job["total"] == 2 and {e["job"] for e in by_job["events"]} == {"ml-pipelines/train-churn"}
    by_dataset = client.get("/api/v1/events", params={"dataset": "customers"}).json()
    assert by_dataset["total"] == 6  # two snapshots, and both cleaning runs' START and COMPLETE
    window = client.get("/api/v1/events", params={"job": "train-churn", "since": "2026-03-02T00:00:00Z"}).json()
    assert window["total"] == 1
    assert client.get("/api/v1/events", params={"job": "train-churn", "dataset": "customers"}).status_code == 400


def test_versions_of_a_dataset_newest_first(client: TestClient) -> None:
    by_version = client.get("/api/v1/versions", params={"ref": "data-v1.8.2"}).json()
    assert by_version["dataset"]["label"] == "s3://lake/customers"
    assert [v["version"] for v in by_version["versions"]] == ["data-v1.8.2", "data-v1.7.1"] and by_version["total"] == 2
    by_name = client.get("/api/v1/versions", params={"ref": "churn_features", "limit": 1}).json()
    assert [v["label"] for v in by_name["versions"]] == ["churn_features@fv-2"] and by_name["total"] == 2
    run = client.get("/api/v1/versions", params={"ref": incident.s.run_uuid("clean#1")})
    assert run.status_code == 400 and run.json()["field"] == "ref"
    assert client.get("/api/v1/versions", params={"ref": "nothing-like-this"}).status_code == 404


def test_child_runs_are_folded_unless_all_runs(client: TestClient) -> None:
    from tests.conformance.test_static_lineage import dbt_story

    assert client.post("/api/v1/lineage/batch", json=dbt_story()).json()["rejected"] == 0
    folded = client.get("/api/v1/impact", params={"ref": "duckdb://jaffle/raw.orders", "level": "version"}).json()
    assert len(folded["runs"]) == 1 and folded["folded_runs"]["count"] == 3
    listed = client.get("/api/v1/impact", params={"ref": "duckdb://jaffle/raw.orders", "all_runs": "true", "level": "version"}).json()
    assert len(listed["runs"]) == 4 and listed["folded_runs"]["listed"] is True
