"""Two levels of answer (issue 34): dataset/job level from the adjacency, version level paged.

A dataset or job ref is answered at dataset/job level by default: each dataset, job, feature
view, model and endpoint downstream (or upstream) once, with its versions or runs within
`since`/`until`, the newest, and for endpoints what they serve now. It reads only the adjacency
(lineage/store/levels.py) and a bounded summary per node it lists, so it costs what it holds.
As at version level, what only a JobEvent declared (issue 30) says so: a pair no run stands
behind, and an entry reached only through such pairs, carry `declared: true`.
`level=version` gives the version-exact answer, `limit` items at a time after an opaque `cursor`.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Container, Mapping, Sequence
from typing import Any

import orjson

from lineage.coverage import answer_warnings
from lineage.errors import InvalidEvent
from lineage.graph import (
    DATASET, DEPLOYMENT, ENDPOINT, FEATURE_VIEW, FLOW_BACKWARD, FLOW_FORWARD, JOB, MODEL, SERVES, SYMLINK, Node,
)
from lineage.projection import END_OF_TIME
from lineage.refs import display
from lineage.store.base import Direction, Store, Subgraph
from lineage.store.levels import LevelWalk, level_of

LEVELS = ("dataset", "version")
# How many of an endpoint's newest deployments are looked at for the live ones: a live
# deployment sits among the newest (a canary beside it, a failed attempt after it). The first
# look reads a few; only when they hold no live full rollout does a second read more.
NEWEST_DEPLOYMENTS = (8, 64)
GROUPS = ("jobs", "datasets", "feature_views", "models", "endpoints")


def choose(node: Node, level: str | None) -> str:
    """The level an answer about `node` takes: asked, or by the ref's kind."""
    if level is not None and level not in LEVELS:
        raise InvalidEvent("level", "must be dataset or version")
    if level is None:
        return "dataset" if node.kind in (DATASET, JOB) else "version"
    if level == "dataset" and node.kind not in (DATASET, JOB):
        raise InvalidEvent("level", f"{display(node)} is a {node.kind}: only a dataset or job ref has a dataset level")
    return level


def window(since: str | None, until: str | None) -> tuple[str | None, str | None]:
    """`since`/`until` in the stored time form (parse_time accepts any ISO 8601 time)."""
    from lineage.ingest.parse import parse_time

    lo = parse_time(since, "since") if since else None
    hi = parse_time(until, "until") if until else None
    if lo is not None and hi is not None and lo >= hi:
        raise InvalidEvent("until", "must be after since")
    return lo, hi


def start_of(store: Store, node: Node) -> list[str]:
    """Where a walk of the adjacency begins: a job, or a dataset under each of its names."""
    names = [node.id]
    if node.kind == DATASET and node.props.get("symlinked"):
        names += [e.dst for e in store.out_edges(node.id, SYMLINK)] + [e.src for e in store.in_edges(node.id, SYMLINK)]
    return list(dict.fromkeys(names))


def group_of(node: Node) -> str:
    if node.kind == JOB:
        return "jobs"
    for label, group in ((ENDPOINT, "endpoints"), (MODEL, "models"), (FEATURE_VIEW, "feature_views")):
        if label in node.labels:
            return group
    return "datasets"


