"""`lineage serve` as a real process: what `make run` starts."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests import scenario as s
from tests.server import free_port, running  # noqa: F401  (free_port: used by other test modules)


def test_serve_ingests_into_the_embedded_store(tmp_path: Path) -> None:
    with running(f"sqlite:///{tmp_path / 'data' / 'lineage.db'}") as url:
        response = httpx.post(f"{url}/api/v1/lineage", json=s.event("etl#1", "COMPLETE", s.ts(1)))
        assert response.status_code == 201
        assert httpx.get(f"{url}/openapi.json").json()["info"]["title"] == "Lineage graph service"
    assert (tmp_path / "data" / "lineage.db").exists()
