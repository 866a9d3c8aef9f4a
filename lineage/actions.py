"""Release actions (issue 37): the metadata checklist of a model version, the rollback
playbook of an alias, and the artifact check against a recorded sha256."""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any

import httpx

from lineage import ids
from lineage.errors import InvalidEvent, NotFound
from lineage.graph import ALIAS, AT_COMMIT, FEATURE_VIEW_VERSION, MODEL_VERSION, READ, RUN, RUN_OF, VERSION, VERSION_OF, WROTE, Node
from lineage.queries import item
from lineage.refs import handle, resolve_ref
from lineage.releases import diff, find_one, model_versions
from lineage.store.base import Store, snapshotted

CHECKLIST_ITEMS = (
    "identity_and_owners", "code_commit", "data_versions", "feature_views", "training_setup_and_seed",
    "metrics", "artifacts_and_hashes", "environment", "approvals", "stage", "change_summary",
)
# The environment facet added for issue 37, point 1; OpenLineage's own one counts too.
ENVIRONMENT_FACETS = ("ml_environment", "environmentVariables")
ROLLBACK_PRODUCER = "urn:lineage-graph:rollback"
ROLLBACK_NAMESPACE = "lineage-graph"
SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


def _source(node: Node | None, facet: str) -> str | None:
    """The id of the event whose value of `facet` the node holds (the newest that said it)."""
    if node is None:
        return None
    src = (node.props.get("_facet_src") or {}).get(facet)
    return str(src[-1]) if src else None  # orders end with the event id (projection.py)


def _facets(node: Node | None) -> dict[str, Any]:
    return (node.props.get("facets") or {}) if node is not None else {}


def _run_event(run: Node | None) -> str | None:
    """The event that settled a run's state: the one its inputs and outputs are cited from."""
    state = run.props.get("_state") if run is not None else None
    return str(state[2]) if state else None


def _row(name: str, present: bool, value: Any, event: str | None, note: str = "") -> dict[str, Any]:
    return {"item": name, "status": "present" if present else "missing", "value": value, "event": event, "note": note}


def _version_node(store: Store, model: Node, version: str) -> Node:
    for node in store.nodes([edge.src for edge in store.in_edges(model.id, VERSION_OF)]):  # one round trip
        if MODEL_VERSION in node.labels and str(node.props.get("version")) == version:
            return node
    name = model.props.get("model_name")
    raise NotFound(f"model {name!r} has no version {version!r}", suggestions=[f"{name}@{r['version']}" for r in model_versions(store, str(name))["versions"][:5]])


def _training_run(store: Store, version: Node) -> Node | None:
    """The run that wrote the version (the newest, when several did)."""
    runs = [store.node(e.src) for e in store.in_edges(version.id, WROTE)]
    found = [r for r in runs if r is not None and r.kind == RUN]
    return max(found, key=lambda r: (str(r.props.get("last_event_time") or ""), r.id), default=None)


def _owners(store: Store, nodes: list[Node]) -> tuple[list[str], str | None]:
    """Owners from the `ownership` facets of the given datasets and of the jobs of the given runs."""
    owners: set[str] = set()
    event = None
    for node in nodes:
        holders = [node]
        if node.kind == RUN:
            holders = [j for j in (store.node(e.dst) for e in store.out_edges(node.id, RUN_OF)) if j is not None]
        for holder in holders:
            names = [o.get("name") for o in (_facets(holder).get("ownership") or {}).get("owners", []) if o.get("name")]
            if names:
                owners.update(names)
                event = event or _source(holder, "ownership")
    return sorted(owners), event


