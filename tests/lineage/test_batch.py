"""An ingest batch (lineage/store/batch.py) gives exactly the graph of applying its events one
at a time, and answers every read the projection makes as that graph would, event after event."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from lineage import ids
from lineage.events import Event
from lineage.graph import ANNOTATION, EDGE_TYPES, Edge, KINDS, LOOKUP_PROPS, VERSION, MemoryGraph, Node, PutEdge, PutNode
from lineage.ingest.parse import parse_event
from lineage.projection import project, touched
from lineage.service import annotation_body
from lineage.store import batch as batch_module
from lineage.store.base import Around
from lineage.store.batch import Batch
from tests import scenario as s
from tests.conformance.test_projection_rules import model_version
from tests.lineage.test_projection_pure import POOL, canonical

# A placeholder made, dropped when a version appears, and made again by an earlier reader: the
# node comes back within a batch without the edges it had.
REBOUND = [
    parse_event(b)
    for b in (
        s.event("early#1", "COMPLETE", s.ts(5), inputs=[s.dataset("orders")]),
        s.event("orders#1", "COMPLETE", s.ts(6), outputs=[s.dataset("orders", "v1")]),
        s.event("earlier#1", "COMPLETE", s.ts(4), inputs=[s.dataset("orders")]),
        s.event("late#2", "COMPLETE", s.ts(8), inputs=[s.dataset("orders")]),
        s.event("orders#2", "COMPLETE", s.ts(3), outputs=[s.dataset("orders", "v0")]),
    )
]
# Annotations on a placeholder (that comes and goes) and on an output version, arriving before
# or after their targets, in any order.
ORDERS = ids.dataset_id("s3://lake", "orders")
ANNOTATIONS = [
    parse_event(annotation_body(ids.version_id(ORDERS, ""), "orders", "suspect", "late data", "oncall", s.ts(9))),
    parse_event(annotation_body(ids.version_id(ORDERS, "v1"), "orders@v1", "quarantined", "bad rows", "oncall", s.ts(10))),
]
EVENTS = POOL + REBOUND + ANNOTATIONS


class Stored(MemoryGraph):
    """The reference graph as a store's reads, with the bulk node fetch a batch uses."""

    def fetch(self, ids: list[str]) -> list[Node]:
        return [self.nodes[i] for i in ids if i in self.nodes]

    def annotations_of(self, targets: list[str]) -> list[Node]:
        return [n for n in self.nodes.values() if n.kind == ANNOTATION and n.props.get("target") in targets]


class Reads:
    """`Stored` under the names the store protocol gives its reads."""

    def __init__(self, graph: Stored) -> None:
        self.graph = graph
        self.node, self.out_edges, self.in_edges = graph.node, graph.out_edges, graph.in_edges
        self.versions_at, self.inferred_reads, self.nodes_with = graph.versions_at, graph.inferred_reads, graph.nodes_with

    def nodes_and_annotations(self, ids: list[str]) -> tuple[list[Node], list[Node]]:
        return self.graph.fetch(ids), self.graph.annotations_of(ids)

    def versions_and_reads_many(
        self, versions: dict[str, str], limit: int, reads: dict[str, str]
    ) -> tuple[dict[str, list[Node]], dict[str, list[Edge]]]:
        return (
            {d: self.graph.versions_at(d, at, limit) for d, at in versions.items()},
            {d: self.graph.inferred_reads(d, since) for d, since in reads.items()},
        )

    def around(self, ids: list[str], out_types: Sequence[str] = (), in_types: Sequence[str] = ()) -> Around:
        edges = {e.ident: e for i in ids for t in out_types for e in self.graph.out_edges(i, t)}
        edges.update((e.ident, e) for i in ids for t in in_types for e in self.graph.in_edges(i, t))
        ends = [*ids, *(end for e in edges.values() for end in (e.src, e.dst))]
        return Around({i: self.graph.nodes[i] for i in ends if i in self.graph.nodes}, [edges[i] for i in sorted(edges)])

    def nodes_with_many(self, kind: str, prop: str, values: list[str]) -> dict[str, list[Node]]:
        return {v: self.graph.nodes_with(kind, prop, v) for v in values}


