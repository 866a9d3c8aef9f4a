"""One ingest batch's graph: the store as it was when the batch began, plus the batch's changes.

Events of a batch are projected one after another, each seeing the ones before it. Writing each
event's mutations straight to the store costs a dozen statements (on Neo4j, round trips) per
event, and most of them rewrite the same job, dataset and run nodes again. Instead the store hands
every event's projection this view: it answers every GraphView read by merging the store's answer
with what earlier events of the batch changed, and at the end gives the batch's net changes for
the store to write in a few set-based statements.

Because nothing is written to the store until the end, the store's answers cannot change during
the batch, so each is fetched once and kept.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from lineage import ids
from lineage.chain import entry_hash
from lineage.events import Event, declared_version
from lineage.graph import (
    ANNOTATION,
    LOOKUP_PROPS,
    READ,
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
from lineage.projection import END_OF_TIME, output_label, preload_histories, project, subjects, touched
from lineage.store.base import Around, IngestOutcome

EdgeIdent = tuple[str, str, str, str]
# How many versions per dataset a prefetch brings: enough for the few newest a read binds to,
# plus the versions earlier events of the batch may have added.
PREFETCH_VERSIONS = 8


class Reads(GraphView, Protocol):
    def nodes_and_annotations(self, ids: list[str]) -> tuple[list[Node], list[Node]]:
        """The nodes among `ids` that exist, and the annotation nodes whose target is among
        `ids`, in one round trip."""
        ...

    def versions_and_reads_many(
        self, versions: dict[str, str], limit: int, reads: dict[str, str]
    ) -> tuple[dict[str, list[Node]], dict[str, list[Edge]]]:
        """`versions_at(dataset, at, limit)` for each dataset -> at of `versions`, and
        `inferred_reads(dataset, since)` for each dataset -> since of `reads`, in one round trip."""
        ...

    def around(self, ids: Sequence[str], out_types: Sequence[str] = (), in_types: Sequence[str] = ()) -> Around:
        """The nodes among `ids`, their edges of those types and their far ends (Store.around)."""
        ...

    def nodes_with_many(self, kind: str, prop: str, values: list[str]) -> dict[str, list[Node]]:
        """`nodes_with(kind, prop, value)` for each value, in one round trip."""
        ...


def versions_and_reads_one_by_one(
    view: GraphView, versions: dict[str, str], limit: int, reads: dict[str, str]
) -> tuple[dict[str, list[Node]], dict[str, list[Edge]]]:
    """`Reads.versions_and_reads_many` as single reads, where a read costs no round trip."""
    return (
        {d: view.versions_at(d, at, limit) for d, at in versions.items()},
        {d: view.inferred_reads(d, since) for d, since in reads.items()},
    )


@dataclass(frozen=True, slots=True)
class Entry:
    """A log entry an ingest adds: the event, its place in the hash chain, what it is about."""

    event: Event
    seq: int
    prev_hash: str
    hash: str
    subjects: Sequence[str]


def warnings_json(event: Event) -> str | None:
    """An event's problems as the log keeps them beside its payload (None for none)."""
    if not event.warnings:
        return None
    return orjson.dumps([w.to_dict() for w in event.warnings]).decode()


def log_and_project(
    batch: Batch,
    events: Sequence[Event],
    received_at: str,
    head: tuple[int, str],
    known: dict[str, int],
    about: Mapping[str, Sequence[str]] | None = None,
    nodes_seeded: bool = False,
) -> tuple[list[IngestOutcome], list[Entry], tuple[int, str]]:
    """An ingest's work before its writes, on either store: number and chain the events not in
    `known` (event id -> seq; events in it are reported as already stored) after `head` (seq,
    hash), and project them into `batch`. `about` holds their `projection.subjects` where
    already computed; `nodes_seeded` says the caller already seeded `batch` with every node
    the events touch (see Batch.prefetch). Returns the outcomes, the new entries and the new head."""
    about = {e.id: about[e.id] if about else subjects(e) for e in events if e.id not in known}
    batch.prefetch([e for e in events if e.id in about], about, nodes_seeded)
    seq, prev = head
    outcomes, entries = [], []
    for event in events:
        if event.id in known:
            outcomes.append(IngestOutcome(event.id, False, known[event.id]))
            continue
        seq += 1
        prev_hash, prev = prev, entry_hash(prev, seq, event.id, received_at)
        known[event.id] = seq
        entries.append(Entry(event, seq, prev_hash, prev, about[event.id]))
        # The projection reads no events, so the log entries can be written after it in one go.
        batch.apply(project(event, batch))
        outcomes.append(IngestOutcome(event.id, True, seq))
    return outcomes, entries, (seq, prev)