def _upstream_versions(store: Store, version: Node) -> tuple[list[str], str | None, list[str], str | None]:
    """Dataset and feature view versions upstream of a model version (data reaches a model
    through its features), each kind with the event of the nearest run that read one."""
    sub = store.flow([version.id], "up", 10)
    found = [n for n in sub.nodes.values() if n.kind == VERSION and n.id != version.id and "Deployment" not in n.labels]
    data = [n for n in found if FEATURE_VIEW_VERSION not in n.labels and MODEL_VERSION not in n.labels]
    views = [n for n in found if FEATURE_VIEW_VERSION in n.labels]

    def cited(nodes: list[Node]) -> str | None:
        readers = [r for r in (sub.nodes.get(e.src) for e in sub.edges if e.type == READ and e.dst in {n.id for n in nodes}) if r is not None]
        nearest = min(readers, key=lambda r: (sub.depth.get(r.id, 0), r.id), default=None)
        return _run_event(nearest)

    return sorted(handle(n) for n in data), cited(data), sorted(handle(n) for n in views), cited(views)


@snapshotted
def checklist(store: Store, name: str, version: str) -> dict[str, Any]:
    """Which items of the release metadata checklist a model version has, and from which event."""
    model = find_one(store, "model_name", name, "model")
    model_name = str(model.props.get("model_name") or name)
    node = _version_node(store, model, version)
    run = _training_run(store, node)
    facets, run_facets = _facets(node), _facets(run)
    mv = facets.get("ml_modelVersion") or {}
    training = run_facets.get("ml_training") or {}
    rows = []
    owners, owners_event = _owners(store, [node, model] + ([run] if run else []))
    rows.append(_row("identity_and_owners", bool(owners), {"model": model_name, "version": version, "ref": handle(node), "owners": owners},
                     owners_event or _source(node, "ml_modelVersion"), "" if owners else "no ownership facet on the model or its training job"))
    commits = [c for c in (store.node(e.dst) for e in store.out_edges(run.id, AT_COMMIT)) if c is not None] if run else []
    rows.append(_row("code_commit", bool(commits), [{"repo": c.props.get("repo"), "sha": c.props.get("sha")} for c in commits],
                     _source(commits[0], "sourceCodeLocation") if commits else None, "" if commits else "no sourceCodeLocation on the training job"))
    data, data_event, views, views_event = _upstream_versions(store, node)
    rows.append(_row("data_versions", bool(data), data, data_event, "" if data else "no dataset version upstream of it"))
    rows.append(_row("feature_views", bool(views), views, views_event, "" if views else "no feature view version upstream of it"))
    seed = training.get("seed")
    setup = {"params": training.get("params") or mv.get("params") or {}, "seed": seed, "framework": mv.get("framework")}
    rows.append(_row("training_setup_and_seed", bool(setup["params"]) and seed is not None, setup, _source(run, "ml_training") or _source(node, "ml_modelVersion"),
                     "" if seed is not None and setup["params"] else "no seed recorded" if setup["params"] else "no training parameters recorded"))
    metrics = mv.get("metrics") or training.get("metrics") or {}
    rows.append(_row("metrics", bool(metrics), metrics, _source(node, "ml_modelVersion") if mv.get("metrics") else _source(run, "ml_training"), "" if metrics else "no metrics recorded"))
    sha = node.props.get("sha256")
    artifact = {"sha256": sha, "uri": (facets.get("ml_artifact") or {}).get("uri"), "immutability_violations": node.props.get("immutability_violations") or []}
    rows.append(_row("artifacts_and_hashes", bool(sha), artifact, _source(node, "ml_artifact"), "" if sha else "no ml_artifact facet with a sha256"))
    env_key = next((k for k in ENVIRONMENT_FACETS if run_facets.get(k)), None)
    rows.append(_row("environment", env_key is not None, run_facets.get(env_key) if env_key else None, _source(run, env_key) if env_key else None,
                     "" if env_key else "no ml_environment facet on the training run"))
    approvals, approval_event = [], None
    stage_aliases, stage_event = [], None
    for alias in store.find("model", model_name, kind=ALIAS, limit=100):
        if alias.props.get("current_version") == version:
            stage_aliases.append(str(alias.props["alias"]))
        for move in alias.props.get("history") or []:
            if move.get("version") != version:
                continue
            mover = store.node(ids.run_id(move["run"]))
            decision = _facets(mover).get("ml_approval")
            if decision:
                approvals.append({"alias": alias.props["alias"], "reviewer": decision.get("reviewer"), "decision": decision.get("decision"), "at": move.get("since")})
                approval_event = approval_event or _source(mover, "ml_approval")
            if alias.props.get("current_version") == version and move.get("until") is None:
                stage_event = _source(mover, "ml_alias")
    rows.append(_row("approvals", bool(approvals), approvals, approval_event, "" if approvals else "no approved promotion of this version"))
    stage = mv.get("stage")
    rows.append(_row("stage", bool(stage or stage_aliases), {"stage": stage, "aliases": sorted(stage_aliases)},
                     _source(node, "ml_modelVersion") if stage else stage_event, "" if stage or stage_aliases else "no stage and no alias points to it"))
    ordered = model_versions(store, model_name)["versions"]
    index = next((i for i, r in enumerate(ordered) if r["version"] == version), None)
    previous = next((r for r in ordered[index + 1 :] if r["id"]), None) if index is not None else None
    if previous is not None:
        summary = diff(store, str(previous["id"]), node.id)["summary"]
        rows.append(_row("change_summary", True, {"previous": previous["label"], **summary}, None, "computed from the two versions' provenance"))
    else:
        rows.append(_row("change_summary", False, None, None, "no earlier version to compare with"))
    present = sum(1 for r in rows if r["status"] == "present")
    return {
        "model": model_name, "version": version, "ref": handle(node), "id": node.id,
        "items": rows, "present": present, "missing": len(rows) - present, "total": len(rows),
    }


