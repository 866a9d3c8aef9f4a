"""The data checks a snapshot passes before features are built from it: the metrics and the
assertions a validation step reports as OpenLineage's data quality input facets."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from openlineage.client.facet_v2 import InputDatasetFacet, data_quality_assertions_dataset, data_quality_metrics_input_dataset

from examples.churn import data

# What the consumers of `customers` were promised: these columns, and this label mapping.
CONTRACT_COLUMNS = [name for name, _ in data.COLUMNS]
CONTRACT_MAPPING = data.GOOD_MAPPING


def _numbers(rows: list[dict[str, str]], column: str) -> list[float]:
    return [float(r[column]) for r in rows if r.get(column) not in (None, "")]


def check(snapshot: Path) -> dict[str, InputDatasetFacet]:
    """`dataQualityMetrics` and `dataQualityAssertions` of the snapshot in `snapshot`."""
    manifest = json.loads((snapshot / "manifest.json").read_text(encoding="utf-8"))
    with (snapshot / "customers.csv").open(encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    Metrics = data_quality_metrics_input_dataset.ColumnMetrics
    metrics: dict[str, data_quality_metrics_input_dataset.ColumnMetrics] = {
        "customer_id": Metrics(nullCount=sum(not r["customer_id"] for r in rows), distinctCount=len({r["customer_id"] for r in rows})),
        "status": Metrics(nullCount=sum(not r["status"] for r in rows), distinctCount=len({r["status"] for r in rows})),
    }
    for column in ("tenure_months", "monthly_spend"):
        values = _numbers(rows, column)
        metrics[column] = Metrics(nullCount=len(rows) - len(values), count=len(values), min=min(values), max=max(values), sum=round(sum(values), 2))
    missing = [c for c in CONTRACT_COLUMNS if c not in header]
    mapping = manifest["label"]["mapping"]
    wrong = sorted(k for k, v in mapping.items() if CONTRACT_MAPPING.get(k) != v)
    Assertion = data_quality_assertions_dataset.Assertion
    assertions = [
        Assertion(assertion="unique", success=metrics["customer_id"].distinctCount == len(rows), column="customer_id"),
        Assertion(assertion="not_null", success=metrics["status"].nullCount == 0, column="status"),
        Assertion(
            assertion="columns_match_contract", success=not missing, severity="error",
            expected=", ".join(CONTRACT_COLUMNS), actual=", ".join(header),
        ),
        Assertion(
            assertion="label_mapping_matches_contract", success=not wrong, column="status", severity="error",
            expected=json.dumps(CONTRACT_MAPPING, sort_keys=True), actual=json.dumps(mapping, sort_keys=True),
        ),
    ]
    return {
        "dataQualityMetrics": data_quality_metrics_input_dataset.DataQualityMetricsInputDatasetFacet(columnMetrics=metrics, rowCount=len(rows)),
        "dataQualityAssertions": data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet(assertions=assertions),
    }
