"""Release questions: what changed between two releases, what an endpoint served when, and
which model version is the last known good."""

from __future__ import annotations

from typing import Any

from lineage import coverage, datachanges
from lineage.coverage import STALE_RUN_HOURS, answer_warnings
from lineage.errors import Ambiguous, InvalidEvent, NotFound
from lineage.graph import ALIAS, DATASET, MODEL_VERSION, RUN, VERSION, VERSION_OF, Node
from lineage.ingest.parse import parse_time
from lineage.queries import DEFAULT_DEPTH, check_depth, endpoint_status, item, start_nodes
from lineage.refs import candidate, check_ref, handle, near, resolve_ref, summary
from lineage.store.base import Store, Subgraph, snapshotted

BAD_TAGS = frozenset({"deprecated", "quarantined", "investigation"})
GOOD_TAG = "known-good"


def _change(before: Any, after: Any) -> str:
    if before == after:
        return "same"
    if before in (None, [], {}):
        return "added"
    if after in (None, [], {}):
        return "removed"
    return "changed"


def _versions_by_dataset(sub: Subgraph, skip: set[str]) -> dict[str, list[Node]]:
    out: dict[str, list[Node]] = {}
    for node in sub.nodes.values():
        if node.kind == VERSION and node.id not in skip and "Deployment" not in node.labels:
            out.setdefault(node.props["dataset"], []).append(node)
    return out


def _runs_by_job(sub: Subgraph) -> dict[str, Node]:
    """The nearest run of each job in a provenance (several runs of one job: the closest wins)."""
    out: dict[str, Node] = {}
    for node in sorted(sub.nodes.values(), key=lambda n: (sub.depth.get(n.id, 0), n.id), reverse=True):
        if node.kind == RUN:
            out[f"{node.props.get('job_namespace')}/{node.props.get('job_name')}"] = node
    return out


def _dataset_kind(node: Node) -> str:
    if MODEL_VERSION in node.labels:
        return "model"
    if "FeatureViewVersion" in node.labels:
        return "feature_view"
    return "dataset"


def _newest(nodes: list[Node]) -> Node | None:
    """The version a side stands on when its walk reached several of one dataset: the newest
    written (by eventTime, ties by id)."""
    return max(nodes, key=lambda n: (n.props.get("written_at") or "", n.id), default=None)


def _data_changes(store: Store, newest: dict[str, tuple[Node | None, Node | None]]) -> list[dict[str, Any]]:
    """Per dataset whose version differs: columns, statistics and quality from the from side's
    version to the to side's, and the to side's contract break against the version of its
    dataset just before it (issue 37). One round trip for the facets of all of them, and one
    indexed read per to-side version with a schema."""
    ids = [n.id for pair in newest.values() for n in pair if n is not None]
    io = datachanges.io_facets(store, ids)
    out = []
    for dataset, (before, after) in sorted(newest.items()):
        contract = datachanges.own_break(store, after) if after is not None else None
        sample = after or before
        name = sample.props.get("model_name") or sample.props.get("feature_view") or sample.props.get("name") if sample else None
        out.append({"dataset": dataset, "name": name} | datachanges.compare(before, after, io, contract))
    return out


