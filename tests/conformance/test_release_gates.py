"""Release gates on both stores: alias moves held by a pending or rejected approval, and the
outputs of failed runs, which stay visible but are never bound to as written versions."""

from __future__ import annotations

from typing import Any

import pytest

from lineage import ids
from lineage.graph import POINTS_TO, READ, WROTE
from lineage.releases import model_versions
from lineage.store.base import Store
from tests import scenario as s
from tests.conformance.test_projection_rules import ingest, model_version, node, targets, ver

PRODUCTION = ids.alias_id("churn", "Production")
MODELS = [
    s.event("train#1", "COMPLETE", s.ts(7), outputs=[s.model("churn", "2.2.0")]),
    s.event("train#2", "COMPLETE", s.ts(8), outputs=[s.model("churn", "2.3.1")]),
]


def approval(run: str, time: str, decision: str) -> dict[str, Any]:
    """A later event of a promotion run that only carries its reviewer's decision."""
    return s.event(
        run, "OTHER", time, job="promote-churn",
        run_facets={"ml_approval": s.facet(reviewer="bob", decision=decision, checks={"auc": True})},
    )


def iso(hour: int) -> str:
    return f"2026-03-01T{hour:02d}:00:00.000000Z"


# --- alias moves and their approval --------------------------------------------------------------
@pytest.mark.parametrize("decision", ["pending", "rejected"])
def test_a_move_whose_approval_is_not_given_is_held_and_moves_nothing(store: Store, decision: str) -> None:
    ingest(
        store,
        *MODELS,
        s.promote("prom#1", s.ts(9), "churn", "Production", "2.2.0"),
        s.promote("prom#2", s.ts(10), "churn", "Production", "2.3.1", decision=decision),
    )
    props = node(store, PRODUCTION).props
    assert props["current_version"] == "2.2.0"
    assert [(h["version"], h["since"], h["until"]) for h in props["history"]] == [("2.2.0", iso(9), None)]
    assert props["held_moves"] == [{"version": "2.3.1", "at": iso(10), "run": s.run_uuid("prom#2"), "reason": decision}]
    assert targets(store, PRODUCTION, POINTS_TO) == [model_version("churn", "2.2.0")]
    # The model's answer says which way the alias points and which move waits.
    answer = model_versions(store, "churn")
    (alias,) = [a for a in answer["aliases"] if a["alias"] == "Production"]
    assert alias["current_version"] == "2.2.0"
    assert [(m["version"], m["reason"]) for m in alias["held_moves"]] == [("2.3.1", decision)]
    by_version = {r["version"]: r["aliases"] for r in answer["versions"]}
    assert by_version == {"2.2.0": ["Production"], "2.3.1": []}


@pytest.mark.parametrize("order", ["in order", "approval first"])
def test_a_pending_move_takes_effect_when_approved_from_the_approval_time(store: Store, order: str) -> None:
    moves = [
        s.promote("prom#1", s.ts(9), "churn", "Production", "2.2.0"),
        s.promote("prom#2", s.ts(10), "churn", "Production", "2.3.1", decision="pending"),
        approval("prom#2", s.ts(12), "approved"),
    ]
    ingest(store, *MODELS, *(moves if order == "in order" else reversed(moves)))
    props = node(store, PRODUCTION).props
    assert props["current_version"] == "2.3.1"
    assert props["held_moves"] == []
    assert [(h["version"], h["since"], h["until"]) for h in props["history"]] == [
        ("2.2.0", iso(9), iso(12)),  # still 2.2.0 while the request waited for its reviewer
        ("2.3.1", iso(12), None),
    ]


def test_an_approval_withdrawn_later_holds_the_move_again(store: Store) -> None:
    ingest(
        store,
        *MODELS,
        s.promote("prom#1", s.ts(9), "churn", "Production", "2.2.0"),
        s.promote("prom#2", s.ts(10), "churn", "Production", "2.3.1"),
    )
    assert node(store, PRODUCTION).props["current_version"] == "2.3.1"
    ingest(store, approval("prom#2", s.ts(11), "rejected"))  # the newest decision wins whole
    props = node(store, PRODUCTION).props
    assert props["current_version"] == "2.2.0"
    assert [m["reason"] for m in props["held_moves"]] == ["rejected"]


