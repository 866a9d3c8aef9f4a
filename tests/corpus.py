"""The OpenLineage corpus kept in tests/corpus/: which files hold replayable events, and which
of those are refused (no identity) or flagged (stored with a warning), with the field each names."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bench.corpus import CORPUS, bodies

# The data folder tests/corpus/ shares this module's name: it must stay without an __init__.py,
# so that `tests.corpus` keeps importing this file (a module wins over a plain folder).

# Missing data must fail the run loudly, never collect zero cases and pass.
if not (CORPUS / "SOURCES.md").is_file():
    raise FileNotFoundError(f"OpenLineage corpus not found at {CORPUS} (no SOURCES.md there)")

# Files SOURCES.md marks invalid against the spec. Only an event that cannot be identified is
# refused, and its 400 names the field (issue 29) ...
REFUSED = {
    "OpenLineage-OpenLineage/proxy/fluentd/events/event_no_run_id.json": "run.runId",
    "OpenLineage-compatibility-tests/consumer/scenarios/simple_run_event/events/simple_run_event.json": "run.runId",
}
# ... every other one is stored, with a warning that names the field its problem is in.
FLAGGED = {
    "OpenLineage-OpenLineage/proxy/fluentd/events/event_full.json": "inputs[0].inputFacets.dataQualityMetrics.columnMetrics",
    "OpenLineage-OpenLineage/proxy/fluentd/events/event_invalid_dataset_facet.json": "outputs[0].facets.ownership.owners.0.name",
    "OpenLineage-OpenLineage/proxy/fluentd/events/event_invalid_input_dataset_facet.json": "inputs[0].inputFacets.dataQualityMetrics.columnMetrics",
    "OpenLineage-OpenLineage/proxy/fluentd/events/event_invalid_job_facet.json": "job.facets.ownership.owners.0.name",
    "OpenLineage-OpenLineage/proxy/fluentd/events/event_invalid_output_dataset_facet.json": "outputs[0].outputFacets.outputStatistics.rowCount",
    "OpenLineage-OpenLineage/proxy/fluentd/events/event_invalid_run_facet.json": "run.facets.parent.run.runId",
    "MarquezProject-marquez/api/src/test/resources/open_lineage/event_full.json": "inputs[0].inputFacets.dataQualityMetrics.columnMetrics",
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


def load() -> list[CorpusEvent]:
    return [CorpusEvent(rel, index, body) for rel, index, body in bodies(CORPUS)]


def facet_samples() -> list[tuple[str, str, dict[str, Any]]]:
    """(file, facet key, facet) for every standard-facet sample in spec/tests."""
    out = []
    for path in sorted((CORPUS / "OpenLineage-OpenLineage/spec/tests").glob("*/*.json")):
        for key, value in json.loads(path.read_text(encoding="utf-8")).items():
            out.append((path.relative_to(CORPUS).as_posix(), key, value))
    return out
