"""The audit report for a model version, an endpoint or a dataset version: one dict, every format."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from lineage import __version__, ids
from lineage.coverage import STALE_RUN_HOURS, answer_warnings
from lineage.errors import InvalidEvent
from lineage.graph import (
    ALIAS,
    COMMIT,
    DATASET,
    DEPLOYMENT,
    ENDPOINT,
    FEATURE_VIEW_VERSION,
    MODEL_VERSION,
    READ,
    RUN,
    SERVES,
    VERSION,
    VERSION_OF,
    WROTE,
    Node,
)
from lineage.queries import DEFAULT_DEPTH, endpoint_statuses
from lineage.refs import display, handle, resolve_ref
from lineage.reports.verify import verify, verify_entries
from lineage.service import now
from lineage.store.base import EventFilter, Store, StoredEvent, snapshotted

# `build_report` gathers the release chain around the subject, the training setup, approvals,
# alias history, deployment timelines, annotations and immutability violations, and for each fact
# the raw log entries that support it, with the chain head the report was made from (issue 5).
# Its shape is `schema.AUDIT_SCHEMA`; the renderers in `render` only lay it out.

SCHEMA_PATH = "/schemas/audit.json"
# Order of the chain table: from the code to where the model served.
STEPS = ("commit", "dataset_version", "feature_view_version", "run", "training_run", "model_version", "deployment", "endpoint")
MAX_EVIDENCE = 200  # log entries listed per fact; `total` says how many there are
_TRAINING_FIELDS = ("params", "metrics", "seed", "hardware", "durationSeconds")


def subject_type(node: Node) -> str | None:
    """What kind of report subject a node is, or None if reports are not made for it."""
    if node.kind == VERSION:
        for label, name in ((DEPLOYMENT, "deployment"), (MODEL_VERSION, "model_version"), (FEATURE_VIEW_VERSION, "feature_view_version")):
            if label in node.labels:
                return name
        return "dataset_version"
    if node.kind == DATASET and ENDPOINT in node.labels:
        return "endpoint"
    return None


def resolve_subject(store: Store, ref: str) -> Node:
    """The node a report is about; an alias (churn@Production) stands for its current version."""
    node = resolve_ref(store, ref)
    if node.kind == ALIAS and node.props.get("current_version"):
        found = store.find("model_ref", f"{node.props['model']}@{node.props['current_version']}", kind=VERSION, limit=1)
        node = found[0] if found else node
    if subject_type(node) is None:
        raise InvalidEvent("ref", f"no audit report for {display(node)}, a node of kind {node.kind}: give a model version, an endpoint or a dataset version")
    return node


def step(node: Node, training_runs: set[str]) -> str:
    if node.kind == COMMIT:
        return "commit"
    if node.kind == RUN:
        return "training_run" if node.id in training_runs else "run"
    kind = subject_type(node)
    return "dataset_version" if kind is None else kind


def labels(store: Store, nodes: Iterable[Node]) -> dict[str, str]:
    """The nodes' names in the report: a deployment is named by its endpoint and what it
    serves (read for all of them in one store call)."""
    named = {n.id: n for n in nodes}
    deployments = sorted(i for i, n in named.items() if DEPLOYMENT in n.labels)
    served: dict[str, list[str]] = {d: [] for d in deployments}
    if deployments:
        around = store.around(deployments, out_types=(SERVES,))
        for e in around.edges:
            if e.type == SERVES and e.src in served and (m := around.nodes.get(e.dst)):
                served[e.src].append(display(m))
    return {
        i: f"{n.props.get('endpoint')} serving {', '.join(sorted(served[i])) or 'nothing'}" if i in served else display(n)
        for i, n in named.items()
    }


def _facets(node: Node) -> dict[str, Any]:
    return dict(node.props.get("facets") or {})


def _chain_nodes(store: Store, subject: Node) -> dict[str, Node]:
    """The subject and what its chain holds: upstream always; downstream for a version (where
    a model served, where a dataset went); an endpoint's own deployments and their upstream."""
    if subject.kind == DATASET:
        starts = [e.src for e in store.in_edges(subject.id, VERSION_OF)]
        subs = [store.flow(starts, "up", DEFAULT_DEPTH)] if starts else []
    else:
        subs = [store.flow([subject.id], d, DEFAULT_DEPTH) for d in ("up", "down")]
    nodes = {subject.id: subject}
    for sub in subs:
        nodes.update((i, n) for i, n in sub.nodes.items() if n.kind in (VERSION, RUN, COMMIT))
    return nodes


