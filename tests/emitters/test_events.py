"""Every helper emits valid OpenLineage 2-0-2 events that the service accepts, and every custom
facet validates against the JSON schema the API publishes for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from openlineage.client.facet_v2 import data_quality_assertions_dataset as dqa

from api.app import create_app
from emitters import Data, Endpoint, FeatureView, ModelVersion, current_step
from lineage.facets import CUSTOM_FACETS
from lineage.ingest.parse import parse_event
from lineage.settings import Settings
from lineage.store.sqlite import SqliteStore
from tests.emitters.conftest import Capture
from tests.emitters.openlineage_spec import problems


def _data(tmp: Path, name: str, version: str) -> Data:
    folder = tmp / name / version
    return Data("lake://test", name, version, path=folder, fields=[("id", "string"), ("x", "int")], rows=2)


def _write(spec: Any, text: str = "id,x\na,1\nb,2\n") -> None:
    Path(spec.path).mkdir(parents=True, exist_ok=True)
    (Path(spec.path) / "part-0.csv").write_text(text)


def data_step(c: Capture, tmp: Path) -> None:
    raw, out = _data(tmp, "raw", "v1"), _data(tmp, "clean", "v1")
    _write(raw)
    with c.lineage.data_step("clean", inputs=[raw], outputs=[out]):
        _write(out)


def checked_input(c: Capture, tmp: Path) -> None:
    """A validation step: what it found about its input goes as the input's quality facets."""
    raw = _data(tmp, "raw", "v1")
    _write(raw)
    found = dqa.DataQualityAssertionsDatasetFacet(assertions=[dqa.Assertion(assertion="not_null", success=False, column="x")])
    with c.lineage.data_step("check-raw", inputs=[Data(raw.namespace, raw.name, raw.version, path=raw.path, rows=2, input_facets={"dataQualityAssertions": found})]):
        pass


def feature_step(c: Capture, tmp: Path) -> None:
    clean = _data(tmp, "clean", "v1")
    _write(clean)
    view = FeatureView("churn_features", "fv-1", ["tenure"], ["customer_id"], path=tmp / "fv")
    with c.lineage.feature_step(view, inputs=[clean]):
        _write(view)


def training_step(c: Capture, tmp: Path) -> None:
    model = ModelVersion("churn", "2.3.1", framework="python-logreg", path=tmp / "model")

    @c.lineage.training_step(model, inputs=[FeatureView("churn_features", "fv-1")], params={"lr": 0.1}, seed=7)
    def train() -> None:
        """Train the churn model."""
        run = current_step()
        assert run is not None
        run.log_metrics(auc=0.84)  # type: ignore[attr-defined]
        _write(model, "weights")

    train()


def promotion(c: Capture, tmp: Path) -> None:
    with c.lineage.promotion("churn@2.3.1", "Production", reviewer="alice", checks={"auc": True}, notes="better auc"):
        pass


def rejected_promotion(c: Capture, tmp: Path) -> None:
    with c.lineage.promotion("churn@2.3.1", "champion", reviewer="carol") as run:
        run.check("no_quarantined_data", False)


def deploy_step(c: Capture, tmp: Path) -> None:
    with c.lineage.deploy_step("churn@2.3.1", "churn-prod", url="https://serving.example/churn"):
        pass


def canary(c: Capture, tmp: Path) -> None:
    with c.lineage.deploy_step(ModelVersion("churn", "2.3.1"), Endpoint("churn-us", "prod", traffic_percent=20)):
        pass


def nested_steps(c: Capture, tmp: Path) -> None:
    with c.lineage.step("nightly"), c.lineage.data_step("extract", outputs=[Data("lake://test", "raw", "v9")]):
        pass


def failing_step(c: Capture, tmp: Path) -> None:
    with pytest.raises(ZeroDivisionError), c.lineage.deploy_step("churn@2.3.1", "churn-eu"):
        _ = 1 / 0


HELPERS: dict[str, Callable[[Capture, Path], None]] = {
    "data": data_step,
    "checked-input": checked_input,
    "feature": feature_step,
    "training": training_step,
    "promotion": promotion,
    "rejected-promotion": rejected_promotion,
    "deploy": deploy_step,
    "canary": canary,
    "nested": nested_steps,
    "failing": failing_step,
}
EXPECTED_TYPES = {"nested": ["START", "START", "COMPLETE", "COMPLETE"], "failing": ["START", "FAIL"]}


