"""A run's environment, read from `ml_environment` and OpenLineage's `environmentVariables`, and
how a serving environment drifts from the training one (issue 37, point 1)."""

from __future__ import annotations

from typing import Any

from lineage.graph import Node

# Variables of the standard `environmentVariables` facet that say what `ml_environment` says,
# for producers that only pass their environment through. PYTHON_VERSION is what the official
# Python container images set.
VARIABLES: dict[str, str] = {
    "LINEAGE_IMAGE_DIGEST": "imageDigest",
    "IMAGE_DIGEST": "imageDigest",
    "CONTAINER_IMAGE_DIGEST": "imageDigest",
    "LINEAGE_LOCKFILE_SHA256": "lockfileSha256",
    "LOCKFILE_SHA256": "lockfileSha256",
    "PYTHON_VERSION": "languageVersion",
}
FIELDS = ("language", "languageVersion", "framework", "frameworkVersion", "imageDigest", "lockfile", "lockfileSha256", "hardware")


def environment_of(run: Node | None) -> dict[str, Any]:
    """What is known of the environment a run ran in; `{}` when nothing. `ml_environment` wins
    over a variable saying the same thing; `source` names the facets it came from."""
    facets = (run.props.get("facets") or {}) if run is not None else {}
    own = facets.get("ml_environment")
    own = own if isinstance(own, dict) else {}
    out: dict[str, Any] = {k: own[k] for k in FIELDS if own.get(k) not in (None, "", {})}
    packages = own.get("packages")
    if isinstance(packages, dict) and packages:
        out["packages"] = {str(k): str(v) for k, v in packages.items()}
    sources = ["ml_environment"] if out else []
    variables = (facets.get("environmentVariables") or {}).get("environmentVariables")
    from_variables = False
    for entry in variables if isinstance(variables, list) else []:
        if not isinstance(entry, dict):
            continue
        key = VARIABLES.get(str(entry.get("name")))
        if key and key not in out and isinstance(entry.get("value"), str) and entry["value"]:
            out[key] = entry["value"]
            from_variables = True
    if from_variables:
        sources.append("environmentVariables")
    if out:
        out["source"] = sources
    return out


def framework_version(env: dict[str, Any]) -> str | None:
    """The framework's version: said outright, or the framework's entry among the packages."""
    if env.get("frameworkVersion"):
        return str(env["frameworkVersion"])
    name = env.get("framework")
    packages = env.get("packages") or {}
    return str(packages[name]) if name and name in packages else None


def drift(training: dict[str, Any], serving: dict[str, Any]) -> list[str]:
    """How a serving environment differs from the training one in what matters for a model to
    behave as tested: the framework (name or version) and the lockfile. Only what both sides
    say is compared: a side that says nothing is unknown, not different."""
    found = []
    if training.get("framework") and serving.get("framework") and training["framework"] != serving["framework"]:
        found.append(f"framework {training['framework']} in training, {serving['framework']} serving")
    else:
        before, after = framework_version(training), framework_version(serving)
        if before and after and before != after:
            name = training.get("framework") or serving.get("framework") or "framework"
            found.append(f"{name} {before} in training, {after} serving")
    before, after = training.get("lockfileSha256"), serving.get("lockfileSha256")
    if before and after and before.lower() != after.lower():
        found.append(f"lockfile sha256 {before[:12]} in training, {after[:12]} serving")
    return found