def sequential(events: list[Event]) -> MemoryGraph:
    graph = MemoryGraph()
    for event in events:
        graph.apply(project(event, graph))
    return graph


def in_batches(events: list[Event], cuts: list[int]) -> Stored:
    """The graph of `events` ingested in batches that end at `cuts`, as a store ingests them."""
    stored = Stored()
    bounds = [0, *sorted({c for c in cuts if 0 < c < len(events)}), len(events)]
    for start, end in zip(bounds, bounds[1:]):
        batch = Batch(Reads(stored))
        batch.prefetch(events[start:end])
        for event in events[start:end]:
            batch.apply(project(event, batch))
        stored.apply(batch.mutations())
    return stored


def assert_same_reads(batch: Batch, graph: MemoryGraph) -> None:
    node_ids = set(graph.nodes) | set(batch._nodes) | set(batch._base_nodes)
    for node_id in sorted(node_ids):
        assert batch.node(node_id) == graph.node(node_id), node_id
        for edge_type in EDGE_TYPES:
            assert batch.out_edges(node_id, edge_type) == graph.out_edges(node_id, edge_type), (node_id, edge_type)
            assert batch.in_edges(node_id, edge_type) == graph.in_edges(node_id, edge_type), (node_id, edge_type)
    datasets = {n.props["dataset"] for n in graph.nodes.values() if n.kind == VERSION}
    for dataset in sorted(datasets):
        for at in (s.ts(0), s.ts(5, 30), s.ts(9), s.ts(23)):
            for limit in (1, 4):
                assert batch.versions_at(dataset, at, limit) == graph.versions_at(dataset, at, limit)
            assert batch.inferred_reads(dataset, at) == graph.inferred_reads(dataset, at)
    for n in graph.nodes.values():
        for prop in LOOKUP_PROPS:
            value = n.props.get(prop)
            if isinstance(value, str):
                for kind in KINDS:
                    assert batch.nodes_with(kind, prop, value) == graph.nodes_with(kind, prop, value)


@settings(max_examples=40, deadline=None)
@given(order=st.permutations(range(len(EVENTS))), cuts=st.lists(st.integers(1, len(EVENTS) - 1), max_size=4))
def test_batches_give_the_graph_of_one_event_at_a_time(order: list[int], cuts: list[int]) -> None:
    events = [EVENTS[i] for i in order]
    assert canonical(in_batches(events, cuts)) == canonical(sequential(events))


def pipelined(events: list[Event], cuts: list[int], lands: list[int]) -> Stored:
    """As `in_batches`, but as a pipelined ingest runs them: each batch is projected over the
    batch before it while that one's changes are being written, then rebased on the store. The
    write lands at any point of the next batch's projection (after `lands[i]` of its events, the
    prefetch included at 0), and reads see the store as it is when they are made."""
    stored = Stored()
    bounds = [0, *sorted({c for c in cuts if 0 < c < len(events)}), len(events)]
    previous: Batch | None = None
    writing: list[Any] | None = None
    for n, (start, end) in enumerate(zip(bounds, bounds[1:])):
        land = lands[n % len(lands)] if lands else 0
        if writing is not None and land == 0:
            stored.apply(writing)
            writing = None
        batch = Batch(previous if previous is not None else Reads(stored))
        batch.prefetch(events[start:end])
        for i, event in enumerate(events[start:end], 1):
            batch.apply(project(event, batch))
            if writing is not None and i == land:
                stored.apply(writing)
                writing = None
        if writing is not None:
            stored.apply(writing)
        batch.rebase(Reads(stored))
        previous, writing = batch, batch.mutations()
    if writing is not None:
        stored.apply(writing)
    return stored


