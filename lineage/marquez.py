"""Marquez's v1 read API over our store: namespaces, datasets, jobs, runs, lineage, search, tags (issue 30)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import orjson

from lineage.graph import ANNOTATION, AT_COMMIT, DATASET, JOB, READ, RUN, RUN_OF, VERSION, VERSION_OF, WROTE, Node
from lineage.ids import dataset_id, job_id, run_id
from lineage.store.base import EventFilter, Store, snapshotted

# Marquez's defaults and bounds for paged listings.
DEFAULT_LIMIT = 100
DEFAULT_LINEAGE_DEPTH = 20
MAX_LINEAGE_DEPTH = 100
# A namespace every Marquez has: jobs and datasets that name none belong to it.
DEFAULT_NAMESPACE = "default"
DEFAULT_NAMESPACE_DESCRIPTION = (
    "The default global namespace for dataset, job, and run metadata not belonging to a user-specified namespace."
)
# Tags a Marquez server knows from its configuration before anyone creates one.
SEED_TAGS = {"PII": "Personally identifiable information", "SENSITIVE": "Contains sensitive information"}
# How tag writes are kept: annotations whose reason says what they do (lineage/service.py
# annotation_body), so they are evidence in the log like every other annotation.
TAG_ADD, TAG_REMOVE, TAG_FIELD = "marquez:tag", "marquez:untag", "marquez:tag-field:"
TAG_DEFINITION = "marquez:tag-definition"
TAG_TARGET_PREFIX = "marquez-tag:"  # annotation target of a tag definition (no node of ours)
# Our run states, as Marquez names them.
RUN_STATES = {"START": "RUNNING", "RUNNING": "RUNNING", "COMPLETE": "COMPLETED", "FAIL": "FAILED", "ABORT": "ABORTED", "OTHER": "NEW"}
# Namespace for the name-based UUIDs we give job and dataset versions that name none.
_VERSION_NS = uuid.UUID("6f1c5a52-3c1e-4e0e-9d6e-2b8f3c0d9a11")


class MarquezError(Exception):
    """An answer in Marquez's error shape: `{"code": status, "message": ...}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"code": self.status, "message": self.message}


def not_found(what: str, name: str) -> MarquezError:
    return MarquezError(404, f"{what} '{name}' not found.")


# --- formatting ------------------------------------------------------------------------------


def instant(value: str | None) -> str | None:
    """Our fixed-width UTC time as Java's Instant.toString() writes it (0, 3 or 6 fraction digits)."""
    if not value:
        return None
    moment = _parse_time(value)
    if moment is None:
        return value
    micros = moment.microsecond
    base = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if micros == 0:
        return base + "Z"
    if micros % 1000 == 0:
        return f"{base}.{micros // 1000:03d}Z"
    return f"{base}.{micros:06d}Z"