@snapshotted
def diff(
    store: Store, from_ref: str, to_ref: str, depth: int = DEFAULT_DEPTH, *, stale_run_hours: float = STALE_RUN_HOURS
) -> dict[str, Any]:
    """What differs upstream of two nodes: versions per dataset, commits, params, metrics, what
    changed in the data of each changed dataset (`data_changes`), and what either walk could
    not see (`warnings`)."""
    check_depth(depth)
    a, b = resolve_ref(store, from_ref), resolve_ref(store, to_ref)
    sa = store.flow(start_nodes(store, a, "up"), "up", depth)
    sb = store.flow(start_nodes(store, b, "up"), "up", depth)
    va, vb = _versions_by_dataset(sa, set()), _versions_by_dataset(sb, set())
    datasets = []
    newest: dict[str, tuple[Node | None, Node | None]] = {}
    for dataset in sorted(set(va) | set(vb)):
        left_nodes = sorted(va.get(dataset, []), key=lambda n: str(n.props.get("version")))
        right_nodes = sorted(vb.get(dataset, []), key=lambda n: str(n.props.get("version")))
        left = [str(n.props.get("version")) for n in left_nodes]
        right = [str(n.props.get("version")) for n in right_nodes]
        sample = (va.get(dataset) or vb[dataset])[0]
        if left != right:
            newest[dataset] = (_newest(left_nodes), _newest(right_nodes))
        datasets.append(
            {
                "dataset": dataset,
                "name": sample.props.get("model_name") or sample.props.get("feature_view") or sample.props.get("name"),
                "kind": _dataset_kind(sample),
                "from": left,
                "to": right,
                # what to type to ask about each version (a derived version's label is a run UUID)
                "from_refs": [handle(n) for n in left_nodes],
                "to_refs": [handle(n) for n in right_nodes],
                "change": _change(left, right),
            }
        )
    commits = []
    repos: dict[str, tuple[set[str], set[str]]] = {}
    for side, sub in ((0, sa), (1, sb)):
        for node in sub.nodes.values():
            if node.kind == "Commit":
                repos.setdefault(node.props["repo"], (set(), set()))[side].add(node.props["sha"])
    for repo, (left_shas, right_shas) in sorted(repos.items()):
        commits.append({"repo": repo, "from": sorted(left_shas), "to": sorted(right_shas), "change": _change(sorted(left_shas), sorted(right_shas))})
    ra, rb = _runs_by_job(sa), _runs_by_job(sb)
    params, metrics, runs = [], [], []
    for job in sorted(set(ra) | set(rb)):
        left_run, right_run = ra.get(job), rb.get(job)
        runs.append(
            {
                "job": job,
                "from": left_run.props.get("run_id") if left_run else None,
                "to": right_run.props.get("run_id") if right_run else None,
                "change": _change(left_run.id if left_run else None, right_run.id if right_run else None),
            }
        )
        for field, rows in (("params", params), ("metrics", metrics)):
            lf = ((left_run.props.get("facets") or {}).get("ml_training") or {}).get(field, {}) if left_run else {}
            rf = ((right_run.props.get("facets") or {}).get("ml_training") or {}).get(field, {}) if right_run else {}
            for key in sorted(set(lf) | set(rf)):
                if lf.get(key) != rf.get(key):
                    rows.append({"job": job, "name": key, "from": lf.get(key), "to": rf.get(key), "change": _change(lf.get(key), rf.get(key))})
    data_changes = _data_changes(store, newest)
    changed = [d for d in datasets if d["change"] != "same"]
    seen = {a.id: a, b.id: b, **sa.nodes, **sb.nodes}
    return {
        "from": item(a),
        "to": item(b),
        "warnings": answer_warnings(store, seen.values(), stale_run_hours=stale_run_hours),
        "datasets": datasets,
        "commits": commits,
        "runs": runs,
        "params": params,
        "metrics": metrics,
        "data_changes": data_changes,
        "summary": {
            "datasets_changed": len(changed),
            "commits_changed": sum(1 for c in commits if c["change"] != "same"),
            "params_changed": len(params),
            "metrics_changed": len(metrics),
            "contract_breaks": sum(1 for c in data_changes if c["contract_break"]),
        },
    }


def find_one(store: Store, prop: str, name: str, what: str) -> Node:
    """The dataset node an endpoint or model name (or node id) stands for."""
    name = check_ref(name, "name")
    node = store.node(name)
    if node is not None and node.kind == DATASET:
        return node
    found = store.find(prop, name, kind=DATASET, limit=10)
    if not found:
        close = near(store, name, DATASET, 20)
        raise NotFound(f"no {what} {name!r}", suggestions=[summary(n) for n in close if n.props.get(prop)][:5])
    if len(found) > 1:
        raise Ambiguous(f"{what} {name!r} names several datasets; use one of their refs", [candidate(n) for n in found])
    return found[0]