@snapshotted
def rollback_plan(store: Store, name: str, alias: str) -> dict[str, Any]:
    """What a rollback of `alias` would do: where it points, the last known good version before
    that, why, and what that version was trained on."""
    model = find_one(store, "model_name", name, "model")
    model_name = str(model.props.get("model_name") or name)
    node = store.node(ids.alias_id(model_name, alias))
    if node is None or node.kind != ALIAS:
        known = sorted(str(a.props["alias_ref"]) for a in store.find("model", model_name, kind=ALIAS, limit=20))
        raise NotFound(f"model {model_name!r} has no alias {alias!r}", suggestions=known)
    current = node.props.get("current_version")
    if not current:
        raise InvalidEvent("alias", f"{model_name}@{alias} points to no version: nothing to roll back")
    answer = model_versions(store, model_name, before=str(current))
    good = answer["last_known_good"]
    owners, _ = _owners(store, [model] + [n for n in _writers(store, model, [str(current)] + ([good["version"]] if good else []))])
    why = (
        f"the newest version before {current} that is not tagged {', '.join(sorted({'deprecated', 'quarantined', 'investigation'}))} "
        "and was not trained on data so tagged" + (f" (skipped {', '.join(e['version'] for e in answer['excluded'])})" if answer["excluded"] else "")
    )
    return {
        "model": model_name, "alias": alias, "alias_ref": node.props.get("alias_ref"), "current_version": current,
        "last_known_good": None if good is None else {
            "version": good["version"], "ref": good["ref"], "label": good["label"], "written_at": good.get("written_at"),
            "why": why, "trained_on": good["training_data"],
        },
        "excluded": answer["excluded"], "owners": owners,
    }


def _writers(store: Store, model: Node, versions: list[str]) -> list[Node]:
    out = []
    for version in versions:
        try:
            run = _training_run(store, _version_node(store, model, version))
        except NotFound:
            continue
        if run is not None:
            out.append(run)
    return out


