"""Two levels of answer (issue 34) on both stores: the dataset/job level read from the adjacency
kept at ingest, and the version level paged by cursor."""

from __future__ import annotations

import random
from typing import Any

import pytest

from lineage import queries
from lineage.errors import InvalidEvent
from lineage.graph import JOB, RUN, VERSION, Node
from lineage.store.base import Store
from lineage.store.levels import level_of
from tests import incident
from tests.levels import kept
from tests import scenario as s
from tests.conformance.test_projection_rules import ML_STORY, ingest

LEVEL_GROUPS = ("jobs", "datasets", "feature_views", "models", "endpoints")


def listed(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for g in LEVEL_GROUPS for e in answer[g]}


def test_a_dataset_ref_answers_each_dataset_and_job_once_with_counts_as_the_versions_show(store: Store) -> None:
    ingest(store, *incident.EVENTS)
    collapsed = queries.impact(store, "customers")
    exact = queries.impact(store, "customers", level="version", limit=1000)
    assert collapsed["level"] == "dataset" and exact["level"] == "version" and not exact["partial"]
    entries = listed(collapsed)
    # The same datasets and jobs as the version-exact answer, each once.
    graph = store.dump()
    by_id = {n["id"]: Node(n["id"], n["kind"], frozenset(n["labels"]), n["props"]) for n in graph["nodes"]}
    reached = {level_of(by_id[i["id"]]) for g in queries.VERSION_GROUPS for i in exact[g] if i["id"] in by_id}
    reached.discard(None)
    reached.discard(collapsed["node"]["id"])
    assert set(entries) == reached
    assert sum(collapsed["counts"].values()) == len(entries)
    # Each one's versions (or runs) and the newest, as the graph holds them.
    for entry_id, entry in entries.items():
        if by_id[entry_id].kind == JOB:
            runs = [n for n in by_id.values() if n.kind == RUN and n.props.get("job") == entry_id]
            assert entry["runs"] == len(runs) > 0
            assert entry["newest_run"]["id"] == max(runs, key=lambda r: (r.props.get("started_at") or r.props["first_event_time"], r.id)).id
        else:
            versions = [n for n in by_id.values() if n.kind == VERSION and n.props.get("dataset") == entry_id and not n.props.get("placeholder")]
            assert entry["versions"] == len(versions) > 0
            assert entry["newest_version"]["id"] == max(versions, key=lambda v: (v.props["written_at"], v.id)).id
    assert collapsed["node"]["versions"] == 2  # data-v1.7.1 and data-v1.8.2
    # The endpoints reached, with what the version-exact answer says they serve now.
    serving = {e["id"]: (e["currently_serving"], e["current_model_version"]) for e in exact["endpoints"]}
    assert {e["id"]: (e["currently_serving"], e["current_model_version"]) for e in collapsed["endpoints"]} == serving
    assert serving and any(flag for flag, _ in serving.values())
    for ref in ("churn_features", "ml-pipelines:train-churn", "models/churn"):  # a feature view, a job, a model
        exact = queries.impact(store, ref, level="version", limit=1000)
        serving = {e["id"]: (e["currently_serving"], e["current_model_version"]) for e in exact["endpoints"]}
        assert {e["id"]: (e["currently_serving"], e["current_model_version"]) for e in queries.impact(store, ref)["endpoints"]} == serving, ref
    # Unrelated pipelines never show up.
    assert not {e["label"] for e in entries.values()} & {"s3://lake/invoices", "ml-pipelines:billing", "fraud-prod"}


