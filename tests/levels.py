"""The dataset/job-level adjacency a store keeps, checked against one counted from its graph."""

from __future__ import annotations

from lineage.graph import Node
from lineage.store.base import Store
from lineage.store.levels import from_graph


def counted(store: Store) -> dict[str, list[list[object]]]:
    """The adjacency counted from scratch from the store's graph."""
    d = store.dump()
    nodes = [Node(n["id"], n["kind"], frozenset(n["labels"]), n["props"]) for n in d["nodes"]]
    change = from_graph(nodes, [(e["src"], e["type"], e["dst"], e["key"]) for e in d["edges"]])
    return {"pairs": sorted([list(r) for r in change.pair_rows()]), "members": sorted([list(r) for r in change.member_rows()])}


def kept(store: Store) -> dict[str, list[list[object]]]:
    """The adjacency the store keeps, after checking that it is the one its graph gives."""
    levels = dict(store.level_dump())
    assert levels == counted(store)
    return levels
