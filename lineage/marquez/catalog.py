"""Namespaces, tags, search and the event list in Marquez's shapes."""

from __future__ import annotations

from typing import Any

import orjson

from lineage.graph import ANNOTATION, DATASET, JOB
from lineage.marquez.common import _first_seen, DEFAULT_LIMIT, DEFAULT_NAMESPACE, DEFAULT_NAMESPACE_DESCRIPTION, instant, node_id, not_found, SEED_TAGS, TAG_TARGET_PREFIX
from lineage.marquez.datasets import dataset_body
from lineage.marquez.jobs import job_body
from lineage.store.base import Store, snapshotted


def _namespace(store: Store, name: str) -> dict[str, Any]:
    created: str | None = None
    if name != DEFAULT_NAMESPACE:
        # The namespace appeared with the first job or dataset that names it.
        _, jobs = store.in_namespace(JOB, name, DEFAULT_LIMIT, 0)
        _, datasets = store.in_namespace(DATASET, name, DEFAULT_LIMIT, 0)
        created = _first_seen(store, [n.id for n in jobs + datasets])
    at = instant(created) if created else instant(store.newest_event_time() or "1970-01-01T00:00:00Z")
    return {
        "name": name,
        "createdAt": at,
        "updatedAt": at,
        "ownerName": "anonymous",
        "description": DEFAULT_NAMESPACE_DESCRIPTION if name == DEFAULT_NAMESPACE else None,
        "isHidden": False,
    }


@snapshotted
def namespaces(store: Store, limit: int = DEFAULT_LIMIT, offset: int = 0) -> dict[str, Any]:
    names = sorted(set(store.namespaces()) | {DEFAULT_NAMESPACE})
    return {"namespaces": [_namespace(store, n) for n in names[offset : offset + limit]]}


@snapshotted
def namespace(store: Store, name: str) -> dict[str, Any]:
    if name != DEFAULT_NAMESPACE and name not in store.namespaces():
        raise not_found("Namespace", name)
    return _namespace(store, name)


@snapshotted
def tags(store: Store, limit: int = DEFAULT_LIMIT, offset: int = 0) -> dict[str, Any]:
    found = dict(SEED_TAGS)
    for a in sorted(store.find("target", TAG_TARGET_PREFIX, kind=ANNOTATION, prefix=True, limit=10_000),
                    key=lambda n: (n.props.get("created_at") or "", n.id)):
        found[a.props["target"][len(TAG_TARGET_PREFIX) :]] = a.props.get("reason") or None
    rows = [{"name": n, "description": d} for n, d in sorted(found.items())]
    return {"tags": rows[offset : offset + limit]}


def tag_definition(name: str, description: str | None) -> tuple[str, str]:
    """(target, reason) of the annotation that creates a tag."""
    return TAG_TARGET_PREFIX + name, description or ""


def tag_known(store: Store, name: str) -> bool:
    return name in SEED_TAGS or bool(store.find("target", TAG_TARGET_PREFIX + name, kind=ANNOTATION, limit=1))


@snapshotted
def search(store: Store, q: str, kind: str | None, limit: int, namespace: str | None,
           before: str | None, after: str | None) -> dict[str, Any]:
    kinds = [DATASET, JOB] if kind is None else [DATASET if kind == "DATASET" else JOB]
    results = []
    for k in kinds:
        for n in store.suggest(q, k, 10_000):
            if q.lower() not in (n.props.get("name") or "").lower():
                continue  # suggest also matches versions and handles; Marquez matches names
            if namespace and n.props.get("namespace") != namespace:
                continue
            body = dataset_body(store, n, full=False) if k == DATASET else job_body(store, n, with_runs=False)
            updated = body["updatedAt"] or ""
            name = body["name"]
            if (after and updated < instant(after)) or (before and updated > instant(before)):  # type: ignore[operator]
                continue
            kind_name = "DATASET" if k == DATASET else "JOB"
            results.append({"type": kind_name, "name": name, "updatedAt": updated, "namespace": n.props["namespace"],
                            "nodeId": node_id(kind_name.lower(), n.props["namespace"], name)})
    # Marquez's answers come datasets first, each kind by name (its `sort` has no effect).
    results.sort(key=lambda r: r["namespace"], reverse=True)
    results.sort(key=lambda r: (r["type"] != "DATASET", r["name"]))
    results = results[:limit]
    return {"results": results, "totalCount": len(results)}


# What /events/lineage lists, and what its totalCount counts (Marquez's bug 5: every
# OpenLineage event kind, though only run events are listed). Annotations are ours.
LISTED_KINDS, COUNTED_KINDS = ("run",), ("run", "job", "dataset")


@snapshotted
def events(store: Store, before: str | None, after: str | None, descending: bool, limit: int, offset: int) -> dict[str, Any]:
    """The OpenLineage run events with after <= eventTime < before, one page by eventTime."""
    total = store.count_by_time(after, before, COUNTED_KINDS)
    page = store.events_by_time(after, before, LISTED_KINDS, descending, limit, offset)
    return {"totalCount": total, "events": [orjson.loads(e.payload) for e in page]}
