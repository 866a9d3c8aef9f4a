"""Over HTTP (issue 37): the `ml_environment` schema is published, the endpoint answer carries
an environment drift, and the diff carries the data changes, on both stores."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from api.app import create_app
from lineage.settings import Settings
from lineage.store.base import Store
from tests.conformance.test_environment_and_data_changes import EVENTS, env


@pytest.fixture
def client(store: Store, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store=store)) as test_client:
        response = test_client.post("/api/v1/lineage/batch", json=EVENTS)
        assert response.status_code == 200 and response.json()["rejected"] == 0, response.text
        yield test_client


def test_the_environment_facet_schema_is_published_and_holds_what_is_sent(client: TestClient) -> None:
    assert "ml_environment" in client.get("/schemas/facets").json()["facets"]
    schema = client.get("/schemas/facets/ml_environment.json").json()
    Draft202012Validator(schema).validate(env("1.4.2", "a" * 64)["ml_environment"])
    Draft202012Validator(schema).validate({})  # every field optional: older producers stay valid
    assert not Draft202012Validator(schema).is_valid({"lockfileSha256": "not-a-hash"})


def test_endpoint_answer_carries_the_drift(client: TestClient) -> None:
    answer = client.get("/api/v1/endpoints/churn-drift").json()
    assert [w["kind"] for w in answer["warnings"]] == ["environment_drift"]
    assert client.get("/api/v1/endpoints/churn-same").json()["warnings"] == []


def test_diff_answer_carries_the_data_changes(client: TestClient) -> None:
    answer = client.get("/api/v1/diff", params={"from": "churn@1.0", "to": "churn@1.1"}).json()
    change = next(c for c in answer["data_changes"] if c["name"] == "customers")
    assert [c["name"] for c in change["columns"]["removed"]] == ["churned"]
    assert change["contract_break"] and answer["summary"]["contract_breaks"] == 1
