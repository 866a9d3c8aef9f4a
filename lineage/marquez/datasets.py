"""Datasets, their versions and sources in Marquez's shapes."""

from __future__ import annotations

from typing import Any

import orjson

from lineage.graph import DATASET, READ, VERSION, VERSION_OF, Node
from lineage.ids import dataset_id
from lineage.marquez.common import _fields, _first_sight_facets, _lifecycle, _seen, _tag_state, _versioned_uuid, DEFAULT_NAMESPACE, instant, MarquezError, not_found
from lineage.marquez.runs import run_body
from lineage.marquez.versions import _written, MarquezVersion
from lineage.store.base import Store, snapshotted


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


def _dataset_node(store: Store, namespace: str, name: str) -> Node:
    node = store.node(dataset_id(namespace, name))
    if node is None:
        if namespace != DEFAULT_NAMESPACE and namespace not in store.namespaces():
            raise not_found("Namespace", namespace)
        raise not_found("Dataset", name)
    return node


def _versions_of(store: Store, dataset: Node) -> list[MarquezVersion]:
    """The dataset's versions, newest first. A dataset only ever read has one: the placeholder
    its reads bind to, which Marquez creates too when it first sees the dataset."""
    ids = [e.src for e in store.in_edges(dataset.id, VERSION_OF)]
    found = sorted(_written(store, store.nodes(ids)), key=lambda m: (m.at, m.uuid), reverse=True)
    # A dataset known only from a dataset or job event has one version in Marquez: itself.
    return found or [MarquezVersion(dataset, None)]


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