def rollback_body(plan: dict[str, Any], reason: str, by: str, at: str) -> dict[str, Any]:
    """The alias move as an OpenLineage run event of its own (an `ml_alias` facet, as a promotion
    would carry), so the move is evidence in the log and the projection moves the alias."""
    good = plan["last_known_good"]
    run_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{ROLLBACK_PRODUCER}/{plan['alias_ref']}/{at}"))
    # ml_alias is our published facet; lineage_rollback (who and why) is described in docs/releases.md
    alias_facet = {"_producer": ROLLBACK_PRODUCER, "_schemaURL": "/schemas/facets/ml_alias.json"}
    facet = {"_producer": ROLLBACK_PRODUCER, "_schemaURL": "urn:lineage-graph:facets:lineage_rollback"}
    return {
        "eventType": "COMPLETE",
        "eventTime": at,
        "producer": ROLLBACK_PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {
            "runId": run_id,
            "facets": {
                "ml_alias": alias_facet | {"model": plan["model"], "alias": plan["alias"], "version": good["version"]},
                "lineage_rollback": facet | {"from_version": plan["current_version"], "to_version": good["version"], "reason": reason, "by": by},
            },
        },
        "job": {"namespace": ROLLBACK_NAMESPACE, "name": f"rollback {plan['alias_ref']}", "facets": {}},
        "inputs": [], "outputs": [],
    }


def check_rollback(plan: dict[str, Any], reason: str, by: str) -> None:
    if not reason.strip() or not by.strip():
        raise InvalidEvent("reason", "a rollback that is recorded needs a reason and who asks for it (--reason, --by)")
    if plan["last_known_good"] is None:
        raise InvalidEvent("alias", f"no known good version before {plan['current_version']}: nothing to roll back to")


def notify_owners(url: str | None, plan: dict[str, Any], event_id: str, reason: str, by: str) -> dict[str, Any] | None:
    """POST the recorded rollback to the owners' webhook; its failure is reported, never raised:
    the move is already evidence and must not be undone by a receiver that is down."""
    if not url:
        return None
    payload = {
        "kind": "rollback", "model": plan["model"], "alias": plan["alias"], "from_version": plan["current_version"],
        "to_version": plan["last_known_good"]["version"], "reason": reason, "by": by, "owners": plan["owners"], "event": event_id,
    }
    try:
        response = httpx.post(url, json=payload, timeout=10)
    except httpx.HTTPError as exc:
        return {"url": url, "delivered": False, "error": str(exc)}
    return {"url": url, "delivered": response.is_success, "status": response.status_code}


@snapshotted
def verify_artifact(store: Store, ref: str, sha256: str) -> dict[str, Any]:
    """match, mismatch or unknown: a file's sha256 against the one recorded for `ref`."""
    if not SHA256.match(sha256):
        raise InvalidEvent("sha256", "expected 64 hexadecimal digits")
    given = sha256.lower()
    try:
        node = resolve_ref(store, ref)
    except NotFound:
        return {"ref": ref, "result": "unknown", "sha256": given, "expected": None, "reason": f"{ref} is not in the graph"}
    expected = node.props.get("sha256")
    out = {"ref": ref, "node": item(node), "sha256": given, "expected": expected}
    if not expected:
        return out | {"result": "unknown", "reason": "no sha256 is recorded for it (no ml_artifact facet)"}
    if given == expected:
        return out | {"result": "match", "reason": "the recorded sha256"}
    others = [v["sha256"] for v in node.props.get("immutability_violations") or []]
    reason = "a later event claimed this hash: an immutability violation" if given in others else "not the recorded sha256"
    return out | {"result": "mismatch", "reason": reason}


def file_sha256(path: str) -> str:
    """A file's sha256, read in blocks so a large model file is never held whole."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle_:
        for block in iter(lambda: handle_.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


__all__ = ["CHECKLIST_ITEMS", "checklist", "check_rollback", "file_sha256", "notify_owners", "rollback_body", "rollback_plan", "verify_artifact"]
