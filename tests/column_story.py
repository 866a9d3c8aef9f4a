"""Events of a release whose mis-scaled column reaches an endpoint (issue 36), for tests.

customers@data-v1.8.2 (schema facet) -> clean (columnLineage: new form, the older per-field
form, the dataset-wide INDIRECT list, and a column of a dataset the run never read) ->
feature view churn@fv-2 (features naming their columns) -> model churn@2.3.1 (inputs naming
their features) -> endpoint churn-prod.
"""

from __future__ import annotations

from typing import Any

from tests import scenario as s

LAKE = "s3://lake"
STORE = "feast://store"


def schema(*fields: tuple[str, str]) -> dict[str, Any]:
    return s.facet(fields=[{"name": n, "type": t} for n, t in fields])


def source(name: str, field: str, *transformations: dict[str, Any], namespace: str = LAKE) -> dict[str, Any]:
    out: dict[str, Any] = {"namespace": namespace, "name": name, "field": field}
    if transformations:
        out["transformations"] = list(transformations)
    return out


def direct(subtype: str, description: str | None = None, masking: bool = False) -> dict[str, Any]:
    return {"type": "DIRECT", "subtype": subtype, "description": description, "masking": masking}


def indirect(subtype: str) -> dict[str, Any]:
    return {"type": "INDIRECT", "subtype": subtype}


CUSTOMERS_SCHEMA = schema(("customer_id", "bigint"), ("income", "double"), ("tenure", "int"), ("churned", "boolean"))
CLEAN_LINEAGE = s.facet(
    fields={
        "income_scaled": {"inputFields": [source("customers", "income", direct("TRANSFORMATION", "income / 1000"))]},
        "tenure": {"inputFields": [source("customers", "tenure", direct("IDENTITY"))]},
        # The older form: one transformation type and description for the field.
        "customer_id": {
            "inputFields": [{"namespace": LAKE, "name": "customers", "field": "customer_id"}],
            "transformationType": "IDENTITY",
            "transformationDescription": "copied",
        },
        # A column of a dataset the run does not list as an input: its version is unknown.
        "region": {"inputFields": [source("regions", "region", direct("IDENTITY"))]},
    },
    dataset=[source("customers", "churned", indirect("FILTER"))],
)
FEATURES = [
    {"name": "income_scaled", "inputFields": [source("clean", "income_scaled")]},
    {"name": "tenure_months", "inputFields": [source("clean", "tenure", direct("TRANSFORMATION", "years * 12"))]},
    "plan",  # a feature that names no column (the older form of the facet)
]
MODEL_INPUTS = [
    {"name": "income_scaled", "inputFields": [source("features/churn", "income_scaled", namespace=STORE)]},
    {"name": "tenure_months", "inputFields": [source("features/churn", "tenure_months", namespace=STORE)]},
]


def feature_view(version: str) -> dict[str, Any]:
    return s.dataset(
        "features/churn",
        namespace=STORE,
        facets={"ml_featureView": s.facet(name="churn", version=version, features=FEATURES, entities=["customer"])},
    )


def model(version: str) -> dict[str, Any]:
    return s.dataset(
        "models/churn", namespace="registry://models", facets={"ml_modelVersion": s.facet(name="churn", version=version, inputs=MODEL_INPUTS)}
    )


def clean_output() -> dict[str, Any]:
    return s.dataset(
        "clean",
        facets={"columnLineage": CLEAN_LINEAGE, "schema": schema(("customer_id", "bigint"), ("income_scaled", "double"), ("tenure", "int"), ("region", "string"))},
    )


COLUMN_STORY = [
    # The version before: a read that arrives before data-v1.8.2 binds here first, then moves.
    s.event("col-snap#0", "COMPLETE", s.ts(5), outputs=[s.dataset("customers", "data-v1.7.1", facets={"schema": CUSTOMERS_SCHEMA})]),
    s.event("col-snap#1", "COMPLETE", s.ts(6), outputs=[s.dataset("customers", "data-v1.8.2", facets={"schema": CUSTOMERS_SCHEMA})]),
    s.event("col-clean#1", "START", s.ts(7, 30), inputs=[s.dataset("customers")], outputs=[s.dataset("clean")]),
    s.event("col-clean#1", "COMPLETE", s.ts(7, 40), inputs=[s.dataset("customers")], outputs=[clean_output()]),
    s.event("col-feat#1", "COMPLETE", s.ts(8), inputs=[s.dataset("clean")], outputs=[feature_view("fv-2")]),
    s.event("col-train#2", "COMPLETE", s.ts(9), inputs=[feature_view("fv-2")], outputs=[model("2.3.1")]),
    *s.deploy("col-dep#2", s.ts(10), "churn", "2.3.1", "churn-prod"),
]
