"""Typed OpenLineage events, as the projection sees them after parsing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

EventKind = Literal["run", "dataset", "job", "annotation"]

TERMINAL_STATES = frozenset({"COMPLETE", "FAIL", "ABORT"})
RUN_STATES = frozenset({"START", "RUNNING", "COMPLETE", "FAIL", "ABORT", "OTHER"})

Facets = dict[str, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class DatasetRef:
    """A dataset as named in an event, with its dataset facets and input/output facets."""

    namespace: str
    name: str
    facets: Facets = field(default_factory=dict)
    io_facets: Facets = field(default_factory=dict)


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
