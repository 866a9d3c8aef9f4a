"""Property (issue 29): a corpus event with one facet broken (a type changed, a required field
dropped, a version that disagrees) is stored, flagged, and the graph of its other parts is the
graph the event makes unbroken, on both stores."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lineage import ids
from lineage.events import Event
from lineage.graph import READ, RUN_OF, WROTE
from lineage.ingest.parse import parse_event
from lineage.store.base import Store
from tests import corpus

NOW = "2026-03-02T00:00:00.000000Z"
# Run events of real producers whose datasets carry facets to break.
SEEDS = [
    item.body for item in corpus.load()
    if item.path not in corpus.REFUSED and item.path not in corpus.FLAGGED and "run" in item.body
    and any(d.get("facets") for d in [*item.body.get("inputs", []), *item.body.get("outputs", [])])
]


def facet_slots(body: dict) -> list[tuple[str, int, str]]:
    """(inputs|outputs, index, facet key) of every dataset facet of the event."""
    return [
        (side, i, key)
        for side in ("inputs", "outputs")
        for i, d in enumerate(body.get(side) or [])
        for key, value in (d.get("facets") or {}).items()
        if isinstance(value, dict)
    ]


def break_facet(body: dict, slot: tuple[str, int, str], how: str, pick: int) -> dict:
    side, i, key = slot
    out = copy.deepcopy(body)
    facet = out[side][i]["facets"][key]
    fields = sorted(k for k in facet if not k.startswith("_")) or ["_producer"]
    field = fields[pick % len(fields)]
    if how == "type":
        facet[field] = [facet.get(field)] if not isinstance(facet.get(field), list) else 7
    elif how == "drop":
        facet.pop(field, None)
        facet["_schemaURL"] = 12  # a required-looking field of every facet, with the wrong type
    else:  # versions that disagree
        out[side][i]["facets"]["version"] = {"datasetVersion": "v-from-version-facet"}
        out[side][i]["facets"]["ml_modelVersion"] = {"name": out[side][i]["name"], "version": "other"}
    return out


def shape(store: Store, event: Event) -> dict[str, Any]:
    """The graph of the event's own parts: its job, its run, the datasets it read and wrote."""
    assert event.run_uuid and event.job_namespace and event.job_name
    run = ids.run_id(event.run_uuid)
    job = ids.job_id(event.job_namespace, event.job_name)
    dataset_of = {}
    for edge_type in (READ, WROTE):
        for edge in store.out_edges(run, edge_type):
            version = store.node(edge.dst)
            assert version is not None
            dataset_of.setdefault(edge_type, set()).add(version.props["dataset"])
    return {
        "job": store.node(job) is not None,
        "run_of": [e.dst for e in store.out_edges(run, RUN_OF)],
        "read": sorted(dataset_of.get(READ, set())),
        "wrote": sorted(dataset_of.get(WROTE, set())),
    }


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_an_event_with_a_broken_facet_is_stored_flagged_and_its_other_parts_unchanged(store: Store, data: st.DataObject) -> None:
    body = data.draw(st.sampled_from(SEEDS), label="event")
    slot = data.draw(st.sampled_from(facet_slots(body)), label="facet")
    how = data.draw(st.sampled_from(["type", "drop", "versions"]), label="how")
    broken = break_facet(body, slot, how, data.draw(st.integers(0, 20), label="field"))

    store.reset()
    whole = parse_event(body)
    store.ingest([whole], NOW)
    expected = shape(store, whole)

    store.reset()
    flawed = parse_event(broken)  # never refused: a facet does not identify an event
    (outcome,) = store.ingest([flawed], NOW)
    assert outcome.created and store.event_count() == 1
    assert shape(store, flawed) == expected
    (logged,) = store.events_about([ids.run_id(flawed.run_uuid or "")], 10)[ids.run_id(flawed.run_uuid or "")]
    assert list(logged.warnings) == [w.to_dict() for w in flawed.warnings]
    run = store.node(ids.run_id(flawed.run_uuid or ""))
    assert run is not None
    flagged = {(p["field"], p["problem"]) for p in run.props.get("problems") or []}
    assert flagged == {(w.field, w.problem) for w in flawed.warnings}
    if how == "versions":
        assert ("version_conflict" in {w.problem for w in flawed.warnings})
