"""The projection as a pure function: order and duplicates never change the graph."""

from __future__ import annotations

import copy


import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from lineage.graph import VERSION, MemoryGraph, PutNode
from lineage.ingest.parse import parse_event
from lineage.projection import project, subjects
from tests import scenario as s
from tests.column_story import COLUMN_STORY
from tests.conformance.test_projection_rules import ML_STORY
from tests.conformance.test_static_lineage import job_event, symlink_story

POOL = [parse_event(b) for b in ML_STORY] + [
    parse_event(b)
    for b in (
        s.event("read#1", "START", s.ts(7, 10), inputs=[s.dataset("customers")]),
        s.event("read#1", "FAIL", s.ts(7, 50), inputs=[s.dataset("customers")], run_facets={"errorMessage": s.facet(message="boom", programmingLanguage="python")}),
        s.event("snap#3", "START", s.ts(7, 45), outputs=[s.dataset("customers", "data-v1.9.0")]),
        s.event("snap#3", "COMPLETE", s.ts(12), outputs=[s.dataset("customers", "data-v1.9.0")]),
        s.event("late#1", "COMPLETE", s.ts(12, 30), inputs=[s.dataset("customers")]),
        # A writer that STARTs, is read from meanwhile, then FAILs: its output never counts.
        s.event("snap#4", "START", s.ts(7, 20), outputs=[s.dataset("customers")]),
        s.event("mid#1", "COMPLETE", s.ts(7, 30), inputs=[s.dataset("customers")]),
        s.event("snap#4", "FAIL", s.ts(7, 40)),  # a FAIL need not repeat the outputs
        # An alias move held by a pending approval, approved by a later event of its run.
        s.promote("prom#8", s.ts(13), "churn", "Production", "2.3.1", decision="pending"),
        s.event(
            "prom#8", "OTHER", s.ts(14), job="promote-churn",
            run_facets={"ml_approval": s.facet(reviewer="bob", decision="approved", checks={})},
        ),
        s.promote("prom#9", s.ts(15), "churn", "Staging", "2.3.1", decision="rejected"),
        # Issue 30: two runs of one job in one second (their labels), static lineage that a
        # later run supersedes, and a dataset read by another name (symlinks).
        s.event("same#1", "START", s.ts(13), job="same", namespace="dbt"),
        s.event("same#2", "START", s.ts(13), job="same", namespace="dbt"),
        s.event("same#2", "COMPLETE", s.ts(13, 1), job="same", namespace="dbt"),
        job_event("2026-03-01T13:30:00Z", "same", ["customers"], ["ledger"]),
        s.event("same#3", "RUNNING", s.ts(14), job="same", namespace="dbt"),
        *symlink_story(),
        *COLUMN_STORY,  # issue 36: fields and FEEDS edges, whose input versions move with reads
    )
]


def build(events: list[Event]) -> MemoryGraph:
    graph, seen = MemoryGraph(), set()
    for event in events:
        if event.id not in seen:  # the store's log drops duplicates before projecting
            seen.add(event.id)
            graph.apply(project(event, graph))
    return graph


def canonical(graph: MemoryGraph) -> bytes:
    """The graph as the stores keep it: JSON with sorted keys."""
    nodes = sorted((n.to_dict() for n in graph.nodes.values()), key=lambda n: n["id"])
    edges = sorted((e.to_dict() for e in graph.edges.values()), key=lambda e: (e["src"], e["type"], e["dst"], e["key"]))
    return orjson.dumps([nodes, edges], option=orjson.OPT_SORT_KEYS)


EXPECTED = canonical(build(POOL))


@settings(max_examples=60, deadline=None)
@given(order=st.permutations(range(len(POOL))), repeats=st.lists(st.integers(0, len(POOL) - 1), max_size=8))
def test_any_permutation_with_duplicates_gives_the_same_graph(order: list[int], repeats: list[int]) -> None:
    events = [POOL[i] for i in order]
    for i in repeats:
        events.insert(i % (len(events) + 1), POOL[i])
    assert canonical(build(events)) == EXPECTED


def test_projection_does_not_touch_the_view_it_reads() -> None:
    graph = build(POOL[:6])
    before = copy.deepcopy(canonical(graph))
    mutations = project(POOL[6], graph)
    assert canonical(graph) == before  # pure: changes come back as mutations only
    assert any(isinstance(m, PutNode) for m in mutations)


def test_same_event_and_state_give_the_same_mutations() -> None:
    graph = build(POOL[:6])
    assert project(POOL[6], graph) == project(POOL[6], graph)


def test_the_versions_an_event_writes_are_among_its_subjects() -> None:
    # One label rule (`projection.output_label`): the log indexes an event under the version
    # ids the projection writes, declared or derived from the run, never under another id.
    seen = 0
    for event in POOL:
        graph = MemoryGraph()
        written = {
            m.node.id
            for m in project(event, graph)
            if isinstance(m, PutNode) and m.node.kind == VERSION and m.node.props.get("version") is not None
            and m.node.props.get("_written_by")
        }
        assert written <= set(subjects(event)), event.id
        seen += len(written)
    assert seen >= 10  # declared and derived outputs, and dataset events, were all looked at


def test_the_pool_holds_what_issue_30_needs_order_independence_for() -> None:
    graph = build(POOL)
    labels = sorted(str(n.props.get("run_label")) for n in graph.nodes.values() if n.props.get("job_name") == "same")
    assert len(labels) == 3 and sum(" ~" in label for label in labels) == 2  # two share a second
    job = next(n for n in graph.nodes.values() if n.kind == "Job" and n.props.get("name") == "same")
    assert job.props["declared_superseded"] is True  # same#3 ran after the declaration
    assert any(e.type == "SYMLINK" for e in graph.edges.values())
