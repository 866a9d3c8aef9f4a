"""The incident the service exists for, as OpenLineage events (DESIGN.md section 1).

data-v1.8.2 (a biased label mapping, and `income` sent in cents) feeds a plain cleaning job,
features fv-2 and model churn 2.3.1, which goes to churn-prod (later rolled back to 2.2.0), to churn-eu (still
serving) and as a 20% canary to churn-us; churn-batch only ever served 2.2.0. A billing
pipeline and a fraud model are unrelated and must never show up in the answers. Column
lineage (issue 36) follows `income` from the snapshots through the cleaning job's
`columnLineage`, the feature `income_k` and the model's inputs.
"""

from __future__ import annotations

from typing import Any

from tests import scenario as s

COMMIT_DATA_OK = "1111111aaaaaaa0000000000000000000000000a"
COMMIT_DATA_BAD = "2222222bbbbbbb0000000000000000000000000b"
COMMIT_TRAIN_1 = "3333333ccccccc0000000000000000000000000c"
COMMIT_TRAIN_2 = "4444444ddddddd0000000000000000000000000d"
DATA_REPO = "https://git.example.com/ml/data.git"


COLUMNS = [("customer_id", "string"), ("income", "double"), ("tenure_months", "int"), ("status", "string")]


def _schema() -> dict[str, Any]:
    return s.facet(fields=[{"name": n, "type": t} for n, t in COLUMNS])


def _from(namespace: str, name: str, field: str, subtype: str, description: str | None = None) -> dict[str, Any]:
    how = {"type": "DIRECT", "subtype": subtype, "masking": False} | ({"description": description} if description else {})
    return {"namespace": namespace, "name": name, "field": field, "transformations": [how]}


# The cleaning job's columns: each copied from the snapshot's, and every row kept by status.
CLEAN_LINEAGE = s.facet(
    fields={n: {"inputFields": [_from("s3://lake", "customers", n, "IDENTITY")]} for n, _ in COLUMNS if n != "status"},
    dataset=[{"namespace": "s3://lake", "name": "customers", "field": "status", "transformations": [{"type": "INDIRECT", "subtype": "FILTER"}]}],
)
FEATURES = [
    {"name": "income_k", "inputFields": [_from("s3://lake", "customers_clean", "income", "TRANSFORMATION", "income / 1000")]},
    {"name": "tenure", "inputFields": [_from("s3://lake", "customers_clean", "tenure_months", "IDENTITY")]},
]
MODEL_INPUTS = [
    {"name": f["name"], "inputFields": [_from("feast://store", "features/churn_features", str(f["name"]), "IDENTITY")]} for f in FEATURES
]


def snapshot(run: str, day: int, version: str, sha: str, commit: str) -> dict[str, Any]:
    out = s.dataset("customers", version, facets={"ml_artifact": s.facet(sha256=sha, sizeBytes=1024), "schema": _schema()})
    return s.event(run, "COMPLETE", s.ts(6, day=day), job="snapshot-customers", outputs=[out], job_facets=s.git(commit, DATA_REPO))


def clean(run: str, dag: str, day: int) -> list[dict[str, Any]]:
    """A plain OpenLineage job (no ml_* facets): unversioned input and output, a parent DAG run."""
    parent = {"parent": s.facet(run={"runId": s.run_uuid(dag)}, job={"namespace": "airflow", "name": "nightly"})}
    io = {"inputs": [s.dataset("customers")], "outputs": [s.dataset("customers_clean")], "run_facets": parent, "job": "clean_customers", "namespace": "airflow"}
    done = io | {"outputs": [s.dataset("customers_clean", facets={"columnLineage": CLEAN_LINEAGE})]}
    return [s.event(run, "START", s.ts(7, day=day), **io), s.event(run, "COMPLETE", s.ts(7, 30, day=day), **done)]


def features(run: str, day: int, version: str) -> dict[str, Any]:
    view = s.feature_view("churn_features", version)
    view["facets"]["ml_featureView"]["features"] = FEATURES  # each names the columns it comes from
    return s.event(run, "COMPLETE", s.ts(8, day=day), job="build-churn-features", inputs=[s.dataset("customers_clean")], outputs=[view])


def train(run: str, day: int, fv: str, version: str, lr: float, auc: float, commit: str) -> dict[str, Any]:
    return s.event(
        run,
        "COMPLETE",
        s.ts(9, day=day),
        job="train-churn",
        inputs=[s.feature_view("churn_features", fv)],
        outputs=[s.model("churn", version, metrics={"auc": auc}, framework="sklearn", inputs=MODEL_INPUTS)],
        run_facets={"ml_training": s.facet(params={"lr": lr, "max_depth": 6}, metrics={"auc": auc}, seed=7, hardware="cpu")},
        job_facets=s.git(commit),
    )


def unrelated() -> list[dict[str, Any]]:
    billing = s.event("billing#1", "COMPLETE", s.ts(6, day=2), job="billing", inputs=[s.dataset("invoices", "inv-7")], outputs=[s.dataset("billing_summary")])
    fraud_train = s.event("fraud-train#1", "COMPLETE", s.ts(9, day=2), job="train-fraud", inputs=[s.dataset("transactions", "tx-3")], outputs=[s.model("fraud", "1.0.0")])
    return [billing, fraud_train, *s.deploy("fraud-dep#1", s.ts(10, day=2), "fraud", "1.0.0", "fraud-prod")]


EVENTS: list[dict[str, Any]] = [
    snapshot("snap#171", 1, "data-v1.7.1", "a" * 64, COMMIT_DATA_OK),
    *clean("clean#1", "dag#1", 1),
    features("feat#1", 1, "fv-1"),
    train("train#220", 1, "fv-1", "2.2.0", 0.1, 0.81, COMMIT_TRAIN_1),
    s.promote("prom#1", s.ts(9, 30, day=1), "churn", "Production", "2.2.0"),
    *s.deploy("dep-prod#1", s.ts(10, day=1), "churn", "2.2.0", "churn-prod"),
    *s.deploy("dep-us#1", s.ts(10, day=1), "churn", "2.2.0", "churn-us"),
    *s.deploy("dep-batch#1", s.ts(10, day=1), "churn", "2.2.0", "churn-batch"),
    snapshot("snap#182", 2, "data-v1.8.2", "b" * 64, COMMIT_DATA_BAD),
    *clean("clean#2", "dag#2", 2),
    features("feat#2", 2, "fv-2"),
    train("train#231", 2, "fv-2", "2.3.1", 0.05, 0.84, COMMIT_TRAIN_2),
    s.promote("prom#2", s.ts(9, 30, day=2), "churn", "Production", "2.3.1"),
    *s.deploy("dep-prod#2", s.ts(10, day=2), "churn", "2.3.1", "churn-prod"),
    *s.deploy("dep-eu#1", s.ts(12, day=2), "churn", "2.3.1", "churn-eu"),
    *s.deploy("canary-us#1", s.ts(13, day=2), "churn", "2.3.1", "churn-us", traffic=20),
    *s.deploy("dep-prod#3", s.ts(11, day=3), "churn", "2.2.0", "churn-prod"),  # rollback
    s.promote("prom#3", s.ts(11, 5, day=3), "churn", "Production", "2.2.0"),
    *unrelated(),
]