def _row(node: Node, training_runs: set[str], subject: Node, names: dict[str, str]) -> dict[str, Any]:
    p = node.props
    kind = step(node, training_runs)
    row: dict[str, Any] = {"step": kind, "id": node.id, "label": names[node.id], "subject": node.id == subject.id}
    if node.kind == COMMIT:
        row |= {"name": p.get("repo"), "version": p.get("sha"), "time": None, "status": None, "detail": p.get("branch") or p.get("tag")}
    elif node.kind == RUN:
        time = p.get("ended_at") or p.get("last_event_time")
        row |= {"name": p.get("job_name"), "version": p.get("run_id"), "time": time, "status": p.get("state"), "detail": p.get("job_namespace")}
    elif node.kind == DATASET:
        env = (_facets(node).get("ml_endpoint") or {}).get("environment")
        row |= {"name": p.get("endpoint"), "version": None, "time": None, "status": None, "detail": env}
    else:
        name = p.get("endpoint") or p.get("model_name") or p.get("feature_view") or p.get("name")
        if DEPLOYMENT in node.labels:
            traffic = p.get("traffic_percent")
            notes = ["rollback"] * bool(p.get("rollback")) + ["canary"] * bool(p.get("canary"))
            notes += [f"{traffic:g}% traffic"] if isinstance(traffic, (int, float)) else []
            detail = ", ".join(notes) or None
            row |= {"name": name, "version": p.get("version"), "time": p.get("since") or p.get("written_at"), "status": p.get("status"), "detail": detail}
        else:
            stage = (_facets(node).get("ml_modelVersion") or {}).get("stage")
            row |= {"name": name, "version": p.get("version"), "time": p.get("written_at"), "status": stage, "detail": p.get("sha256")}
    return row


def _training(store: Store, runs: list[Node]) -> list[dict[str, Any]]:
    out = []
    for run in runs:
        facet = _facets(run).get("ml_training")
        if not facet:
            continue
        wrote = [n for e in store.out_edges(run.id, WROTE) if (n := store.node(e.dst)) and MODEL_VERSION in n.labels]
        out.append(
            {
                "run": run.id,
                "run_id": run.props.get("run_id"),
                "job": run.props.get("job_name"),
                "state": run.props.get("state"),
                "started_at": run.props.get("started_at"),
                "ended_at": run.props.get("ended_at"),
                "model_versions": sorted(display(n) for n in wrote),
                "params": facet.get("params") or {},
                "metrics": facet.get("metrics") or {},
                "seed": facet.get("seed"),
                "hardware": facet.get("hardware"),
                "duration_seconds": facet.get("durationSeconds"),
                # Whatever else the producer recorded about the setup (environment, image...).
                "extra": {k: v for k, v in facet.items() if k not in _TRAINING_FIELDS and not k.startswith("_")},
            }
        )
    return sorted(out, key=lambda r: (r["ended_at"] or "", r["run"]))


def _aliases(store: Store, models: list[str]) -> list[Node]:
    return [a for m in sorted(set(models)) for a in store.find("model", m, kind=ALIAS, limit=100)]


def _approvals(store: Store, versions: list[Node], aliases: list[Node]) -> tuple[list[dict[str, Any]], list[Node]]:
    """Promotion runs of the model versions: runs that read one or moved an alias to one
    (rejected and failed ones too: an audit shows what was refused)."""
    rows, runs = [], {}
    for mv in versions:
        moved = {
            ids.run_id(run_uuid): alias.props.get("alias")
            for alias in aliases
            if alias.props.get("model") == mv.props.get("model_name")
            for run_uuid, move in (alias.props.get("moves") or {}).items()
            if move.get("version") == mv.props.get("version")
        }
        for run_id in sorted({e.src for e in store.in_edges(mv.id, READ)} | set(moved)):
            run = store.node(run_id)
            facets = _facets(run) if run else {}
            approval = facets.get("ml_approval")
            if run is None or (approval is None and run_id not in moved):
                continue
            runs[run.id] = run
            approval = approval or {}
            rows.append(
                {
                    "run": run.id,
                    "run_id": run.props.get("run_id"),
                    "job": run.props.get("job_name"),
                    "state": run.props.get("state"),
                    "time": run.props.get("ended_at") or run.props.get("last_event_time"),
                    "model_version": display(mv),
                    "alias": moved.get(run_id),
                    "reviewer": approval.get("reviewer"),
                    "decision": approval.get("decision"),
                    "checks": approval.get("checks") or {},
                    "notes": approval.get("notes"),
                }
            )
    rows.sort(key=lambda r: (r["time"] or "", r["run"], r["model_version"]))
    return rows, list(runs.values())