@settings(max_examples=60, deadline=None)
@given(
    order=st.permutations(range(len(EVENTS))),
    cuts=st.lists(st.integers(1, len(EVENTS) - 1), max_size=5),
    lands=st.lists(st.integers(0, 6), max_size=4),
)
def test_pipelined_batches_give_the_graph_of_one_event_at_a_time(order: list[int], cuts: list[int], lands: list[int]) -> None:
    events = [EVENTS[i] for i in order]
    assert canonical(pipelined(events, cuts, lands)) == canonical(sequential(events))


@settings(max_examples=15, deadline=None)
@given(order=st.permutations(range(len(EVENTS))), split=st.integers(1, len(EVENTS) - 1))
def test_a_batch_answers_the_bulk_reads_as_the_graph_would(order: list[int], split: int) -> None:
    """A batch not yet written serves as the store the next batch reads: its bulk reads answer
    as the graph after its events, whatever its own base had fetched before."""
    events = [EVENTS[i] for i in order]
    stored = Stored()
    for event in events[:split]:
        stored.apply(project(event, stored))
    batch = Batch(Reads(stored))
    batch.prefetch(events[split:])
    for event in events[split:]:
        batch.apply(project(event, batch))
    graph = Stored()
    for event in events:
        graph.apply(project(event, graph))
    reference = Reads(graph)
    node_ids = sorted(set(graph.nodes) | set(batch._nodes) | {"absent"})
    (nodes, annotations), (want_nodes, want_annotations) = batch.nodes_and_annotations(node_ids), reference.nodes_and_annotations(node_ids)
    assert nodes == want_nodes and sorted(annotations, key=lambda n: n.id) == sorted(want_annotations, key=lambda n: n.id)
    assert batch.around(node_ids[::2], EDGE_TYPES, EDGE_TYPES[:3]) == reference.around(node_ids[::2], EDGE_TYPES, EDGE_TYPES[:3])
    datasets = sorted({n.props["dataset"] for n in graph.nodes.values() if n.kind == VERSION})
    for at in (s.ts(0), s.ts(5, 30), s.ts(23)):
        wanted = {d: at for d in datasets}
        assert batch.versions_and_reads_many(wanted, 3, wanted) == reference.versions_and_reads_many(wanted, 3, wanted)
    names = sorted({n.props["name"] for n in graph.nodes.values() if isinstance(n.props.get("name"), str)})
    for kind in KINDS:
        assert batch.nodes_with_many(kind, "name", names) == reference.nodes_with_many(kind, "name", names)


@settings(max_examples=15, deadline=None)
@given(order=st.permutations(range(len(EVENTS))), split=st.integers(0, len(EVENTS)), prefetched=st.sampled_from([1, 2, 16]))
def test_a_batch_reads_as_the_graph_would_after_every_event(order: list[int], split: int, prefetched: int) -> None:
    events = [EVENTS[i] for i in order]
    stored = Stored()
    for event in events[:split]:
        stored.apply(project(event, stored))
    reference = sequential(events[:split])
    # Few versions per prefetch: answers cut short must be asked again, not given as whole.
    with patch.object(batch_module, "PREFETCH_VERSIONS", prefetched):
        batch = Batch(Reads(stored))
        batch.prefetch(events[split:])
        for event in events[split:]:
            batch.apply(project(event, batch))
            reference.apply(project(event, reference))
            assert_same_reads(batch, reference)


class Counted(Reads):
    """`Reads` that counts the calls a batch makes: each is a round trip on Neo4j."""

    def __init__(self, graph: Stored) -> None:
        super().__init__(graph)
        self.calls: list[str] = []
        for name in ("nodes_and_annotations", "node", "out_edges", "in_edges", "versions_at", "inferred_reads", "nodes_with"):
            setattr(self, name, self._counted(name, getattr(self, name)))

    def _counted(self, name: str, read: Any) -> Any:
        def call(*args: Any) -> Any:
            self.calls.append(name)
            return read(*args)

        return call

    def around(self, ids: list[str], out_types: Sequence[str] = (), in_types: Sequence[str] = ()) -> Around:
        self.calls.append("around")
        return super().around(ids, out_types, in_types)

    def nodes_with_many(self, kind: str, prop: str, values: list[str]) -> dict[str, list[Node]]:
        self.calls.append("nodes_with_many")
        return super().nodes_with_many(kind, prop, values)