@pytest.mark.parametrize("helper", list(HELPERS), ids=list(HELPERS))
def test_every_helper_emits_valid_openlineage_the_service_accepts(helper: str, capture: Capture, tmp_path: Path) -> None:
    HELPERS[helper](capture, tmp_path)
    events = capture.events()
    assert [e["eventType"] for e in events] == EXPECTED_TYPES.get(helper, ["START", "COMPLETE"])
    for event in events:
        assert problems(event) == [], event
        parsed = parse_event(event)  # the service's own parser: raises on anything it would 400
        assert parsed.run_uuid == event["run"]["runId"]
    # One run per step: START and its end share a runId, and a run never repeats one.
    run_ids = [e["run"]["runId"] for e in events]
    assert len(set(run_ids)) == len(run_ids) // 2


def test_the_problems_check_is_not_vacuous(capture: Capture, tmp_path: Path) -> None:
    deploy_step(capture, tmp_path)
    event = capture.events()[-1]
    event["run"]["runId"] = "run-1"
    event["eventTime"] = "2026-03-01"
    del event["job"]["facets"]["jobType"]["integration"]
    del event["outputs"][0]["facets"]["ml_endpoint"]["_producer"]
    found = "\n".join(problems(event))
    for where in ("run/runId", "eventTime", "job/facets/jobType", "outputs/0/facets/ml_endpoint"):
        assert where in found


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, Any]]]:
    """The JSON schemas of our facets as the API publishes them."""
    tmp = tmp_path_factory.mktemp("schemas")
    store = SqliteStore(str(tmp / "lineage.db"))
    settings = Settings(store=f"sqlite:///{tmp / 'unused.db'}")
    try:
        with TestClient(create_app(settings, store=store)) as client:
            keys = client.get("/schemas/facets").json()["facets"]
            yield {key: client.get(f"/schemas/facets/{key}.json").json() for key in keys}
    finally:
        store.close()


def _ml_facets(events: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for event in events:
        yield from ((k, v) for k, v in event["run"]["facets"].items() if k.startswith("ml_"))
        for dataset in event.get("inputs", []) + event.get("outputs", []):
            yield from ((k, v) for k, v in dataset["facets"].items() if k.startswith("ml_"))


def test_every_custom_facet_validates_against_its_published_schema(
    capture: Capture, tmp_path: Path, published: dict[str, dict[str, Any]]
) -> None:
    for helper in HELPERS.values():
        helper(capture, tmp_path)
    seen: dict[str, int] = {}
    for key, facet in _ml_facets(capture.events()):
        Draft202012Validator(published[key]).validate(facet)
        # The facet names the schema it was checked against, at the service it was sent to.
        assert facet["_schemaURL"] == f"http://lineage.test/schemas/facets/{key}.json"
        assert facet["_producer"] == capture.lineage.producer
        seen[key] = seen.get(key, 0) + 1
    assert set(seen) == set(CUSTOM_FACETS)  # every facet of DESIGN.md section 4 was exercised


@pytest.mark.parametrize(
    ("key", "facet"),
    [
        ("ml_endpoint", {"name": "churn-prod", "trafficPercent": 150}),
        ("ml_artifact", {"sha256": "not-a-hash"}),
        ("ml_approval", {"reviewer": "alice", "decision": "maybe"}),
        ("ml_modelVersion", {"name": "churn"}),
    ],
    ids=["traffic-over-100", "bad-sha", "bad-decision", "no-version"],
)
def test_published_schemas_refuse_what_the_service_refuses(key: str, facet: dict[str, Any], published: dict[str, dict[str, Any]]) -> None:
    assert not Draft202012Validator(published[key]).is_valid(facet)


def test_an_input_carries_what_the_step_reported_about_it(capture: Capture, tmp_path: Path) -> None:
    checked_input(capture, tmp_path)
    for event in capture.events():
        (read,) = event["inputs"]
        assert set(read["inputFacets"]) == {"inputStatistics", "dataQualityAssertions"}
        (assertion,) = read["inputFacets"]["dataQualityAssertions"]["assertions"]
        assert (assertion["assertion"], assertion["success"], assertion["column"]) == ("not_null", False, "x")
