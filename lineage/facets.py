"""Our custom `ml_*` facets (DESIGN.md section 4) and checks of the standard facets we read.

Each custom facet is a pydantic model; its JSON schema is published by the API at
`/schemas/facets/<key>.json`, which is also the `_schemaURL` emitters put on it.
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError


FacetScope = Literal["dataset", "run"]


class _Facet(BaseModel):
    # Facets may carry more than we read; unknown fields are kept as they came.
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    producer: str | None = Field(default=None, alias="_producer")
    schema_url: str | None = Field(default=None, alias="_schemaURL")


class Transformation(BaseModel):
    """How an input column became an output column: OpenLineage's columnLineage vocabulary."""

    model_config = ConfigDict(extra="allow")
    type: str | None = Field(default=None, description="DIRECT or INDIRECT")
    subtype: str | None = Field(default=None, description="IDENTITY, TRANSFORMATION, AGGREGATION, FILTER, JOIN, ...")
    description: str | None = None
    masking: bool | None = None


class InputField(BaseModel):
    """A column of another dataset, as columnLineage names one: namespace, dataset name, field."""

    model_config = ConfigDict(extra="allow")
    namespace: str = Field(min_length=1)
    name: str = Field(min_length=1)
    field: str = Field(min_length=1)
    transformations: list[Transformation] | None = None


class Feature(BaseModel):
    """A feature and the columns it is computed from (issue 36); a bare name says only the name."""

    model_config = ConfigDict(extra="allow")
    name: str = Field(min_length=1)
    dtype: str | None = None
    inputFields: list[InputField] = Field(default_factory=list)


class ModelInput(BaseModel):
    """An input of a model (a feature, usually) and the columns it is fed from (issue 36)."""

    model_config = ConfigDict(extra="allow")
    name: str = Field(min_length=1)
    inputFields: list[InputField] = Field(default_factory=list)


class FeatureViewFacet(_Facet):
    """Marks a dataset as a feature view; its version as a feature view version."""

    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    features: list[str | Feature] = Field(default_factory=list)
    entities: list[str] = Field(default_factory=list)


class ModelVersionFacet(_Facet):
    """Marks a dataset as a model; its version as a model version."""

    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    registryUri: str | None = None
    framework: str | None = None
    metrics: dict[str, float] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)
    stage: str | None = None
    inputs: list[str | ModelInput] = Field(default_factory=list)


class EndpointFacet(_Facet):
    """On an output of a deploy run: the version written is a deployment of this endpoint."""

    name: str = Field(min_length=1)
    environment: str | None = None
    url: str | None = None
    trafficPercent: float | None = Field(default=None, ge=0, le=100)


class ArtifactFacet(_Facet):
    """Content hash of a dataset version; another hash for the same version is a violation."""

    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$")
    sizeBytes: int | None = Field(default=None, ge=0)
    uri: str | None = None


class TrainingFacet(_Facet):
    """How a model was trained."""

    params: dict[str, Any]
    metrics: dict[str, float]
    seed: int | None = None
    hardware: str | dict[str, Any] | None = None
    durationSeconds: float | None = Field(default=None, ge=0)


class EnvironmentFacet(_Facet):
    """Where a run ran (issue 37): interpreter, framework, the packages that matter, the
    container image and the dependency lockfile. Every field is optional, so a producer says
    what it knows; drift between training and serving is judged only on what both sides say."""

    language: str | None = None
    languageVersion: str | None = None
    framework: str | None = None
    frameworkVersion: str | None = None
    packages: dict[str, str] = Field(default_factory=dict)
    imageDigest: str | None = None
    lockfile: str | None = None
    lockfileSha256: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")
    hardware: str | dict[str, Any] | None = None


class ApprovalFacet(_Facet):
    """A promotion gate: who decided what, and which checks passed."""

    reviewer: str = Field(min_length=1)
    decision: Literal["approved", "rejected", "pending"]
    checks: dict[str, bool] = Field(default_factory=dict)
    notes: str | None = None


class AliasFacet(_Facet):
    """Moves a model alias (Production, Staging, champion) to a version."""

    model: str = Field(min_length=1)
    alias: str = Field(min_length=1)
    version: str = Field(min_length=1)


CUSTOM_FACETS: dict[str, tuple[FacetScope, type[_Facet]]] = {
    "ml_featureView": ("dataset", FeatureViewFacet),
    "ml_modelVersion": ("dataset", ModelVersionFacet),
    "ml_endpoint": ("dataset", EndpointFacet),
    "ml_artifact": ("dataset", ArtifactFacet),
    "ml_training": ("run", TrainingFacet),
    "ml_environment": ("run", EnvironmentFacet),
    "ml_approval": ("run", ApprovalFacet),
    "ml_alias": ("run", AliasFacet),
}


def facet_schema(key: str, base_url: str = "") -> dict[str, Any]:
    """JSON schema of a custom facet, with `$id` pointing where the API publishes it."""
    _, model = CUSTOM_FACETS[key]
    schema = model.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"{base_url}/schemas/facets/{key}.json"
    return schema


