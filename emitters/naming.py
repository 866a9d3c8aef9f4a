"""Dataset names for models, feature views and endpoints, so every step names the same datasets.

A model version is one dataset per model (`models://<registry>`, `<model>`) whose versions are
the model versions; an endpoint is one dataset per endpoint (`serving://<environment>`,
`<endpoint>`) whose versions are its deployments (DESIGN.md sections 3-4). Training, promotion
and deploy steps, and `lineage emit`, all build names here and nowhere else.
"""

from __future__ import annotations

import re

DEFAULT_REGISTRY = "default"
DEFAULT_FEATURE_STORE = "default"
DEFAULT_ENVIRONMENT = "prod"

# Registry, store and environment names end up inside a URI authority: keep them to the
# characters that need no escaping there.
_AUTHORITY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def _authority(value: str, what: str) -> str:
    if not _AUTHORITY.match(value):
        raise ValueError(f"{what} {value!r}: use letters, digits, '.', '_' or '-'")
    return value


def _name(value: str, what: str) -> str:
    if not value or not value.strip():
        raise ValueError(f"{what} must not be empty")
    return value


def model_dataset(model: str, registry: str = DEFAULT_REGISTRY) -> tuple[str, str]:
    """(namespace, name) of the dataset whose versions are the versions of `model`."""
    return f"models://{_authority(registry, 'registry')}", _name(model, "model name")


def feature_view_dataset(view: str, store: str = DEFAULT_FEATURE_STORE) -> tuple[str, str]:
    """(namespace, name) of the dataset whose versions are the versions of a feature view."""
    return f"features://{_authority(store, 'feature store')}", _name(view, "feature view name")


def endpoint_dataset(endpoint: str, environment: str = DEFAULT_ENVIRONMENT) -> tuple[str, str]:
    """(namespace, name) of the dataset whose versions are the deployments of an endpoint."""
    return f"serving://{_authority(environment, 'environment')}", _name(endpoint, "endpoint name")


def parse_model_ref(ref: str) -> tuple[str, str]:
    """`churn@2.3.1` -> ("churn", "2.3.1"), the handle the service and the CLI use."""
    name, sep, version = ref.rpartition("@")
    if not sep or not name or not version:
        raise ValueError(f"{ref!r} is not MODEL@VERSION (e.g. churn@2.3.1)")
    return name, version


def deploy_job(endpoint: str) -> str:
    return f"deploy-{endpoint}"


def promote_job(model: str) -> str:
    return f"promote-{model}"


def train_job(model: str) -> str:
    return f"train-{model}"


def features_job(view: str) -> str:
    return f"build-{view}"
