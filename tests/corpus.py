"""The OpenLineage corpus kept in tests/corpus/: which files hold replayable events, and which
of those are refused (no identity) or flagged (stored with a warning), with the field each names."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
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


# Column lineage in the corpus (issue 36), read straight from the facets as the spec words them,
# without the projection's code: what the column-lineage answers must agree with.


@dataclass(frozen=True)
class ColumnSource:
    """An input column that an output column of a run's output is made from."""

    namespace: str
    name: str
    field: str
    # (type, subtype) of each transformation the facet lists for it; empty when it lists none.
    transformations: frozenset[tuple[str | None, str | None]]


@dataclass(frozen=True)
class ColumnOutput:
    """One output dataset of one run whose events carry `columnLineage`."""

    run: str  # the writing run's runId
    namespace: str
    name: str
    events: tuple[str, ...]  # labels of the events it comes from
    fields: frozenset[str]  # the top-level fields its schema and columnLineage facets name
    types: dict[str, str]  # field -> type, as its schema facet gives them
    sources: dict[str, frozenset[ColumnSource]]  # output field -> what it is made from


def _event_time(body: dict[str, Any]) -> datetime:
    moment = datetime.fromisoformat(str(body["eventTime"]).replace("Z", "+00:00"))
    # A few corpus events carry no zone (LENIENT above): read as UTC, like the service does.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _sources(entries: Any) -> list[tuple[str, str, str, frozenset[tuple[str | None, str | None]]]]:
    out = []
    for entry in entries if isinstance(entries, list) else []:
        listed = entry.get("transformations") or []
        out.append((
            entry["namespace"], entry["name"], entry["field"],
            frozenset((t.get("type"), t.get("subtype")) for t in listed),
        ))
    return out


def column_outputs() -> list[ColumnOutput]:
    """Every run output in the corpus with a `columnLineage` facet. A run's events may each
    repeat its facets: the newest event's facet of each key holds (OpenLineage facets replace,
    never merge), and two events at the same time that disagree make the reading refuse."""
    latest: dict[tuple[str, str, str, str], tuple[datetime, Any, str]] = {}
    labels: dict[tuple[str, str, str], list[str]] = {}
    clashes: dict[tuple[str, str, str], str] = {}
    for item in load():
        body = item.body
        if item.path in REFUSED or not isinstance(body, dict) or not isinstance(body.get("run"), dict):
            continue  # refused events add nothing; dataset and job events carry no run
        for output in body.get("outputs") or []:
            facets = output.get("facets") or {}
            key = (body["run"]["runId"], output["namespace"], output["name"])
            if "columnLineage" in facets:
                labels.setdefault(key, []).append(item.label)
            for facet in ("columnLineage", "schema"):
                if facet not in facets:
                    continue
                when, seen = _event_time(body), latest.get((*key, facet))
                if seen is not None and seen[0] == when and seen[1] != facets[facet]:
                    clashes[key] = f"{item.label} and {seen[2]}: two {facet} facets at one time"
                if seen is None or when > seen[0]:
                    latest[(*key, facet)] = (when, facets[facet], item.label)
    out = []
    for key, events in sorted(labels.items()):
        if key in clashes:
            raise ValueError(clashes[key])
        lineage = latest[(*key, "columnLineage")][1]
        schema = latest.get((*key, "schema"), (None, {}, ""))[1]
        # The dataset-wide list applies to every field of the output (spec: ColumnLineageDatasetFacet).
        wide = _sources(lineage.get("dataset"))
        fields = frozenset(f["name"] for f in schema.get("fields") or []) | frozenset(lineage.get("fields") or {})
        sources: dict[str, set[tuple[str, str, str, frozenset[tuple[str | None, str | None]]]]] = {}
        for field, entry in (lineage.get("fields") or {}).items():
            sources.setdefault(field, set()).update(_sources(entry.get("inputFields")))
        for field in fields if wide else ():
            sources.setdefault(field, set()).update(wide)
        out.append(ColumnOutput(
            run=key[0], namespace=key[1], name=key[2], events=tuple(events), fields=fields,
            types={f["name"]: f["type"] for f in schema.get("fields") or [] if f.get("type")},
            sources={
                field: frozenset(_merged(found)) for field, found in sources.items()
            },
        ))
    return out


def _merged(found: set[tuple[str, str, str, frozenset[tuple[str | None, str | None]]]]) -> list[ColumnSource]:
    """One source per input column, with every transformation any entry gave it."""
    by_column: dict[tuple[str, str, str], set[tuple[str | None, str | None]]] = {}
    for namespace, name, field, transformations in found:
        by_column.setdefault((namespace, name, field), set()).update(transformations)
    return [ColumnSource(*column, frozenset(t)) for column, t in by_column.items()]
