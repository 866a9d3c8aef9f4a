"""Incident queries over the graph: impact, upstream, graph, search, nodes and events.

Traversal is native in each store (`Store.flow`); shaping the answer is shared here, so both
backends give the same answers (the conformance suite checks it).
"""

from __future__ import annotations

from typing import Any

import orjson

from lineage import datachanges, levels
from lineage.coverage import STALE_RUN_HOURS, answer_warnings
from lineage.errors import InvalidEvent, NotFound
from lineage.graph import (
    ALIAS,
    ANNOTATES,
    CHILD_OF,
    DATASET,
    DECLARED_READ,
    DECLARED_WRITE,
    DEPLOYMENT,
    EDGE_TYPES,
    ENDPOINT,
    FEATURE_VIEW_VERSION,
    FIELD,
    JOB,
    MODEL_VERSION,
    POINTS_TO,
    READ,
    RUN,
    RUN_OF,
    SERVES,
    SYMLINK,
    WROTE,
    VERSION,
    VERSION_OF,
    Node,
)
from lineage.refs import check_kind, display, find_fields, near, resolve_ref, summary
from lineage.store.base import Direction, EventFilter, Hop, Store, Subgraph, snapshotted

MAX_DEPTH = 50
DEFAULT_DEPTH = 20
MAX_PAGE = 1000


def check_depth(depth: int) -> int:
    if not 1 <= depth <= MAX_DEPTH:
        raise InvalidEvent("depth", f"must be between 1 and {MAX_DEPTH}")
    return depth


def check_limit(limit: int, field: str = "limit") -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidEvent(field, f"must be between 1 and {MAX_PAGE}")
    return limit


def bucket(node: Node) -> str:
    """Which group of an answer a node belongs to."""
    if node.kind == VERSION:
        if DEPLOYMENT in node.labels:
            return "deployments"
        if MODEL_VERSION in node.labels:
            return "model_versions"
        if FEATURE_VIEW_VERSION in node.labels:
            return "feature_view_versions"
        return "dataset_versions"
    return {RUN: "runs", "Commit": "commits", JOB: "jobs", DATASET: "datasets", ALIAS: "aliases"}.get(node.kind, "other")


def item(node: Node, depth: int | None = None) -> dict[str, Any]:
    """A node as it appears in query answers: its summary and the fields responders read."""
    p = node.props
    out = summary(node)
    if depth is not None:
        out["depth"] = depth
    if node.kind == VERSION:
        out |= {"dataset": p.get("dataset"), "name": p.get("name"), "version": p.get("version"), "written_at": p.get("written_at")}
        if DEPLOYMENT in node.labels:
            out |= {k: p.get(k) for k in ("endpoint", "since", "until", "status", "traffic_percent", "canary", "rollback")}
        if p.get("immutability_violations"):
            out["immutability_violations"] = p["immutability_violations"]
        if p.get("write_failed"):  # only failed runs wrote it: shown, never bound to (docs/releases.md)
            out["write_failed"] = True
    elif node.kind == RUN:
        facets = p.get("facets") or {}
        training = facets.get("ml_training") or {}
        out |= {
            "run_id": p.get("run_id"),
            "job": p.get("job_name"),
            "namespace": p.get("job_namespace"),
            "state": p.get("state"),
            "started_at": p.get("started_at"),
            "ended_at": p.get("ended_at"),
            "params": training.get("params", {}),
            "metrics": training.get("metrics", {}),
        }
    elif node.kind == "Commit":
        out |= {"repo": p.get("repo"), "sha": p.get("sha"), "branch": p.get("branch"), "tag": p.get("tag")}
    elif node.kind == FIELD:  # what it keeps of its version names the version (issue 36)
        of = p.get("of") or {}
        out |= {k: p.get(k) for k in ("field", "type", "version_id", "dataset")} | {k: of.get(k) for k in ("namespace", "name", "version")}
        if p.get("placeholder"):  # the version read is unknown (docs/column-lineage.md)
            out["placeholder"] = True
    if p.get("annotations"):
        out["annotations"] = p["annotations"]
    if p.get("problems"):  # how many problems events that touch it had (issue 29); details on the node
        out["problems"] = len(p["problems"])
    return out