def test_since_and_until_count_only_the_versions_and_runs_in_the_window(store: Store) -> None:
    ingest(store, *incident.EVENTS)
    whole = queries.upstream(store, "churn-prod")
    day2 = queries.upstream(store, "churn-prod", since="2026-03-02T00:00:00Z", until="2026-03-03T00:00:00Z")
    assert day2["since"] == "2026-03-02T00:00:00.000000Z"
    graph = {n["id"]: n for n in store.dump()["nodes"]}
    for entry in listed(day2).values():
        whole_entry = listed(whole)[entry["id"]]
        if "versions" in entry:
            times = [n["props"]["written_at"] for n in graph.values() if n["props"].get("dataset") == entry["id"] and n["props"].get("written_at")]
            assert entry["versions"] == sum("2026-03-02" <= t < "2026-03-03" for t in times) <= whole_entry["versions"]
            newest = entry["newest_version"]
            assert newest is None or newest["written_at"].startswith("2026-03-02")
        else:
            assert entry["runs"] <= whole_entry["runs"]
    assert any(listed(day2)[i].get("versions", 1) < e.get("versions", 1) for i, e in listed(whole).items())
    with pytest.raises(InvalidEvent):
        queries.upstream(store, "churn-prod", since="2026-03-03T00:00:00Z", until="2026-03-02T00:00:00Z")


