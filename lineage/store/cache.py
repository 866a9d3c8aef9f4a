"""A write-through cache over a store's in-transaction reads, for one ingest batch.

The projection asks for the same job, dataset and run nodes and the same adjacency lists again
and again within a batch; on Neo4j each ask is a network round trip. The store applies every
mutation to its transaction and then to this cache, so the cache never disagrees with what the
transaction would answer. Queries that scan (versions_at, inferred_reads, nodes_with) always go
to the transaction, which sees the batch's own writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from lineage.graph import DeleteEdge, DeleteNode, Edge, GraphView, Mutation, Node, PutEdge, PutNode


class Reads(GraphView, Protocol):
    def nodes(self, ids: list[str]) -> list[Node]:
        """The nodes among `ids` that exist, in one round trip."""
        ...


class BatchView:
    def __init__(self, base: Reads) -> None:
        self.base = base
        self._nodes: dict[str, Node | None] = {}
        self._out: dict[tuple[str, str], list[Edge]] = {}
        self._in: dict[tuple[str, str], list[Edge]] = {}

    def prefetch(self, ids: Iterable[str]) -> None:
        wanted = [i for i in dict.fromkeys(ids) if i not in self._nodes]
        if not wanted:
            return
        found = {n.id: n for n in self.base.nodes(wanted)}
        for node_id in wanted:
            self._nodes[node_id] = found.get(node_id)

    def node(self, node_id: str) -> Node | None:
        if node_id not in self._nodes:
            self._nodes[node_id] = self.base.node(node_id)
        return self._nodes[node_id]

    def out_edges(self, src: str, edge_type: str) -> list[Edge]:
        key = (src, edge_type)
        if key not in self._out:
            self._out[key] = self.base.out_edges(src, edge_type)
        return list(self._out[key])

    def in_edges(self, dst: str, edge_type: str) -> list[Edge]:
        key = (dst, edge_type)
        if key not in self._in:
            self._in[key] = self.base.in_edges(dst, edge_type)
        return list(self._in[key])

    def versions_at(self, dataset: str, at: str, limit: int) -> list[Node]:
        return self.base.versions_at(dataset, at, limit)

    def inferred_reads(self, dataset: str, since: str) -> list[Edge]:
        return self.base.inferred_reads(dataset, since)

    def nodes_with(self, kind: str, prop: str, value: str) -> list[Node]:
        return self.base.nodes_with(kind, prop, value)

    def applied(self, mutations: list[Mutation]) -> None:
        """Bring the cache up to date with mutations the store has just written."""
        for m in mutations:
            if isinstance(m, PutNode):
                self._nodes[m.node.id] = m.node
            elif isinstance(m, PutEdge):
                self._replace(m.edge.src, m.edge.type, m.edge.dst, m.edge.key, m.edge)
            elif isinstance(m, DeleteEdge):
                self._replace(m.src, m.type, m.dst, m.key, None)
            elif isinstance(m, DeleteNode):
                self._nodes[m.id] = None
                # Its edges went with it: forget every list that may hold one.
                self._out = {k: v for k, v in self._out.items() if k[0] != m.id and all(e.dst != m.id for e in v)}
                self._in = {k: v for k, v in self._in.items() if k[0] != m.id and all(e.src != m.id for e in v)}

    def _replace(self, src: str, edge_type: str, dst: str, key: str, edge: Edge | None) -> None:
        ident = (src, edge_type, dst, key)
        for cache, anchor, order in ((self._out, src, lambda e: (e.dst, e.key)), (self._in, dst, lambda e: (e.src, e.key))):
            edges = cache.get((anchor, edge_type))
            if edges is None:
                continue
            kept = [e for e in edges if e.ident != ident]
            if edge is not None:
                kept.append(edge)
            kept.sort(key=order)
            cache[(anchor, edge_type)] = kept
