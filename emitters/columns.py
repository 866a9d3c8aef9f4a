"""Which columns a step used (issue 36): source columns, features and model inputs named with
the columns they come from, and the standard `columnLineage` facet for a data step's outputs.

    income = snapshot.column("income", "TRANSFORMATION", "income / 1000")
    view = FeatureView("churn_features", "fv-2", [Feature("income_k", [income]), "tenure_months"])
    target = ModelVersion("churn", "2.3.1", inputs=view.inputs())
    clean = Data("lake", "clean", columns={"income_k": [income]})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openlineage.client.facet_v2 import column_lineage_dataset

DIRECT, INDIRECT = "DIRECT", "INDIRECT"


@dataclass(frozen=True)
class Column:
    """A column of a dataset that another column is made from, and how (OpenLineage's
    transformation vocabulary: type DIRECT or INDIRECT, subtype IDENTITY, TRANSFORMATION,
    AGGREGATION, FILTER, JOIN, GROUP_BY, SORT, ...)."""

    namespace: str
    name: str
    field: str
    subtype: str | None = None
    description: str | None = None
    type: str = DIRECT
    masking: bool = False

    def __post_init__(self) -> None:
        if self.type not in (DIRECT, INDIRECT):
            raise ValueError(f"a transformation's type is DIRECT or INDIRECT, not {self.type!r}")
        if not self.field:
            raise ValueError("a column needs a field name")

    def transformation(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "masking": self.masking}
        if self.subtype:
            out["subtype"] = self.subtype
        if self.description:
            out["description"] = self.description
        return out

    def as_input_field(self) -> dict[str, Any]:
        """The column as our facets name it: an OpenLineage columnLineage input field."""
        return {"namespace": self.namespace, "name": self.name, "field": self.field, "transformations": [self.transformation()]}

    def as_facet_field(self) -> column_lineage_dataset.InputField:
        return column_lineage_dataset.InputField(
            namespace=self.namespace,
            name=self.name,
            field=self.field,
            transformations=[
                column_lineage_dataset.Transformation(
                    type=self.type, subtype=self.subtype, description=self.description, masking=self.masking
                )
            ],
        )


@dataclass(frozen=True)
class Feature:
    """A feature (or a model input) and the columns it is computed from."""

    name: str
    columns: Sequence[Column] = ()
    dtype: str | None = None

    def as_facet(self) -> str | dict[str, Any]:
        """What `ml_featureView.features` / `ml_modelVersion.inputs` hold: the bare name when it
        names no column (the facets' older form), else the name with its input fields."""
        if not self.columns and self.dtype is None:
            return self.name
        out: dict[str, Any] = {"name": self.name, "inputFields": [c.as_input_field() for c in self.columns]}
        if self.dtype is not None:
            out["dtype"] = self.dtype
        return out


def facet_entries(features: Sequence[str | Feature]) -> list[str | dict[str, Any]]:
    return [f if isinstance(f, str) else f.as_facet() for f in features]


def feature_names(features: Sequence[str | Feature]) -> list[str]:
    return [f if isinstance(f, str) else f.name for f in features]


def column_lineage_facet(
    columns: Mapping[str, Sequence[Column]], dataset: Sequence[Column] = ()
) -> column_lineage_dataset.ColumnLineageDatasetFacet:
    """The standard facet: per output field the columns it is made from, and `dataset`, the
    columns that shape every row (filters, joins, sorts), which are INDIRECT by nature."""
    for column in dataset:
        if column.type != INDIRECT:
            raise ValueError(f"dataset-wide column {column.field!r} must be INDIRECT")
    return column_lineage_dataset.ColumnLineageDatasetFacet(
        fields={
            name: column_lineage_dataset.Fields(inputFields=[c.as_facet_field() for c in sources])
            for name, sources in columns.items()
        },
        dataset=[c.as_facet_field() for c in dataset],
    )