def start_nodes(store: Store, node: Node, direction: Direction) -> list[str]:
    """Where a traversal begins: a dataset (or endpoint) means all its versions (or
    deployments), a job all its runs, an alias the versions it has pointed to."""
    # The dataset or job itself too: its declared (job-level) edges start there (issue 30).
    if node.kind == DATASET:
        # Under each of its names (symlinks): a table's readers are downstream of its path too.
        names = [node.id]
        if node.props.get("symlinked"):
            names += [e.dst for e in store.out_edges(node.id, SYMLINK)] + [e.src for e in store.in_edges(node.id, SYMLINK)]
        names = list(dict.fromkeys(names))
        return [*(e.src for e in store.edges_to(names, VERSION_OF)), *names]
    if node.kind == JOB:
        return [*(e.src for e in store.in_edges(node.id, RUN_OF)), node.id]
    if node.kind == ALIAS:
        return [e.dst for e in store.out_edges(node.id, POINTS_TO)] or [node.id]
    return [node.id]


def walk(store: Store, ref: str, direction: Direction, depth: int) -> tuple[Node, Subgraph]:
    node = resolve_ref(store, ref)
    return node, store.flow(start_nodes(store, node, direction), direction, check_depth(depth))


def grouped(sub: Subgraph, skip: set[str]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {
        "commits": [], "dataset_versions": [], "feature_view_versions": [], "runs": [], "model_versions": [], "deployments": [],
        "jobs": [], "datasets": [],
    }
    # Jobs and datasets joined by what a JobEvent declared rather than by what a run did.
    declared = {i for e in sub.edges if e.type in (DECLARED_READ, DECLARED_WRITE) for i in (e.src, e.dst)}
    for node_id, node in sub.nodes.items():
        if node_id in skip:
            continue
        entry = item(node, sub.depth.get(node_id))
        if node_id in declared:
            entry["declared"] = True
        groups.setdefault(bucket(node), []).append(entry)
    for items in groups.values():
        items.sort(key=lambda i: (i.get("depth", 0), i["label"], i["id"]))
    return groups


def endpoint_status(store: Store, endpoint: str, seen: dict[str, Node] | None = None) -> dict[str, Any]:
    """An endpoint's deployments, newest first, with what each serves."""
    return endpoint_statuses(store, [endpoint], seen)[endpoint]


def endpoint_statuses(store: Store, endpoints: list[str], seen: dict[str, Node] | None = None) -> dict[str, dict[str, Any]]:
    """`endpoint_status` of each endpoint, in one round trip however many endpoints and
    however long their histories: the endpoints with their deployments, and what those
    deployments serve and which runs made them. `seen`, when given, collects those nodes
    (what the answer's warnings are about)."""
    wanted = list(dict.fromkeys(endpoints))
    history, made = store.hops(wanted, [Hop(in_types=(VERSION_OF,)), Hop(out_types=(SERVES,), in_types=(WROTE,))])
    if seen is not None:
        seen.update(history.nodes)
        seen.update(made.nodes)
    nodes = history.nodes
    dep_ids: dict[str, list[str]] = {e: [] for e in wanted}
    for edge in history.edges:
        dep_ids[edge.dst].append(edge.src)
    deps = [n for ids in dep_ids.values() for d in ids if (n := nodes.get(d)) and DEPLOYMENT in n.labels]
    serves: dict[str, list[str]] = {}
    writers: dict[str, str] = {}
    for edge in made.edges:
        if edge.type == SERVES:
            serves.setdefault(edge.src, []).append(edge.dst)
        else:
            writers.setdefault(edge.dst, edge.src)
    models = made.nodes
    rows: dict[str, dict[str, Any]] = {}
    for dep in deps:
        served = [models[m] for m in serves.get(dep.id, []) if m in models]
        row = item(dep) | {"model_versions": [display(m) for m in served]}
        row["run_id"] = writers[dep.id].removeprefix("run-") if dep.id in writers else None
        rows[dep.id] = row
    out = {}
    for endpoint in wanted:
        node = nodes.get(endpoint)
        deployments = [rows[d] for d in dep_ids[endpoint] if d in rows]
        deployments.sort(key=lambda d: (d.get("since") or "", d["id"]), reverse=True)
        out[endpoint] = {
            "name": (node.props.get("endpoint") if node else None) or endpoint,
            "id": endpoint,
            "environment": (((node.props.get("facets") or {}).get("ml_endpoint") or {}).get("environment") if node else None),
            "live": [d for d in deployments if d.get("status") == "live"],
            "deployments": deployments,
        }
    return out


def fold_child_runs(store: Store, groups: dict[str, list[dict[str, Any]]], all_runs: bool) -> dict[str, Any]:
    """Child runs that touch no dataset (a dbt model's SQL statements, a Spark job's stages)
    are counted under their parent instead of listed (issue 30), unless `all_runs`: they are
    most of the runs of a busy answer and say nothing about data. One round trip."""
    runs = groups["runs"]
    found = store.around([r["id"] for r in runs], out_types=(READ, WROTE, CHILD_OF)) if runs else None
    edges = found.edges if found else []
    touches = {e.src for e in edges if e.type in (READ, WROTE)}
    parent = {e.src: e.dst for e in edges if e.type == CHILD_OF}
    folded = {r["id"] for r in runs if r["id"] in parent and r["id"] not in touches}
    per_parent: dict[str, int] = {}
    for run in folded:
        per_parent[parent[run]] = per_parent.get(parent[run], 0) + 1
    for run in runs:
        if run["id"] in parent:
            run["parent_run"] = parent[run["id"]]
        if run["id"] in per_parent:
            run["child_runs_folded"] = per_parent[run["id"]]
    if not all_runs:
        groups["runs"] = [r for r in runs if r["id"] not in folded]
    nodes = found.nodes if found else {}
    return {
        "count": len(folded),
        "listed": all_runs,
        "parents": [
            (summary(nodes[p]) if p in nodes else {"id": p}) | {"child_runs": n} for p, n in sorted(per_parent.items())
        ],
    }


VERSION_GROUPS = ("commits", "dataset_versions", "feature_view_versions", "runs", "model_versions", "deployments", "jobs", "datasets")


def _leveled(
    store: Store,
    ref: str,
    direction: Direction,
    depth: int,
    level: str | None,
    since: str | None,
    until: str | None,
    cursor: str | None,
    limit: int | None,
    stale_run_hours: float,
    version_answer: Any,
) -> dict[str, Any]:
    """`impact` or `upstream` at the level the ref and `level` call for (lineage/levels.py)."""
    node = resolve_ref(store, ref)
    check_depth(depth)
    chosen = levels.choose(node, level)
    if chosen == "dataset":
        if cursor is not None or limit is not None:
            raise InvalidEvent("cursor", "pages are for level=version; the dataset level comes whole")
        answer = levels.collapsed(store, node, direction, depth, since, until, stale_run_hours, item)
        return {"ref": ref, "level": "dataset", "depth": depth, **answer, "partial": False}
    if since is not None or until is not None:
        raise InvalidEvent("since", "since and until apply to level=dataset")
    answer = {"level": "version", **version_answer()}
    # An explicit version level of a dataset or job (its whole history) comes a page at a time.
    if limit is not None or cursor is not None or (level == "version" and node.kind in (DATASET, JOB)):
        return levels.page_groups(answer, VERSION_GROUPS, cursor, check_limit(limit or MAX_PAGE))
    return answer | {"partial": False, "next_cursor": None}


@snapshotted
def impact(
    store: Store,
    ref: str,
    depth: int = DEFAULT_DEPTH,
    *,
    stale_run_hours: float = STALE_RUN_HOURS,
    all_runs: bool = False,
    level: str | None = None,
    since: str | None = None,
    until: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """Downstream of a ref at dataset/job level (a dataset or job ref, by default) or version
    level (lineage/levels.py), with what the walk could not see (`warnings`)."""
    return _leveled(
        store, ref, "down", depth, level, since, until, cursor, limit, stale_run_hours,
        lambda: _version_impact(store, ref, depth, stale_run_hours=stale_run_hours, all_runs=all_runs),
    )


def _version_impact(store: Store, ref: str, depth: int, *, stale_run_hours: float, all_runs: bool) -> dict[str, Any]:
    """Everything downstream of a ref, version-exact, and the endpoints it reached, with what
    the walk could not see (`warnings`); child runs that touch no dataset are folded under their
    parent (`folded_runs`) unless `all_runs`."""
    node, sub = walk(store, ref, "down", depth)
    skip = {node.id} if node.id in sub.nodes else set()
    groups = grouped(sub, skip)
    folded = fold_child_runs(store, groups, all_runs)
    affected: dict[str, list[dict[str, Any]]] = {}
    for dep in groups["deployments"]:
        affected.setdefault(dep["dataset"], []).append(dep)
    endpoints = []
    statuses = endpoint_statuses(store, sorted(affected))
    for endpoint_id, deps in sorted(affected.items()):
        status = statuses[endpoint_id]
        hit = {d["id"] for d in deps}
        current = [m for d in status["live"] for m in d["model_versions"]]
        endpoints.append(
            {
                "name": status["name"],
                "id": endpoint_id,
                "environment": status["environment"],
                "currently_serving": any(d["id"] in hit for d in status["live"]),
                "current_model_version": current[0] if len(current) == 1 else (current or None),
                # `currently_serving` of a deployment is its own: only a live one serves now
                "affected_deployments": [
                    {k: d[k] for k in ("id", "since", "until", "status", "canary", "rollback")}
                    | {"model_version": ", ".join(d["model_versions"]), "currently_serving": d.get("status") == "live"}
                    for d in reversed(status["deployments"])  # oldest first
                    if d["id"] in hit
                ],
            }
        )
    counts = {k: len(v) for k, v in groups.items()}
    warnings = answer_warnings(store, [node, *sub.nodes.values()], stale_run_hours=stale_run_hours)
    return {
        "ref": ref, "node": item(node), "depth": depth, "warnings": warnings, "counts": counts, **groups,
        "folded_runs": folded, "endpoints": endpoints,
    }


@snapshotted
def upstream(
    store: Store,
    ref: str,
    depth: int = DEFAULT_DEPTH,
    *,
    stale_run_hours: float = STALE_RUN_HOURS,
    all_runs: bool = False,
    level: str | None = None,
    since: str | None = None,
    until: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """Upstream of a ref at dataset/job level or version level, as `impact`."""
    return _leveled(
        store, ref, "up", depth, level, since, until, cursor, limit, stale_run_hours,
        lambda: _version_upstream(store, ref, depth, stale_run_hours=stale_run_hours, all_runs=all_runs),
    )


def _version_upstream(store: Store, ref: str, depth: int, *, stale_run_hours: float, all_runs: bool) -> dict[str, Any]:
    """Provenance of a ref: commits, dataset and feature view versions, runs with params, and
    what the walk could not see (`warnings`); child runs folded as in `impact`."""
    node, sub = walk(store, ref, "up", depth)
    groups = grouped(sub, {node.id} if node.id in sub.nodes else set())
    folded = fold_child_runs(store, groups, all_runs)
    warnings = answer_warnings(store, [node, *sub.nodes.values()], stale_run_hours=stale_run_hours)
    counts = {k: len(v) for k, v in groups.items()}
    return {"ref": ref, "node": item(node), "depth": depth, "warnings": warnings, "counts": counts, **groups, "folded_runs": folded}


@snapshotted
def graph(
    store: Store,
    ref: str,
    direction: str = "both",
    depth: int = 3,
    *,
    stale_run_hours: float = STALE_RUN_HOURS,
    level: str | None = None,
    since: str | None = None,
    until: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """Nodes and edges around a ref, for drawing, and `warnings` about them (the page's banner):
    datasets and jobs joined by the adjacency (a dataset or job ref, by default), or versions and
    runs (`level=version`, paged by `cursor`/`limit`)."""
    if direction not in ("up", "down", "both"):
        raise InvalidEvent("direction", "must be up, down or both")
    node = resolve_ref(store, ref)
    check_depth(depth)
    chosen = levels.choose(node, level)
    if chosen == "dataset":
        if cursor is not None or limit is not None:
            raise InvalidEvent("cursor", "pages are for level=version; the dataset level comes whole")
        return levels.collapsed_graph(store, node, direction, depth, since, until, stale_run_hours, item)
    if since is not None or until is not None:
        raise InvalidEvent("since", "since and until apply to level=dataset")
    answer = {"level": "version", **_version_graph(store, node, direction, depth, stale_run_hours)}
    if limit is not None or cursor is not None or (level == "version" and node.kind in (DATASET, JOB)):
        return levels.page_graph(answer, cursor, check_limit(limit or MAX_PAGE))
    return answer | {"partial": False, "next_cursor": None}


def _version_graph(store: Store, node: Node, direction: str, depth: int, stale_run_hours: float) -> dict[str, Any]:
    subs = [store.flow(start_nodes(store, node, d), d, depth) for d in (("up", "down") if direction == "both" else (direction,))]  # type: ignore[arg-type]
    nodes: dict[str, dict[str, Any]] = {}
    edges: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for sub in subs:
        for node_id, n in sub.nodes.items():
            nodes[node_id] = item(n, sub.depth.get(node_id))
        for e in sub.edges:
            edges[e.ident] = {"src": e.src, "type": e.type, "dst": e.dst, "key": e.key, "props": e.props}
    if node.kind in (DATASET, JOB, ALIAS):  # the ref itself, tied to where the walk began
        nodes[node.id] = item(node, 0)
    seen = {node.id: node} | {i: n for sub in subs for i, n in sub.nodes.items()}
    return {
        "root": node.id,
        "nodes": sorted(nodes.values(), key=lambda n: n["id"]),
        "edges": [edges[k] for k in sorted(edges)],
        "warnings": answer_warnings(store, seen.values(), stale_run_hours=stale_run_hours),
    }


@snapshotted
def versions(store: Store, ref: str, limit: int = 100) -> dict[str, Any]:
    """The versions of the dataset a ref names (or of the dataset a version belongs to), newest
    first: what the web page lists for datasets and feature views (issue 8); models and
    endpoints have richer answers in `releases`."""
    check_limit(limit)
    node = resolve_ref(store, ref)
    if node.kind == VERSION:
        dataset = store.node(str(node.props.get("dataset")))
    elif node.kind == DATASET:
        dataset = node
    else:
        raise InvalidEvent("ref", f"{display(node)} is a {node.kind}: give a dataset or one of its versions")
    if dataset is None:
        raise NotFound(f"the dataset of {display(node)} is not in the graph")
    ids = [e.src for e in store.in_edges(dataset.id, VERSION_OF)]
    found = sorted(
        (n for n in store.nodes(ids) if n.kind == VERSION), key=lambda n: (n.props.get("written_at") or "", n.id), reverse=True
    )
    return {"dataset": item(dataset), "total": len(found), "versions": [item(n) for n in found[:limit]]}


@snapshotted
def search(store: Store, q: str, kind: str | None = None, limit: int = 20) -> dict[str, Any]:
    if not q.strip():
        raise InvalidEvent("q", "must not be empty")
    if len(q) > 1024:
        raise InvalidEvent("q", "longer than 1024 characters")
    text, kind, limit = q.strip(), check_kind(kind), check_limit(limit)
    # Fields are too many for the substring scan: they come after the other kinds, found by
    # their name's start or their ref through indexes (refs.find_fields).
    found = [] if kind == FIELD else store.suggest(text, kind, limit)
    if kind in (None, FIELD) and len(found) < limit:
        found += find_fields(store, text, limit - len(found))
    return {"q": q, "results": [item(n) for n in found]}


@snapshotted
def rejected_naming(store: Store, node: Node) -> int:
    """How many refused events, kept in the dead-letter store, name a node, its dataset (for a
    version) or its job (for a run): what they would have said of it is missing."""
    named = [i for i in dict.fromkeys([node.id, node.props.get("dataset"), node.props.get("job")]) if isinstance(i, str)]
    return sum(store.rejections_about(named).values())


def node_detail(store: Store, node_id: str) -> dict[str, Any]:
    node = store.node(node_id)
    if node is None:
        raise NotFound(f"no node {node_id!r}", suggestions=[summary(n) for n in near(store, node_id, None)])
    out_edges, in_edges = [], []
    for edge_type in EDGE_TYPES:
        for e in store.out_edges(node_id, edge_type)[:MAX_PAGE]:
            out_edges.append({"type": e.type, "dst": e.dst, "key": e.key, "props": e.props})
        for e in store.in_edges(node_id, edge_type)[:MAX_PAGE]:
            in_edges.append({"type": e.type, "src": e.src, "key": e.key, "props": e.props})
    annotations = [a.props for e in store.in_edges(node_id, ANNOTATES) if (a := store.node(e.src))]
    return {
        **item(node),
        "props": {k: v for k, v in node.props.items() if not k.startswith("_")},
        "out": out_edges,
        "in": in_edges,
        "annotations": annotations,
        "events": store.count_events(EventFilter(subject=node_id)),
        # What events that touch it got wrong, and refused events that name it (issue 29).
        "problems": node.props.get("problems") or [],
        "problems_truncated": bool(node.props.get("problems_truncated")),
        "rejected_events": rejected_naming(store, node),
        **_data_changes(store, node),
    }


def _data_changes(store: Store, node: Node) -> dict[str, Any]:
    """A dataset version's changes against the version before it (issue 37); other nodes none."""
    if node.kind != VERSION or DEPLOYMENT in node.labels or node.props.get("placeholder"):
        return {}
    return {"data_changes": datachanges.since_previous(store, node)}


@snapshotted
def events(
    store: Store,
    *,
    run: str | None = None,
    ref: str | None = None,
    job: str | None = None,
    dataset: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = 100,
    cursor: int = 0,
) -> dict[str, Any]:
    """Raw events from the log, oldest first, `limit` at a time; `next_cursor` pages on.
    `ref`, `job` and `dataset` name what the events are about (one of them at a time)."""
    from lineage.ingest.parse import parse_time, parse_uuid

    check_limit(limit)
    if cursor < 0:
        raise InvalidEvent("cursor", "must not be negative")
    about = [(value, kind) for value, kind in ((ref, None), (job, JOB), (dataset, DATASET)) if value]
    if len(about) > 1:
        raise InvalidEvent("ref", "give at most one of ref, job and dataset")
    flt = EventFilter(
        run_uuid=parse_uuid(run, "run") if run else None,
        subject=resolve_ref(store, about[0][0], about[0][1]).id if about else None,
        since=parse_time(since, "since") if since else None,
        until=parse_time(until, "until") if until else None,
    )
    found = store.events(flt, cursor, limit)
    rows = [
        {
            "seq": e.seq,
            "id": e.id,
            "received_at": e.received_at,
            "event_time": e.event_time,
            "kind": e.kind,
            "event_type": e.event_type,
            "run_id": e.run_uuid,
            "job": f"{e.job_namespace}/{e.job_name}" if e.job_name else None,
            "producer": e.producer,
            "prev_hash": e.prev_hash,
            "hash": e.hash,
            "event": orjson.loads(e.payload),
            "warnings": list(e.warnings),
        }
        for e in found
    ]
    return {
        "total": store.count_events(flt),
        "events": rows,
        "next_cursor": rows[-1]["seq"] if len(rows) == limit else None,
    }


def is_endpoint(node: Node) -> bool:
    return node.kind == DATASET and ENDPOINT in node.labels