_UNKNOWN = Node("", "")


def _by_id(node: Node) -> str:
    return node.id


def _newest_first(node: Node) -> tuple[Any, str]:
    return (node.props["written_at"], node.id)


class Batch:
    """A GraphView over `base` plus the net changes of the events applied so far."""

    def __init__(self, base: Reads) -> None:
        self.base = base
        # Store answers, kept for the whole batch (the store does not change under it).
        self._base_nodes: dict[str, Node | None] = {}
        self._base_reads: dict[tuple[Any, ...], list[Any]] = {}
        self._versions_upto: dict[str, tuple[str, list[Node]]] = {}  # dataset -> (at, newest first)
        self._inferred_from: dict[str, tuple[str, list[Edge]]] = {}  # dataset -> (since, edges)
        # Changes: None marks a deletion.
        self._nodes: dict[str, Node | None] = {}
        self._edges: dict[EdgeIdent, Edge | None] = {}
        # Deleted in this batch: their stored edges are gone, even if the node comes back.
        self._wiped: set[str] = set()
        # Indexes over the changes, so that each read looks only at what can match it.
        self._out: defaultdict[tuple[str, str], set[EdgeIdent]] = defaultdict(set)
        self._in: defaultdict[tuple[str, str], set[EdgeIdent]] = defaultdict(set)
        self._touching: defaultdict[str, set[EdgeIdent]] = defaultdict(set)
        self._inferred: defaultdict[str, set[EdgeIdent]] = defaultdict(set)
        self._versions: defaultdict[str, set[str]] = defaultdict(set)  # dataset -> changed version ids
        self._by_prop: defaultdict[tuple[str, Any], set[str]] = defaultdict(set)

    # --- store reads, once each -------------------------------------------------------------
    def prefetch(
        self, events: Sequence[Event], subjects: Mapping[str, Sequence[str]] | None = None, nodes_seeded: bool = False
    ) -> None:
        """Fetch, in a few round trips, what projecting `events` will ask the store first: the
        nodes they touch, the annotations waiting for those nodes, the versions current when
        their unversioned inputs were read (and the newest of each endpoint they deploy to),
        and the inferred reads their outputs may rebind.
        `subjects` are the events' `projection.subjects` by event id, where already known;
        `nodes_seeded`: `seed` was given every node they touch (`projection.touched`), so
        those need not be worked out again."""
        known = subjects or {}
        if not nodes_seeded:
            self._prefetch_nodes(node_id for e in events for node_id in touched(e, known.get(e.id)))
        versions: dict[str, str] = {}
        rebinds: dict[str, str] = {}
        for e in events:
            for ref in e.inputs:
                if declared_version(ref) is None:
                    d = ids.dataset_id(ref.namespace, ref.name)
                    versions[d] = max(versions.get(d, e.event_time), e.event_time)
            for ref in (*e.outputs, *([e.dataset] if e.dataset else [])):
                d = ids.dataset_id(ref.namespace, ref.name)
                # A version that moves in time rebinds the reads from the earlier of its two
                # times on: a run's COMPLETE moves what its START wrote from the START's time.
                label = output_label(ref, e)
                written = self._written_at(ids.version_id(d, label)) if label else None
                since = min(e.event_time, written) if written else e.event_time
                rebinds[d] = min(rebinds.get(d, since), since)
                if "ml_endpoint" in ref.facets:  # its newest deployments (see `preload_histories`)
                    versions[d] = END_OF_TIME
        stored = {d for d in (*versions, *rebinds) if self._base_nodes.get(d) is not None}
        versions = {d: at for d, at in versions.items() if d in stored}
        rebinds = {d: since for d, since in rebinds.items() if d in stored}
        if versions or rebinds:
            found_versions, found_reads = self.base.versions_and_reads_many(versions, PREFETCH_VERSIONS, rebinds)
            for d, found in found_versions.items():
                self._versions_upto[d] = (versions[d], found)
            for d, edges in found_reads.items():
                self._inferred_from[d] = (rebinds[d], edges)
        preload_histories(events, self)

    def _written_at(self, node_id: str) -> str | None:
        node = self._base_nodes.get(node_id)
        return node.props.get("written_at") if node is not None else None

    def _prefetch_nodes(self, ids: Iterable[str]) -> None:
        wanted = [i for i in dict.fromkeys(ids) if i not in self._base_nodes]
        if wanted:
            self.seed(wanted, *self.base.nodes_and_annotations(wanted))

    def seed(self, wanted: Sequence[str], nodes: Sequence[Node], annotated: Sequence[Node]) -> None:
        """Take `base.nodes_and_annotations(wanted)` read elsewhere (a store that fetches
        them in a round trip it makes anyway); `prefetch` then asks only for the rest."""
        found = {n.id: n for n in nodes}
        annotations: dict[str, list[Node]] = {i: [] for i in wanted}
        for n in annotated:
            annotations[n.props["target"]].append(n)
        for node_id in wanted:
            self._base_nodes[node_id] = found.get(node_id)
            self._base_reads[("nodes_with", ANNOTATION, "target", node_id)] = sorted(annotations[node_id], key=_by_id)

    def _prefetched(self, key: tuple[Any, ...]) -> list[Any] | None:
        """The answer to a scan from a prefetched wider one, when that holds it all."""
        name, dataset, bound, *rest = key
        if name == "versions_at" and dataset in self._versions_upto:
            at, found = self._versions_upto[dataset]
            if bound <= at:
                fit = [n for n in found if n.props["written_at"] <= bound]
                # Newest first up to `at`: the ones up to `bound` are its newest, unless cut off.
                if len(fit) >= rest[0] or len(found) < PREFETCH_VERSIONS:
                    return fit[: rest[0]]
        if name == "inferred_reads" and dataset in self._inferred_from:
            since, edges = self._inferred_from[dataset]
            if bound >= since:
                return [e for e in edges if e.props.get("read_at", "") >= bound]
        return None

    def _base_node(self, node_id: str) -> Node | None:
        if node_id not in self._base_nodes:
            self._base_nodes[node_id] = self.base.node(node_id)
        return self._base_nodes[node_id]

    def _stored(self, key: tuple[Any, ...]) -> list[Any]:
        if key not in self._base_reads:
            name, *args = key
            # A node the store does not have has no stored edges, and a dataset it does not
            # have no versions and no reads: no need to ask.
            absent = name != "nodes_with" and self._base_nodes.get(args[0], _UNKNOWN) is None
            if absent:
                self._base_reads[key] = []
            elif (found := self._prefetched(key)) is not None:
                self._base_reads[key] = found
            else:
                self._base_reads[key] = getattr(self.base, name)(*args)
        return self._base_reads[key]

    def _alive(self, edge: Edge) -> bool:
        """A stored edge as the batch sees it: not changed here, no end deleted here."""
        return edge.ident not in self._edges and edge.src not in self._wiped and edge.dst not in self._wiped

    # --- GraphView ---------------------------------------------------------------------------
    def node(self, node_id: str) -> Node | None:
        if node_id in self._nodes:
            return self._nodes[node_id]
        return self._base_node(node_id)

    def _adjacent(self, key: tuple[Any, ...], local: set[EdgeIdent]) -> list[Edge]:
        found = {e.ident: e for e in self._stored(key) if self._alive(e)}
        for ident in local:
            edge = self._edges[ident]
            if edge is not None:
                found[ident] = edge
        return [found[i] for i in sorted(found)]

    def out_edges(self, src: str, edge_type: str) -> list[Edge]:
        return self._adjacent(("out_edges", src, edge_type), self._out.get((src, edge_type), set()))

    def in_edges(self, dst: str, edge_type: str) -> list[Edge]:
        return self._adjacent(("in_edges", dst, edge_type), self._in.get((dst, edge_type), set()))

    def versions_at(self, dataset: str, at: str, limit: int) -> list[Node]:
        changed = self._versions.get(dataset, set())
        # Each version changed here may displace one stored answer: ask for that many more.
        stored = [n for n in self._stored(("versions_at", dataset, at, limit + len(changed))) if n.id not in self._nodes]
        local = [
            n for i in changed
            if (n := self._nodes[i]) is not None and n.props.get("written_at") is not None and n.props["written_at"] <= at
        ]
        return sorted([*stored, *local], key=_newest_first, reverse=True)[:limit]

    def inferred_reads(self, dataset: str, since: str) -> list[Edge]:
        found = {e.ident: e for e in self._stored(("inferred_reads", dataset, since)) if self._alive(e)}
        for ident in self._inferred.get(dataset, set()):
            edge = self._edges[ident]
            if (
                edge is not None and edge.type == READ and edge.props.get("inferred")
                and edge.props.get("dataset") == dataset and edge.props.get("read_at", "") >= since
            ):
                found[ident] = edge
        return [found[i] for i in sorted(found)]

    def nodes_with(self, kind: str, prop: str, value: str) -> list[Node]:
        found = {n.id: n for n in self._stored(("nodes_with", kind, prop, value)) if n.id not in self._nodes}
        for node_id in self._by_prop.get((prop, value), set()):
            node = self._nodes[node_id]
            if node is not None and node.kind == kind and node.props.get(prop) == value:
                found[node_id] = node
        return [found[i] for i in sorted(found)]

    def preload(self, node_ids: Sequence[str], out_types: Sequence[str] = (), in_types: Sequence[str] = ()) -> None:
        """One round trip (`around`) for the nodes not yet fetched, their edges of each type
        and direction not yet read, and the nodes at the other end of those edges, instead of
        one read per node and per node's edges."""
        keys = [("out_edges", t) for t in out_types] + [("in_edges", t) for t in in_types]
        unread = [
            i for i in dict.fromkeys(node_ids)
            if i not in self._base_nodes
            or (self._base_nodes[i] is not None and any((name, i, t) not in self._base_reads for name, t in keys))
        ]
        if not unread:
            return
        found = self.base.around(unread, out_types, in_types)
        for node_id in unread:
            self._base_nodes[node_id] = found.nodes.get(node_id)
        for node in found.nodes.values():
            self._base_nodes.setdefault(node.id, node)
        by_key: dict[tuple[str, str, str], list[Edge]] = {
            (name, i, t): [] for i in unread if self._base_nodes[i] is not None for name, t in keys
        }
        for edge in found.edges:
            for key in (("out_edges", edge.src, edge.type), ("in_edges", edge.dst, edge.type)):
                if key in by_key:
                    by_key[key].append(edge)
        self._base_reads.update(by_key)

    def preload_matching(self, kind: str, prop: str, values: Sequence[str]) -> None:
        unread = [v for v in dict.fromkeys(values) if ("nodes_with", kind, prop, v) not in self._base_reads]
        if unread:
            for value, found in self.base.nodes_with_many(kind, prop, unread).items():
                self._base_reads[("nodes_with", kind, prop, value)] = found

    def seed_matching(self, kind: str, prop: str, found: Mapping[str, Sequence[Node]]) -> None:
        """Take `base.nodes_with_many(kind, prop, values)` read elsewhere (a store that asks in a
        round trip it makes anyway): `found` holds every value asked for, each with its nodes."""
        for value, nodes in found.items():
            self._base_reads[("nodes_with", kind, prop, value)] = sorted(nodes, key=_by_id)[:10_000]

    # --- Reads: a batch whose changes are not yet stored is the base of the next ------------
    def rebase(self, base: Reads) -> None:
        """Answer from `base` from now on: the store once it holds what this batch's base gave.
        A pipelined ingest projects a batch over the batch before it while that one is written,
        then rebases it on the store that the write has brought up to date."""
        self.base = base

    def nodes_and_annotations(self, ids: list[str]) -> tuple[list[Node], list[Node]]:
        wanted = list(dict.fromkeys(ids))
        unread = [i for i in wanted if ("nodes_with", ANNOTATION, "target", i) not in self._base_reads]
        if unread:
            self.seed(unread, *self.base.nodes_and_annotations(unread))
        nodes = [n for i in wanted if (n := self.node(i)) is not None]
        return nodes, [a for i in wanted for a in self.nodes_with(ANNOTATION, "target", i)]

    def versions_and_reads_many(
        self, versions: dict[str, str], limit: int, reads: dict[str, str]
    ) -> tuple[dict[str, list[Node]], dict[str, list[Edge]]]:
        return versions_and_reads_one_by_one(self, versions, limit, reads)

    def around(self, ids: Sequence[str], out_types: Sequence[str] = (), in_types: Sequence[str] = ()) -> Around:
        self.preload(ids, out_types, in_types)
        out = Around({i: n for i in dict.fromkeys(ids) if (n := self.node(i)) is not None})
        edges = {e.ident: e for i in out.nodes for t in out_types for e in self.out_edges(i, t)}
        edges.update((e.ident, e) for i in out.nodes for t in in_types for e in self.in_edges(i, t))
        for end in sorted({end for e in edges.values() for end in (e.src, e.dst)} - out.nodes.keys()):
            if (node := self.node(end)) is not None:
                out.nodes[end] = node
        out.edges = [edges[i] for i in sorted(edges)]
        return out

    def nodes_with_many(self, kind: str, prop: str, values: list[str]) -> dict[str, list[Node]]:
        self.preload_matching(kind, prop, values)
        return {v: self.nodes_with(kind, prop, v) for v in values}

    # --- changes -----------------------------------------------------------------------------
    def apply(self, mutations: list[Mutation]) -> None:
        """Take in one event's mutations, as the store would apply them."""
        for m in mutations:
            if isinstance(m, PutNode):
                self._put_node(m.node)
            elif isinstance(m, PutEdge):
                self._put_edge(m.edge.ident, m.edge)
            elif isinstance(m, DeleteEdge):
                self._put_edge((m.src, m.type, m.dst, m.key), None)
            else:
                self._delete_node(m.id)

    def _put_node(self, node: Node) -> None:
        self._nodes[node.id] = node
        if node.kind == VERSION and isinstance(node.props.get("dataset"), str):
            self._versions[node.props["dataset"]].add(node.id)
        for prop in LOOKUP_PROPS:
            value = node.props.get(prop)
            if isinstance(value, str):
                self._by_prop[(prop, value)].add(node.id)

    def _put_edge(self, ident: EdgeIdent, edge: Edge | None) -> None:
        self._edges[ident] = edge
        src, edge_type, dst, _ = ident
        self._out[(src, edge_type)].add(ident)
        self._in[(dst, edge_type)].add(ident)
        self._touching[src].add(ident)
        self._touching[dst].add(ident)
        if edge is not None and edge.props.get("inferred") and isinstance(edge.props.get("dataset"), str):
            self._inferred[edge.props["dataset"]].add(ident)

    def _delete_node(self, node_id: str) -> None:
        current = self.node(node_id)
        if current is not None and current.kind == VERSION and isinstance(current.props.get("dataset"), str):
            self._versions[current.props["dataset"]].add(node_id)
        self._nodes[node_id] = None
        self._wiped.add(node_id)
        for ident in self._touching.get(node_id, set()):
            self._edges[ident] = None

    def surely_new(self, ident: EdgeIdent) -> bool:
        """True if the store surely has no edge `ident` (so it can be created, not merged)."""
        src, edge_type, dst, _ = ident
        if src in self._wiped or dst in self._wiped:
            return True
        if self._base_nodes.get(src, _UNKNOWN) is None or self._base_nodes.get(dst, _UNKNOWN) is None:
            return True
        for key in (("out_edges", src, edge_type), ("in_edges", dst, edge_type)):
            if key in self._base_reads:
                return all(e.ident != ident for e in self._base_reads[key])
        return False

    def node_before(self, node_id: str) -> tuple[bool, Node | None]:
        """Whether the batch knows what the store holds under `node_id` when its net changes
        are written, and that node: (True, None) for a node the store lacks, or that the
        batch deletes first; (False, None) when the batch never asked."""
        if node_id in self._wiped:
            return True, None
        if node_id in self._base_nodes:
            return True, self._base_nodes[node_id]
        return False, None

    def mutations(self) -> list[Mutation]:
        """The batch's net changes, in an order that gives the same graph as applying each
        event's in turn: deletions of nodes (and with them their stored edges) first, then
        of edges, then nodes and edges as they stand at the end."""
        out: list[Mutation] = [DeleteNode(i) for i in sorted(self._wiped)]
        # An edge that went with a deleted node needs no deletion of its own.
        out += [
            DeleteEdge(*ident) for ident, e in sorted(self._edges.items())
            if e is None and ident[0] not in self._wiped and ident[2] not in self._wiped
        ]
        # What the store already holds as it is is not written again: recomputing a whole
        # history (an endpoint's deployments, say) mostly gives back what is there.
        out += [
            PutNode(n) for i, n in sorted(self._nodes.items())
            if n is not None and (i in self._wiped or self._base_nodes.get(i, _UNKNOWN) != n)
        ]
        stored = self._stored_edges()
        # Edges to a node deleted after them were dropped with it (`_delete_node`).
        out += [
            PutEdge(e) for i, e in sorted(self._edges.items())
            if e is not None and (i[0] in self._wiped or i[2] in self._wiped or stored.get(i) != e)
        ]
        return out

    def _stored_edges(self) -> dict[EdgeIdent, Edge]:
        """Every stored edge the batch has read, by ident."""
        return {e.ident: e for found in self._base_reads.values() for e in found if isinstance(e, Edge)}