def _parse_time(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _java_zoned(value: str) -> str | None:
    """ZonedDateTime.toString() in UTC: seconds and fraction only when not zero."""
    moment = _parse_time(value)
    if moment is None:
        return None
    text = moment.strftime("%Y-%m-%dT%H:%M")
    if moment.second or moment.microsecond:
        text += moment.strftime(":%S")
        if moment.microsecond:
            text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "Z[UTC]"


def parse_bound(value: str | None, name: str) -> str | None:
    """A time bound of a query, as our stored time strings (which sort in time order)."""
    if value is None:
        return None
    moment = _parse_time(value)
    if moment is None:
        raise MarquezError(400, f"{name} must be an ISO-8601 date-time, not {value!r}")
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _versioned_uuid(*parts: str) -> str:
    return str(uuid.uuid5(_VERSION_NS, "\x00".join(parts)))


def node_id(kind: str, namespace: str, name: str) -> str:
    return f"{kind}:{namespace}:{name}"


# --- namespaces ------------------------------------------------------------------------------


def _first_seen(store: Store, ids: Sequence[str]) -> str | None:
    """The earliest eventTime among the first log entries about these nodes."""
    found = store.events_about(list(ids), 1)
    times = [entries[0].event_time for entries in found.values() if entries]
    return min(times) if times else None


@snapshotted
def namespaces(store: Store, limit: int = DEFAULT_LIMIT, offset: int = 0) -> dict[str, Any]:
    names = sorted(set(store.namespaces()) | {DEFAULT_NAMESPACE})
    return {"namespaces": [_namespace(store, n) for n in names[offset : offset + limit]]}


@snapshotted
def namespace(store: Store, name: str) -> dict[str, Any]:
    if name != DEFAULT_NAMESPACE and name not in store.namespaces():
        raise not_found("Namespace", name)
    return _namespace(store, name)


def _namespace(store: Store, name: str) -> dict[str, Any]:
    created: str | None = None
    if name != DEFAULT_NAMESPACE:
        # The namespace appeared with the first job or dataset that names it.
        _, jobs = store.in_namespace(JOB, name, DEFAULT_LIMIT, 0)
        _, datasets = store.in_namespace(DATASET, name, DEFAULT_LIMIT, 0)
        created = _first_seen(store, [n.id for n in jobs + datasets])
    at = instant(created) if created else instant(store.newest_event_time() or "1970-01-01T00:00:00Z")
    return {
        "name": name,
        "createdAt": at,
        "updatedAt": at,
        "ownerName": "anonymous",
        "description": DEFAULT_NAMESPACE_DESCRIPTION if name == DEFAULT_NAMESPACE else None,
        "isHidden": False,
    }


# --- tags (annotations) ----------------------------------------------------------------------


def _tag_state(node: Node) -> tuple[list[str], dict[str, list[str]]]:
    """A node's Marquez tags and field tags, folded from its annotations in time order."""
    tags: dict[str, None] = {}
    fields: dict[str, dict[str, None]] = {}
    for a in node.props.get("annotations") or []:
        reason, tag = a.get("reason") or "", a.get("tag") or ""
        if reason == TAG_ADD:
            tags[tag] = None
        elif reason == TAG_REMOVE:
            tags.pop(tag, None)
        elif reason.startswith(TAG_FIELD):
            fields.setdefault(reason[len(TAG_FIELD) :], {})[tag] = None
    return sorted(tags), {f: sorted(t) for f, t in fields.items()}


@snapshotted
def tags(store: Store, limit: int = DEFAULT_LIMIT, offset: int = 0) -> dict[str, Any]:
    found = dict(SEED_TAGS)
    for a in sorted(store.find("target", TAG_TARGET_PREFIX, kind=ANNOTATION, prefix=True, limit=10_000),
                    key=lambda n: (n.props.get("created_at") or "", n.id)):
        found[a.props["target"][len(TAG_TARGET_PREFIX) :]] = a.props.get("reason") or None
    rows = [{"name": n, "description": d} for n, d in sorted(found.items())]
    return {"tags": rows[offset : offset + limit]}


def tag_definition(name: str, description: str | None) -> tuple[str, str]:
    """(target, reason) of the annotation that creates a tag."""
    return TAG_TARGET_PREFIX + name, description or ""


def tag_known(store: Store, name: str) -> bool:
    return name in SEED_TAGS or bool(store.find("target", TAG_TARGET_PREFIX + name, kind=ANNOTATION, limit=1))


# --- sources ---------------------------------------------------------------------------------


def _sources(store: Store) -> dict[str, dict[str, Any]]:
    """Sources as Marquez keeps them: one per `dataSource` facet name, `default` for datasets
    that name none. There is no node of ours for a source, so this reads every dataset: its
    cost follows the number of datasets."""
    found: dict[str, dict[str, Any]] = {}
    for ns in store.namespaces():
        for node in store.in_namespace(DATASET, ns, 10_000, 0)[1]:
            source = (node.props.get("facets") or {}).get("dataSource") or {}
            name = str(source.get("name") or DEFAULT_NAMESPACE)
            first, last = _seen(store, node.id)
            entry = found.setdefault(name, {"type": "POSTGRESQL", "name": name, "createdAt": first, "updatedAt": last,
                                            "connectionUrl": source.get("uri"), "description": None})
            entry["createdAt"] = min(filter(None, [entry["createdAt"], first]), default=None)
            entry["updatedAt"] = max(filter(None, [entry["updatedAt"], last]), default=None)
    for entry in found.values():
        entry["createdAt"], entry["updatedAt"] = instant(entry["createdAt"]), instant(entry["updatedAt"])
    return found


@snapshotted
def sources(store: Store, limit: int, offset: int) -> dict[str, Any]:
    found = _sources(store)
    return {"sources": [found[n] for n in sorted(found)][offset : offset + limit]}


@snapshotted
def source(store: Store, name: str) -> dict[str, Any]:
    found = _sources(store).get(name)
    if found is None:
        raise not_found("Source", name)
    return found


# --- datasets --------------------------------------------------------------------------------


def _dataset_node(store: Store, namespace: str, name: str) -> Node:
    node = store.node(dataset_id(namespace, name))
    if node is None:
        if namespace != DEFAULT_NAMESPACE and namespace not in store.namespaces():
            raise not_found("Namespace", namespace)
        raise not_found("Dataset", name)
    return node


@dataclass(frozen=True, slots=True)
class MarquezVersion:
    """A dataset version as Marquez counts them: one of ours as one run wrote it. Marquez gives
    each writing run a version of its own, even where two runs declared the same one."""

    node: Node
    run: Node | None
    facets: dict[str, Any] = field(default_factory=dict)  # the run's input or output facets

    @property
    def uuid(self) -> str:
        if self.run is None:
            return _versioned_uuid(self.node.id)
        return _versioned_uuid(self.node.id, str(self.run.props.get("run_id")))

    @property
    def at(self) -> str:
        if self.run is None:
            return str(self.node.props.get("written_at") or self.node.props.get("first_read_at") or "")
        return str(self.run.props.get("first_event_time") or "")


def _written(store: Store, versions: Sequence[Node]) -> list[MarquezVersion]:
    """Each (version, writing run) of these versions, one per run and dataset: where a run
    wrote a dataset twice (a START without the version facet, a COMPLETE with it), the newer."""
    edges = store.edges_to([v.id for v in versions], WROTE)
    runs = {r.id: r for r in store.nodes(list(dict.fromkeys(e.src for e in edges)))}
    by_id = {v.id: v for v in versions}
    chosen: dict[tuple[str, str], MarquezVersion] = {}
    for e in edges:
        v, r = by_id[e.dst], runs.get(e.src)
        if r is None:
            continue
        key = (str(v.props.get("dataset")), r.id)
        old = chosen.get(key)
        if old is None or (v.props.get("written_at") or "") > (old.node.props.get("written_at") or ""):
            chosen[key] = MarquezVersion(v, r, e.props.get("facets") or {})
    written = {m.node.id for m in chosen.values()} | {e.dst for e in edges}
    # Versions nobody wrote (declared by a dataset event) still count, without a run.
    chosen |= {(v.id, ""): MarquezVersion(v, None) for v in versions if v.id not in written}
    return list(chosen.values())


def _versions_of(store: Store, dataset: Node) -> list[MarquezVersion]:
    """The dataset's versions, newest first. A dataset only ever read has one: the placeholder
    its reads bind to, which Marquez creates too when it first sees the dataset."""
    ids = [e.src for e in store.in_edges(dataset.id, VERSION_OF)]
    found = sorted(_written(store, store.nodes(ids)), key=lambda m: (m.at, m.uuid), reverse=True)
    # A dataset known only from a dataset or job event has one version in Marquez: itself.
    return found or [MarquezVersion(dataset, None)]


def _fields(facets: dict[str, Any], field_tags: dict[str, list[str]]) -> list[dict[str, Any]]:
    schema = facets.get("schema") or {}
    return [
        {"name": f.get("name"), "type": f.get("type"), "tags": field_tags.get(f.get("name"), []), "description": f.get("description")}
        for f in schema.get("fields") or []
        if isinstance(f, dict)
    ]


def _column_lineage(facets: dict[str, Any]) -> list[dict[str, Any]] | None:
    """Marquez's flattened form: one entry per output field, the deprecated per-field
    transformation copied onto each input field (as Marquez 0.50.0 does)."""
    facet = facets.get("columnLineage")
    if not isinstance(facet, dict) or not isinstance(facet.get("fields"), dict):
        return None
    out = []
    for field, spec in facet["fields"].items():
        description, kind = spec.get("transformationDescription"), spec.get("transformationType")
        inputs = [
            {"namespace": i.get("namespace"), "dataset": i.get("name"), "field": i.get("field"),
             "transformationDescription": description, "transformationType": kind}
            for i in spec.get("inputFields") or []
        ]
        if inputs:  # Marquez lists only fields that have inputs
            out.append({"name": field, "inputFields": inputs, "transformationDescription": description, "transformationType": kind})
    return out


def _lifecycle(facets: dict[str, Any]) -> str:
    change = facets.get("lifecycleStateChange")
    return str(change.get("lifecycleStateChange") or "") if isinstance(change, dict) else ""


def _current_facets(store: Store, dataset: Node, current: MarquezVersion | None) -> dict[str, Any]:
    """The facets Marquez shows on a dataset: those of its current version. A version some run
    wrote has its own; a dataset only read has what its reads said, with the newest read's
    input facets (data quality metrics)."""
    if current is not None and current.run is not None:
        return dict(current.node.props.get("facets") or {})
    facets = dict(dataset.props.get("facets") or {})
    if current is not None:
        reads = store.edges_to([current.node.id], READ)
        if reads:
            newest = max(reads, key=lambda e: (str(e.props.get("read_at") or ""), e.src))
            facets |= newest.props.get("facets") or {}
    return facets


def _first_sight_facets(store: Store, dataset: Node) -> dict[str, Any]:
    """The dataset's facets in the first event that named it: the version Marquez creates for
    a dataset it has only seen read keeps them."""
    entries = [e for e in store.events_about([dataset.id], 16).get(dataset.id) or [] if e.kind != "annotation"]
    if not entries:
        return {}
    payload = orjson.loads(min(entries, key=lambda e: (e.event_time, e.seq)).payload)
    ns, name = dataset.props.get("namespace"), dataset.props.get("name")
    for entry in (payload.get("inputs") or []) + (payload.get("outputs") or []) + [payload.get("dataset") or {}]:
        if isinstance(entry, dict) and entry.get("namespace") == ns and entry.get("name") == name:
            return dict(entry.get("facets") or {}) | dict(entry.get("inputFacets") or {})
    return {}


def _seen(store: Store, node_id: str) -> tuple[str | None, str | None]:
    """The first and the last eventTime of the log entries about a node (Marquez's createdAt
    and updatedAt of a dataset or job)."""
    entries = store.events_about([node_id], 10_000).get(node_id) or []
    # Annotations (tags) are ours: Marquez's times come from OpenLineage events alone.
    times = [e.event_time for e in entries if e.kind != "annotation"]
    return (min(times), max(times)) if times else (None, None)


def dataset_body(store: Store, node: Node, *, versions: list[MarquezVersion] | None = None, full: bool = True) -> dict[str, Any]:
    """A dataset in Marquez's shape; `full` adds what /lineage leaves out."""
    props = node.props
    found = versions if versions is not None else _versions_of(store, node)
    current = found[0] if found else None
    if not full and current is not None and current.run is None and current.node.kind == VERSION:
        facets = _first_sight_facets(store, node)  # /lineage shows the version's own fields
    else:
        facets = _current_facets(store, node, current)
    tag_names, field_tags = _tag_state(node)
    source = facets.get("dataSource") or (props.get("facets") or {}).get("dataSource") or {}
    created, updated = _seen(store, node.id)
    documentation = facets.get("documentation") or (props.get("facets") or {}).get("documentation") or {}
    body: dict[str, Any] = {
        "id": {"namespace": props["namespace"], "name": props["name"]},
        "type": "DB_TABLE",
        "name": props["name"],
        "physicalName": props["name"],
        "createdAt": instant(created),
        "updatedAt": instant(updated or None),
        "namespace": props["namespace"],
        "sourceName": source.get("name") or DEFAULT_NAMESPACE,
        "fields": _fields(facets, field_tags),
        "tags": tag_names if full else [],  # Marquez's lineage view leaves tags out
        "lastModifiedAt": None,
        "lastLifecycleState": _lifecycle(facets),
        "description": documentation.get("description"),
    }
    if full:
        body |= {
            "currentVersion": current.uuid if current else None,
            "columnLineage": _column_lineage(facets),
            "facets": facets,
            "deleted": _lifecycle(facets) == "DROP",
        }
    return body


@snapshotted
def datasets(store: Store, namespace: str, limit: int, offset: int) -> dict[str, Any]:
    total, nodes = store.in_namespace(DATASET, namespace, limit, offset)
    if total == 0 and namespace not in store.namespaces():
        raise not_found("Namespace", namespace)
    return {"totalCount": total, "datasets": [dataset_body(store, n) for n in nodes]}


@snapshotted
def dataset(store: Store, namespace: str, name: str) -> dict[str, Any]:
    return dataset_body(store, _dataset_node(store, namespace, name))


def _version_body(store: Store, dataset: Node, version: MarquezVersion, *, listed: bool = False) -> dict[str, Any]:
    """One dataset version; Marquez leaves the run's output facets out of its version lists."""
    props = dataset.props
    if version.run is None:
        # A version Marquez made on first seeing the dataset read: its fields as they were
        # then, its facets as the dataset's are now (so Marquez answers).
        facets = _current_facets(store, dataset, version)
        shape = _first_sight_facets(store, dataset) if version.node.kind == VERSION else facets
        at = version.at or _seen(store, dataset.id)[0]
    else:
        facets = dict(version.node.props.get("facets") or {}) | ({} if listed else version.facets)
        shape = facets
        at = version.at
    source = facets.get("dataSource") or dataset.props.get("facets", {}).get("dataSource") or {}
    tag_names, field_tags = _tag_state(dataset)
    return {
        "id": {"namespace": props["namespace"], "name": props["name"]},
        "type": "DB_TABLE",
        "name": props["name"],
        "physicalName": props["name"],
        "createdAt": instant(at),
        "version": version.uuid,
        "namespace": props["namespace"],
        "sourceName": source.get("name") or DEFAULT_NAMESPACE,
        "fields": _fields(shape, field_tags),
        "tags": tag_names,
        "lifecycleState": _lifecycle(facets),
        "description": (facets.get("documentation") or {}).get("description"),
        "currentSchemaVersion": _schema_version(shape),
        "createdByRun": run_body(store, version.run) if version.run else None,
        "facets": facets,
    }


def _schema_version(facets: dict[str, Any]) -> str | None:
    fields = (facets.get("schema") or {}).get("fields")
    if not isinstance(fields, list):
        return None
    shape = [[f.get("name"), f.get("type")] for f in fields if isinstance(f, dict)]
    return _versioned_uuid("schema", orjson.dumps(shape).decode())


@snapshotted
def dataset_versions(store: Store, namespace: str, name: str, limit: int, offset: int) -> dict[str, Any]:
    node = _dataset_node(store, namespace, name)
    found = _versions_of(store, node)
    page = found[offset : offset + limit]
    return {"totalCount": len(found), "versions": [_version_body(store, node, v, listed=True) for v in page]}


@snapshotted
def dataset_version(store: Store, namespace: str, name: str, version: str) -> dict[str, Any]:
    node = _dataset_node(store, namespace, name)
    for v in _versions_of(store, node):
        if v.uuid == version:
            return _version_body(store, node, v)
    raise MarquezError(404, f"Dataset version '{version}' not found.")


# --- jobs and runs ---------------------------------------------------------------------------


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


def _runs_of(store: Store, job: Node) -> list[Node]:
    """The job's runs, newest first (by start, else first eventTime)."""
    ids = [e.src for e in store.in_edges(job.id, RUN_OF)]
    return sorted(store.nodes(ids), key=_run_order, reverse=True)


def _run_order(run: Node) -> tuple[str, str]:
    return (run.props.get("started_at") or run.props.get("first_event_time") or "", run.id)


def _io(store: Store, run: Node) -> tuple[list[MarquezVersion], list[MarquezVersion]]:
    """The dataset versions a run read and wrote, as Marquez counts them (MarquezVersion): a
    read names the version as its latest writer before the read wrote it."""
    reads = store.edges_from([run.id], READ)
    writes = [m for m in _written(store, store.nodes([e.dst for e in store.edges_from([run.id], WROTE)])) if m.run and m.run.id == run.id]
    read_versions = {v.id: v for v in store.nodes([e.dst for e in reads])}
    inputs = []
    for e in reads:
        v = read_versions.get(e.dst)
        if v is None:
            continue
        at = str(e.props.get("read_at") or run.props.get("first_event_time") or "")
        chosen = _current_at(store, str(v.props.get("dataset")), at) or MarquezVersion(v, None)
        inputs.append(MarquezVersion(chosen.node, chosen.run, e.props.get("facets") or {}))
    outputs = [MarquezVersion(m.node, m.run, m.facets) for m in writes]
    return inputs, outputs


def _current_at(store: Store, dataset: str, at: str) -> MarquezVersion | None:
    """The dataset's current version at `at` as Marquez keeps it: the newest version whose
    writing run had completed by then (a failed or aborted run's output never becomes current)."""
    ids = [e.src for e in store.in_edges(dataset, VERSION_OF)]
    done = [m for m in _written(store, store.nodes(ids))
            if m.run is not None and m.run.props.get("state") == "COMPLETE" and (m.run.props.get("ended_at") or "") <= at]
    return max(done, key=lambda m: (m.run.props.get("ended_at") or "", m.uuid)) if done else None  # type: ignore[union-attr]


def _version_ref(version: MarquezVersion) -> dict[str, Any]:
    return {
        "datasetVersionId": {"namespace": version.node.props.get("namespace"), "name": version.node.props.get("name"), "version": version.uuid},
        "facets": version.facets,
    }


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


def job_body(store: Store, job: Node, *, with_runs: bool = True, view: _JobView | None = None, listed: bool = False) -> dict[str, Any]:
    """A job in Marquez's shape: `with_runs` adds what /lineage leaves out; `listed` is the
    form of a job listing, where Marquez shows a job that never ran without its job event's
    facets and lineage."""
    v = view or _job_view(store, job)
    p = job.props
    latest = v.runs[0] if v.runs else None
    if latest:
        facets = _job_facets_of(store, latest, job)
    else:
        facets = {} if listed else dict(p.get("facets") or {})
        if listed:
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


def _named(pairs: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"namespace": ns, "name": name} for ns, name in sorted(set(pairs))]


