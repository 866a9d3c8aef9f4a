"""An endpoint's deployment timeline, redone from the earliest deployment a change moves.

Whatever order deploy events arrive in, and however they fall into batches, every deployment
ends up with the place a fold over the whole history gives it; and one more deployment costs
the same store reads however long the endpoint's history already is.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from lineage import ids
from lineage.events import Event
from lineage.graph import DEPLOYMENT, SERVES, VERSION_OF, WROTE, MemoryGraph, Node
from lineage.ingest.parse import parse_event
from lineage.projection import FAILED_STATES, project
from lineage.store.batch import Batch
from tests import scenario as s
from tests.lineage.test_batch import Counted, Stored, in_batches
from tests.lineage.test_projection_pure import build, canonical

ENDPOINTS = ("churn-prod", "churn-eu")
MODELS = ("1.0", "1.1", "1.2")

# One deploy run: endpoint, model, traffic (None: full), outcome, start minute, duration.
deploy_run = st.tuples(
    st.sampled_from(ENDPOINTS),
    st.sampled_from(MODELS),
    st.sampled_from([None, 10.0, 100.0]),
    st.sampled_from(["COMPLETE", "FAIL", "START only"]),
    st.integers(0, 20),
    st.integers(0, 3),  # 0: START and COMPLETE at the same minute (ties broken by id)
)


def deploy_events(runs: list[tuple[Any, ...]]) -> list[Event]:
    bodies = []
    for i in range(len(MODELS)):
        bodies.append(s.event(f"train#{i}", "COMPLETE", s.ts(1, i), outputs=[s.model("churn", MODELS[i])]))
    for i, (endpoint, model, traffic, outcome, start, duration) in enumerate(runs):
        io = {"inputs": [s.model("churn", model)], "outputs": [s.endpoint(endpoint, traffic)], "job": f"deploy-{endpoint}"}
        bodies.append(s.event(f"dep#{i}", "START", s.ts(2, start), **io))
        if outcome != "START only":
            bodies.append(s.event(f"dep#{i}", outcome, s.ts(2, start + duration), **io))
    return [parse_event(b) for b in bodies]


def expected_places(graph: MemoryGraph, endpoint_name: str) -> dict[str, dict[str, Any]]:
    """Each deployment's place, from a fold over the endpoint's whole history in the final graph."""
    endpoint = ids.dataset_id("k8s://serving", f"endpoints/{endpoint_name}")
    deployments = [graph.nodes[e.src] for e in graph.in_edges(endpoint, VERSION_OF) if DEPLOYMENT in graph.nodes[e.src].labels]

    def failed(node: Node) -> bool:
        writers = [graph.nodes[e.src] for e in graph.in_edges(node.id, WROTE)]
        return bool(writers) and all(w.props["state"] in FAILED_STATES for w in writers)

    out: dict[str, dict[str, Any]] = {}
    live: list[Node] = []
    served: set[str] = set()
    for node in sorted((d for d in deployments if not failed(d) and d.props.get("written_at")), key=lambda d: (d.props["written_at"], d.id)):
        traffic = node.props["facets"]["ml_endpoint"].get("trafficPercent")
        canary = traffic is not None and traffic < 100
        for prior in [p for p in live if canary <= out[p.id]["canary"]]:  # a canary ends canaries only
            out[prior.id]["until"] = node.props["written_at"]
            live.remove(prior)
        models = {e.dst for e in graph.out_edges(node.id, SERVES)}
        out[node.id] = {"since": node.props["written_at"], "until": None, "canary": canary, "rollback": bool(models) and models <= served}
        live.append(node)
        served |= models
    for node in deployments:
        place = out.get(node.id)
        if place is None:
            out[node.id] = {"status": "failed" if failed(node) else "pending", "since": None, "until": None}
        else:
            place["status"] = "live" if place["until"] is None else "ended"
    return out


def places(graph: MemoryGraph, endpoint_name: str) -> dict[str, dict[str, Any]]:
    want = expected_places(graph, endpoint_name)
    return {d: {k: graph.nodes[d].props.get(k) for k in want[d]} for d in want}


@settings(max_examples=60, deadline=None)
@given(
    runs=st.lists(deploy_run, min_size=1, max_size=9),
    data=st.data(),
)
def test_every_deployment_gets_the_place_a_fold_over_the_whole_history_gives_it(runs: list[tuple[Any, ...]], data: st.DataObject) -> None:
    events = deploy_events(runs)
    in_time_order = build(sorted(events, key=lambda e: (e.event_time, e.id)))
    order = data.draw(st.permutations(range(len(events))))
    cuts = data.draw(st.lists(st.integers(1, max(1, len(events) - 1)), max_size=3))
    shuffled = [events[i] for i in order]
    for graph in (in_time_order, build(shuffled), in_batches(shuffled, cuts)):
        for endpoint in ENDPOINTS:
            assert places(graph, endpoint) == expected_places(graph, endpoint)
    assert canonical(build(shuffled)) == canonical(in_time_order)
    assert canonical(in_batches(shuffled, cuts)) == canonical(in_time_order)


def test_a_late_deployment_in_the_middle_of_the_history_moves_the_ones_after_it() -> None:
    names = [f"1.{i}" for i in range(6)]
    bodies = [s.event(f"train#{v}", "COMPLETE", s.ts(1), outputs=[s.model("churn", v)]) for v in names]
    for i, v in enumerate(names):
        if i != 3:
            bodies += s.deploy(f"dep#{i}", s.ts(2 + i), "churn", v, "churn-prod")
    graph = build([parse_event(b) for b in bodies])
    endpoint = ids.dataset_id("k8s://serving", "endpoints/churn-prod")
    dep = {i: ids.version_id(endpoint, s.run_uuid(f"dep#{i}")) for i in range(6)}
    assert graph.nodes[dep[2]].props["until"] == graph.nodes[dep[4]].props["since"]
    for body in s.deploy("dep#3", s.ts(5), "churn", "1.3", "churn-prod"):  # arrives last, deployed between 2 and 4
        graph.apply(project(parse_event(body), graph))
    assert graph.nodes[dep[2]].props["until"] == s.ts(5).replace(".000Z", ".000000Z")
    assert graph.nodes[dep[3]].props["until"] == graph.nodes[dep[4]].props["since"]
    assert [graph.nodes[dep[i]].props["status"] for i in range(6)] == ["ended"] * 5 + ["live"]
    assert places(graph, "churn-prod") == expected_places(graph, "churn-prod")


def _nodes_read_to_deploy_after(history: int) -> tuple[int, list[str]]:
    """Node records and read calls a batch takes from the store to project one more deployment
    onto an endpoint that has `history` deployments already."""
    stored = Stored()
    for i in range(history + 1):
        for body in (
            s.event(f"train#{i}", "COMPLETE", s.ts(1, i), outputs=[s.model("churn", f"1.{i}")]),
            *s.deploy(f"dep#{i}", s.ts(3, i), "churn", f"1.{i}", "churn-prod"),
        ):
            if i < history:
                stored.apply(project(parse_event(body), stored))
    final = [parse_event(b) for b in s.deploy(f"dep#{history}", s.ts(4), "churn", f"1.{history - 1}", "churn-prod")]
    reads = Counted(stored)
    records = 0
    around = reads.around

    def counted_around(*args: Any) -> Any:
        nonlocal records
        found = around(*args)
        records += len(found.nodes) + len(found.edges)
        return found

    reads.around = counted_around  # type: ignore[method-assign]
    batch = Batch(reads)
    batch.prefetch(final)
    for event in final:
        batch.apply(project(event, batch))
    assert batch.mutations()
    return records, reads.calls


def test_one_more_deployment_reads_the_same_however_long_the_history() -> None:
    short_records, short_calls = _nodes_read_to_deploy_after(10)
    long_records, long_calls = _nodes_read_to_deploy_after(40)
    assert sorted(short_calls) == sorted(long_calls)
    assert long_records == short_records


def test_a_history_written_before_deployments_kept_their_fold_state_is_redone_whole() -> None:
    bodies = [s.event(f"train#{v}", "COMPLETE", s.ts(1), outputs=[s.model("churn", v)]) for v in ("1.0", "1.1")]
    bodies += [*s.deploy("dep#0", s.ts(2), "churn", "1.0", "churn-prod"), *s.deploy("dep#1", s.ts(3), "churn", "1.1", "churn-prod")]
    graph = build([parse_event(b) for b in bodies])
    for node in list(graph.nodes.values()):
        if DEPLOYMENT in node.labels:
            graph.nodes[node.id] = Node(node.id, node.kind, node.labels, {k: v for k, v in node.props.items() if k != "_after"})
    for body in s.deploy("dep#2", s.ts(4), "churn", "1.0", "churn-prod", traffic=10.0):
        graph.apply(project(parse_event(body), graph))
    assert places(graph, "churn-prod") == expected_places(graph, "churn-prod")
    endpoint = ids.dataset_id("k8s://serving", "endpoints/churn-prod")
    assert all("_after" in graph.nodes[e.src].props for e in graph.in_edges(endpoint, VERSION_OF))
