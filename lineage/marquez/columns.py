"""Marquez's column lineage: `GET /api/v1/column-lineage?nodeId=&depth=&withDownstream=` (issue 36).

Marquez walks fields by name (`datasetField:ns:name:field`), each at its dataset's current
version, over its column-lineage rows: first the rows whose output is a start field, then, level
by level up to `depth` levels in all, the rows whose output is an input already reached
(upstream) and, with `withDownstream`, the rows whose input is an output already reached. Ours
are FEEDS edges between fields of exact versions; here an edge counts as Marquez's row when it
enters a field of its dataset's current version, and fields are named without their version.
As in Marquez, a field that is nobody's output starts an empty walk, and only the deprecated
per-field `transformationType` / `transformationDescription` is shown (docs/marquez.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lineage import ids
from lineage.columns import schema_fields
from lineage.graph import FEEDS, HAS_FIELD, JOB, RUN_OF, VERSION_OF, WROTE, Edge, Node
from lineage.marquez.common import MarquezError
from lineage.marquez.datasets import _versions_of
from lineage.marquez.walk import _split_namespace
from lineage.store.base import Store, snapshotted

DEFAULT_DEPTH = 20
Key = tuple[str, str, str]  # (namespace, dataset name, field)


def _missing() -> MarquezError:
    return MarquezError(404, "Could not find node")


def parse(node_id: str) -> tuple[str, str, str, str | None]:
    """(kind, namespace, name, field) of `datasetField:ns:name:field`, `dataset:ns:name` or
    `job:ns:name`; a `#version` suffix (Marquez's versioned form) is set aside."""
    kind, _, rest = node_id.partition(":")
    rest = rest.split("#", 1)[0]
    if kind not in ("datasetField", "dataset", "job") or ":" not in rest:
        raise MarquezError(404, "HTTP 404 Not Found")
    namespace, name = _split_namespace(rest)
    if kind != "datasetField":
        return kind, namespace, name, None
    name, _, field = name.rpartition(":")
    if not name or not field:
        raise _missing()
    return kind, namespace, name, field


def marquez_id(key: Key) -> str:
    return f"datasetField:{key[0]}:{key[1]}:{key[2]}"


@dataclass
class _Graph:
    """What the walk has read: current versions by dataset, field nodes, and the edges kept."""

    store: Store
    current: dict[str, Node | None]
    fields: dict[str, Node]
    versions: dict[str, Node]

    def current_of(self, dataset: str) -> Node | None:
        if dataset not in self.current:
            node = self.store.node(dataset)
            found = _versions_of(self.store, node) if node is not None else []
            written = [m for m in found if not m.node.props.get("placeholder")]
            self.current[dataset] = written[0].node if written else None
        return self.current[dataset]

    def key(self, field: Node) -> Key:
        of = field.props.get("of") or {}
        return (str(of.get("namespace")), str(of.get("name")), str(field.props.get("field")))

    def load(self, field_ids: list[str]) -> None:
        missing = [f for f in dict.fromkeys(field_ids) if f not in self.fields]
        for node in self.store.nodes(missing):
            self.fields[node.id] = node

    def into(self, keys: list[Key]) -> list[Edge]:
        """Edges entering these fields at their datasets' current versions."""
        wanted = []
        for namespace, name, field in keys:
            version = self.current_of(ids.dataset_id(namespace, name))
            if version is not None:
                self.versions[version.id] = version
                wanted.append(ids.field_id(version.id, field))
        edges = self.store.edges_to(wanted, FEEDS) if wanted else []
        self.load([e.src for e in edges] + [e.dst for e in edges])
        return edges

    def out_of(self, keys: list[Key]) -> list[Edge]:
        """Edges leaving these fields (at any version) into a current version of their target."""
        datasets = sorted({ids.dataset_id(k[0], k[1]) for k in keys})
        versions = [e.src for e in self.store.edges_to(datasets, VERSION_OF)] if datasets else []
        by_dataset: dict[str, list[str]] = {}
        for node in self.store.nodes(versions):
            by_dataset.setdefault(str(node.props.get("dataset")), []).append(node.id)
        wanted = [ids.field_id(v, k[2]) for k in keys for v in by_dataset.get(ids.dataset_id(k[0], k[1]), [])]
        edges = self.store.edges_from(wanted, FEEDS) if wanted else []
        self.load([e.src for e in edges] + [e.dst for e in edges])
        kept = []
        for edge in edges:
            dst = self.fields.get(edge.dst)
            if dst is None:
                continue
            current = self.current_of(str(dst.props.get("dataset")))
            if current is not None and current.id == dst.props.get("version_id"):
                self.versions[current.id] = current
                kept.append(edge)
        return kept


def _start_keys(store: Store, graph: _Graph, kind: str, namespace: str, name: str, field: str | None) -> list[Key]:
    if kind == "job":
        job = store.node(ids.job_id(namespace, name))
        if job is None or job.kind != JOB:
            raise _missing()
        runs = [e.src for e in store.in_edges(job.id, RUN_OF)]
        wrote = store.edges_from(runs, WROTE) if runs else []
        datasets = sorted({str(n.props.get("dataset")) for n in store.nodes(sorted({e.dst for e in wrote}))})
    else:
        datasets = [ids.dataset_id(namespace, name)]
        if store.node(datasets[0]) is None:
            raise _missing()
    keys: list[Key] = []
    for dataset in datasets:
        version = graph.current_of(dataset)
        if version is None:
            continue
        fields = store.nodes([e.dst for e in store.out_edges(version.id, HAS_FIELD)])
        keys += [graph.key(f) for f in fields]
    if field is not None:
        if not any(k[2] == field for k in keys) and not _known_field(store, datasets[0], field):
            raise _missing()
        return [(namespace, name, field)]
    return sorted(set(keys))


def _known_field(store: Store, dataset: str, field: str) -> bool:
    """Marquez knows a field its dataset's schema ever named, though no column came from it."""
    node = store.node(dataset)
    if node is not None and field in schema_fields(node.props.get("facets") or {}):
        return True
    versions = [e.src for e in store.in_edges(dataset, VERSION_OF)]
    return bool(store.nodes([ids.field_id(v, field) for v in versions]))


@snapshotted
def column_lineage(store: Store, node_id: str, depth: int, with_downstream: bool) -> dict[str, Any]:
    """Marquez's `{"graph": [...]}` of DATASET_FIELD nodes with their data and edges."""
    kind, namespace, name, field = parse(node_id)
    graph = _Graph(store, {}, {}, {})
    start = _start_keys(store, graph, kind, namespace, name, field)
    rows: dict[tuple[Key, Key], Edge] = {}  # (input, output) -> one edge that says so

    def add(edges: list[Edge]) -> list[tuple[Key, Key]]:
        new = []
        for edge in edges:
            src, dst = graph.fields.get(edge.src), graph.fields.get(edge.dst)
            if src is None or dst is None or _dataset_wide_only(edge):
                continue
            pair = (graph.key(src), graph.key(dst))
            if pair not in rows:
                rows[pair] = edge
                new.append(pair)
        return new

    frontier = add(graph.into(start))
    for _ in range(1, max(depth, 1)):
        if not frontier:
            break
        found = graph.into(sorted({i for i, _ in frontier}))
        if with_downstream:
            found += graph.out_of(sorted({o for _, o in frontier}))
        frontier = add(found)
    return {"graph": _nodes(graph, rows)}


def _dataset_wide_only(edge: Edge) -> bool:
    """Made only by the facet's dataset-wide list, which Marquez does not read."""
    found = edge.props.get("transformations") or []
    return bool(found) and all(t.get("dataset_wide") for t in found)


def _legacy(version: Node | None, field: str) -> tuple[Any, Any]:
    """The deprecated per-field transformation Marquez shows, from the version's facet."""
    facet = ((version.props.get("facets") or {}) if version else {}).get("columnLineage")
    entry = ((facet or {}).get("fields") or {}).get(field) if isinstance(facet, dict) else None
    if not isinstance(entry, dict):
        return None, None
    return entry.get("transformationDescription"), entry.get("transformationType")


def _nodes(graph: _Graph, rows: dict[tuple[Key, Key], Edge]) -> list[dict[str, Any]]:
    keys = sorted({k for pair in rows for k in pair}, key=marquez_id)
    version_of: dict[Key, str] = {}
    for (src, dst), edge in rows.items():
        version_of[dst] = str(graph.fields[edge.dst].props.get("version_id"))
        version_of.setdefault(src, str(graph.fields[edge.src].props.get("version_id")))
    out = []
    for key in keys:
        inputs = sorted((src for src, dst in rows if dst == key), key=marquez_id)
        outputs = sorted((dst for src, dst in rows if src == key), key=marquez_id)
        version = graph.versions.get(version_of[key]) if inputs else None
        description, kind = _legacy(version, key[2]) if inputs else (None, None)
        field_type = (schema_fields(version.props.get("facets") or {}).get(key[2]) or "") if version else ""
        out.append({
            "id": marquez_id(key),
            "type": "DATASET_FIELD",
            "data": {
                "namespace": key[0],
                "dataset": key[1],
                "datasetVersion": _version_label(graph, version_of[key]),
                "field": key[2],
                "fieldType": field_type,
                "transformationDescription": description,
                "transformationType": kind,
                "inputFields": [
                    {
                        "namespace": src[0], "dataset": src[1],
                        "datasetVersion": _version_label(graph, version_of[src]),
                        "field": src[2], "transformationDescription": description, "transformationType": kind,
                    }
                    for src in inputs
                ],
            },
            "inEdges": [{"origin": marquez_id(key), "destination": marquez_id(src)} for src in inputs],
            "outEdges": [{"origin": marquez_id(key), "destination": marquez_id(dst)} for dst in outputs],
        })
    return out


def _version_label(graph: _Graph, version_id: str) -> str | None:
    """Marquez's datasetVersion is a row id of its own; ours names the version the field is of."""
    version = graph.versions.get(version_id)
    if version is None:
        found = graph.store.node(version_id)
        if found is not None:
            graph.versions[version_id] = found
            version = found
    return None if version is None else (version.props.get("version") or version_id)