@snapshotted
def jobs(store: Store, namespace: str | None, limit: int, offset: int, states: Sequence[str] = ()) -> dict[str, Any]:
    """Jobs newest-updated first, as Marquez lists them. Ordering by a time that runs move
    means reading the namespace's jobs whole: a cost that follows the namespace, not the page."""
    names = store.namespaces() if namespace is None else [namespace]
    nodes: list[Node] = []
    for ns in names:
        nodes += store.in_namespace(JOB, ns, 10_000, 0)[1]
    bodies = [job_body(store, n, listed=True) for n in nodes]
    bodies.sort(key=lambda b: (b["updatedAt"] or "", b["name"]), reverse=True)
    total = len(bodies)  # Marquez counts before the state filter (its bug 15)
    if states:
        bodies = [b for b in bodies if b["latestRun"] is None or b["latestRun"]["state"] in states]
    return {"totalCount": total, "jobs": bodies[offset : offset + limit]}


@snapshotted
def job(store: Store, namespace: str, name: str) -> dict[str, Any]:
    return job_body(store, _job_node(store, namespace, name))


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


# --- lineage ---------------------------------------------------------------------------------


def parse_node_id(value: str) -> tuple[str, str, str]:
    """`dataset:ns:name` or `job:ns:name`; a namespace may itself hold `:` (URIs), so the name
    is what follows the last `:` that leaves a known-shaped namespace."""
    kind, _, rest = value.partition(":")
    if kind not in {"dataset", "job", "datasetField"} or ":" not in rest:
        raise MarquezError(404, "HTTP 404 Not Found")
    if kind == "datasetField":
        raise MarquezError(404, f"Node '{value}' must be of type dataset or job!")
    return kind, *_split_namespace(rest)