def _deployments(store: Store, endpoints: list[str], in_chain: set[str]) -> list[dict[str, Any]]:
    out = []
    statuses = endpoint_statuses(store, sorted(set(endpoints)))
    for endpoint in sorted(set(endpoints)):
        status = statuses[endpoint]
        timeline = [
            {k: d.get(k) for k in ("id", "since", "until", "status", "traffic_percent", "canary", "rollback", "run_id")}
            | {"model_versions": d["model_versions"], "in_chain": d["id"] in in_chain}
            for d in reversed(status["deployments"])  # oldest first: a timeline
        ]
        serving = [m for d in status["live"] for m in d["model_versions"]]
        out.append({"endpoint": status["name"], "id": endpoint, "environment": status["environment"], "serving": serving, "timeline": timeline})
    return sorted(out, key=lambda d: (str(d["endpoint"]), d["id"]))


def _event(e: StoredEvent) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "id": e.id,
        # Recomputed from the stored payload: equal to the id unless the payload was altered.
        "sha256": hashlib.sha256(e.payload).hexdigest(),
        "received_at": e.received_at,
        "event_time": e.event_time,
        "producer": e.producer,
        "type": e.event_type or e.kind,
        "kind": e.kind,
        "run_id": e.run_uuid,
        "job": f"{e.job_namespace}/{e.job_name}" if e.job_name else None,
    }


def _evidence(
    store: Store, facts: list[tuple[Node, str]], last_seq: int | None, names: dict[str, str]
) -> tuple[list[dict[str, Any]], list[StoredEvent]]:
    """The evidence section, and the log entries it lists."""
    out, listed = [], []
    about = store.events_about([node.id for node, _ in facts], MAX_EVIDENCE)
    for node, kind in facts:
        flt = EventFilter(subject=node.id)
        found = [e for e in about[node.id] if last_seq is None or e.seq <= last_seq]
        total = len(found) if len(found) < MAX_EVIDENCE else store.count_events(flt)
        out.append({"node": node.id, "label": names[node.id], "step": kind, "total": total, "events": [_event(e) for e in found]})
        listed += found
    return out, listed


ANONYMOUS = "anonymous (auth off)"