def _reads_to_deploy_after(history: int) -> list[str]:
    """The store reads a batch makes to project one more deployment of an endpoint that has
    `history` deployments already, each of a model promoted to Production."""
    stored = Stored()
    for i in range(history + 1):
        for body in (
            s.event(f"train#{i}", "COMPLETE", s.ts(1, i), outputs=[s.model("churn", f"1.{i}")]),
            s.promote(f"prom#{i}", s.ts(2, i), "churn", "Production", f"1.{i}"),
            *s.deploy(f"dep#{i}", s.ts(3, i), "churn", f"1.{i}", "churn-prod"),
        ):
            if i < history:
                stored.apply(project(parse_event(body), stored))
    final = [parse_event(b) for b in (
        s.promote(f"prom#{history}", s.ts(4), "churn", "Production", "1.0"),
        *s.deploy(f"dep#{history}", s.ts(4), "churn", "1.0", "churn-prod"),
    )]
    reads = Counted(stored)
    batch = Batch(reads)
    batch.prefetch(final)
    for event in final:
        batch.apply(project(event, batch))
    assert batch.mutations()
    return reads.calls


def test_a_deployment_costs_the_same_reads_however_long_the_endpoint_history() -> None:
    """The endpoint's timeline and the alias's history are recomputed on each deploy and
    promotion; their reads are batched, so the round trips do not grow with the history."""
    short, long = _reads_to_deploy_after(2), _reads_to_deploy_after(12)
    assert sorted(short) == sorted(long), (len(short), len(long))


def test_alias_histories_are_read_in_the_prefetch() -> None:
    """Each alias a batch recomputes (moved by an event, by a later event of a run that moved
    it, or looking for a version its model now has) has its node and its POINTS_TO edges read
    in the prefetch's round trips, not one read per alias while projecting."""
    stored = Stored()
    earlier = (
        s.event("train#0", "COMPLETE", s.ts(1), outputs=[s.model("churn", "1.0")]),
        s.promote("prom#0", s.ts(2), "churn", "Production", "1.0"),
        s.promote("prom#1", s.ts(3), "churn", "Staging", "1.1"),  # a version not made yet
        s.event("prom#2", "START", s.ts(4), job="promote-churn", run_facets={"ml_alias": s.facet(model="churn", alias="Canary", version="1.0")}),
    )
    for body in earlier:
        stored.apply(project(parse_event(body), stored))
    final = [parse_event(b) for b in (
        s.event("train#1", "COMPLETE", s.ts(5), outputs=[s.model("churn", "1.1")]),  # Staging finds 1.1
        s.event("prom#2", "COMPLETE", s.ts(6), job="promote-churn"),  # Canary's move now counts
        s.promote("prom#3", s.ts(7), "churn", "Production", "1.1"),
    )]
    reads = Counted(stored)
    batch = Batch(reads)
    batch.prefetch(final)
    asked: list[tuple[Any, ...]] = []
    stored_out_edges = reads.out_edges
    reads.out_edges = lambda src, edge_type: asked.append((src, edge_type)) or stored_out_edges(src, edge_type)  # type: ignore[method-assign]
    for event in final:
        batch.apply(project(event, batch))
    assert [a for a in asked if a[1] == "POINTS_TO"] == []
    # Each route ran: every alias points somewhere, Staging at the version made in this batch.
    staging = batch.out_edges(ids.alias_id("churn", "Staging"), "POINTS_TO")
    assert [e.dst for e in staging] == [model_version("churn", "1.1")]
    assert all(batch.out_edges(ids.alias_id("churn", a), "POINTS_TO") for a in ("Production", "Canary"))


