"""What the incident's pipelines also recorded (issue 37), as events that go with
tests/incident.py (examples/release-record.ndjson): the schema, statistics and data checks of
both snapshots (data-v1.8.2 drops `region` under a minor bump), the environment of training and
deploy runs (churn-eu serves with another scikit-learn), the trainers' owners, the sha256 of
2.2.0's model file (examples/artifacts; 2.3.1 was trained by hand and its upload, which records
the hash, was skipped), and the `champion` alias the batch scorer reads, moved to 2.3.1.

Facts about runs of the incident come as OTHER events of the same runs at the same times, so
they add facets without moving any time of the incident.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from tests import scenario as s

ARTIFACTS = Path(__file__).resolve().parents[1] / "examples" / "artifacts"
COLUMNS = [("customer_id", "string"), ("region", "string"), ("plan", "string"), ("tenure_months", "int"), ("status", "string")]
# The sha256 of the pipeline's uv.lock (its text is not part of the example).
LOCKFILE = hashlib.sha256(b"churn pipeline uv.lock, 2026-02-27").hexdigest()
TRAINING = {"language": "python", "languageVersion": "3.11.9", "framework": "scikit-learn", "frameworkVersion": "1.4.2",
            "lockfile": "uv.lock", "lockfileSha256": LOCKFILE}
# churn-eu's image was rebuilt with a newer scikit-learn than the lockfile pins.
DRIFTED = TRAINING | {"frameworkVersion": "1.5.0", "imageDigest": "sha256:" + "e" * 64}


def sha256(name: str) -> str:
    return hashlib.sha256((ARTIFACTS / name).read_bytes()).hexdigest()


def schema(run: str, day: int, version: str, rows: int, dropped: tuple[str, ...] = ()) -> dict[str, Any]:
    fields = [{"name": n, "type": t} for n, t in COLUMNS if n not in dropped]
    out = s.dataset(
        "customers", version, facets={"schema": s.facet(fields=fields)},
        io_facets={"outputStatistics": s.facet(rowCount=rows, size=1024)}, io_key="outputFacets",
    )
    return s.event(run, "OTHER", s.ts(6, day=day), job="snapshot-customers", outputs=[out])


def check(run: str, day: int, version: str, rows: int, failed: tuple[str, ...] = ()) -> dict[str, Any]:
    names = ("customer_id_unique", "columns_match_contract", "label_mapping_matches_contract")
    assertions = [{"assertion": n, "success": n not in failed} for n in names]
    metrics = s.facet(rowCount=rows, columnMetrics={"status": {"nullCount": 0, "distinctCount": 3}})
    io = {"dataQualityMetrics": metrics, "dataQualityAssertions": s.facet(assertions=assertions)}
    read = s.dataset("customers", version, io_facets=io)
    return s.event(run, "COMPLETE", s.ts(6, 30, day=day), job="check-customers", inputs=[read])


def trained(run: str, day: int, version: str, auc: float, uploaded: bool = True) -> dict[str, Any]:
    """The environment, the owners of the training job, and the model file's sha256 when it
    was uploaded. The model facet repeats the incident's own, so either copy reads the same."""
    model = s.model("churn", version, metrics={"auc": auc}, framework="sklearn")
    if uploaded:
        model["facets"]["ml_artifact"] = s.facet(sha256=sha256(f"churn-{version}.json"), uri=f"examples/artifacts/churn-{version}.json")
    owners = {"ownership": s.facet(owners=[{"name": "team:churn-ml", "type": "MAINTAINER"}])}
    return s.event(run, "OTHER", s.ts(9, day=day), job="train-churn", outputs=[model], run_facets={"ml_environment": s.facet(**TRAINING)}, job_facets=owners)


def deployed(run: str, time: str, endpoint: str, env: dict[str, Any]) -> dict[str, Any]:
    return s.event(run, "OTHER", time, job=f"deploy-{endpoint}", run_facets={"ml_environment": s.facet(**env)})


EVENTS: list[dict[str, Any]] = [
    schema("snap#171", 1, "data-v1.7.1", 600),
    check("check#171", 1, "data-v1.7.1", 600),
    trained("train#220", 1, "2.2.0", 0.81),
    deployed("dep-prod#1", s.ts(10, day=1), "churn-prod", TRAINING),
    deployed("dep-us#1", s.ts(10, day=1), "churn-us", TRAINING),
    deployed("dep-batch#1", s.ts(10, day=1), "churn-batch", TRAINING),
    schema("snap#182", 2, "data-v1.8.2", 800, dropped=("region",)),
    check("check#182", 2, "data-v1.8.2", 800, failed=("columns_match_contract", "label_mapping_matches_contract")),
    trained("train#231", 2, "2.3.1", 0.84, uploaded=False),
    s.promote("prom#champion", s.ts(9, 35, day=2), "churn", "champion", "2.3.1"),
    deployed("dep-prod#2", s.ts(10, day=2), "churn-prod", TRAINING),
    deployed("dep-eu#1", s.ts(12, day=2), "churn-eu", DRIFTED),
    deployed("canary-us#1", s.ts(13, day=2), "churn-us", TRAINING),
    deployed("dep-prod#3", s.ts(11, day=3), "churn-prod", TRAINING),
]
