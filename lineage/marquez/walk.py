"""Marquez's job-level lineage graph: `GET /api/v1/lineage?nodeId=&depth=`."""

from __future__ import annotations

from typing import Any

from lineage.graph import JOB, READ, VERSION_OF, WROTE, Node
from lineage.ids import dataset_id, job_id
from lineage.marquez.common import MarquezError, node_id, not_found
from lineage.marquez.datasets import dataset_body
from lineage.marquez.jobs import _job_node, _job_view, _JobView, job_body
from lineage.store.base import Store, snapshotted


def parse_node_id(value: str) -> tuple[str, str, str]:
    """(kind, namespace, name) of `dataset:ns:name` or `job:ns:name`. Malformed ids answer 404,
    as Marquez's parameter parsing does (its bug 12)."""
    kind, _, rest = value.partition(":")
    if kind not in {"dataset", "job", "datasetField"} or ":" not in rest:
        raise MarquezError(404, "HTTP 404 Not Found")
    if kind == "datasetField":
        raise MarquezError(404, f"Node '{value}' must be of type dataset or job!")
    return kind, *_split_namespace(rest)


def _split_namespace(rest: str) -> tuple[str, str]:
    # A URI namespace (scheme://host[:port]) keeps its own colons: split after the authority.
    if "://" in rest:
        scheme, _, tail = rest.partition("://")
        authority, _, name = tail.partition(":")
        if ":" in name and name.split(":", 1)[0].isdigit():
            port, _, name = name.partition(":")
            authority += ":" + port
        return f"{scheme}://{authority}", name
    ns, _, name = rest.partition(":")
    return ns, name


@snapshotted
def lineage(store: Store, node_id_value: str, depth: int) -> dict[str, Any]:
    """The graph of jobs and datasets around a node id, each with Marquez's data and edges."""
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
