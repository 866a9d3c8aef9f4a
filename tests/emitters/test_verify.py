"""Training and deploy steps check an artifact against the service before using it (issue 37):
a match goes on, a mismatch fails the step, over the real HTTP transport to `lineage serve`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from emitters import Lineage, ModelVersion
from emitters.verify import ArtifactMismatch
from tests.emitters.conftest import TickClock
from tests.server import running


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    with running(f"sqlite:///{tmp_path / 'served.db'}") as served:
        yield served


def test_a_deploy_step_goes_on_with_the_recorded_artifact_and_stops_on_another(url: str, tmp_path: Path) -> None:
    artifact = tmp_path / "model-1.0.0.pkl"
    artifact.write_bytes(b"weights of 1.0.0")
    model = ModelVersion("churn", "1.0.0", registry="test", framework="python-logreg", path=artifact)
    with Lineage(config={"transport": {"type": "http", "url": url}}, clock=TickClock(), source_dir=tmp_path, strict=True) as lineage:
        with lineage.training_step(model, params={"lr": 0.1}, seed=1) as run:
            run.log_metrics(auc=0.8)
        with lineage.deploy_step(model, "churn-prod") as deploy:
            assert deploy.verify_artifact(artifact, "churn@1.0.0")["result"] == "match"
        artifact.write_bytes(b"weights of 1.0.0, swapped on disk")
        with pytest.raises(ArtifactMismatch) as caught, lineage.deploy_step(model, "churn-eu") as deploy:
            deploy.verify_artifact(artifact, "churn@1.0.0")
        assert caught.value.answer["result"] == "mismatch"
    # the stopped deploy is recorded as failed: churn-eu serves nothing
    answer = httpx.get(f"{url}/api/v1/endpoints/churn-eu").json()
    assert answer["current_model_version"] == []
    assert httpx.get(f"{url}/api/v1/endpoints/churn-prod").json()["current_model_version"] == ["churn@1.0.0"]