@snapshotted
def endpoint(store: Store, name: str, at: str | None = None, *, stale_run_hours: float = STALE_RUN_HOURS) -> dict[str, Any]:
    """Current deployment and full history; with `at`, what the endpoint served then. Its
    `warnings` are about the deployments, the runs that made them and what they serve."""
    node = find_one(store, "endpoint", name, "endpoint")
    seen: dict[str, Node] = {node.id: node}
    status = endpoint_status(store, node.id, seen)
    out = {
        "name": status["name"],
        "id": node.id,
        "environment": status["environment"],
        "warnings": answer_warnings(store, seen.values(), stale_run_hours=stale_run_hours),
        "current": status["live"],
        "current_model_version": [m for d in status["live"] for m in d["model_versions"]],
        "history": status["deployments"],
    }
    if at is not None:
        moment = parse_time(at, "at")
        serving = [
            d
            for d in status["deployments"]
            if d.get("since") and d["since"] <= moment and (d.get("until") is None or moment < d["until"])
        ]
        out["at"] = {"time": moment, "serving": serving, "model_versions": [m for d in serving for m in d["model_versions"]]}
    return out


def _training_data(store: Store, version: Node, seen: dict[str, Node]) -> dict[str, Any]:
    sub = store.flow([version.id], "up", 10)
    seen.update(sub.nodes)
    versions = [n for n in sub.nodes.values() if n.kind == VERSION and n.id != version.id]
    return {
        "dataset_versions": sorted((item(n) for n in versions if "FeatureViewVersion" not in n.labels), key=lambda i: i["label"]),
        "feature_view_versions": sorted((item(n) for n in versions if "FeatureViewVersion" in n.labels), key=lambda i: i["label"]),
        "commits": sorted((item(n) for n in sub.nodes.values() if n.kind == "Commit"), key=lambda i: i["label"]),
        "runs": sorted((item(n) for n in sub.nodes.values() if n.kind == RUN), key=lambda i: i["label"]),
    }


def _tags(node_or_item: Node | dict[str, Any]) -> list[dict[str, Any]]:
    props = node_or_item.props if isinstance(node_or_item, Node) else node_or_item
    return list(props.get("annotations") or [])


def _verdict(version: dict[str, Any]) -> str | None:
    """Why a version is not good, or None. Its own newest good/bad tag decides; otherwise any
    bad tag on what it was trained from rules it out."""
    own = [a for a in _tags(version) if a["tag"] in BAD_TAGS or a["tag"] == GOOD_TAG]
    if own:
        newest = own[-1]
        return None if newest["tag"] == GOOD_TAG else f"{version['label']} is {newest['tag']}"
    for group in ("dataset_versions", "feature_view_versions"):
        for upstream in version["training_data"][group]:
            bad = [a for a in _tags(upstream) if a["tag"] in BAD_TAGS]
            if bad:
                return f"trained on {upstream['label']} ({bad[-1]['tag']})"
    return None


# Events read per version no run wrote, to find the earliest that mentions it: such a version
# is known from a few promotion and deployment events, so the first ones by seq hold its first
# eventTime but for a log replayed far out of order.
FIRST_SEEN_SCAN = 200


def _place_unwritten(store: Store, model: Node, rows: list[dict[str, Any]], aliases: list[Node]) -> list[dict[str, str]]:
    """Give every version its time in the order (issue 29, point 6): `written_at` when a run
    or dataset event wrote it ("ordering": "written"); otherwise, for a version known only from
    promotion (ml_alias) or deployment events, the earliest eventTime that mentions it
    ("ordering": "first_seen"). A version named only by an alias move, with no node of its own,
    gets a row too (`id` null, `known_from` "ml_alias"), timed by its earliest move. One round
    trip for all of them. Returns the warnings about those node-less versions (about the alias
    that names them: they have no node to point at)."""
    moved: dict[str, str] = {}
    named_by: dict[str, Node] = {}
    for alias in sorted(aliases, key=lambda a: a.id):  # the same alias names a version on both stores
        for move in (alias.props.get("moves") or {}).values():
            version, at = str(move.get("version")), move["at"][1]
            moved[version] = min(moved.get(version, at), at)
            named_by.setdefault(version, alias)
    unwritten = [r["id"] for r in rows if not r.get("written_at")]
    about = store.events_about(unwritten, FIRST_SEEN_SCAN) if unwritten else {}
    for row in rows:
        if row.get("written_at"):
            row["ordering"] = "written"
            continue
        times = [e.event_time for e in about.get(row["id"], [])]
        times += [moved[row["version"]]] if row["version"] in moved else []
        row["ordering"] = "first_seen"
        row["first_seen"] = min(times) if times else None
    model_name = str(model.props.get("model_name"))
    known = {r["version"] for r in rows}
    warnings = []
    for version in sorted(set(moved) - known):
        alias = named_by[version]
        label = f"{model_name}@{version}"
        rows.append(
            {
                "id": None, "kind": VERSION, "labels": [MODEL_VERSION], "label": label, "ref": None,
                "dataset": model.id, "name": model.props.get("name"), "version": version, "written_at": None,
                "metrics": {}, "params": {}, "framework": None, "stage": None, "annotations": [],
                "aliases": sorted(str(a.props["alias"]) for a in aliases if a.props.get("current_version") == version),
                "training_data": {"dataset_versions": [], "feature_view_versions": [], "commits": [], "runs": []},
                "ordering": "first_seen", "first_seen": moved[version], "known_from": "ml_alias",
            }
        )
        warnings.append(
            coverage.warning(
                "untrained_model_version", alias,
                f"{label} is known only from moves of alias {alias.props.get('alias_ref')}: no event describes it and no run is known to have written it",
            )
        )
    return warnings