def _groups(store: Store, endpoint: Node, chain: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An endpoint's chain by model version: for each version it served, the rows upstream of
    it and the deployments that served it (a row shared by two versions is in both)."""
    in_chain = {r["id"] for r in chain}
    versions = [r for r in chain if r["step"] == "model_version"]
    deployments = [r["id"] for r in chain if r["step"] == "deployment"]
    served: dict[str, set[str]] = {}
    if deployments:
        around = store.around(deployments, out_types=(SERVES,))
        for e in around.edges:
            if e.type == SERVES:
                served.setdefault(e.dst, set()).add(e.src)
    groups = []
    for mv in versions:
        upstream = set(store.flow([mv["id"]], "up", DEFAULT_DEPTH).nodes) & in_chain
        members = upstream | {mv["id"]} | served.get(mv["id"], set())
        groups.append({"model_version": mv["label"], "id": mv["id"], "rows": [r["id"] for r in chain if r["id"] in members]})
    return groups


@snapshotted
def _checklists(store: Store, versions: list[Node]) -> list[dict[str, Any]]:
    """The metadata checklist of each model version of the chain (issue 37)."""
    from lineage.actions import checklist  # imported here: it reads release answers built on this package's peers

    out = []
    for mv in sorted(versions, key=lambda n: display(n)):
        answer = checklist(store, str(mv.props.get("model_name")), str(mv.props.get("version")))
        items = [{k: row[k] for k in ("item", "status", "event", "note")} for row in answer["items"]]
        out.append({"model_version": answer["ref"], "present": answer["present"], "total": answer["total"], "items": items})
    return out


def build_report(
    store: Store,
    ref: str,
    *,
    generated_at: str | None = None,
    schema_url: str = SCHEMA_PATH,
    whole_chain: bool = False,
    stale_run_hours: float = STALE_RUN_HOURS,
    requested_by: str | None = None,
    base_url: str | None = None,
) -> dict[str, Any]:
    """Everything a compliance reviewer needs about `ref`, and the log state it came from.

    The report is made from the log's head as it is now: newer evidence is left out. The
    entries it lists as evidence, and the head, are then checked where they stand in the hash
    chain (`verify_entries`), so the report costs what it lists, not what the log holds; when
    one is unsound, or with `whole_chain`, the whole log is walked and its first bad entry named.
    `warnings` say where the chain is incomplete (issue 29): the renderers put them first.
    `requested_by`: the token's name (None: auth is off); `base_url`: the service's address, for
    the link that checks the log later (None from the command line, which names the command)."""
    subject = resolve_subject(store, ref)
    head = store.last_entry()
    last_seq = head.seq if head else 0
    nodes = _chain_nodes(store, subject)
    versions = [n for n in nodes.values() if MODEL_VERSION in n.labels]
    training_runs = {e.src for mv in versions for e in store.in_edges(mv.id, WROTE)}
    training_runs |= {n.id for n in nodes.values() if n.kind == RUN and "ml_training" in _facets(n)}
    names = labels(store, nodes.values())
    chain = sorted(
        (_row(n, training_runs, subject, names) for n in nodes.values()),
        key=lambda r: (STEPS.index(r["step"]), r["time"] or "", r["label"], r["id"]),
    )
    aliases = _aliases(store, [str(mv.props.get("model_name")) for mv in versions])
    approvals, approval_runs = _approvals(store, sorted(versions, key=lambda n: n.id), aliases)
    endpoints = [str(n.props["dataset"]) for n in nodes.values() if DEPLOYMENT in n.labels]
    if subject.kind == DATASET:
        endpoints.append(subject.id)
    facts = [(nodes[r["id"]], r["step"]) for r in chain]
    facts += [(run, "approval_run") for run in approval_runs if run.id not in nodes]
    facts += [(alias, "alias") for alias in aliases]
    names.update(labels(store, [node for node, _ in facts if node.id not in names]))
    evidence, listed = _evidence(store, facts, last_seq, names)
    checked_entries = len({e.seq for e in listed})
    if whole_chain:
        log, walked = verify(store), True
    else:
        log, walked = verify_entries(store, [e.seq for e in listed], head, known=listed)
    by_node = {f["node"]: [e["id"] for e in f["events"]] for f in evidence}
    for row in chain:
        row["evidence"] = by_node.get(row["id"], [])
    ordered = [nodes[r["id"]] for r in chain]
    warnings = [
        w | {"label": names.get(w["node"], w["node"])}
        for w in answer_warnings(store, [*nodes.values(), *approval_runs], stale_run_hours=stale_run_hours)
    ]
    verify_query = f"/api/v1/verify?entries={log['entries']}&head={log['head']}"
    return {
        "$schema": schema_url,
        "report": {
            "generated_at": generated_at or now(),
            "generator": f"lineage-graph {__version__}",
            "ref": ref,
            "requested_by": requested_by or ANONYMOUS,
        },
        "scope": {
            # An endpoint's and a dataset version's chain is what fed it; a model version's also
            # where it went (the deployments that served it).
            "direction": "upstream" if subject.kind == DATASET else "upstream and downstream",
            "depth": DEFAULT_DEPTH,
            "log_entries": last_seq,
            "until": head.received_at if head else None,
        },
        "subject": {
            "id": subject.id,
            "type": subject_type(subject),
            "kind": subject.kind,
            "labels": sorted(subject.labels),
            "label": names[subject.id],
            "ref": handle(subject),
        },
        "log": {
            "entries": log["entries"],
            "head": log["head"],
            "verified": log["ok"],
            "checked": "chain" if walked else "evidence",
            "first_bad": log["first_bad"],
            "checked_entries": log["entries"] if walked else checked_entries,
            "verify_url": base_url.rstrip("/") + verify_query if base_url else None,
        },
        "chain_groups": _groups(store, subject, chain) if subject.kind == DATASET else [],
        "warnings": warnings,
        "chain": chain,
        "training": _training(store, [n for n in ordered if n.kind == RUN]),
        "approvals": approvals,
        "aliases": [
            {
                "alias": a.props.get("alias"),
                "ref": a.props.get("alias_ref"),
                "id": a.id,
                "current_version": a.props.get("current_version"),
                "history": [{k: h.get(k) for k in ("version", "since", "until", "run")} for h in a.props.get("history") or []],
            }
            for a in aliases
        ],
        "deployments": _deployments(store, endpoints, set(nodes)),
        "annotations": sorted(
            (
                {"node": n.id, "label": names[n.id]} | {k: a.get(k) for k in ("tag", "reason", "author", "created_at", "id")}
                for n in ordered
                for a in n.props.get("annotations") or []
            ),
            key=lambda a: (a["created_at"] or "", a["id"] or ""),
        ),
        "immutability_violations": [
            {"node": n.id, "label": names[n.id]} | {k: v.get(k) for k in ("expected", "sha256", "first_seen", "event")}
            for n in ordered
            for v in n.props.get("immutability_violations") or []
        ],
        "evidence": evidence,
        "checklist": _checklists(store, versions),
    }