def _split_namespace(rest: str) -> tuple[str, str]:
    # A URI namespace (scheme://authority) keeps its own colons: split after the authority.
    if "://" in rest:
        scheme, _, tail = rest.partition("://")
        authority, sep, name = tail.partition(":")
        if ":" in name and name.split(":", 1)[0].isdigit():
            port, _, name = name.partition(":")
            authority += ":" + port
        return f"{scheme}://{authority}", name
    ns, _, name = rest.partition(":")
    return ns, name


@snapshotted
def lineage(store: Store, node_id_value: str, depth: int) -> dict[str, Any]:
    kind, namespace, name = parse_node_id(node_id_value)
    if kind == "job":
        start = _job_node(store, namespace, name)
    else:
        start = store.node(dataset_id(namespace, name))  # type: ignore[assignment]
        if start is None:
            raise not_found("Dataset", name)
    nodes: dict[str, Node] = {start.id: start}
    edges: set[tuple[str, str]] = set()  # (origin, destination) as our node ids
    views: dict[str, _JobView] = {}
    # As Marquez does: from one job (the dataset's writer, else a reader), jobs that share a
    # dataset with a job already reached, up to `depth` such steps; then their datasets.
    if start.kind == JOB:
        jobs = [start.id]
    else:
        adjacent = _neighbours(store, start, set(), views)
        writers = [j for j in adjacent if (start.props.get("namespace"), start.props.get("name")) in
                   [tuple(p) for p in views[j].outputs]]
        jobs = (writers or adjacent)[:1]
    reached = dict.fromkeys(jobs)
    frontier = list(jobs)
    for _ in range(depth):
        found: list[str] = []
        for j in frontier:
            job_node = nodes.get(j) or store.node(j)
            if job_node is None:
                continue
            nodes[j] = job_node
            for ds in _neighbours(store, job_node, set(), views):
                ds_node = nodes.get(ds) or store.node(ds)
                if ds_node is None:
                    continue
                nodes[ds] = ds_node
                found += [k for k in _neighbours(store, ds_node, set(), views) if k not in reached]
        frontier = list(dict.fromkeys(found))
        reached |= dict.fromkeys(frontier)
        if not frontier:
            break
    for j in reached:
        job_node = nodes.get(j) or store.node(j)
        if job_node is None:
            continue
        nodes[j] = job_node
        fresh = [ds for ds in _neighbours(store, job_node, edges, views) if ds not in nodes]
        nodes |= {n.id: n for n in store.nodes(fresh)}
    for i, n in nodes.items():
        if n.kind == JOB:
            views.setdefault(i, _job_view(store, n))
    marquez_id = {i: (node_id("job", str(n.props.get("namespace")), views[i].name) if n.kind == JOB else _marquez_node_id(n))
                  for i, n in nodes.items()}
    graph = []
    for i in sorted(nodes, key=lambda i: marquez_id[i]):
        n = nodes[i]
        data = job_body(store, n, with_runs=False, view=views[i]) if n.kind == JOB else dataset_body(store, n, full=False)
        graph.append({
            "id": marquez_id[i],
            "type": "JOB" if n.kind == JOB else "DATASET",
            "data": data,
            "inEdges": sorted(({"origin": marquez_id[a], "destination": marquez_id[b]} for a, b in edges if b == i and a in nodes),
                              key=lambda e: e["origin"]),
            "outEdges": sorted(({"origin": marquez_id[a], "destination": marquez_id[b]} for a, b in edges if a == i and b in nodes),
                               key=lambda e: e["destination"]),
        })
    return {"graph": graph}