def test_a_long_history_gives_the_same_entries_with_larger_counts(store: Store) -> None:
    def chain(versions: int, name: str) -> list[dict[str, Any]]:
        out = []
        for i in range(versions):
            out.append(s.event(f"{name}-load#{i}", "COMPLETE", s.ts(1 + i // 60, i % 60), job=f"load-{name}", outputs=[s.dataset(name, f"v{i}")]))
            out.append(
                s.event(f"{name}-train#{i}", "COMPLETE", s.ts(1 + i // 60, i % 60, day=2), job=f"train-{name}",
                        inputs=[s.dataset(name, f"v{i}")], outputs=[s.model(name, f"1.{i}")])
            )
        return out

    ingest(store, *chain(40, "long"), *chain(2, "short"))
    long, short = queries.impact(store, "s3://lake/long"), queries.impact(store, "s3://lake/short")
    assert [len(long[g]) for g in LEVEL_GROUPS] == [len(short[g]) for g in LEVEL_GROUPS] == [1, 0, 0, 1, 0]
    assert (long["node"]["versions"], long["jobs"][0]["runs"], long["models"][0]["versions"]) == (40, 40, 40)
    assert (short["node"]["versions"], short["jobs"][0]["runs"], short["models"][0]["versions"]) == (2, 2, 2)
    assert long["models"][0]["newest_version"]["version"] == "1.39"


def test_the_version_level_comes_in_pages_that_together_are_the_whole_answer(store: Store) -> None:
    ingest(store, *incident.EVENTS)
    for ask in (queries.impact, queries.upstream):
        ref = "customers" if ask is queries.impact else "churn-prod"
        whole = ask(store, ref, level="version", limit=1000)
        assert not whole["partial"] and whole["next_cursor"] is None
        pages, cursor = [], None
        while True:
            page = ask(store, ref, level="version", limit=4, cursor=cursor)
            assert page["page"]["returned"] <= 4 and page["counts"] == whole["counts"]
            pages.append(page)
            if not page["partial"]:
                break
            cursor = page["next_cursor"]
        assert len(pages) > 2
        for group in queries.VERSION_GROUPS:
            got = [i["id"] for p in pages for i in p[group]]
            assert got == [i["id"] for i in whole[group]], group  # same order, nothing repeated or lost
    with pytest.raises(InvalidEvent):
        queries.impact(store, "customers", level="version", cursor="not-a-cursor!")
    with pytest.raises(InvalidEvent):
        queries.impact(store, "customers@data-v1.8.2", level="dataset")
    with pytest.raises(InvalidEvent):
        queries.impact(store, "customers", cursor="x")  # the dataset level comes whole


def test_a_version_ref_stays_version_exact_and_whole(store: Store) -> None:
    ingest(store, *incident.EVENTS)
    answer = queries.impact(store, "customers@data-v1.8.2")
    assert answer["level"] == "version" and answer["partial"] is False
    assert {d["version"] for d in answer["model_versions"]} == {"2.3.1"}


def test_the_graph_at_dataset_level_and_the_version_level_in_pages(store: Store) -> None:
    ingest(store, *incident.EVENTS)
    drawn = queries.graph(store, "customers_clean", "both", 10)
    assert drawn["level"] == "dataset" and drawn["root"] in {n["id"] for n in drawn["nodes"]}
    ids = {n["id"] for n in drawn["nodes"]}
    assert all(e["src"] in ids and e["dst"] in ids and e["type"] == "FLOWS" and e["props"]["support"] > 0 for e in drawn["edges"])
    kinds = {n["kind"] for n in drawn["nodes"]}
    assert kinds == {"Dataset", "Job"}  # no version or run: each dataset and job once
    labels = [n["label"] for n in drawn["nodes"]]
    assert len(labels) == len(set(labels))
    whole = queries.graph(store, "customers_clean", "both", 10, level="version", limit=1000)
    nodes, edges, cursor = [], [], None
    while True:
        page = queries.graph(store, "customers_clean", "both", 10, level="version", limit=5, cursor=cursor)
        nodes += page["nodes"]
        edges += page["edges"]
        if not page["partial"]:
            break
        cursor = page["next_cursor"]
    assert nodes == whole["nodes"] and sorted(edges, key=str) == sorted(whole["edges"], key=str)


def test_the_adjacency_is_the_same_in_any_arrival_order_and_after_a_rebuild(store: Store) -> None:
    ingest(store, *ML_STORY)
    expected = kept(store)
    assert expected["pairs"] and expected["members"]
    for seed in range(2):
        store.reset()
        shuffled = ML_STORY + ML_STORY[:5]
        random.Random(seed).shuffle(shuffled)
        for at in range(0, len(shuffled), 3):
            ingest(store, *shuffled[at : at + 3])
        assert kept(store) == expected, f"order seed {seed}"
    assert store.rebuild() == len(ML_STORY)
    assert kept(store) == expected


def test_endpoints_in_one_answer_each_say_whether_what_they_serve_now_comes_from_the_ref(store: Store) -> None:
    # One training job reads `orders` for 1.0.0 and `other` for 2.0.0: at dataset level every
    # endpoint is downstream of `orders`, but only those serving 1.0.0 now serve its data.
    events = [
        s.event("train#1", "COMPLETE", s.ts(1), job="train", inputs=[s.dataset("orders", "v1")], outputs=[s.model("churn", "1.0.0")]),
        s.event("train#2", "COMPLETE", s.ts(2), job="train", inputs=[s.dataset("other", "v1")], outputs=[s.model("churn", "2.0.0")]),
        *s.deploy("deploy-alpha#1", s.ts(3), "churn", "1.0.0", "alpha"),
        *s.deploy("deploy-beta#1", s.ts(3), "churn", "1.0.0", "beta"),
        *s.deploy("deploy-beta#2", s.ts(4), "churn", "2.0.0", "beta"),
        *s.deploy("deploy-gamma#1", s.ts(3), "churn", "1.0.0", "gamma"),
    ]
    # gamma's newest deployments are more canaries of 2.0.0 than the first look reads, all
    # after its full rollout of 1.0.0: only the second, longer look finds what serves most.
    for i in range(queries_first_look() + 2):
        events += s.deploy(f"deploy-gamma#c{i}", s.ts(5, i), "churn", "2.0.0", "gamma", traffic=5)
    ingest(store, *events)
    collapsed = {e["label"]: e for e in queries.impact(store, "orders")["endpoints"]}
    exact = {e["name"]: e for e in queries.impact(store, "orders", level="version", limit=1000)["endpoints"]}
    assert set(collapsed) == set(exact) == {"alpha", "beta", "gamma"}
    for label, entry in collapsed.items():
        assert (entry["currently_serving"], entry["current_model_version"]) == (
            exact[label]["currently_serving"], exact[label]["current_model_version"]
        ), label
    assert collapsed["alpha"]["currently_serving"] and not collapsed["beta"]["currently_serving"]
    full = [d for d in collapsed["gamma"]["live_deployments"] if not d["canary"]]
    assert len(full) == 1 and full[0]["downstream_of_ref"] and collapsed["gamma"]["currently_serving"]
    assert all(not d["downstream_of_ref"] for d in collapsed["gamma"]["live_deployments"] if d["canary"])


def queries_first_look() -> int:
    from lineage.levels import NEWEST_DEPLOYMENTS

    return NEWEST_DEPLOYMENTS[0]
