"""A view over a GraphView plus the changes a projection has made so far, and those changes.

The projection reads through this so that its own earlier writes are visible to it, and hands
back the net mutations in an order any store can apply (nodes before the edges that need them).
"""

from __future__ import annotations

from collections.abc import Sequence

from lineage.graph import (
    VERSION,
    DeleteEdge,
    DeleteNode,
    Edge,
    GraphView,
    Mutation,
    Node,
    PutEdge,
    PutNode,
)

EdgeIdent = tuple[str, str, str, str]


class Overlay:
    """Reads fall through to `base` unless this overlay has changed the thing read."""

    def __init__(self, base: GraphView) -> None:
        self.base = base
        self._nodes: dict[str, Node | None] = {}  # None: deleted here
        self._node_order: list[str] = []
        self._edges: dict[EdgeIdent, Edge | None] = {}
        self._edge_order: list[EdgeIdent] = []
        self._base_nodes: dict[str, Node | None] = {}
        self._base_edges: dict[EdgeIdent, Edge] = {}  # base edges seen, to skip rewriting them

    # --- reads ---------------------------------------------------------------------------
    def node(self, node_id: str) -> Node | None:
        if node_id in self._nodes:
            return self._nodes[node_id]
        if node_id not in self._base_nodes:
            self._base_nodes[node_id] = self.base.node(node_id)
        return self._base_nodes[node_id]

    def _merge_edges(self, found: list[Edge], match: int, value: str, edge_type: str) -> list[Edge]:
        merged = {e.ident: e for e in found}
        self._base_edges.update(merged)
        for ident, edge in self._edges.items():
            if ident[1] != edge_type or ident[match] != value:
                continue
            if edge is None:
                merged.pop(ident, None)
            else:
                merged[ident] = edge
        for ident in [i for i in merged if self._nodes.get(i[0], 1) is None or self._nodes.get(i[2], 1) is None]:
            del merged[ident]  # an end was deleted here
        return [merged[i] for i in sorted(merged)]

    def out_edges(self, src: str, edge_type: str) -> list[Edge]:
        return self._merge_edges(self.base.out_edges(src, edge_type), 0, src, edge_type)

    def in_edges(self, dst: str, edge_type: str) -> list[Edge]:
        return self._merge_edges(self.base.in_edges(dst, edge_type), 2, dst, edge_type)

    def versions_at(self, dataset: str, at: str, limit: int) -> list[Node]:
        local = [n for n in self._nodes.values() if n is not None and n.kind == VERSION and n.props.get("dataset") == dataset]
        # Each local change to a version of this dataset (or a deletion, whose dataset is not
        # known here) could displace one base answer, so ask the base for that many more.
        deleted = sum(1 for n in self._nodes.values() if n is None)
        found = {n.id: n for n in self.base.versions_at(dataset, at, limit + len(local) + deleted)}
        for n in local:
            found[n.id] = n
        for node_id in [i for i in found if i in self._nodes and self._nodes[i] is None]:
            del found[node_id]
        ok = [n for n in found.values() if n.props.get("written_at") is not None and n.props["written_at"] <= at]
        ok.sort(key=lambda n: (n.props["written_at"], n.id), reverse=True)
        return ok[:limit]

    def inferred_reads(self, dataset: str, since: str) -> list[Edge]:
        merged = {e.ident: e for e in self.base.inferred_reads(dataset, since)}
        for ident, edge in self._edges.items():
            if edge is None:
                merged.pop(ident, None)
            elif (
                edge.type == "READ" and edge.props.get("inferred") and edge.props.get("dataset") == dataset
                and edge.props.get("read_at", "") >= since
            ):
                merged[ident] = edge
            else:
                merged.pop(ident, None)  # changed here so that it no longer matches
        return [merged[i] for i in sorted(merged)]

    def nodes_with(self, kind: str, prop: str, value: str) -> list[Node]:
        found = {n.id: n for n in self.base.nodes_with(kind, prop, value)}
        for node_id, n in self._nodes.items():
            if n is not None and n.kind == kind and n.props.get(prop) == value:
                found[node_id] = n
            else:
                found.pop(node_id, None)
        return [found[i] for i in sorted(found)]

    def preload(self, node_ids: Sequence[str], out_types: Sequence[str] = (), in_types: Sequence[str] = ()) -> None:
        self.base.preload(node_ids, out_types, in_types)  # the base is what is slow to ask

    def preload_matching(self, kind: str, prop: str, values: Sequence[str]) -> None:
        self.base.preload_matching(kind, prop, values)

    # --- writes --------------------------------------------------------------------------
    def put_node(self, node: Node) -> None:
        if self.node(node.id) == node:
            return
        if node.id not in self._nodes:
            self._node_order.append(node.id)
        self._nodes[node.id] = node

    def delete_node(self, node_id: str) -> None:
        if node_id not in self._nodes:
            self._node_order.append(node_id)
        self._nodes[node_id] = None

    def put_edge(self, edge: Edge) -> None:
        current = self._edges[edge.ident] if edge.ident in self._edges else self._base_edges.get(edge.ident)
        if current == edge:
            return
        if edge.ident not in self._edges:
            self._edge_order.append(edge.ident)
        self._edges[edge.ident] = edge

    def delete_edge(self, edge: Edge) -> None:
        if edge.ident not in self._edges:
            self._edge_order.append(edge.ident)
        self._edges[edge.ident] = None

    def mutations(self) -> list[Mutation]:
        """Net changes: node puts, edge deletes, edge puts, node deletes, in first-touch order."""
        out: list[Mutation] = []
        for node_id in self._node_order:
            node = self._nodes[node_id]
            if node is not None:
                out.append(PutNode(node))
        for ident in self._edge_order:
            if self._edges[ident] is None:
                out.append(DeleteEdge(*ident))
        for ident in self._edge_order:
            edge = self._edges[ident]
            if edge is not None and self._nodes.get(edge.src, 1) is not None and self._nodes.get(edge.dst, 1) is not None:
                out.append(PutEdge(edge))
        for node_id in self._node_order:
            if self._nodes[node_id] is None:
                out.append(DeleteNode(node_id))
        return out
