"""Our custom `ml_*` facets as openlineage-python facet classes (DESIGN.md section 4).

Each class subclasses the client's `RunFacet` or `DatasetFacet`, so it serialises with the
client's `Serde` and travels through every transport. Its `_schemaURL` is where the service
publishes its JSON schema, `<service>/schemas/facets/<key>.json`; the emitter rebases it onto the
service it talks to (`stamp_facets`), so the URL a facet carries resolves.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

import attr
from openlineage.client.constants import DEFAULT_PRODUCER as CLIENT_PRODUCER
from openlineage.client.event_v2 import RunEvent
from openlineage.client.facet_v2 import BaseFacet, DatasetFacet, RunFacet

DEFAULT_SERVICE_URL = "http://127.0.0.1:5000"
DECISIONS = ("approved", "rejected", "pending")
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


def schema_url(key: str, base_url: str = DEFAULT_SERVICE_URL) -> str:
    """Where the service publishes the JSON schema of facet `key`."""
    return f"{base_url.rstrip('/')}/schemas/facets/{key}.json"


def _non_empty(_: Any, attribute: attr.Attribute[Any], value: str) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{attribute.name} must be a non-empty string")


def _numbers(_: Any, attribute: attr.Attribute[Any], value: dict[str, Any]) -> None:
    # The service keeps metrics as numbers; a string here would be refused with a 400 later,
    # far from the code that logged it.
    for name, number in value.items():
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise ValueError(f"{attribute.name}[{name!r}] must be a number, not {number!r}")


@attr.define
class FeatureViewDatasetFacet(DatasetFacet):
    """Marks a dataset as a feature view, and the version written as a feature view version."""

    KEY: ClassVar[str] = "ml_featureView"
    name: str = attr.field(validator=_non_empty)
    version: str = attr.field(validator=_non_empty)
    # names, or {name, inputFields: [...]} naming the columns a feature comes from (issue 36)
    features: list[str | dict[str, Any]] = attr.field(factory=list)
    entities: list[str] = attr.field(factory=list)

    @staticmethod
    def _get_schema() -> str:
        return schema_url("ml_featureView")


@attr.define
class ModelVersionDatasetFacet(DatasetFacet):
    """Marks a dataset as a model, and the version written as a model version."""

    KEY: ClassVar[str] = "ml_modelVersion"
    name: str = attr.field(validator=_non_empty)
    version: str = attr.field(validator=_non_empty)
    registryUri: str | None = attr.field(default=None)  # noqa: N815 (the facet's field name)
    framework: str | None = attr.field(default=None)
    metrics: dict[str, float] = attr.field(factory=dict, validator=_numbers)
    params: dict[str, Any] = attr.field(factory=dict)
    stage: str | None = attr.field(default=None)
    # the model's inputs: names, or {name, inputFields: [...]} naming their columns (issue 36)
    inputs: list[str | dict[str, Any]] = attr.field(factory=list)

    @staticmethod
    def _get_schema() -> str:
        return schema_url("ml_modelVersion")


@attr.define
class EndpointDatasetFacet(DatasetFacet):
    """On an output of a deploy run: the version written is a deployment of this endpoint."""

    KEY: ClassVar[str] = "ml_endpoint"
    name: str = attr.field(validator=_non_empty)
    environment: str | None = attr.field(default=None)
    url: str | None = attr.field(default=None)
    trafficPercent: float | None = attr.field(default=None)  # noqa: N815 (the facet's field name)

    @trafficPercent.validator
    def _traffic(self, _: attr.Attribute[Any], value: float | None) -> None:
        if value is not None and not 0 <= value <= 100:
            raise ValueError(f"trafficPercent must be within 0-100, not {value}")

    @staticmethod
    def _get_schema() -> str:
        return schema_url("ml_endpoint")


@attr.define
class ArtifactDatasetFacet(DatasetFacet):
    """Content hash of a dataset version; the service reports another hash for it as a violation."""

    KEY: ClassVar[str] = "ml_artifact"
    sha256: str = attr.field()
    sizeBytes: int | None = attr.field(default=None)  # noqa: N815 (the facet's field name)
    uri: str | None = attr.field(default=None)

    @sha256.validator
    def _hex(self, _: attr.Attribute[Any], value: str) -> None:
        if not isinstance(value, str) or not _SHA256.match(value):
            raise ValueError(f"sha256 must be 64 hex digits, not {value!r}")

    @staticmethod
    def _get_schema() -> str:
        return schema_url("ml_artifact")


@attr.define
class TrainingRunFacet(RunFacet):
    """How a model was trained: params, metrics, seed, hardware, duration."""

    KEY: ClassVar[str] = "ml_training"
    params: dict[str, Any] = attr.field(factory=dict)
    metrics: dict[str, float] = attr.field(factory=dict, validator=_numbers)
    seed: int | None = attr.field(default=None)
    hardware: str | dict[str, Any] | None = attr.field(default=None)
    durationSeconds: float | None = attr.field(default=None)  # noqa: N815 (the facet's field name)

    @staticmethod
    def _get_schema() -> str:
        return schema_url("ml_training")


@attr.define
class EnvironmentRunFacet(RunFacet):
    """Where a training or deploy step ran: interpreter, framework, the packages that matter,
    the container image digest and the lockfile's sha256 (the service compares training with
    serving)."""

    KEY: ClassVar[str] = "ml_environment"
    language: str | None = attr.field(default=None)
    languageVersion: str | None = attr.field(default=None)  # noqa: N815 (the facet's field name)
    framework: str | None = attr.field(default=None)
    frameworkVersion: str | None = attr.field(default=None)  # noqa: N815 (the facet's field name)
    packages: dict[str, str] = attr.field(factory=dict)
    imageDigest: str | None = attr.field(default=None)  # noqa: N815 (the facet's field name)
    lockfile: str | None = attr.field(default=None)
    lockfileSha256: str | None = attr.field(default=None)  # noqa: N815 (the facet's field name)
    hardware: str | dict[str, Any] | None = attr.field(default=None)

    @lockfileSha256.validator
    def _hex(self, _: attr.Attribute[Any], value: str | None) -> None:
        if value is not None and not _SHA256.match(value):
            raise ValueError(f"lockfileSha256 must be 64 hex digits, not {value!r}")

    @staticmethod
    def _get_schema() -> str:
        return schema_url("ml_environment")


@attr.define
class ApprovalRunFacet(RunFacet):
    """A promotion gate: who decided what, and which checks passed."""

    KEY: ClassVar[str] = "ml_approval"
    reviewer: str = attr.field(validator=_non_empty)
    decision: str = attr.field(validator=attr.validators.in_(DECISIONS))
    checks: dict[str, bool] = attr.field(factory=dict)
    notes: str | None = attr.field(default=None)

    @staticmethod
    def _get_schema() -> str:
        return schema_url("ml_approval")


@attr.define
class AliasRunFacet(RunFacet):
    """Moves a model alias (Production, Staging, champion) to a version."""

    KEY: ClassVar[str] = "ml_alias"
    model: str = attr.field(validator=_non_empty)
    alias: str = attr.field(validator=_non_empty)
    version: str = attr.field(validator=_non_empty)

    @staticmethod
    def _get_schema() -> str:
        return schema_url("ml_alias")


ML_FACETS: dict[str, type[BaseFacet]] = {
    cls.KEY: cls
    for cls in (
        FeatureViewDatasetFacet,
        ModelVersionDatasetFacet,
        EndpointDatasetFacet,
        ArtifactDatasetFacet,
        TrainingRunFacet,
        EnvironmentRunFacet,
        ApprovalRunFacet,
        AliasRunFacet,
    )
}


def _facets_of(event: RunEvent) -> Iterator[BaseFacet]:
    yield from (event.run.facets or {}).values()
    yield from (event.job.facets or {}).values()
    for dataset in [*(event.inputs or []), *(event.outputs or [])]:
        yield from (dataset.facets or {}).values()
        yield from (getattr(dataset, "inputFacets", None) or getattr(dataset, "outputFacets", None) or {}).values()


def stamp_facets(event: RunEvent, base_url: str) -> None:
    """Point the `_schemaURL` of every ml_* facet of `event` at the service at `base_url`, and
    name the event's producer on facets still carrying the client library's default."""
    for facet in _facets_of(event):
        key = getattr(type(facet), "KEY", None)
        if key in ML_FACETS:
            facet._schemaURL = schema_url(key, base_url)
        if facet._producer == CLIENT_PRODUCER:
            facet._producer = event.producer
