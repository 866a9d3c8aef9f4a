"""What a step reads and writes: plain data, feature views, model versions, endpoints.

Each spec names its dataset (through `naming`), the version it stands for, and the facets that
say what it is; a local `path` is hashed into `ml_artifact` when the step reads it (at START) or
has written it (at COMPLETE).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from openlineage.client.event_v2 import InputDataset, OutputDataset
from openlineage.client.facet_v2 import (
    DatasetFacet,
    InputDatasetFacet,
    OutputDatasetFacet,
    dataset_version_dataset,
    input_statistics_input_dataset,
    output_statistics_output_dataset,
    schema_dataset,
)

from emitters import naming
from emitters.columns import INDIRECT, Column, Feature, column_lineage_facet, facet_entries, feature_names
from emitters.facets import (
    ArtifactDatasetFacet,
    EndpointDatasetFacet,
    FeatureViewDatasetFacet,
    ModelVersionDatasetFacet,
)

Artifact = tuple[str, int]  # sha256, size in bytes


class DatasetSpec(Protocol):
    """Anything a step can read or write."""

    @property
    def namespace(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str | None: ...
    @property
    def path(self) -> str | Path | None: ...
    @property
    def rows(self) -> int | None: ...
    def facets(self) -> dict[str, DatasetFacet]: ...


def _version_facets(version: str | None) -> dict[str, DatasetFacet]:
    if version is None:
        return {}
    return {"version": dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion=version)}


@dataclass(frozen=True)
class Data:
    """A dataset version: a table, a file snapshot, a folder. `fields` are (name, type) columns;
    `input_facets` are what a step reading it reports about it (data quality metrics and
    assertions), sent with it as an input; `columns` says, per output column, the input columns
    it is made from, and `dataset_columns` the (INDIRECT) columns that shape every row: the
    `columnLineage` facet (issue 36)."""

    namespace: str
    name: str
    version: str | None = None
    path: str | Path | None = None
    uri: str | None = None
    fields: Sequence[tuple[str, str]] | None = None
    rows: int | None = None
    extra: Mapping[str, DatasetFacet] = field(default_factory=dict)
    input_facets: Mapping[str, InputDatasetFacet] = field(default_factory=dict)
    columns: Mapping[str, Sequence[Column]] | None = None
    dataset_columns: Sequence[Column] = ()

    def facets(self) -> dict[str, DatasetFacet]:
        facets = _version_facets(self.version)
        if self.fields is not None:
            facets["schema"] = schema_dataset.SchemaDatasetFacet(
                fields=[schema_dataset.SchemaDatasetFacetFields(name=n, type=t) for n, t in self.fields]
            )
        if self.columns is not None or self.dataset_columns:
            facets["columnLineage"] = column_lineage_facet(self.columns or {}, self.dataset_columns)
        return facets | dict(self.extra)

    def column(
        self, field: str, subtype: str | None = None, description: str | None = None, *, indirect: bool = False, masking: bool = False
    ) -> Column:
        """One of this dataset's columns, as the source of another column or a feature."""
        return Column(self.namespace, self.name, field, subtype, description, INDIRECT if indirect else "DIRECT", masking)


@dataclass(frozen=True)
class FeatureView:
    """A feature view version (`ml_featureView`); a feature is a name, or a `Feature` naming the
    columns it is computed from (issue 36)."""

    view: str
    version: str
    features: Sequence[str | Feature] = ()
    entities: Sequence[str] = ()
    store: str = naming.DEFAULT_FEATURE_STORE
    path: str | Path | None = None
    rows: int | None = None

    @property
    def namespace(self) -> str:
        return naming.feature_view_dataset(self.view, self.store)[0]

    @property
    def name(self) -> str:
        return naming.feature_view_dataset(self.view, self.store)[1]

    def facets(self) -> dict[str, DatasetFacet]:
        facet = FeatureViewDatasetFacet(
            name=self.view, version=self.version, features=facet_entries(self.features), entities=list(self.entities)
        )
        return _version_facets(self.version) | {facet.KEY: facet}

    def column(self, feature: str, subtype: str | None = "IDENTITY", description: str | None = None) -> Column:
        """One feature of this view, as a column a model input is fed from."""
        if feature not in feature_names(self.features):
            raise ValueError(f"{self.view}@{self.version} has no feature {feature!r}")
        return Column(self.namespace, self.name, feature, subtype, description)

    def inputs(self, names: Sequence[str] | None = None) -> list[Feature]:
        """Model inputs fed as they are from these features (all of them by default)."""
        return [Feature(n, [self.column(n)]) for n in (feature_names(self.features) if names is None else names)]