def _when(row: dict[str, Any]) -> str | None:
    """Where a version row stands in the order: see `_place_unwritten`."""
    return row.get("written_at") or row.get("first_seen")


@snapshotted
def model_versions(
    store: Store, name: str, before: str | None = None, *, stale_run_hours: float = STALE_RUN_HOURS
) -> dict[str, Any]:
    """A model's versions, newest first, with training data, aliases and annotations; with
    `before`, the last known good version before that one; `warnings` about what they hold."""
    model = find_one(store, "model_name", name, "model")
    model_name = model.props.get("model_name") or name
    alias_nodes = store.find("model", model_name, kind=ALIAS, limit=100)
    aliases = [
        {
            "alias": a.props["alias"], "id": a.id, "current_version": a.props.get("current_version"),
            "history": a.props.get("history", []),
            # Moves asked for but not made: approval pending or rejected, or the run failed.
            "held_moves": a.props.get("held_moves", []),
        }
        for a in alias_nodes
    ]
    rows = []
    seen: dict[str, Node] = {}
    for edge in store.in_edges(model.id, VERSION_OF):
        node = store.node(edge.src)
        if node is None or MODEL_VERSION not in node.labels:
            continue
        seen[node.id] = node
        facet = (node.props.get("facets") or {}).get("ml_modelVersion") or {}
        row = item(node) | {
            "metrics": facet.get("metrics", {}),
            "params": facet.get("params", {}),
            "framework": facet.get("framework"),
            "stage": facet.get("stage"),
            "annotations": node.props.get("annotations", []),
            "aliases": sorted(a["alias"] for a in aliases if a["current_version"] == node.props.get("version")),
            "training_data": _training_data(store, node, seen),
        }
        rows.append(row)
    unknown = _place_unwritten(store, model, rows, alias_nodes)
    rows.sort(key=lambda r: (_when(r) or "", r["id"] or ""), reverse=True)
    out: dict[str, Any] = {
        "model": model_name,
        "id": model.id,
        "warnings": answer_warnings(store, seen.values(), stale_run_hours=stale_run_hours) + unknown,
        "ordering": "newest first by written_at; a version no run wrote (known from promotion or deployment only) by first_seen, "
        "the earliest eventTime that mentions it",
        "versions": rows,
        "aliases": aliases,
    }
    if before is not None:
        target = next((r for r in rows if before in (r["version"], r["label"])), None)
        if target is None:
            raise NotFound(f"model {model_name!r} has no version {before!r}", suggestions=[r["version"] for r in rows[:5]])
        moment = _when(target)
        if not moment:
            raise InvalidEvent("before", f"version {before!r} has no known time to compare with")
        excluded, good = [], None
        for row in rows:
            when = _when(row)
            if not when or when >= moment or row["version"] == target["version"]:
                continue
            reason = _verdict(row)
            if reason is None:
                good = row
                break
            excluded.append({"version": row["version"], "reason": reason})
        out["before"] = target["version"]
        out["last_known_good"] = good
        out["excluded"] = excluded
    return out