def _neighbours(store: Store, node: Node, edges: set[tuple[str, str]], views: dict[str, _JobView]) -> list[str]:
    """The jobs and datasets one step from `node` in Marquez's job-level lineage: a job's
    inputs and outputs are those of its current version (latest run, or its job event)."""
    out: list[str] = []
    if node.kind == JOB:
        view = views.setdefault(node.id, _job_view(store, node))
        for ds in (dataset_id(*pair) for pair in view.inputs):
            edges.add((ds, node.id))
            out.append(ds)
        for ds in (dataset_id(*pair) for pair in view.outputs):
            edges.add((node.id, ds))
            out.append(ds)
        return out
    versions = [e.src for e in store.in_edges(node.id, VERSION_OF)]
    touching = [e.src for e in store.edges_to(versions, READ)] + [e.src for e in store.edges_to(versions, WROTE)]
    job_ids = {j for r in store.nodes(list(dict.fromkeys(touching))) if (j := r.props.get("job"))}
    # Jobs that declared the dataset in a job event (static lineage) name it in the log.
    job_ids |= {job_id(str(e.job_namespace), str(e.job_name))
                for e in store.events_about([node.id], 10_000).get(node.id) or [] if e.kind == "job" and e.job_name}
    pair = (str(node.props.get("namespace")), str(node.props.get("name")))
    for job in store.nodes(sorted(job_ids)):
        view = views.setdefault(job.id, _job_view(store, job))
        linked = False
        if pair in view.inputs:
            edges.add((node.id, job.id))
            linked = True
        if pair in view.outputs:
            edges.add((job.id, node.id))
            linked = True
        if linked:
            out.append(job.id)
    return out


