"""`level`, `since`/`until` and `cursor`/`limit` on /impact, /upstream and /graph (issue 34), on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from lineage import queries
from lineage.settings import Settings
from lineage.store.base import Store
from tests import incident


@pytest.fixture
def client(store: Store, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store=store)) as test_client:
        assert test_client.post("/api/v1/lineage/batch", json=incident.EVENTS).json()["rejected"] == 0
        yield test_client


def get(client: TestClient, path: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"/api/v1/{path}", params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_the_level_follows_the_ref_kind_and_can_be_asked_for(client: TestClient) -> None:
    assert get(client, "impact", ref="customers")["level"] == "dataset"
    assert get(client, "upstream", ref="ml-pipelines:train-churn")["level"] == "dataset"
    assert get(client, "graph", ref="customers")["level"] == "dataset"
    assert get(client, "impact", ref="data-v1.8.2")["level"] == "version"
    collapsed = get(client, "impact", ref="customers")
    assert {e["label"] for e in collapsed["endpoints"]} == {"churn-prod", "churn-eu", "churn-us", "churn-batch"}
    assert all({"versions", "newest_version", "currently_serving", "current_model_version"} <= set(e) for e in collapsed["endpoints"])
    assert "warnings" in collapsed and collapsed["partial"] is False


def test_pages_of_the_version_level_over_http(client: TestClient) -> None:
    whole = get(client, "impact", ref="customers", level="version", limit=1000)
    seen: list[str] = []
    cursor = None
    while True:
        page = get(client, "impact", ref="customers", level="version", limit=3, **({"cursor": cursor} if cursor else {}))
        seen += [i["id"] for g in queries.VERSION_GROUPS for i in page[g]]
        if not page["partial"]:
            assert page["next_cursor"] is None
            break
        cursor = page["next_cursor"]
    assert sorted(seen) == sorted(i["id"] for g in queries.VERSION_GROUPS for i in whole[g])
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize(
    "params",
    [
        {"ref": "customers", "level": "sideways"},
        {"ref": "data-v1.8.2", "level": "dataset"},
        {"ref": "customers", "level": "version", "cursor": "%%%"},
        {"ref": "customers", "cursor": "abc"},
        {"ref": "customers", "since": "yesterday"},
        {"ref": "customers", "level": "version", "since": "2026-03-01T00:00:00Z"},
        {"ref": "customers", "level": "version", "limit": 0},
    ],
    ids=["unknown-level", "dataset-level-of-a-version", "bad-cursor", "cursor-at-dataset-level", "bad-since", "window-at-version-level", "zero-limit"],
)
def test_bad_level_parameters_are_400(client: TestClient, params: dict[str, Any]) -> None:
    for path in ("impact", "upstream", "graph"):
        response = client.get(f"/api/v1/{path}", params=params)
        assert 400 <= response.status_code < 500, (path, response.text)
