"""Column lineage queries (issue 36): from one field of a dataset version, the fields it feeds
(or is fed by) along FEEDS edges, version-exact, and downstream the features, model versions
and endpoints they reach, with serving status as impact gives it, and what the walk could not see.

The walk is one `edges_from` / `edges_to` round trip per level over the store protocol, so both
stores answer alike; a level costs what it finds, never what the history holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from lineage import ids
from lineage.columns import has_columns
from lineage.coverage import STALE_RUN_HOURS, answer_warnings, warning
from lineage.errors import InvalidEvent, NotFound
from lineage.graph import (
    DATASET,
    DEPLOYMENT,
    FEATURE_VIEW_VERSION,
    FEEDS,
    FIELD,
    HAS_FIELD,
    MODEL_VERSION,
    READ,
    SERVES,
    VERSION,
    VERSION_OF,
    WROTE,
    Edge,
    Node,
)
from lineage.queries import DEFAULT_DEPTH, check_depth, endpoint_statuses, item
from lineage.refs import display, handle, resolve_ref, summary
from lineage.store.base import Store, snapshotted

Transformations = Literal["direct", "all"]
# How many fields one answer lists at most (a wide table feeding a wide table is quadratic).
MAX_FIELDS = 5000


def check_direction(direction: str) -> Literal["up", "down"]:
    if direction not in ("up", "down"):
        raise InvalidEvent("direction", "must be up or down")
    return direction  # type: ignore[return-value]


def check_transformations(value: str) -> Transformations:
    if value not in ("direct", "all"):
        raise InvalidEvent("transformations", "must be direct (DIRECT edges only) or all (DIRECT and INDIRECT)")
    return value  # type: ignore[return-value]


def resolve_field(store: Store, ref: str, field: str | None) -> Node:
    """The field a ref and a field name mean: `ref` a dataset version (or a dataset: its newest
    version that has the field) and `field` its name; or `ref` alone in the `version[field]` form."""
    node = resolve_ref(store, ref)
    if field is None:
        if node.kind != FIELD:
            raise InvalidEvent("field", f"{display(node)} is a {node.kind}: give a field name, or a ref of the form version[field]")
        return node
    if not field.strip():
        raise InvalidEvent("field", "must not be empty")
    if node.kind == FIELD:
        raise InvalidEvent("field", f"{display(node)} is already a field; leave out the field name")
    if node.kind == DATASET:
        versions = [n for n in store.nodes([e.src for e in store.in_edges(node.id, VERSION_OF)]) if not n.props.get("placeholder")]
        versions.sort(key=lambda n: (n.props.get("written_at") or "", n.id), reverse=True)
        found = store.nodes([ids.field_id(v.id, field) for v in versions])
        by_version = {str(f.props.get("version_id")): f for f in found}
        for version in versions:
            if version.id in by_version:
                return by_version[version.id]
        raise NotFound(f"no version of {display(node)} has a field {field!r}", suggestions=[summary(v) for v in versions[:5]])
    if node.kind != VERSION:
        raise InvalidEvent("ref", f"{display(node)} is a {node.kind}: give a dataset version (dataset@version) or a dataset")
    found_field = store.node(ids.field_id(node.id, field))
    if found_field is None:
        fields = store.nodes([e.dst for e in store.out_edges(node.id, HAS_FIELD)])
        near = sorted(fields, key=lambda f: (field.lower() not in str(f.props.get("field")).lower(), str(f.props.get("field"))))
        raise NotFound(f"{display(node)} has no field {field!r}", suggestions=[summary(f) for f in near[:10]])
    return found_field


def edge_item(edge: Edge, nodes: dict[str, Node]) -> dict[str, Any]:
    src, dst = nodes.get(edge.src), nodes.get(edge.dst)
    return {
        "src": edge.src,
        "dst": edge.dst,
        "src_ref": handle(src) if src else edge.src,
        "dst_ref": handle(dst) if dst else edge.dst,
        "transformations": edge.props.get("transformations") or [],
        "direct": bool(edge.props.get("direct", True)),
    }


def walk(
    store: Store, start: Node, direction: Literal["up", "down"], depth: int, transformations: Transformations
) -> tuple[dict[str, Node], dict[str, int], list[Edge]]:
    """Fields reached from `start` within `depth` FEEDS hops, their depth, and the edges taken."""
    nodes, depths, edges = {start.id: start}, {start.id: 0}, []
    frontier = [start.id]
    for level in range(1, depth + 1):
        if not frontier or len(nodes) >= MAX_FIELDS:
            break
        found = store.edges_from(frontier, FEEDS) if direction == "down" else store.edges_to(frontier, FEEDS)
        if transformations == "direct":
            found = [e for e in found if e.props.get("direct", True)]
        edges.extend(found)
        new = sorted({(e.dst if direction == "down" else e.src) for e in found} - set(nodes))
        for node in store.nodes(new):
            nodes[node.id], depths[node.id] = node, level
        frontier = [n for n in new if n in nodes]
    return nodes, depths, edges


def _endpoints(store: Store, models: list[Node], seen: dict[str, Node]) -> list[dict[str, Any]]:
    """The endpoints whose deployments serve these model versions, as impact lists them."""
    serving = store.edges_to([m.id for m in models], SERVES) if models else []
    deployments = {n.id: n for n in store.nodes(sorted({e.src for e in serving}))}
    seen.update(deployments)
    via: dict[str, set[str]] = {}
    for edge in serving:
        via.setdefault(edge.src, set()).add(edge.dst)
    affected: dict[str, list[str]] = {}
    for dep in deployments.values():
        if DEPLOYMENT in dep.labels:
            affected.setdefault(str(dep.props.get("dataset")), []).append(dep.id)
    statuses = endpoint_statuses(store, sorted(affected), seen)
    names = {m.id: display(m) for m in models}
    out = []
    for endpoint_id, hit in sorted(affected.items()):
        status = statuses[endpoint_id]
        current = [m for d in status["live"] for m in d["model_versions"]]
        out.append(
            {
                "name": status["name"],
                "id": endpoint_id,
                "environment": status["environment"],
                "currently_serving": any(d["id"] in hit for d in status["live"]),
                "current_model_version": current[0] if len(current) == 1 else (current or None),
                "via_model_versions": sorted({names[m] for d in hit for m in via.get(d, ())}),
                "affected_deployments": [
                    {k: d[k] for k in ("id", "since", "until", "status", "canary", "rollback")}
                    | {"model_version": ", ".join(d["model_versions"]), "currently_serving": d.get("status") == "live"}
                    for d in reversed(status["deployments"])
                    if d["id"] in hit
                ],
            }
        )
    return out


def column_gaps(store: Store, versions: Iterable[Node], direction: Literal["up", "down"]) -> list[dict[str, str]]:
    """Where column lineage stops while data lineage goes on: downstream, a run read a reached
    version and wrote one that carries no column lineage; upstream, a reached version was
    written by a run that read data, yet says nothing of where its columns come from."""
    reached = [v for v in versions if not v.props.get("placeholder")]
    out: list[dict[str, str]] = []
    if not reached:
        return out
    if direction == "down":
        reads = store.edges_to([v.id for v in reached], READ)
        wrote = store.edges_from(sorted({e.src for e in reads}), WROTE)
        outputs = {n.id: n for n in store.nodes(sorted({e.dst for e in wrote}))}
        by_run: dict[str, list[str]] = {}
        for edge in reads:
            by_run.setdefault(edge.src, []).append(edge.dst)
        names = {v.id: display(v) for v in reached}
        for edge in wrote:
            out_node = outputs.get(edge.dst)
            if out_node is None or has_columns(out_node) or DEPLOYMENT in out_node.labels:
                continue
            read = ", ".join(sorted({names[v] for v in by_run.get(edge.src, [])}))
            out.append(warning(
                "column_lineage_missing", out_node,
                f"{display(out_node)} was made from {read} by run {edge.src.removeprefix('run-')} with no column lineage: "
                "whether the field reached it is unknown",
            ))
    else:
        wrote = store.edges_to([v.id for v in reached], WROTE)
        reads = store.edges_from(sorted({e.src for e in wrote}), READ)
        readers = {e.src for e in reads}
        for version in reached:
            if any(e.dst == version.id and e.src in readers for e in wrote) and not has_columns(version):
                out.append(warning(
                    "column_lineage_missing", version,
                    f"{display(version)} was written by a run that read data, with no column lineage: where its fields come from is unknown",
                ))
    unique = {(w["kind"], w["node"], w["detail"]): w for w in out}
    return [unique[k] for k in sorted(unique)]


@snapshotted
def column_lineage(
    store: Store,
    ref: str,
    field: str | None = None,
    direction: str = "down",
    depth: int = DEFAULT_DEPTH,
    transformations: str = "all",
    *,
    stale_run_hours: float = STALE_RUN_HOURS,
) -> dict[str, Any]:
    """The column lineage of one field: the fields it feeds (`down`) or is fed by (`up`), each
    edge with its transformations; the feature view versions, model versions and (downstream)
    endpoints they belong to or reach; and `warnings`."""
    way = check_direction(direction)
    only = check_transformations(transformations)
    check_depth(depth)
    start = resolve_field(store, ref, field)
    nodes, depths, edges = walk(store, start, way, depth, only)
    versions = {n.id: n for n in store.nodes(sorted({str(n.props.get("version_id")) for n in nodes.values()}))}
    by_version: dict[str, list[str]] = {}
    for node in nodes.values():
        by_version.setdefault(str(node.props.get("version_id")), []).append(str(node.props.get("field")))
    fields = sorted((item(n, depths[n.id]) for n in nodes.values()), key=lambda f: (f["depth"], f["label"]))

    def version_row(v: Node) -> dict[str, Any]:
        return item(v) | {"fields": sorted(by_version.get(v.id, []))}

    groups: dict[str, list[dict[str, Any]]] = {"dataset_versions": [], "feature_view_versions": [], "model_versions": []}
    for v in sorted(versions.values(), key=display):
        key = "model_versions" if MODEL_VERSION in v.labels else "feature_view_versions" if FEATURE_VIEW_VERSION in v.labels else "dataset_versions"
        groups[key].append(version_row(v))
    features = [
        f | {"feature": f["field"], "feature_view": display(versions[f["version_id"]])}
        for f in fields
        if f["id"] != start.id and f["version_id"] in versions and FEATURE_VIEW_VERSION in versions[f["version_id"]].labels
    ]
    seen: dict[str, Node] = dict(versions)
    models = [v for v in versions.values() if MODEL_VERSION in v.labels]
    endpoints = _endpoints(store, models, seen) if way == "down" else []
    warnings = answer_warnings(store, seen.values(), stale_run_hours=stale_run_hours)
    warnings += column_gaps(store, versions.values(), way)
    if len(nodes) >= MAX_FIELDS:
        warnings.append(warning("truncated", start, f"the walk stopped at {MAX_FIELDS} fields; ask with a smaller depth"))
    all_nodes = dict(nodes)
    return {
        "ref": ref,
        "field": item(start, 0),
        "direction": way,
        "depth": depth,
        "transformations": only,
        "warnings": warnings,
        "counts": {
            "fields": len(fields) - 1, "features": len(features), "model_versions": len(groups["model_versions"]),
            "endpoints": len(endpoints), "edges": len(edges),
        },
        "fields": [f for f in fields if f["id"] != start.id],
        "edges": [edge_item(e, all_nodes) for e in sorted(edges, key=lambda e: e.ident)],
        "features": features,
        **groups,
        "endpoints": endpoints,
    }


@snapshotted
def version_fields(store: Store, ref: str) -> dict[str, Any]:
    """The fields of a dataset version, with their types and how many edges enter and leave each."""
    node = resolve_ref(store, ref)
    if node.kind != VERSION:
        raise InvalidEvent("ref", f"{display(node)} is a {node.kind}: give a dataset version (dataset@version)")
    fields = store.nodes([e.dst for e in store.out_edges(node.id, HAS_FIELD)])
    ids_ = [f.id for f in fields]
    feeds = store.edges_from(ids_, FEEDS) if ids_ else []
    fed = store.edges_to(ids_, FEEDS) if ids_ else []
    rows = []
    for f in sorted(fields, key=lambda f: str(f.props.get("field"))):
        rows.append(item(f) | {
            "inputs": sum(1 for e in fed if e.dst == f.id),
            "outputs": sum(1 for e in feeds if e.src == f.id),
        })
    return {"ref": ref, "node": item(node), "fields": rows}