@dataclass(frozen=True)
class ModelVersion:
    """A model version (`ml_modelVersion`), named `model@version` by the service."""

    model: str
    version: str
    registry: str = naming.DEFAULT_REGISTRY
    registry_uri: str | None = None
    framework: str | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    stage: str | None = None
    path: str | Path | None = None
    rows: int | None = None
    inputs: Sequence[str | Feature] = ()  # what the model is fed, with the columns they are (issue 36)

    @classmethod
    def parse(cls, ref: str, **kwargs: Any) -> ModelVersion:
        """From the `churn@2.3.1` handle."""
        model, version = naming.parse_model_ref(ref)
        return cls(model, version, **kwargs)

    @property
    def ref(self) -> str:
        return f"{self.model}@{self.version}"

    @property
    def namespace(self) -> str:
        return naming.model_dataset(self.model, self.registry)[0]

    @property
    def name(self) -> str:
        return naming.model_dataset(self.model, self.registry)[1]

    def with_results(self, metrics: Mapping[str, float], params: Mapping[str, Any]) -> ModelVersion:
        """This version with what its training logged (its own values win)."""
        return replace(self, metrics={**metrics, **self.metrics}, params={**params, **self.params})

    def facets(self) -> dict[str, DatasetFacet]:
        facet = ModelVersionDatasetFacet(
            name=self.model,
            version=self.version,
            registryUri=self.registry_uri,
            framework=self.framework,
            metrics=dict(self.metrics),
            params=dict(self.params),
            stage=self.stage,
            inputs=facet_entries(self.inputs),
        )
        return _version_facets(self.version) | {facet.KEY: facet}


@dataclass(frozen=True)
class Endpoint:
    """A serving endpoint; each deploy run writes a new deployment (version) of it.

    `traffic_percent` below 100 is a canary: it ends only earlier canaries, not the full
    deployment it runs beside."""

    endpoint: str
    environment: str = naming.DEFAULT_ENVIRONMENT
    url: str | None = None
    traffic_percent: float | None = None

    version = None  # derived by the service from the deploy run
    path = None
    rows = None

    @property
    def namespace(self) -> str:
        return naming.endpoint_dataset(self.endpoint, self.environment)[0]

    @property
    def name(self) -> str:
        return naming.endpoint_dataset(self.endpoint, self.environment)[1]

    def facets(self) -> dict[str, DatasetFacet]:
        facet = EndpointDatasetFacet(
            name=self.endpoint, environment=self.environment, url=self.url, trafficPercent=self.traffic_percent
        )
        return {facet.KEY: facet}


def _artifact(spec: DatasetSpec, artifact: Artifact | None) -> dict[str, DatasetFacet]:
    if artifact is None:
        return {}
    uri = getattr(spec, "uri", None) or (Path(spec.path).resolve().as_uri() if spec.path is not None else None)
    facet = ArtifactDatasetFacet(sha256=artifact[0], sizeBytes=artifact[1], uri=uri)
    return {facet.KEY: facet}


def as_input(spec: DatasetSpec, artifact: Artifact | None = None) -> InputDataset:
    io: dict[str, InputDatasetFacet] = {}
    if spec.rows is not None:
        io["inputStatistics"] = input_statistics_input_dataset.InputStatisticsInputDatasetFacet(rowCount=spec.rows)
    io |= dict(getattr(spec, "input_facets", None) or {})
    return InputDataset(
        namespace=spec.namespace, name=spec.name, facets=spec.facets() | _artifact(spec, artifact), inputFacets=io
    )


def as_output(spec: DatasetSpec, artifact: Artifact | None = None) -> OutputDataset:
    io: dict[str, OutputDatasetFacet] = {}
    if spec.rows is not None or artifact is not None:
        io["outputStatistics"] = output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
            rowCount=spec.rows, size=artifact[1] if artifact else None
        )
    return OutputDataset(
        namespace=spec.namespace, name=spec.name, facets=spec.facets() | _artifact(spec, artifact), outputFacets=io
    )