def test_a_seeded_batch_does_not_fetch_those_nodes_again() -> None:
    """A store that read the touched nodes in a round trip of its own (Neo4j, with the head)
    seeds the batch with them: the prefetch then asks the store only for the others."""
    stored = Stored()
    first = parse_event(s.event("train#0", "COMPLETE", s.ts(1), outputs=[s.model("churn", "1.0")]))
    stored.apply(project(first, stored))
    later = parse_event(s.event("train#1", "COMPLETE", s.ts(2), inputs=[s.model("churn", "1.0")]))
    wanted = touched(later)
    seeded = Batch(Counted(stored))
    seeded.seed(wanted, stored.fetch(wanted), stored.annotations_of(wanted))
    seeded.prefetch([later])
    assert "nodes_and_annotations" not in seeded.base.calls  # type: ignore[attr-defined]
    plain = Batch(Counted(stored))
    plain.prefetch([later])
    assert "nodes_and_annotations" in plain.base.calls  # type: ignore[attr-defined]
    seeded.apply(project(later, seeded))
    plain.apply(project(later, plain))
    assert seeded.mutations() == plain.mutations()


def test_a_completed_run_rebinds_the_reads_since_its_start_from_the_prefetch() -> None:
    """A run's COMPLETE moves the version its START wrote from the START's time to its own; the
    inferred reads since the START may bind elsewhere, and the prefetch has already read them."""
    stored = Stored()
    for body in (
        s.event("etl#1", "START", s.ts(1), outputs=[s.dataset("orders")]),
        s.event("report#1", "COMPLETE", s.ts(2), inputs=[s.dataset("orders")]),  # reads what etl#1 writes
    ):
        stored.apply(project(parse_event(body), stored))
    complete = parse_event(s.event("etl#1", "COMPLETE", s.ts(3), outputs=[s.dataset("orders")]))
    reads = Counted(stored)
    batch = Batch(reads)
    batch.prefetch([complete])
    reads.calls.clear()
    batch.apply(project(complete, batch))
    assert "inferred_reads" not in reads.calls
    # The read moved: at 02:00 the version etl#1 completes at 03:00 did not exist yet.
    [read] = [e for e in batch.out_edges(ids.run_id(s.run_uuid("report#1")), "READ")]
    assert batch.node(read.dst).props["placeholder"]  # type: ignore[union-attr]


def test_a_batch_writes_only_what_it_changed() -> None:
    """A deploy recomputes the endpoint's whole timeline; the deployments it leaves as they
    were are not written again, only the new one and the one it ends."""
    stored = Stored()
    for i in range(5):
        for body in s.deploy(f"dep#{i}", s.ts(3, i), "churn", f"1.{i}", "churn-prod"):
            stored.apply(project(parse_event(body), stored))
    endpoint = ids.dataset_id("k8s://serving", "endpoints/churn-prod")
    deployment = {i: ids.version_id(endpoint, s.run_uuid(f"dep#{i}")) for i in range(6)}
    assert stored.nodes[deployment[4]].props["status"] == "live"
    batch = Batch(Reads(stored))
    final = [parse_event(b) for b in s.deploy("dep#5", s.ts(4), "churn", "1.5", "churn-prod")]
    batch.prefetch(final)
    for event in final:
        batch.apply(project(event, batch))
    mutations = batch.mutations()
    written = {m.node.id for m in mutations if isinstance(m, PutNode)}
    assert deployment[5] in written and deployment[4] in written  # the new one, the one it ended
    assert not written & {deployment[i] for i in range(4)}  # already ended: unchanged
    assert all(stored.nodes.get(m.node.id) != m.node for m in mutations if isinstance(m, PutNode))
    assert all(stored.edges.get(m.edge.ident) != m.edge for m in mutations if isinstance(m, PutEdge))
    stored.apply(mutations)
    assert stored.nodes[deployment[4]].props["status"] == "ended" and stored.nodes[deployment[5]].props["status"] == "live"