def _entry(node: Node, depth: int, summary: dict[str, Any] | None, item: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    out = item(node, depth)
    summary = summary or {"count": 0, "newest": None}
    newest = summary["newest"]
    out["runs" if node.kind == JOB else "versions"] = summary["count"]
    out["newest_run" if node.kind == JOB else "newest_version"] = item(newest) if newest is not None else None
    return out


def serving(
    store: Store, endpoints: Sequence[Node], start: Sequence[str], depth: int, item: Callable[..., dict[str, Any]]
) -> tuple[dict[str, dict[str, Any]], list[Node]]:
    """What each endpoint serves now, and whether that live deployment is downstream of the
    ref (its provenance, walked up from it, passes through `start`): read from the endpoints'
    newest deployments and their provenance only, never their whole history, and for all the
    endpoints together (a few round trips, however many endpoints the answer reaches)."""
    recent: dict[str, list[Node]] = {}
    asked = [e.id for e in endpoints]
    for look in NEWEST_DEPLOYMENTS:
        if not asked:
            break
        found = store.newest_versions(asked, END_OF_TIME, look)
        recent |= found
        # Look further back only where the newest hold no live full rollout.
        asked = [e for e in asked if len(found[e]) == look and not any(_live(d) and not d.props.get("canary") for d in found[e])]
    live = {e.id: [d for d in recent.get(e.id, []) if _live(d)] for e in endpoints}
    everyone = [d.id for ds in live.values() for d in ds]
    served = {e.src: e.dst for e in store.edges_from(everyone, SERVES)} if everyone else {}
    models = {m.id: m for m in store.nodes(sorted(set(served.values())))}
    provenance = store.flow(everyone, "up", depth) if everyone else None
    roots = set(start)
    out: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        rows = []
        for dep in live[endpoint.id]:
            reached = provenance is not None and any(
                level_of(provenance.nodes[i]) in roots for i in upstream_within(provenance, dep.id, depth)
            )
            model = models.get(served.get(dep.id, ""))
            rows.append(
                {k: dep.props.get(k) for k in ("since", "until", "status", "canary", "traffic_percent")}
                | {"id": dep.id, "model_version": display(model) if model else None, "downstream_of_ref": reached}
            )
        current = [r["model_version"] for r in rows if r["model_version"]]
        out[endpoint.id] = {
            "environment": ((endpoint.props.get("facets") or {}).get("ml_endpoint") or {}).get("environment"),
            "currently_serving": any(r["downstream_of_ref"] for r in rows),
            "current_model_version": current[0] if len(current) == 1 else (current or None),
            "live_deployments": rows,
        }
    # What serves now is what the answer warns about.
    return out, [d for ds in live.values() for d in ds] + list(models.values())


def observed_reach(walked: LevelWalk, start: Sequence[str], direction: Direction, depth: int) -> set[str]:
    """What `walked` reaches from `start` within `depth` hops through pairs that some run stands
    behind (support beyond what was only declared): anything else it reached, only a declaration
    joins to the ref."""
    step: dict[str, list[str]] = {}
    for src, dst, support, declared in walked.edges:
        if support > declared:
            a, b = (src, dst) if direction == "down" else (dst, src)
            step.setdefault(a, []).append(b)
    return _reach(step, start, depth, walked.depth)


def _live(node: Node) -> bool:
    return DEPLOYMENT in node.labels and node.props.get("status") == "live"


def upstream_within(walked: Subgraph, start: str, depth: int) -> set[str]:
    """The nodes `walked` (a walk up from several starts) holds within `depth` hops up from
    `start`: what a walk up from `start` alone would reach, since a node that near to `start`
    is no farther from the walk's starts, so it and the edges on its path were walked."""
    up: dict[str, list[str]] = {}
    for e in walked.edges:
        if e.type in FLOW_FORWARD or e.type == SYMLINK:
            up.setdefault(e.dst, []).append(e.src)
        if e.type in FLOW_BACKWARD or e.type == SYMLINK:
            up.setdefault(e.src, []).append(e.dst)
    return _reach(up, [start], depth, walked.nodes)


def _reach(step: Mapping[str, Sequence[str]], start: Sequence[str], depth: int, within: Container[str]) -> set[str]:
    """Breadth first along `step` from `start`, within `depth` hops, among the ids `within`."""
    seen = {i for i in start if i in within}
    frontier = list(seen)
    for _ in range(depth):
        frontier = [n for f in frontier for n in step.get(f, ()) if n not in seen and n in within]
        if not frontier:
            break
        seen.update(frontier)
    return seen


def collapsed(
    store: Store,
    node: Node,
    direction: Direction,
    depth: int,
    since: str | None,
    until: str | None,
    stale_run_hours: float,
    item: Callable[..., dict[str, Any]],
) -> dict[str, Any]:
    """The dataset/job-level answer about `node` one way: groups of entries, and the pairs of
    the adjacency among them (what the page draws)."""
    return collapsed_ways(store, node, [direction], depth, since, until, stale_run_hours, item)[direction]


def collapsed_ways(
    store: Store,
    node: Node,
    ways: Sequence[Direction],
    depth: int,
    since: str | None,
    until: str | None,
    stale_run_hours: float,
    item: Callable[..., dict[str, Any]],
) -> dict[Direction, dict[str, Any]]:
    """`collapsed` each of `ways`, from shared reads: one walk of the adjacency both ways, then
    the nodes, summaries and warnings of everything reached, each read once whatever the ways."""
    lo, hi = window(since, until)
    start = start_of(store, node)
    walks = store.level_walk(start, ways, depth)
    # Every walk starts at the ref (start_of begins with it), so `found` holds it too.
    found = {n.id: n for n in store.nodes(sorted({i for w in walks.values() for i in w.depth}))}
    datasets = sorted(i for i, n in found.items() if n.kind == DATASET)
    jobs = sorted(i for i, n in found.items() if n.kind == JOB)
    sums = store.level_summaries(datasets, jobs, lo, hi)
    groups: dict[Direction, dict[str, list[dict[str, Any]]]] = {}
    for way, walked in walks.items():
        groups[way] = {g: [] for g in GROUPS}
        observed = observed_reach(walked, start, way, depth)
        for node_id, depth_of in walked.depth.items():
            if node_id not in start and node_id in found:
                entry = _entry(found[node_id], depth_of, sums.get(node_id), item)
                if node_id not in observed:
                    entry["declared"] = True
                groups[way][group_of(found[node_id])].append(entry)
        for entries in groups[way].values():
            entries.sort(key=lambda e: (e["depth"], e["label"], e["id"]))
    extra: list[Node] = [s["newest"] for s in sums.values() if s["newest"] is not None]
    # Endpoints downstream, and an endpoint ref itself: what each serves now.
    asked = [found[e["id"]] for e in groups["down"]["endpoints"]] if "down" in groups else []
    if ENDPOINT in node.labels:
        asked.append(node)
    status, live = serving(store, asked, start, max(depth, 20), item) if asked else ({}, [])
    extra += live
    if "down" in groups:
        for entry in groups["down"]["endpoints"]:
            entry |= status[entry["id"]]
    me = _entry(node, 0, sums.get(node.id), item)
    if node.id in status:
        me |= {k: v for k, v in status[node.id].items() if k != "currently_serving"}
    warnings = answer_warnings(store, [*found.values(), *extra], stale_run_hours=stale_run_hours)
    return {
        way: {
            "node": me,
            "since": lo,
            "until": hi,
            "counts": {g: len(v) for g, v in groups[way].items()},
            **groups[way],
            "edges": [
                {"src": s, "dst": d, "support": n, **({"declared": True} if k >= n else {})} for s, d, n, k in walks[way].edges
            ],
            "warnings": warnings,
        }
        for way in ways
    }


# --- paging the version level -----------------------------------------------------------------
def _encode(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


def _decode(cursor: str) -> list[Any]:
    try:
        key = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise InvalidEvent("cursor", "is not a cursor this service gave") from exc
    if not isinstance(key, list):
        raise InvalidEvent("cursor", "is not a cursor this service gave")
    return key


def page_groups(answer: dict[str, Any], groups: Sequence[str], cursor: str | None, limit: int) -> dict[str, Any]:
    """One page of an answer's grouped items, in a stable order (group, depth, label, id):
    `limit` items after `cursor`, `next_cursor` to go on, `partial` while more remain. The
    cursor holds the last item's place in that order, so a page never repeats or skips one."""
    order = {g: i for i, g in enumerate(groups)}
    items = sorted(
        ([order[g], e.get("depth", 0), e.get("label") or "", e["id"], g, e] for g in groups for e in answer.get(g, [])),
        key=lambda t: t[:4],
    )
    after = _decode(cursor) if cursor else None
    if after is not None:
        items = [t for t in items if t[:4] > after]
    chosen, rest = items[:limit], items[limit:]
    out = dict(answer)
    for g in groups:
        out[g] = [t[5] for t in chosen if t[4] == g]
    out["next_cursor"] = _encode(chosen[-1][:4]) if rest and chosen else None
    out["partial"] = bool(rest)
    out["page"] = {"limit": limit, "returned": len(chosen)}
    return out


def page_graph(answer: dict[str, Any], cursor: str | None, limit: int) -> dict[str, Any]:
    """One page of a version-level graph: `limit` nodes by id after `cursor`, with the edges
    leaving them (so each edge comes once, with the page of its source)."""
    nodes = answer["nodes"]
    after = _decode(cursor)[0] if cursor else None
    if after is not None and not isinstance(after, str):
        raise InvalidEvent("cursor", "is not a cursor this service gave")
    if after is not None:
        nodes = [n for n in nodes if n["id"] > after]
    chosen, rest = nodes[:limit], nodes[limit:]
    ids = {n["id"] for n in chosen}
    out = dict(answer)
    out["nodes"] = chosen
    out["edges"] = [e for e in answer["edges"] if e["src"] in ids]
    out["next_cursor"] = _encode([chosen[-1]["id"]]) if rest and chosen else None
    out["partial"] = bool(rest)
    out["page"] = {"limit": limit, "returned": len(chosen), "total_nodes": len(answer["nodes"])}
    return out



def collapsed_graph(
    store: Store,
    node: Node,
    direction: str,
    depth: int,
    since: str | None,
    until: str | None,
    stale_run_hours: float,
    item: Callable[..., dict[str, Any]],
) -> dict[str, Any]:
    """`graph` at dataset/job level: each dataset and job once (with its counts and newest),
    joined by FLOWS edges that carry how many version-level edges stand behind them."""
    ways: list[Direction] = ["up", "down"] if direction == "both" else [direction]  # type: ignore[list-item]
    nodes: dict[str, dict[str, Any]] = {}
    edges: dict[tuple[str, str], dict[str, Any]] = {}
    warnings: dict[str, dict[str, Any]] = {}
    lo = hi = None
    for answer in collapsed_ways(store, node, ways, depth, since, until, stale_run_hours, item).values():
        lo, hi = answer["since"], answer["until"]
        nodes[node.id] = answer["node"] | {"depth": 0}
        for group in GROUPS:
            for entry in answer[group]:
                # Declared only if only a declaration joins it to the ref whichever way it is reached.
                was = nodes.get(entry["id"])
                if was is None or was["depth"] > entry["depth"]:
                    nodes[entry["id"]] = entry | {"group": group}
                if was is not None and not (was.get("declared") and entry.get("declared")):
                    nodes[entry["id"]].pop("declared", None)
        for e in answer["edges"]:
            props = {"support": e["support"], **({"declared": True} if e.get("declared") else {})}
            edges[(e["src"], e["dst"])] = {"src": e["src"], "type": "FLOWS", "dst": e["dst"], "key": "", "props": props}
        for w in answer["warnings"]:
            warnings[orjson.dumps(w, option=orjson.OPT_SORT_KEYS).decode()] = w
    return {
        "root": node.id,
        "level": "dataset",
        "since": lo,
        "until": hi,
        "nodes": sorted(nodes.values(), key=lambda n: n["id"]),
        "edges": [edges[k] for k in sorted(edges)],
        "warnings": list(warnings.values()),
        "partial": False,
        "next_cursor": None,
    }
