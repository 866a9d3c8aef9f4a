"""Every HTTP answer carries `warnings` about what it could not see (issue 29), on both stores."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from lineage.settings import Settings
from lineage.store.base import Store
from tests import gaps


def serve(store: Store, settings: Settings) -> TestClient:
    return TestClient(create_app(settings, store=store))


@pytest.fixture
def client(store: Store, settings: Settings) -> Iterator[TestClient]:
    with serve(store, settings) as test_client:
        response = test_client.post("/api/v1/lineage/batch", json=gaps.EVENTS)
        assert response.status_code == 200 and response.json()["rejected"] == 0
        yield test_client


def get(client: TestClient, path: str, **params: str) -> dict:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    ("path", "params", "expected"),
    [
        ("/api/v1/impact", {"ref": "data-v1.8.2"}, {("stale_run", "report#1"), ("failed_run", "score#1")}),
        ("/api/v1/upstream", {"ref": "sj-1"}, {("placeholder_input", "survey")}),
        ("/api/v1/diff", {"from": "churn@2.0.5", "to": "sj-1"}, {("untrained_model_version", "2.0.5"), ("placeholder_input", "survey")}),
        ("/api/v1/endpoints/churn-shadow", {}, {("untrained_model_version", "2.0.5"), ("failed_run", "dep-shadow#2")}),
        ("/api/v1/endpoints/churn-shadow", {"at": "2026-03-01T12:00:00Z"}, {("untrained_model_version", "2.0.5"), ("failed_run", "dep-shadow#2")}),
        ("/api/v1/models/churn/versions", {}, {("untrained_model_version", "2.0.5"), ("untrained_model_version", "2.2.5")}),
    ],
    ids=["impact", "upstream", "diff", "endpoint", "endpoint-at", "model-versions"],
)
def test_each_answer_names_what_it_could_not_see(client: TestClient, path: str, params: dict, expected: set) -> None:
    ids = {"survey": gaps.SURVEY_PLACEHOLDER, "2.0.5": gaps.model_version("2.0.5"), "2.2.5": gaps.model_version("2.2.5")}
    want = {(kind, ids.get(name) or gaps.run(name)) for kind, name in expected}
    answer = get(client, path, **params)
    assert want <= gaps.kinds(answer)
    assert all(set(w) == {"kind", "node", "detail"} and w["detail"] for w in answer["warnings"])


def test_a_whole_answer_says_so_with_an_empty_list(client: TestClient) -> None:
    assert get(client, "/api/v1/upstream", ref="churn@2.3.1")["warnings"] == []
    assert get(client, "/api/v1/endpoints/churn-eu")["warnings"] == []


def test_the_stale_age_is_a_setting(store: Store, settings: Settings) -> None:
    with serve(store, settings.model_copy(update={"stale_run_hours": 48.0})) as patient:
        assert patient.post("/api/v1/lineage/batch", json=gaps.EVENTS).json()["rejected"] == 0
        assert ("stale_run", gaps.run("report#1")) not in gaps.kinds(get(patient, "/api/v1/impact", ref="data-v1.8.2"))
    with serve(store, settings.model_copy(update={"stale_run_hours": 0.5})) as hasty:
        assert ("stale_run", gaps.run("report#2")) in gaps.kinds(get(hasty, "/api/v1/impact", ref="data-v1.8.2"))


def test_the_setting_reads_its_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINEAGE_STALE_RUN_HOURS", "6")
    assert Settings().stale_run_hours == 6.0
    monkeypatch.delenv("LINEAGE_STALE_RUN_HOURS")
    assert Settings().stale_run_hours == 24.0


def test_a_promotion_only_version_has_its_place_and_answers_before(client: TestClient) -> None:
    answer = get(client, "/api/v1/models/churn/versions")
    assert [(v["version"], v["ordering"]) for v in answer["versions"]] == [
        ("2.3.1", "written"), ("2.2.5", "first_seen"), ("2.2.0", "written"), ("2.1.0", "first_seen"), ("2.0.5", "first_seen")
    ]
    oldest = get(client, "/api/v1/models/churn/versions", before="2.0.5")  # was a 400: no time to compare with
    assert oldest["before"] == "2.0.5" and oldest["last_known_good"] is None
    assert get(client, "/api/v1/models/churn/versions", before="2.2.0")["last_known_good"]["version"] == "2.1.0"
    assert get(client, "/api/v1/models/churn/versions", before="churn@2.1.0")["last_known_good"]["version"] == "2.0.5"


def test_the_audit_report_counts_its_warnings_in_a_header(client: TestClient) -> None:
    response = client.get("/api/v1/audit", params={"ref": "churn-shadow", "format": "md"})
    assert response.status_code == 200 and response.headers["x-lineage-warnings"] == "2"
    assert "INCOMPLETE CHAIN" in response.text
    whole = client.get("/api/v1/audit", params={"ref": "churn-eu", "format": "json"})
    assert whole.headers["x-lineage-warnings"] == "0" and whole.json()["warnings"] == []
