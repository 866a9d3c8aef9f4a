"""Column-lineage answers in the shape the producer tests compare: a version's fields, and what
one field is made from, with the (type, subtype) of each transformation."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from lineage import ids
from lineage.graph import FEEDS, HAS_FIELD, WROTE
from lineage.store.base import Store

Column = tuple[str, str, str]  # namespace, dataset name, field
Transformations = frozenset[tuple[str | None, str | None]]


def _store(client: TestClient) -> Any:
    return client.app.state.store  # type: ignore[attr-defined]


def answered_fields(client: TestClient, version: str) -> set[str]:
    """The fields the service knows of a dataset version."""
    store = _store(client)
    return {str(n.props["field"]) for n in store.nodes([e.dst for e in store.out_edges(version, HAS_FIELD)])}


def made_from(client: TestClient, version: str, field: str) -> dict[Column, Transformations]:
    """The input columns one step upstream of `version`'s `field`, with their transformations."""
    store = _store(client)
    out: dict[Column, Transformations] = {}
    for edge in store.in_edges(ids.field_id(version, field), FEEDS):
        node = store.node(edge.src)
        assert node is not None
        of = node.props["of"]
        column = (str(of["namespace"]), str(of["name"]), str(node.props["field"]))
        out[column] = frozenset((t.get("type"), t.get("subtype")) for t in edge.props.get("transformations") or [])
    return out


def written_version(store: Store, run: str, namespace: str, name: str) -> str:
    """The version of a dataset that a run wrote (found in the graph, not computed here)."""
    dataset = ids.dataset_id(namespace, name)
    found = [
        e.dst for e in store.out_edges(ids.run_id(run), WROTE)
        if (node := store.node(e.dst)) is not None and node.props.get("dataset") == dataset
    ]
    assert len(found) == 1, f"run {run} wrote {len(found)} versions of {namespace}:{name}"
    return found[0]
