"""Column lineage over HTTP (issue 36): ours with ref and field, impact and upstream with a field,
Marquez's nodeId form at the same path, and the facet schemas that name columns; both stores."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from api.app import create_app
from lineage.settings import Settings
from lineage.store.base import Store
from tests import column_story as c
from tests import scenario as s


@pytest.fixture
def client(store: Store, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store=store)) as test_client:
        response = test_client.post("/api/v1/lineage/batch", json=c.COLUMN_STORY)
        assert response.status_code == 200 and response.json()["rejected"] == 0
        yield test_client


def test_column_lineage_from_a_column_to_the_endpoint(client: TestClient) -> None:
    answer = client.get("/api/v1/column-lineage", params={"ref": "data-v1.8.2", "field": "income"}).json()
    assert answer["field"]["ref"] == "s3://lake/customers@data-v1.8.2[income]"
    assert [m["label"] for m in answer["model_versions"]] == ["churn@2.3.1"]
    assert [(e["name"], e["currently_serving"]) for e in answer["endpoints"]] == [("churn-prod", True)]
    # The field form of a ref alone says the same.
    alone = client.get("/api/v1/column-lineage", params={"ref": "s3://lake/customers@data-v1.8.2[income]"}).json()
    assert alone["fields"] == answer["fields"] and alone["endpoints"] == answer["endpoints"]


def test_impact_and_upstream_take_a_field(client: TestClient) -> None:
    impact = client.get("/api/v1/impact", params={"ref": "data-v1.8.2", "field": "income"}).json()
    assert impact["direction"] == "down" and [e["name"] for e in impact["endpoints"]] == ["churn-prod"]
    up = client.get("/api/v1/upstream", params={"ref": "churn@2.3.1", "field": "income_scaled", "transformations": "direct"}).json()
    refs = [f["ref"] for f in up["fields"]]
    assert "s3://lake/customers@data-v1.8.2[income]" in refs and "s3://lake/customers@data-v1.8.2[churned]" not in refs
    # Without a field, impact answers at dataset level as before.
    assert "deployments" in client.get("/api/v1/impact", params={"ref": "data-v1.8.2"}).json()


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"ref": "data-v1.8.2", "field": "no_such_column"}, 404),
        ({"ref": "data-v1.8.2", "field": "income", "direction": "sideways"}, 400),
        ({"ref": "data-v1.8.2", "field": "income", "transformations": "some"}, 400),
        ({"ref": "data-v1.8.2"}, 400),
        ({"ref": "data-v1.8.2", "field": "income", "depth": 0}, 400),
    ],
    ids=["unknown-field", "bad-direction", "bad-transformations", "no-field", "depth-0"],
)
def test_bad_questions_are_4xx(client: TestClient, params: dict[str, object], status: int) -> None:
    assert client.get("/api/v1/column-lineage", params=params).status_code == status


def test_marquez_node_ids_answer_in_marquez_shape(client: TestClient) -> None:
    clean = "datasetField:s3://lake:clean:income_scaled"
    answer = client.get("/api/v1/column-lineage", params={"nodeId": clean}).json()
    ids = [n["id"] for n in answer["graph"]]
    assert ids == sorted(ids) and "datasetField:s3://lake:customers:income" in ids
    node = next(n for n in answer["graph"] if n["id"] == clean)
    assert node["type"] == "DATASET_FIELD" and node["data"]["fieldType"] == "double"
    assert {"origin": clean, "destination": "datasetField:s3://lake:customers:income"} in node["inEdges"]
    down = client.get("/api/v1/column-lineage", params={"nodeId": clean, "withDownstream": "true"}).json()
    assert "datasetField:feast://store:features/churn:income_scaled" in [n["id"] for n in down["graph"]]
    assert client.get("/api/v1/column-lineage").status_code == 400
    assert client.get("/api/v1/column-lineage", params={"nodeId": "datasetField:s3://lake:clean:nope"}).status_code == 404


def test_version_fields(client: TestClient) -> None:
    fields = client.get("/api/v1/fields", params={"ref": "churn@fv-2"}).json()["fields"]
    assert {f["field"] for f in fields} == {"income_scaled", "tenure_months", "plan"}
    assert all(client.get("/api/v1/column-lineage", params={"ref": f["ref"]}).status_code == 200 for f in fields)


def test_published_facet_schemas_let_features_and_inputs_name_columns(client: TestClient) -> None:
    features = client.get("/schemas/facets/ml_featureView.json").json()
    view = {"name": "churn", "version": "fv-2", "features": c.FEATURES, "entities": ["customer"]}
    Draft202012Validator(features).validate(view)
    Draft202012Validator(features).validate(view | {"features": ["tenure", "plan"]})  # the older form still holds
    assert not Draft202012Validator(features).is_valid(view | {"features": [{"name": "x", "inputFields": [{"name": "t"}]}]})
    model = client.get("/schemas/facets/ml_modelVersion.json").json()
    Draft202012Validator(model).validate({"name": "churn", "version": "2.3.1", "inputs": c.MODEL_INPUTS})


def test_search_finds_a_field_by_name_and_by_its_ref_which_resolves_to_it(client: TestClient) -> None:
    found = client.get("/api/v1/nodes/search", params={"q": "Tenure", "kind": "Field"}).json()["results"]
    assert sorted(r["ref"] for r in found) == sorted(
        [
            "s3://lake/customers@data-v1.7.1[tenure]",
            "s3://lake/customers@data-v1.8.2[tenure]",
            f"s3://lake/clean@{s.run_uuid('col-clean#1')}[tenure]",
            "churn@fv-2[tenure_months]",
            "churn@2.3.1[tenure_months]",
        ]
    )
    for result in found:
        again = client.get("/api/v1/nodes/search", params={"q": result["ref"]}).json()["results"]
        assert [r["id"] for r in again] == [result["id"]]
        assert client.get(f"/api/v1/nodes/{result['id']}").json()["label"] == result["ref"]
        assert client.get("/api/v1/column-lineage", params={"ref": result["ref"]}).json()["field"]["id"] == result["id"]
