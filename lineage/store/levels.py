"""The dataset/job-level adjacency (issue 34): what each batch of graph changes does to it.

A dataset or job ref is answered at dataset/job level: which datasets and jobs data flows
between, each once, with how many versions and runs each has. Walking the version-level graph
for that follows the history (every version of every dataset downstream); the adjacency does not.
It holds, for each ordered pair of Dataset/Job ids that data flows between, the number of
version-level flow edges that join them (`support`) and how many of those only a JobEvent
declared (`declared`, the DECLARED_READ/DECLARED_WRITE edges of issue 30: a pair whose support is
all declared is joined by no run), and per dataset its versions, per job its runs (`members`).
Both stores keep it in the transaction that writes the graph.

Order independence: a count is a function of the graph as it stands, never of the order
it was built in. `delta` compares, for every edge and node a batch touches, whether it existed
before the batch (read from the store) and after it (what the batch's net mutations leave),
and adds the difference; a replay in any order ends on the same graph, so on the same counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from lineage.graph import (
    CHILD_OF,
    DATASET,
    DECLARED_READ,
    DECLARED_WRITE,
    JOB,
    READ,
    RUN,
    SERVES,
    SYMLINK,
    VERSION,
    WROTE,
    DeleteEdge,
    DeleteNode,
    Mutation,
    Node,
    PutEdge,
    PutNode,
)

EdgeIdent = tuple[str, str, str, str]
# Which way data flows along each version-level edge type that the adjacency follows: the edge's
# own direction (src -> dst), or against it. Commits (AT_COMMIT) stay at version level.
WITH_EDGE = (WROTE, DECLARED_WRITE)
AGAINST_EDGE = (READ, SERVES, CHILD_OF, DECLARED_READ)
BOTH_WAYS = (SYMLINK,)
LEVEL_EDGE_TYPES = WITH_EDGE + AGAINST_EDGE + BOTH_WAYS
# What a JobEvent declared rather than what a run did: counted in a pair's `declared` too.
DECLARED_TYPES = (DECLARED_READ, DECLARED_WRITE)
VERSIONS, RUNS = "versions", "runs"


def level_of(node: Node) -> str | None:
    """The dataset or job a node stands under: a version's dataset, a run's job, a dataset or
    job itself; None for what has no place at that level (commits, aliases, annotations)."""
    if node.kind in (DATASET, JOB):
        return node.id
    if node.kind == VERSION:
        value = node.props.get("dataset")
    elif node.kind == RUN:
        value = node.props.get("job")
    else:
        return None
    return value if isinstance(value, str) else None


def member_of(node: Node) -> tuple[str, str] | None:
    """Which count a node adds one to: a dataset's versions (placeholders are not versions), a
    job's runs."""
    if node.kind == VERSION and not node.props.get("placeholder"):
        return (value, VERSIONS) if isinstance(value := node.props.get("dataset"), str) else None
    if node.kind == RUN:
        return (value, RUNS) if isinstance(value := node.props.get("job"), str) else None
    return None


def flow_pairs(edge_type: str, src: str | None, dst: str | None) -> list[tuple[str, str]]:
    """The (upstream, downstream) level pairs one version-level edge supports."""
    if src is None or dst is None or src == dst:
        return []
    if edge_type in WITH_EDGE:
        return [(src, dst)]
    if edge_type in AGAINST_EDGE:
        return [(dst, src)]
    if edge_type in BOTH_WAYS:
        return [(src, dst), (dst, src)]
    return []


class Before(Protocol):
    """The store's state before a batch is written, read in the batch's transaction."""

    def existing_edges(self, idents: Sequence[EdgeIdent]) -> set[EdgeIdent]:
        """Which of these edges the store holds."""
        ...

    def existing_nodes(self, ids: Sequence[str]) -> dict[str, Node]:
        """The nodes among `ids` that the store holds."""
        ...

    def flow_edges_of(self, ids: Sequence[str]) -> list[EdgeIdent]:
        """Every stored edge of LEVEL_EDGE_TYPES with an end among `ids`."""
        ...


