"""The shared OpenLineage corpus (../shared/openlineage-corpus): which files hold replayable
events, and which of those are invalid on purpose, with the field the rejection must name."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The corpus sits beside the repository (../shared); LINEAGE_CORPUS points elsewhere.
CORPUS = Path(os.environ.get("LINEAGE_CORPUS") or Path(__file__).resolve().parents[2] / "shared" / "openlineage-corpus")
if not (CORPUS / "SOURCES.md").is_file():
    raise FileNotFoundError(f"OpenLineage corpus not found at {CORPUS}; set LINEAGE_CORPUS to its folder")

# Files SOURCES.md marks invalid against the spec, and the field our 400 must name.
INVALID = {
    "OpenLineage-OpenLineage/proxy/fluentd/events/event_full.json": "inputs[0].inputFacets.dataQualityMetrics.columnMetrics",
    "OpenLineage-OpenLineage/proxy/fluentd/events/event_invalid_dataset_facet.json": "outputs[0].facets.ownership.owners.0.name",
    "OpenLineage-OpenLineage/proxy/fluentd/events/event_invalid_input_dataset_facet.json": "inputs[0].inputFacets.dataQualityMetrics.columnMetrics",
    "OpenLineage-OpenLineage/proxy/fluentd/events/event_invalid_job_facet.json": "job.facets.ownership.owners.0.name",
    "OpenLineage-OpenLineage/proxy/fluentd/events/event_invalid_output_dataset_facet.json": "outputs[0].outputFacets.outputStatistics.rowCount",
    "OpenLineage-OpenLineage/proxy/fluentd/events/event_invalid_run_facet.json": "run.facets.parent.run.runId",
    "OpenLineage-OpenLineage/proxy/fluentd/events/event_no_run_id.json": "run.runId",
    "MarquezProject-marquez/api/src/test/resources/open_lineage/event_full.json": "inputs[0].inputFacets.dataQualityMetrics.columnMetrics",
    "OpenLineage-compatibility-tests/consumer/scenarios/simple_run_event/events/simple_run_event.json": "run.runId",
}

# Invalid against the strict spec, but unambiguous: accepted (DESIGN.md section 4).
LENIENT = {
    "MarquezProject-marquez/api/src/test/resources/open_lineage/event_required_no_timezone.json": "eventTime without zone",
    "MarquezProject-marquez/api/src/test/resources/open_lineage/event_without_schema_url.json": "no schemaURL",
    "OpenLineage-OpenLineage/client/python/tests/serde_example_run_event.json": "eventTime without zone",
    "OpenLineage-OpenLineage/client/python/tests/serde_example_job_event.json": "eventTime without zone",
    "OpenLineage-OpenLineage/client/python/tests/serde_example_dataset_event.json": "eventTime without zone",
    "MarquezProject-marquez/api/src/test/resources/open_lineage/listener/1.json": "no schemaURL",
}


@dataclass(frozen=True)
class CorpusEvent:
    path: str  # relative to the corpus root
    index: int  # position in a file holding an array
    body: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.path}#{self.index}"


def _is_event_file(rel: str) -> bool:
    # Facet fragments, dbt inputs and templated expectations are not replayable events.
    return (
        rel.endswith(".json")
        and "/spec/tests/" not in f"/{rel}"
        and "/integration/common/tests/" not in f"/{rel}"
        and not rel.endswith(("config.json", "nominal_time_without_end.json"))
    )


def _substitute(text: str) -> str:
    """Marquez's seed data has time placeholders; fill them with fixed times."""
    text = text.replace("{{RUN_START_TIME}}", "2024-01-01T00:00:00Z")
    return re.sub(
        r"\{\{RUN_END_TIME_AFTER_(\d+)_MINUTES\}\}", lambda m: f"2024-01-01T00:{int(m.group(1)):02d}:00Z", text
    )


def load() -> list[CorpusEvent]:
    out = []
    for path in sorted(CORPUS.rglob("*.json")):
        rel = path.relative_to(CORPUS).as_posix()
        if not _is_event_file(rel):
            continue
        data = json.loads(_substitute(path.read_text(encoding="utf-8")))
        for index, body in enumerate(data if isinstance(data, list) else [data]):
            out.append(CorpusEvent(rel, index, body))
    return out


def facet_samples() -> list[tuple[str, str, dict[str, Any]]]:
    """(file, facet key, facet) for every standard-facet sample in spec/tests."""
    out = []
    for path in sorted((CORPUS / "OpenLineage-OpenLineage/spec/tests").glob("*/*.json")):
        for key, value in json.loads(path.read_text(encoding="utf-8")).items():
            out.append((path.relative_to(CORPUS).as_posix(), key, value))
    return out
