"""Property tests: whatever arrives, parsing answers with an event or InvalidEvent, and the
projection of anything accepted never fails."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from lineage.errors import InvalidEvent
from lineage.graph import MemoryGraph
from lineage.ingest.parse import parse_event
from lineage.projection import project
from tests import scenario as s
from tests.conformance.test_projection_rules import ML_STORY

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
SEEDS = [*ML_STORY, s.event("x#1", "COMPLETE", s.ts(1), outputs=[s.dataset("d", facets={"ml_artifact": s.facet(sha256="a" * 64)})])]


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            out += paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            out += paths(child, (*prefix, i))
    return out


def replace(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    value = copy.copy(value)
    value[path[0]] = replace(value[path[0]], path[1:], new)
    return value


@settings(max_examples=300, deadline=None)
@given(seed=st.sampled_from(SEEDS), data=st.data(), new=JSON)
def test_any_value_anywhere_is_accepted_or_refused_cleanly(seed: dict, data: st.DataObject, new: Any) -> None:
    path = data.draw(st.sampled_from(paths(seed)))
    body = replace(seed, path, new)
    try:
        event = parse_event(body)
    except InvalidEvent as exc:
        assert exc.field is not None and str(exc)
        return
    graph = MemoryGraph()
    graph.apply(project(event, graph))  # an accepted event always projects


@settings(max_examples=200, deadline=None)
@given(body=JSON)
def test_arbitrary_json_is_refused_with_invalid_event(body: Any) -> None:
    try:
        parse_event(body)
    except InvalidEvent:
        return
    raise AssertionError("arbitrary JSON was accepted as an event")