@dataclass
class Delta:
    """What a batch adds to (or, negative, takes from) the adjacency and the counts."""

    pairs: Counter[tuple[str, str]] = field(default_factory=Counter)
    declared: Counter[tuple[str, str]] = field(default_factory=Counter)
    members: Counter[tuple[str, str]] = field(default_factory=Counter)

    def __bool__(self) -> bool:
        return any(self.pairs.values()) or any(self.declared.values()) or any(self.members.values())

    def add(self, edge_type: str, pair: tuple[str, str], n: int) -> None:
        """Count `n` version-level edges of `edge_type` for `pair`."""
        self.pairs[pair] += n
        if edge_type in DECLARED_TYPES:
            self.declared[pair] += n

    def pair_rows(self) -> list[tuple[str, str, int, int]]:
        """(upstream, downstream, support added, declared support added), one row per pair."""
        keys = sorted(set(self.pairs) | set(self.declared))
        return [(s, d, self.pairs[(s, d)], self.declared[(s, d)]) for s, d in keys if self.pairs[(s, d)] or self.declared[(s, d)]]

    def member_rows(self) -> list[tuple[str, int, int]]:
        """(level id, versions added, runs added), one row per id."""
        out: dict[str, list[int]] = {}
        for (level, what), n in self.members.items():
            if n:
                out.setdefault(level, [0, 0])[0 if what == VERSIONS else 1] += n
        return [(i, v, r) for i, (v, r) in sorted(out.items())]


def delta(mutations: Sequence[Mutation], before: Before) -> Delta:
    """The change the net `mutations` of a batch make to the adjacency, against `before`."""
    put_nodes = {m.node.id: m.node for m in mutations if isinstance(m, PutNode)}
    deleted = {m.id for m in mutations if isinstance(m, DeleteNode)}
    put_edges = {m.edge.ident for m in mutations if isinstance(m, PutEdge) if m.edge.type in LEVEL_EDGE_TYPES}
    dropped = {(m.src, m.type, m.dst, m.key) for m in mutations if isinstance(m, DeleteEdge) if m.type in LEVEL_EDGE_TYPES}
    out = Delta()
    if not (put_nodes or deleted or put_edges or dropped):
        return out
    candidates = put_edges | dropped
    ends = {i for ident in candidates for i in (ident[0], ident[2])}
    old = before.existing_nodes(sorted(ends | set(put_nodes) | deleted))
    # A node deleted, or a run whose job changed, takes its stored edges' pairs with it.
    moved = [i for i, n in put_nodes.items() if i in old and level_of(old[i]) != level_of(n)]
    if deleted or moved:
        candidates |= set(before.flow_edges_of(sorted(deleted | set(moved))))
        ends = {i for ident in candidates for i in (ident[0], ident[2])}
        missing = sorted(ends - set(old))
        if missing:
            old |= before.existing_nodes(missing)
    existed = before.existing_edges(sorted(candidates))
    new = {i: n for i, n in old.items() if i not in deleted} | put_nodes

    def old_level(i: str) -> str | None:
        return level_of(old[i]) if i in old else None

    def new_level(i: str) -> str | None:
        return level_of(new[i]) if i in new else None

    for ident in candidates:
        src, edge_type, dst, _ = ident
        if ident in existed:
            for pair in flow_pairs(edge_type, old_level(src), old_level(dst)):
                out.add(edge_type, pair, -1)
        stays = ident not in dropped and src not in deleted and dst not in deleted
        if ident in put_edges or (ident in existed and stays):
            for pair in flow_pairs(edge_type, new_level(src), new_level(dst)):
                out.add(edge_type, pair, 1)
    for node_id in set(put_nodes) | deleted:
        if node_id in old and (m := member_of(old[node_id])):
            out.members[m] -= 1
        if node_id in new and (m := member_of(new[node_id])):
            out.members[m] += 1
    return out


def from_graph(nodes: Iterable[Node], edges: Iterable[EdgeIdent]) -> Delta:
    """The whole adjacency of a graph, counted from scratch: what a rebuild writes, and what
    tests compare the kept one with."""
    by_id = {n.id: n for n in nodes}
    out = Delta()
    for node in by_id.values():
        if m := member_of(node):
            out.members[m] += 1
    for src, edge_type, dst, _ in edges:
        a, b = by_id.get(src), by_id.get(dst)
        for pair in flow_pairs(edge_type, level_of(a) if a else None, level_of(b) if b else None):
            out.add(edge_type, pair, 1)
    return out


@dataclass(frozen=True, slots=True)
class LevelWalk:
    """What a walk of the adjacency reached: each dataset/job id with its distance, and the
    adjacency's pairs among them as (upstream, downstream, support, declared support)."""

    depth: Mapping[str, int]
    edges: Sequence[tuple[str, str, int, int]]


def dump_rows(
    pairs: Iterable[tuple[str, str, int, int | None]], members: Iterable[tuple[str, int, int]]
) -> dict[str, list[list[object]]]:
    """The adjacency in a canonical form (zero counts left out; a pair as [upstream, downstream,
    support, declared support]), for comparing two stores' or a rebuild's with an ingest's."""
    return {
        "pairs": sorted([s, d, n, k or 0] for s, d, n, k in pairs if n or k),
        "members": sorted([i, v, r] for i, v, r in members if v or r),
    }
