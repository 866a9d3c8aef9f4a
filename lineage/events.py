"""Typed OpenLineage events, as the projection sees them after parsing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

EventKind = Literal["run", "dataset", "job", "annotation"]

TERMINAL_STATES = frozenset({"COMPLETE", "FAIL", "ABORT"})
RUN_STATES = frozenset({"START", "RUNNING", "COMPLETE", "FAIL", "ABORT", "OTHER"})

Facets = dict[str, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Problem:
    """Something an accepted event got wrong: where (`field`, a path into the event as sent),
    what kind of problem (`problem`, a short code counted in the metrics) and the detail.

    Problems never refuse an event (issue 29): they travel with it into the log, the ingest
    answer, the metrics and the nodes the event touches."""

    field: str
    problem: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "problem": self.problem, "detail": self.detail}


# The problem codes (the `kind` label of lineage_ingest_warnings_total).
FACET_SCHEMA = "facet_schema"  # a facet breaks its schema: kept as it came, not read where it would mislead
VERSION_CONFLICT = "version_conflict"  # facets name different versions of one dataset
DATASET_DROPPED = "dataset_dropped"  # an input or output that cannot be identified
WRONG_TYPE = "wrong_type"  # a field of the event itself has the wrong type or an unknown value
MISSING_FIELD = "missing_field"  # a field the spec requires is missing (not one that identifies the event)
PROBLEM_KINDS = (FACET_SCHEMA, VERSION_CONFLICT, DATASET_DROPPED, WRONG_TYPE, MISSING_FIELD)


@dataclass(frozen=True, slots=True)
class DatasetRef:
    """A dataset as named in an event, with its dataset facets and input/output facets.
    `position` is its index in the event's inputs or outputs as sent (-1 where that does not
    apply), so that a problem's field path names it even after an earlier one was dropped."""

    namespace: str
    name: str
    facets: Facets = field(default_factory=dict)
    io_facets: Facets = field(default_factory=dict)
    position: int = -1


@dataclass(frozen=True, slots=True)
class Event:
    """One accepted event. `id` is the sha256 of its canonical JSON, its identity."""

    id: str
    kind: EventKind
    event_time: str  # normalised UTC, see ids.format_time
    producer: str
    schema_url: str
    event_type: str | None = None  # run events only; missing is treated as OTHER
    run_uuid: str | None = None
    run_facets: Facets = field(default_factory=dict)
    job_namespace: str | None = None
    job_name: str | None = None
    job_facets: Facets = field(default_factory=dict)
    inputs: tuple[DatasetRef, ...] = ()
    outputs: tuple[DatasetRef, ...] = ()
    dataset: DatasetRef | None = None  # dataset events only
    annotation: dict[str, Any] | None = None  # annotation events only: target, ref, tag, reason, author
    canonical: bytes = b""  # canonical JSON of the event as received
    warnings: tuple[Problem, ...] = ()  # what the event got wrong; derived from `canonical` alone

    @property
    def order_key(self) -> tuple[str, str]:
        """Facets and states are ordered by eventTime, ties broken by the event hash (DESIGN 3)."""
        return (self.event_time, self.id)


# Where a dataset's version may be declared, in order of precedence (DESIGN.md section 4).
VERSION_FIELDS = (("version", "datasetVersion"), ("ml_modelVersion", "version"), ("ml_featureView", "version"))


def declared_version(dataset: DatasetRef) -> str | None:
    """The version an event names for a dataset: the standard facet, else one of our ml_* facets."""
    for key, name in VERSION_FIELDS:
        value = dataset.facets.get(key, {}).get(name)
        if isinstance(value, str) and value:
            return value
    return None


def commit_of(source_code_location: dict[str, Any] | None) -> tuple[str, str] | None:
    """(repo, sha) named by a sourceCodeLocation job facet, when it names both."""
    if not source_code_location:
        return None
    repo = source_code_location.get("repoUrl") or source_code_location.get("url")
    sha = source_code_location.get("version")
    if isinstance(repo, str) and isinstance(sha, str) and repo and sha:
        return repo, sha
    return None
