"""Runs in Marquez's shape, with the job version each ran as."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from lineage.graph import AT_COMMIT, RUN, RUN_OF, Node
from lineage.ids import run_id
from lineage.marquez.common import _java_zoned, _parse_time, _versioned_uuid, instant, MarquezError, RUN_STATES
from lineage.marquez.versions import _io, _version_ref, MarquezVersion
from lineage.store.base import EventFilter, Store, snapshotted


def _runs_of(store: Store, job: Node) -> list[Node]:
    """The job's runs, newest first (by start, else first eventTime)."""
    ids = [e.src for e in store.in_edges(job.id, RUN_OF)]
    return sorted(store.nodes(ids), key=_run_order, reverse=True)


def _run_order(run: Node) -> tuple[str, str]:
    return (run.props.get("started_at") or run.props.get("first_event_time") or "", run.id)


def _job_version(job_ns: str, job_name: str, reads: Iterable[MarquezVersion], writes: Iterable[MarquezVersion], location: str | None) -> str:
    """A job version as Marquez derives one: from the job, its inputs, outputs and location."""
    inputs = sorted(f"{v.node.props.get('namespace')}:{v.node.props.get('name')}" for v in reads)
    outputs = sorted(f"{v.node.props.get('namespace')}:{v.node.props.get('name')}" for v in writes)
    return _versioned_uuid(job_ns, job_name, "|".join(inputs), "|".join(outputs), location or "")


def _job_facets_of(store: Store, run: Node, job: Node | None) -> dict[str, Any]:
    """The job's facets as this run saw them: its source code location is the commit the run
    was built from (a later run may have moved the job to another)."""
    facets = dict((job.props.get("facets") if job else None) or {})
    commits = store.nodes([e.dst for e in store.out_edges(run.id, AT_COMMIT)])
    for commit in commits:
        located = (commit.props.get("facets") or {}).get("sourceCodeLocation")
        if isinstance(located, dict):
            facets["sourceCodeLocation"] = located
    return facets


def _location(facets: dict[str, Any]) -> str | None:
    source = facets.get("sourceCodeLocation") or {}
    return source.get("url") if isinstance(source, dict) else None


def _started(store: Store, run: Node) -> str | None:
    """When the run last entered RUNNING, as Marquez counts it: the latest START or RUNNING
    event (a Spark action's RUNNING after its START moves it)."""
    entries = store.events(EventFilter(run_uuid=run.props.get("run_id")), 0, 1000)
    times = [e.event_time for e in entries if e.event_type in {"START", "RUNNING"}]
    return max(times) if times else run.props.get("started_at")


def run_body(store: Store, run: Node, job: Node | None = None, name: str | None = None) -> dict[str, Any]:
    p = run.props
    job = job or store.node(p.get("job") or "")
    if name is None:
        name = marquez_job_name(str(p.get("job_name") or ""), _parent_of([run]))
    reads, writes = _io(store, run)
    started, ended = _started(store, run), p.get("ended_at")
    duration = None
    if started and ended:
        a, b = _parse_time(started), _parse_time(ended)
        if a and b:
            duration = int((b - a).total_seconds() * 1000)
    facets = dict(p.get("facets") or {})
    args: dict[str, Any] = {}
    nominal = facets.get("nominalTime") or {}
    if nominal.get("nominalStartTime"):
        args["nominal_start_time"] = _java_zoned(nominal["nominalStartTime"])
    if nominal.get("nominalEndTime"):
        args["nominal_end_time"] = _java_zoned(nominal["nominalEndTime"])
    parent = facets.get("parent") or {}
    if parent.get("run", {}).get("runId"):
        args |= {"run_id": parent["run"]["runId"], "name": parent.get("job", {}).get("name"),
                 "namespace": parent.get("job", {}).get("namespace")}
    job_ns, job_name = p.get("job_namespace") or "", name
    return {
        "id": p.get("run_id"),
        "createdAt": instant(p.get("first_event_time")),
        "updatedAt": instant(p.get("last_event_time")),
        "nominalStartTime": instant(nominal.get("nominalStartTime")),
        "nominalEndTime": instant(nominal.get("nominalEndTime")),
        "state": RUN_STATES.get(p.get("state") or "", "NEW"),
        "startedAt": instant(started),
        "endedAt": instant(ended),
        "durationMs": duration,
        "args": args,
        "jobVersion": {"namespace": job_ns, "name": job_name,
                       "version": _job_version(job_ns, job_name, reads, writes, _location(_job_facets_of(store, run, job)))},
        "inputDatasetVersions": [_version_ref(v) for v in reads],
        "outputDatasetVersions": [_version_ref(v) for v in writes],
        "facets": facets,
    }


def _parent_of(runs: Sequence[Node]) -> str | None:
    """The parent job's name, from the newest run's parent facet."""
    for run in runs:
        parent = (run.props.get("facets") or {}).get("parent") or {}
        name = (parent.get("job") or {}).get("name") if isinstance(parent, dict) else None
        if name:
            return str(name)
    return None


def marquez_job_name(name: str, parent: str | None) -> str:
    """Marquez stores a child job as `<parent>.<name>`, unless its name already starts so."""
    if parent is None or name.startswith(parent + "."):
        return name
    return f"{parent}.{name}"


def _run_node(store: Store, run_uuid: str) -> Node:
    try:
        canonical = str(uuid.UUID(run_uuid))
    except ValueError:
        raise MarquezError(404, "HTTP 404 Not Found") from None
    node = store.node(run_id(canonical))
    if node is None or node.kind != RUN:
        raise MarquezError(404, f"Run '{canonical}' not found.")
    return node


@snapshotted
def run(store: Store, run_uuid: str) -> dict[str, Any]:
    return run_body(store, _run_node(store, run_uuid))


@snapshotted
def run_facets(store: Store, run_uuid: str, kind: str) -> dict[str, Any] | None:
    node = _run_node(store, run_uuid)
    if kind == "run":
        return {"runId": node.props.get("run_id"), "facets": node.props.get("facets") or {}}
    if kind == "job":
        job = store.node(node.props.get("job") or "")
        return {"runId": node.props.get("run_id"), "facets": _job_facets_of(store, node, job)}
    return None  # Marquez answers `type=dataset` with an empty body
