"""Builders for OpenLineage events of ML release steps, for tests (plain dicts, as sent)."""

from __future__ import annotations

import uuid
from typing import Any

PRODUCER = "https://example.com/tests/scenario"
SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
FACET = "https://example.com/facet"


def run_uuid(name: str) -> str:
    """A stable UUID per name, so tests can refer to runs by a readable name."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def ts(hour: int, minute: int = 0, day: int = 1) -> str:
    return f"2026-03-{day:02d}T{hour:02d}:{minute:02d}:00.000Z"


def facet(**fields: Any) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL": FACET, **fields}


def dataset(
    name: str,
    version: str | None = None,
    *,
    namespace: str = "s3://lake",
    facets: dict[str, Any] | None = None,
    io_facets: dict[str, Any] | None = None,
    io_key: str = "inputFacets",
) -> dict[str, Any]:
    all_facets = dict(facets or {})
    if version is not None:
        all_facets["version"] = facet(datasetVersion=version)
    out: dict[str, Any] = {"namespace": namespace, "name": name, "facets": all_facets}
    if io_facets:
        out[io_key] = io_facets
    return out


def model(name: str, version: str, **extra: Any) -> dict[str, Any]:
    return dataset(
        f"models/{name}", namespace="registry://models", facets={"ml_modelVersion": facet(name=name, version=version, **extra)}
    )


def feature_view(name: str, version: str) -> dict[str, Any]:
    return dataset(
        f"features/{name}",
        namespace="feast://store",
        facets={"ml_featureView": facet(name=name, version=version, features=["tenure"], entities=["customer"])},
    )


def endpoint(name: str, traffic: float | None = None) -> dict[str, Any]:
    fields: dict[str, Any] = {"name": name, "environment": "prod"}
    if traffic is not None:
        fields["trafficPercent"] = traffic
    return dataset(f"endpoints/{name}", namespace="k8s://serving", facets={"ml_endpoint": facet(**fields)})


def event(
    run: str,
    event_type: str,
    time: str,
    *,
    job: str | None = None,
    inputs: list[dict[str, Any]] | None = None,
    outputs: list[dict[str, Any]] | None = None,
    run_facets: dict[str, Any] | None = None,
    job_facets: dict[str, Any] | None = None,
    namespace: str = "ml-pipelines",
) -> dict[str, Any]:
    return {
        "eventType": event_type,
        "eventTime": time,
        "producer": PRODUCER,
        "schemaURL": SCHEMA,
        "run": {"runId": run_uuid(run), "facets": run_facets or {}},
        "job": {"namespace": namespace, "name": job or run.rsplit("#", 1)[0], "facets": job_facets or {}},
        "inputs": inputs or [],
        "outputs": outputs or [],
    }


def git(sha: str, repo: str = "https://git.example.com/ml/churn.git", branch: str = "main") -> dict[str, Any]:
    return {"sourceCodeLocation": facet(type="git", url=repo, repoUrl=repo, version=sha, branch=branch)}


def deploy(run: str, time: str, model_name: str, version: str, endpoint_name: str, traffic: float | None = None) -> list[dict[str, Any]]:
    """START and COMPLETE of a deploy run reading a model version and writing an endpoint."""
    io = {"inputs": [model(model_name, version)], "outputs": [endpoint(endpoint_name, traffic)]}
    return [event(run, "START", time, job=f"deploy-{endpoint_name}", **io), event(run, "COMPLETE", time, job=f"deploy-{endpoint_name}", **io)]


def promote(run: str, time: str, model_name: str, alias: str, version: str, decision: str = "approved") -> dict[str, Any]:
    return event(
        run,
        "COMPLETE",
        time,
        job=f"promote-{model_name}",
        inputs=[model(model_name, version)],
        run_facets={
            "ml_alias": facet(model=model_name, alias=alias, version=version),
            "ml_approval": facet(reviewer="alice", decision=decision, checks={"auc": True}),
        },
    )