# Standard facets we read, checked only as far as the projection relies on them or the
# OpenLineage facet schema requires; everything else in a facet is kept as it came.
class _EnvironmentVariable(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    value: str | None = None


class EnvironmentVariablesFacet(_Facet):
    environmentVariables: list[_EnvironmentVariable] = Field(default_factory=list)


class _ParentRun(BaseModel):
    runId: str


class _ParentJob(BaseModel):
    namespace: str = Field(min_length=1)
    name: str = Field(min_length=1)


class ParentFacet(_Facet):
    run: _ParentRun
    job: _ParentJob


class _Owner(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    type: str | None = None


class OwnershipFacet(_Facet):
    owners: list[_Owner] = Field(default_factory=list)


class DatasetVersionFacet(_Facet):
    datasetVersion: str = Field(min_length=1)


class SourceCodeLocationFacet(_Facet):
    type: str | None = None
    url: str | None = None
    repoUrl: str | None = None
    path: str | None = None
    version: str | None = None
    tag: str | None = None
    branch: str | None = None


class JobTypeFacet(_Facet):
    processingType: str | None = None
    integration: str | None = None
    jobType: str | None = None


class ErrorMessageFacet(_Facet):
    message: str
    programmingLanguage: str | None = None


class OutputStatisticsFacet(_Facet):
    rowCount: int | None = None
    size: int | None = None
    fileCount: int | None = None


class InputStatisticsFacet(OutputStatisticsFacet):
    """Same fields as the output statistics, on the reading side."""


class DataQualityMetricsFacet(_Facet):
    columnMetrics: dict[str, dict[str, Any]]
    rowCount: int | None = None
    bytes: int | None = None
    fileCount: int | None = None


STANDARD_FACETS: dict[str, type[_Facet]] = {
    "parent": ParentFacet,
    "ownership": OwnershipFacet,
    "version": DatasetVersionFacet,
    "sourceCodeLocation": SourceCodeLocationFacet,
    "jobType": JobTypeFacet,
    "errorMessage": ErrorMessageFacet,
    "outputStatistics": OutputStatisticsFacet,
    "inputStatistics": InputStatisticsFacet,
    "dataQualityMetrics": DataQualityMetricsFacet,
    "environmentVariables": EnvironmentVariablesFacet,
}


# Facets the service reads to build the graph or answer questions. One of these that breaks its
# schema would mislead where it is read, so only what validates of it is read (issue 29); the
# others (statistics, data quality) are shown as they came, with their problem flagged.
INTERPRETED = frozenset(CUSTOM_FACETS) | {"parent", "ownership", "version", "sourceCodeLocation", "jobType", "errorMessage"}


class _ParentRunId(BaseModel):
    runId: UUID


class _StrictParent(BaseModel):
    """The parent facet as the projection reads it: a run id that is a UUID."""

    model_config = ConfigDict(extra="allow")
    run: _ParentRunId


def _model(key: str) -> type[BaseModel] | None:
    model = STANDARD_FACETS.get(key)
    if model is None and key in CUSTOM_FACETS:
        model = CUSTOM_FACETS[key][1]
    return model


def _real_path(value: Any, loc: tuple[int | str, ...]) -> str:
    """The part of a validation error's location that is a path into `value`: pydantic adds the
    member it tried of a union (`hardware.str`), which names nothing a producer sent."""
    parts, here = [], value
    for step in loc:
        if isinstance(here, dict) and step in here:
            here = here[step]
        elif isinstance(here, list) and isinstance(step, int) and 0 <= step < len(here):
            here = here[step]
        elif isinstance(here, dict) and isinstance(step, str):
            parts.append(step)  # a missing field: named, and nothing below it
            break
        else:
            break
        parts.append(str(step))
    return ".".join(parts)


def _first_error(model: type[BaseModel], value: dict[str, Any]) -> tuple[str, str] | None:
    """(path, message) of the first way `value` breaks `model`'s schema, or None."""
    try:
        model.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        return _real_path(value, first["loc"]), first["msg"]
    return None


def _broken_fields(model: type[BaseModel], value: dict[str, Any]) -> set[str]:
    try:
        model.model_validate(value)
    except ValidationError as exc:
        return {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
    return set()


def check_facet(key: str, value: dict[str, Any], where: str) -> tuple[str, str] | None:
    """(field, message) naming where a known facet breaks its schema, or None when it holds
    (or is not one we know)."""
    model = _model(key)
    found = _first_error(model, value) if model is not None else None
    if found is None and key == "parent":
        found = _first_error(_StrictParent, value)
    if found is None:
        return None
    path, message = found
    return f"{where}.{key}" + (f".{path}" if path else ""), message


def readable_part(key: str, value: dict[str, Any]) -> dict[str, Any] | None:
    """What of a facet that breaks its schema may still be read: for a facet the service
    interprets, the facet without its broken optional fields when that much validates, else
    nothing; any other facet is kept whole, as it came (nothing reads it as more than text)."""
    if key not in INTERPRETED:
        return value
    model = _model(key)
    if model is None or key == "parent":
        return None  # a parent without a UUID run id names no run: no CHILD_OF edge
    optional = {f.alias or name for name, f in model.model_fields.items() if not f.is_required()}
    broken = _broken_fields(model, value)
    if not broken or not broken <= optional:
        return None
    pruned = {k: v for k, v in value.items() if k not in broken}
    return pruned if _first_error(model, pruned) is None else None


def parse_facet(key: str, value: dict[str, Any]) -> Any:
    """A validated facet model; call only on facets that `check_facet` has accepted."""
    model = STANDARD_FACETS.get(key) or CUSTOM_FACETS[key][1]
    return model.model_validate(value)