def test_a_move_without_any_approval_facet_is_made(store: Store) -> None:
    ingest(
        store,
        *MODELS,
        s.event("prom#1", "COMPLETE", s.ts(9), run_facets={"ml_alias": s.facet(model="churn", alias="Production", version="2.3.1")}),
    )
    props = node(store, PRODUCTION).props
    assert (props["current_version"], props["held_moves"]) == ("2.3.1", [])


# --- outputs of failed runs ------------------------------------------------------------------------
def test_a_failed_runs_output_is_not_bound_to_by_later_inferred_reads(store: Store) -> None:
    ingest(
        store,
        s.event("load#1", "COMPLETE", s.ts(8), outputs=[s.dataset("t", "v1")]),
        s.event("load#2", "START", s.ts(9), outputs=[s.dataset("t", "v2")]),
        s.event("read#1", "COMPLETE", s.ts(10), inputs=[s.dataset("t")]),
    )
    reader = ids.run_id(s.run_uuid("read#1"))
    # While load#2 runs its START counts: the read binds to v2 (as before).
    assert targets(store, reader, READ) == [ver("t", "v2")]
    ingest(store, s.event("load#2", "FAIL", s.ts(11), outputs=[s.dataset("t", "v2")]))
    assert targets(store, reader, READ) == [ver("t", "v1")]
    failed = node(store, ver("t", "v2")).props
    assert failed["written_at"] is None and failed["write_failed"] is True
    # The failed output stays in the graph, written by its failed run.
    assert targets(store, ids.run_id(s.run_uuid("load#2")), WROTE) == [ver("t", "v2")]
    assert node(store, ver("t", "v1")).props["write_failed"] is False


@pytest.mark.parametrize("order", ["fail last", "fail first", "read first"])
def test_the_binding_does_not_depend_on_arrival_order(store: Store, order: str) -> None:
    start = s.event("load#2", "START", s.ts(9), outputs=[s.dataset("t")])
    fail = s.event("load#2", "ABORT", s.ts(11), outputs=[s.dataset("t")])
    read = s.event("read#1", "COMPLETE", s.ts(10), inputs=[s.dataset("t")])
    first = s.event("load#1", "COMPLETE", s.ts(8), outputs=[s.dataset("t")])
    events = {
        "fail last": [first, start, read, fail],
        "fail first": [fail, read, first, start],
        "read first": [read, start, fail, first],
    }[order]
    ingest(store, *events)
    derived_v1, derived_v2 = ver("t", s.run_uuid("load#1")), ver("t", s.run_uuid("load#2"))
    assert targets(store, ids.run_id(s.run_uuid("read#1")), READ) == [derived_v1]
    assert node(store, derived_v2).props["write_failed"] is True


def test_a_run_that_completes_after_a_fail_counts_again(store: Store) -> None:
    # Terminal states tie on rank; the later event wins, here the COMPLETE.
    ingest(
        store,
        s.event("load#1", "START", s.ts(8), outputs=[s.dataset("t", "v1")]),
        s.event("load#1", "FAIL", s.ts(9), outputs=[s.dataset("t", "v1")]),
        s.event("read#1", "COMPLETE", s.ts(12), inputs=[s.dataset("t")]),
    )
    reader = ids.run_id(s.run_uuid("read#1"))
    assert node(store, targets(store, reader, READ)[0]).props["placeholder"] is True
    ingest(store, s.event("load#1", "COMPLETE", s.ts(10), outputs=[s.dataset("t", "v1")]))
    assert targets(store, reader, READ) == [ver("t", "v1")]
    props = node(store, ver("t", "v1")).props
    assert (props["written_at"], props["write_failed"]) == (iso(10), False)


def test_a_version_a_dataset_event_declares_counts_even_if_a_run_writing_it_failed(store: Store) -> None:
    ingest(
        store,
        s.event("load#1", "START", s.ts(8), outputs=[s.dataset("t", "v1")]),
        s.event("load#1", "FAIL", s.ts(9), outputs=[s.dataset("t", "v1")]),
        {"eventTime": s.ts(10), "producer": s.PRODUCER, "schemaURL": s.SCHEMA, "dataset": s.dataset("t", "v1")},
        s.event("read#1", "COMPLETE", s.ts(12), inputs=[s.dataset("t")]),
    )
    assert targets(store, ids.run_id(s.run_uuid("read#1")), READ) == [ver("t", "v1")]
    props = node(store, ver("t", "v1")).props
    assert (props["written_at"], props["write_failed"]) == (iso(10), False)
