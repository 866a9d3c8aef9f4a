"""Steps that say which columns they used (issue 36): a data step's `columnLineage`, features
naming their columns, model inputs naming their features; valid OpenLineage, valid against the
published facet schemas, and answered by the service from a column to the model."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from api.app import create_app
from emitters import Column, Data, Feature, FeatureView, ModelVersion
from lineage.ingest.parse import parse_event
from lineage.settings import Settings
from lineage.store.sqlite import SqliteStore
from tests.emitters.conftest import Capture
from tests.emitters.openlineage_spec import problems


def story(c: Capture) -> None:
    raw = Data("lake://test", "raw", "v1", fields=[("id", "string"), ("income", "double"), ("ok", "boolean")])
    clean = Data(
        "lake://test", "clean", "v1", fields=[("id", "string"), ("income_k", "double")],
        columns={"id": [raw.column("id", "IDENTITY")], "income_k": [raw.column("income", "TRANSFORMATION", "income / 1000")]},
        dataset_columns=[raw.column("ok", "FILTER", indirect=True)],
    )
    with c.lineage.data_step("clean", inputs=[raw], outputs=[clean]):
        pass
    view = FeatureView("churn_features", "fv-1", [Feature("income_k", [clean.column("income_k", "TRANSFORMATION", "z-score")]), "tenure"], ["id"])
    with c.lineage.feature_step(view, inputs=[clean]):
        pass
    model = ModelVersion("churn", "2.3.1", inputs=view.inputs(["income_k"]))
    with c.lineage.training_step(model, inputs=[view]) as run:
        run.log_metrics(auc=0.8)


def test_columns_go_out_as_valid_openlineage_and_valid_facets(capture: Capture, tmp_path: Path) -> None:
    story(capture)
    events = capture.events()
    for event in events:
        assert problems(event) == [], event
        assert parse_event(event).warnings == ()
    clean = next(o for e in events for o in e["outputs"] if o["name"] == "clean")
    lineage = clean["facets"]["columnLineage"]
    first = lineage["fields"]["income_k"]["inputFields"][0]["transformations"][0]
    assert (first["type"], first["subtype"], first["description"]) == ("DIRECT", "TRANSFORMATION", "income / 1000")
    assert lineage["dataset"][0]["transformations"][0]["type"] == "INDIRECT"
    features = next(o for e in events for o in e["outputs"] if o["name"].endswith("churn_features"))["facets"]["ml_featureView"]
    assert features["features"][1] == "tenure"  # a bare name keeps the older form
    settings = Settings(store=f"sqlite:///{tmp_path / 'unused.db'}")
    store = SqliteStore(str(tmp_path / "lineage.db"))
    try:
        with TestClient(create_app(settings, store=store)) as client:
            for key in ("ml_featureView", "ml_modelVersion"):
                schema = client.get(f"/schemas/facets/{key}.json").json()
                for event in events:
                    for dataset in event["outputs"]:
                        if key in dataset["facets"]:
                            Draft202012Validator(schema).validate(dataset["facets"][key])
            assert client.post("/api/v1/lineage/batch", json=events).json()["rejected"] == 0
            answer = client.get("/api/v1/column-lineage", params={"ref": "lake://test/raw@v1", "field": "income"}).json()
    finally:
        store.close()
    assert [f["ref"] for f in answer["fields"]] == [
        "lake://test/clean@v1[income_k]", "churn_features@fv-1[income_k]", "churn@2.3.1[income_k]",
    ]


def test_a_dataset_wide_column_must_be_indirect() -> None:
    with pytest.raises(ValueError, match="INDIRECT"):
        Data("lake://test", "clean", "v1", dataset_columns=[Column("lake://test", "raw", "ok", "FILTER")]).facets()
    with pytest.raises(ValueError, match="no feature"):
        FeatureView("churn_features", "fv-1", ["tenure"]).column("income_k")
