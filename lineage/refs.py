"""Human refs -> nodes: ids, version labels, model@version, names, run UUIDs, sha prefixes."""

from __future__ import annotations

import re
from typing import Any

from lineage.errors import Ambiguous, InvalidEvent, NotFound
from lineage.graph import ALIAS, ANNOTATION, COMMIT, DATASET, JOB, KINDS, RUN, VERSION, Node
from lineage.store.base import Store

MAX_REF = 1024
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_SHA = re.compile(r"^[0-9a-fA-F]{7,40}$")

# Tried tier by tier; the first tier with any match decides (a run UUID is also the version
# label of the run's derived outputs, and the run is what a person means by it).
TIERS: tuple[tuple[tuple[str, str], ...], ...] = (
    (("model_ref", VERSION), ("feature_view_ref", VERSION), ("alias_ref", ALIAS), ("alt_ref", VERSION)),
    (
        ("version", VERSION),
        ("endpoint", DATASET),
        ("model_name", DATASET),
        ("feature_view", DATASET),
        ("name", JOB),
        ("name", DATASET),
    ),
)


def check_ref(ref: str, field: str = "ref") -> str:
    ref = ref.strip()
    if not ref:
        raise InvalidEvent(field, "must not be empty")
    if len(ref) > MAX_REF:
        raise InvalidEvent(field, f"longer than {MAX_REF} characters")
    return ref


def check_kind(kind: str | None) -> str | None:
    if kind is not None and kind not in KINDS:
        raise InvalidEvent("kind", f"must be one of {', '.join(KINDS)}")
    return kind


def display(node: Node) -> str:
    """A short human name for a node."""
    p = node.props
    if node.kind == VERSION:
        if p.get("placeholder"):
            return f"{p.get('name')} (unversioned)"
        return p.get("model_ref") or p.get("feature_view_ref") or f"{p.get('name')}@{p.get('version')}"
    if node.kind == DATASET:
        return p.get("endpoint") or p.get("model_name") or p.get("feature_view") or p.get("name") or node.id
    if node.kind == RUN:
        return f"{p.get('job_name') or 'run'} {p.get('run_id', '')[:8]}"
    if node.kind == COMMIT:
        return f"{p.get('sha', '')[:12]}"
    if node.kind == ALIAS:
        return str(p.get("alias_ref"))
    if node.kind == ANNOTATION:
        return f"#{p.get('tag')}"
    return str(p.get("name") or node.id)


def handle(node: Node) -> str:
    """A ref a person can type that resolves to this node (or to it among few others)."""
    p = node.props
    for key in ("model_ref", "feature_view_ref", "alias_ref", "run_id", "sha"):
        if p.get(key) and not (key == "run_id" and node.kind != RUN):
            return str(p[key])
    if node.kind == VERSION:
        # A derived version's label is the run UUID of its writer, which resolves to the run,
        # and a placeholder has no label: only the id names those.
        version = p.get("version")
        return str(version) if version and not _UUID.match(str(version)) else node.id
    if node.kind == DATASET:
        return str(p.get("endpoint") or p.get("model_name") or p.get("feature_view") or p.get("name"))
    return str(p.get("name") or node.id)


def summary(node: Node) -> dict[str, Any]:
    return {"id": node.id, "kind": node.kind, "labels": sorted(node.labels), "label": display(node), "ref": handle(node)}


def candidates(store: Store, ref: str, kind: str | None = None) -> list[Node]:
    """Every node the ref could mean, from the first tier that matches anything."""
    # Every tier is asked at once (one round trip on a server store), then read in order.
    uuid = bool(_UUID.match(ref))
    props = ["id", *(["run_id"] if uuid else []), *dict.fromkeys(p for tier in TIERS for p, _ in tier)]
    per_kind = 20  # `name` serves two kinds: ask for enough of each
    hits = store.lookup(ref, props, per_kind * 2)
    if uuid and ref != ref.lower():
        hits["run_id"] = store.find("run_id", ref.lower(), kind=RUN)  # run ids are stored lower-case
    by_id = [n for n in hits["id"] if kind is None or n.kind == kind]
    if by_id:
        return by_id
    runs = [n for n in hits.get("run_id", []) if n.kind == RUN]
    if runs and kind in (None, RUN):
        return runs
    for tier in TIERS:
        matches: dict[str, Node] = {}
        for prop, node_kind in tier:
            if kind is None or kind == node_kind:
                matches.update((n.id, n) for n in [n for n in hits[prop] if n.kind == node_kind][:per_kind])
        if matches:
            return sorted(matches.values(), key=lambda n: n.id)
    if _SHA.match(ref) and kind in (None, COMMIT):
        return store.find("sha", ref.lower(), kind=COMMIT, prefix=True, limit=20)
    return []


def near(store: Store, text: str, kind: str | None, limit: int = 5) -> list[Node]:
    """Suggestions for a ref that matched nothing: nodes containing it, else containing
    ever shorter prefixes of it (a mistyped tail is the common slip)."""
    size = len(text)
    for _ in range(8):
        if size < 3:
            break
        found = store.suggest(text[:size], kind, limit)
        if found:
            return found
        size = size - 1 if size <= 16 else size // 2
    return []


def resolve_ref(store: Store, ref: str, kind: str | None = None) -> Node:
    """Exactly one node, or NotFound with suggestions, or Ambiguous listing the candidates."""
    ref = check_ref(ref)
    found = candidates(store, ref, check_kind(kind))
    if len(found) == 1:
        return found[0]
    if not found:
        raise NotFound(f"nothing matches {ref!r}", suggestions=[summary(n) for n in near(store, ref, kind)])
    raise Ambiguous(f"{ref!r} matches {len(found)} nodes; use an id", candidates=[summary(n) for n in found])
