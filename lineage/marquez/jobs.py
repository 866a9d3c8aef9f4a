"""Jobs and job versions in Marquez's shapes, child jobs named as Marquez names them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from lineage.graph import JOB, Node
from lineage.ids import job_id
from lineage.marquez.common import _named, _seen, _tag_state, _versioned_uuid, instant, MarquezError, not_found
from lineage.marquez.runs import _job_facets_of, _location, _parent_of, _runs_of, marquez_job_name, run_body
from lineage.marquez.versions import _io
from lineage.store.base import Store, snapshotted


def _job_node(store: Store, namespace: str, name: str) -> Node:
    """A job by its name, or by the `<parent>.<name>` Marquez gives a child job."""
    node = store.node(job_id(namespace, name))
    if node is not None:
        return node
    for at in [i for i, c in enumerate(name) if c == "."]:
        child = store.node(job_id(namespace, name[at + 1 :]))
        if child is not None and _job_view(store, child).name == name:
            return child
    raise not_found("Job", name)


def _declared(store: Store, job: Node) -> tuple[list[tuple[str, str]], list[tuple[str, str]], str | None]:
    """Inputs and outputs of the newest job event about the job (design-time lineage, which
    Marquez shows for a job that never ran), and its eventTime."""
    entries = [e for e in store.events_about([job.id], 10_000).get(job.id) or [] if e.kind == "job"]
    if not entries:
        return [], [], None
    newest = max(entries, key=lambda e: (e.event_time, e.seq))
    payload = orjson.loads(newest.payload)

    def names(key: str) -> list[tuple[str, str]]:
        return [(str(d.get("namespace")), str(d.get("name"))) for d in payload.get(key) or [] if isinstance(d, dict)]

    return names("inputs"), names("outputs"), newest.event_time


@dataclass
class _JobView:
    job: Node
    runs: list[Node]
    name: str
    parent: str | None
    inputs: list[tuple[str, str]]
    outputs: list[tuple[str, str]]
    declared_at: str | None


def _job_view(store: Store, job: Node) -> _JobView:
    runs = _runs_of(store, job)
    parent = _parent_of(runs)
    if runs:
        reads, writes = _io(store, runs[0])
        inputs = [(str(v.node.props.get("namespace")), str(v.node.props.get("name"))) for v in reads]
        outputs = [(str(v.node.props.get("namespace")), str(v.node.props.get("name"))) for v in writes]
        declared_at = None
    else:
        inputs, outputs, declared_at = _declared(store, job)
    return _JobView(job, runs, marquez_job_name(job.props["name"], parent), parent, inputs, outputs, declared_at)


def job_body(
    store: Store, job: Node, *, with_runs: bool = True, view: _JobView | None = None, facets_unrun: bool = True, declared_io: bool = True
) -> dict[str, Any]:
    """A job in Marquez's shape: `with_runs` adds what /lineage leaves out. For a job that never
    ran, Marquez shows its job event's facets (`facets_unrun`) and lineage (`declared_io`) in
    some answers only: a listing has neither, the answer to a tag write facets alone."""
    v = view or _job_view(store, job)
    p = job.props
    latest = v.runs[0] if v.runs else None
    if latest:
        facets = _job_facets_of(store, latest, job)
    else:
        facets = dict(p.get("facets") or {}) if facets_unrun else {}
        if not declared_io:
            v = _JobView(v.job, v.runs, v.name, v.parent, [], [], v.declared_at)
    job_type = facets.get("jobType") or {}
    created, updated = _seen(store, job.id)
    tag_names, _ = _tag_state(job)
    located = _location(facets if latest else dict(p.get("facets") or {}))
    documentation = (p.get("facets") or {}).get("documentation") or {}
    body: dict[str, Any] = {
        "id": {"namespace": p["namespace"], "name": v.name},
        "type": PROCESSING_TYPES.get(str((p.get("facets") or {}).get("jobType", {}).get("processingType")), "BATCH"),
        "name": v.name,
        "simpleName": v.name[len(v.parent) + 1 :] if v.parent else v.name,
        "parentJobName": v.parent,
        "parentJobUuid": _versioned_uuid(p["namespace"], v.parent) if v.parent else None,
        "createdAt": instant(created),
        "updatedAt": instant(updated),
        "namespace": p["namespace"],
        "inputs": _named(v.inputs),
        "outputs": _named(v.outputs),
        "location": located,
        "description": documentation.get("description"),
        "latestRun": run_body(store, latest, job, name=v.name) if latest else None,
    }
    if not with_runs and body["latestRun"] is not None:
        # Marquez's lineage view carries a summary of the latest run: no args or facets, and
        # none at all for a child job.
        body["latestRun"] = None if v.parent else body["latestRun"] | {
            "args": {}, "facets": {}, "inputDatasetVersions": [], "outputDatasetVersions": []}
    if with_runs:
        body |= {
            "facets": facets,
            "currentVersion": body["latestRun"]["jobVersion"]["version"] if latest else _declared_version(v, located),
            "labels": [x for x in (job_type.get("jobType"), job_type.get("integration")) if x],
            "tags": tag_names,
            "latestRuns": [run_body(store, r, job, name=v.name) for r in v.runs[:10]] or None,
        }
    return body


# Marquez's JobType: jobType.processingType as it names it.
PROCESSING_TYPES = {"BATCH": "BATCH", "STREAMING": "STREAM", "SERVICE": "SERVICE"}


def _declared_version(view: _JobView, location: str | None) -> str:
    return _versioned_uuid(view.job.props["namespace"], view.name, "|".join(sorted(map(":".join, view.inputs))),
                           "|".join(sorted(map(":".join, view.outputs))), location or "")


# With a lastRunStates filter, the listing is read this many jobs at a time until the page is full.
STATE_CHUNK = 200


@snapshotted
def jobs(store: Store, namespace: str | None, limit: int, offset: int, states: Sequence[str] = ()) -> dict[str, Any]:
    """Jobs newest-updated first, as Marquez lists them, one page read from the store
    (`Store.newest_jobs`); totalCount is the store's count. The lastRunStates filter is applied
    to the jobs in that order, read a chunk at a time until the page is full, so its cost follows
    how far the page lies, not the namespace."""
    total, nodes = store.newest_jobs(namespace, limit, offset) if not states else (0, [])
    if not states:
        return {"totalCount": total, "jobs": [job_body(store, n, facets_unrun=False, declared_io=False) for n in nodes]}
    kept: list[dict[str, Any]] = []
    at = 0
    while len(kept) < offset + limit:
        total, chunk = store.newest_jobs(namespace, STATE_CHUNK, at)  # Marquez counts before the filter (its bug 15)
        bodies = [job_body(store, n, facets_unrun=False, declared_io=False) for n in chunk]
        kept += [b for b in bodies if b["latestRun"] is None or b["latestRun"]["state"] in states]
        at += STATE_CHUNK
        if at >= total:
            break
    return {"totalCount": total, "jobs": kept[offset : offset + limit]}


@snapshotted
def job(store: Store, namespace: str, name: str, *, declared_io: bool = True) -> dict[str, Any]:
    """One job; without `declared_io` as Marquez answers a job tag write."""
    return job_body(store, _job_node(store, namespace, name), declared_io=declared_io)


@snapshotted
def job_runs(store: Store, namespace: str, name: str, limit: int, offset: int) -> dict[str, Any]:
    node = _job_node(store, namespace, name)
    runs = _runs_of(store, node)
    name = _job_view(store, node).name
    return {"totalCount": len(runs), "runs": [run_body(store, r, node, name=name) for r in runs[offset : offset + limit]]}


def _job_versions(store: Store, node: Node) -> list[dict[str, Any]]:
    """The job's versions, newest first: one per distinct (inputs, outputs, location) its runs
    had, or the one its job event declared."""
    view = _job_view(store, node)
    found: dict[str, dict[str, Any]] = {}
    for run in reversed(view.runs):  # oldest first: a version is created by its first run
        body = run_body(store, run, node, name=view.name)
        version = body["jobVersion"]["version"]
        entry = found.setdefault(version, {
            "id": {"namespace": node.props["namespace"], "name": view.name, "version": version},
            "name": view.name,
            "createdAt": body["endedAt"] or body["updatedAt"],
            "version": version,
            "namespace": node.props["namespace"],
            "location": _location(_job_facets_of(store, run, node)),
            "inputs": [v["datasetVersionId"] | {} for v in body["inputDatasetVersions"]],
            "outputs": [v["datasetVersionId"] | {} for v in body["outputDatasetVersions"]],
        })
        # Marquez shows a version's latest run with the job's facets in place of the run's.
        entry["latestRun"] = body | {
            "facets": _job_facets_of(store, run, node),
            "inputDatasetVersions": [v | {"facets": {}} for v in body["inputDatasetVersions"]],
            "outputDatasetVersions": [v | {"facets": {}} for v in body["outputDatasetVersions"]],
        }
        entry["_at"] = run.props.get("started_at") or run.props.get("first_event_time") or ""
    for entry in found.values():
        entry["inputs"] = _named((d["namespace"], d["name"]) for d in entry["inputs"])
        entry["outputs"] = _named((d["namespace"], d["name"]) for d in entry["outputs"])
    if not found and view.declared_at:
        located = _location(dict(node.props.get("facets") or {}))
        version = _declared_version(view, located)
        found[version] = {
            "id": {"namespace": node.props["namespace"], "name": view.name, "version": version}, "name": view.name,
            "createdAt": instant(view.declared_at), "version": version, "namespace": node.props["namespace"],
            "location": located, "inputs": _named(view.inputs), "outputs": _named(view.outputs), "latestRun": None, "_at": "",
        }
    ordered = sorted(found.values(), key=lambda e: e.pop("_at"), reverse=True)
    return ordered


@snapshotted
def job_versions(store: Store, namespace: str, name: str, limit: int, offset: int) -> dict[str, Any]:
    return {"versions": _job_versions(store, _job_node(store, namespace, name))[offset : offset + limit]}


@snapshotted
def job_version(store: Store, namespace: str, name: str, version: str) -> dict[str, Any]:
    for entry in _job_versions(store, _job_node(store, namespace, name)):
        if entry["version"] == version:
            return entry
    raise MarquezError(404, f"Job version '{version}' not found.")