def _marquez_node_id(node: Node) -> str:
    return node_id("job" if node.kind == JOB else "dataset", node.props.get("namespace") or "", node.props.get("name") or "")


# --- search and events -----------------------------------------------------------------------


@snapshotted
def search(store: Store, q: str, kind: str | None, limit: int, namespace: str | None,
           before: str | None, after: str | None) -> dict[str, Any]:
    kinds = [DATASET, JOB] if kind is None else [DATASET if kind == "DATASET" else JOB]
    results = []
    for k in kinds:
        for n in store.suggest(q, k, 10_000):
            if q.lower() not in (n.props.get("name") or "").lower():
                continue  # suggest also matches versions and handles; Marquez matches names
            if namespace and n.props.get("namespace") != namespace:
                continue
            body = dataset_body(store, n, full=False) if k == DATASET else job_body(store, n, with_runs=False)
            updated = body["updatedAt"] or ""
            name = body["name"]
            if (after and updated < instant(after)) or (before and updated > instant(before)):  # type: ignore[operator]
                continue
            kind_name = "DATASET" if k == DATASET else "JOB"
            results.append({"type": kind_name, "name": name, "updatedAt": updated, "namespace": n.props["namespace"],
                            "nodeId": node_id(kind_name.lower(), n.props["namespace"], name)})
    # Marquez's answers come datasets first, each kind by name (its `sort` has no effect).
    results.sort(key=lambda r: r["namespace"], reverse=True)
    results.sort(key=lambda r: (r["type"] != "DATASET", r["name"]))
    results = results[:limit]
    return {"results": results, "totalCount": len(results)}


@snapshotted
def events(store: Store, before: str | None, after: str | None, descending: bool, limit: int, offset: int) -> dict[str, Any]:
    """The OpenLineage run events with after <= eventTime < before, by eventTime. As Marquez
    does, `totalCount` counts job and dataset events too, though only run events are listed
    (its bug 5, kept so that clients paging by it page alike). Sorting by eventTime reads
    the window whole: its cost follows the window, not the page."""
    flt = EventFilter(since=after, until=before)
    entries, total, cursor = [], 0, 0
    while True:
        page = store.events(flt, cursor, 1000)
        if not page:
            break
        for e in page:
            if e.kind == "annotation" or (before is not None and e.event_time >= before):
                continue  # annotations are ours, not OpenLineage's
            total += 1
            if e.kind == "run":
                entries.append(e)
        cursor = page[-1].seq
    entries.sort(key=lambda e: (e.event_time, e.seq), reverse=descending)
    return {"totalCount": total, "events": [orjson.loads(e.payload) for e in entries[offset : offset + limit]]}
