"""Parsing: what is accepted, what is refused, and that every refusal names the field."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lineage.errors import InvalidEvent
from lineage.events import declared_version
from lineage.facets import check_facet
from lineage.ingest.parse import _depth, parse_event
from tests import corpus, scenario

CORPUS = corpus.load()


@pytest.mark.parametrize("item", CORPUS, ids=lambda c: c.label)
def test_corpus_event_is_refused_only_without_identity_and_flagged_naming_the_field(item: corpus.CorpusEvent) -> None:
    if item.path in corpus.REFUSED:
        with pytest.raises(InvalidEvent) as info:
            parse_event(item.body)
        assert info.value.field == corpus.REFUSED[item.path]
        return
    event = parse_event(item.body)
    assert len(event.id) == 64
    fields = [w.field for w in event.warnings]
    if item.path in corpus.FLAGGED:
        assert corpus.FLAGGED[item.path] in fields
    else:
        assert not [w for w in event.warnings if w.problem in ("facet_schema", "version_conflict", "dataset_dropped")], fields


@pytest.mark.parametrize("sample", corpus.facet_samples(), ids=lambda s: f"{s[0]}:{s[1]}")
def test_every_spec_facet_sample_passes_our_facet_checks(sample: tuple[str, str, dict]) -> None:
    assert check_facet(sample[1], sample[2], "facets") is None


def base() -> dict:
    return scenario.event("etl#1", "COMPLETE", scenario.ts(10), inputs=[scenario.dataset("raw")], outputs=[scenario.dataset("clean")])


def test_identity_is_hash_of_canonical_json_regardless_of_key_order_and_spacing() -> None:
    body = base()
    reordered = dict(reversed(list(body.items())))
    assert parse_event(body).id == parse_event(reordered).id
    changed = copy.deepcopy(body)
    changed["eventTime"] = scenario.ts(11)
    assert parse_event(changed).id != parse_event(body).id


@pytest.mark.parametrize(
    ("time", "expected"),
    [
        ("2026-03-01T10:00:00", "2026-03-01T10:00:00.000000Z"),  # no zone: UTC
        ("2026-03-01T12:00:00+02:00", "2026-03-01T10:00:00.000000Z"),
        ("2026-03-01T10:00:00.123456789Z", "2026-03-01T10:00:00.123456Z"),  # nanoseconds truncated
    ],
    ids=["no-zone-is-utc", "offset-normalised", "nanoseconds"],
)
def test_event_time_is_normalised_to_utc(time: str, expected: str) -> None:
    body = base()
    body["eventTime"] = time
    assert parse_event(body).event_time == expected


def test_lenient_where_unambiguous() -> None:
    body = base()
    del body["schemaURL"]
    del body["eventType"]
    event = parse_event(body)
    assert event.event_type == "OTHER" and event.schema_url == ""
    body["eventType"] = "complete"
    assert parse_event(body).event_type == "COMPLETE"


def test_kinds_are_told_apart_by_keys() -> None:
    dataset_event = {"eventTime": scenario.ts(1), "producer": "p", "dataset": {"namespace": "n", "name": "d"}}
    job_event = {"eventTime": scenario.ts(1), "producer": "p", "job": {"namespace": "n", "name": "j"}}
    assert parse_event(dataset_event).kind == "dataset"
    assert parse_event(job_event).kind == "job"
    assert parse_event(base()).kind == "run"


def _mutate(path: list, value: object) -> dict:
    body = base()
    target = body
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return body


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (["eventTime"], KeyError, "eventTime"),
        (["eventTime"], "yesterday", "eventTime"),
        (["eventTime"], 12, "eventTime"),
        (["run", "runId"], "not-a-uuid", "run.runId"),
        (["run", "runId"], 42, "run.runId"),
        (["job", "name"], "", "job.name"),
        (["job", "namespace"], None, "job.namespace"),
        (["job", "name"], "j" * 5000, "job.name"),
        (["run", "facets"], {"f" * 300: {}}, "run.facets"),
    ],
    ids=lambda v: str(v) if not isinstance(v, (list, dict)) else None,
)
def test_an_event_that_cannot_be_identified_is_refused_naming_the_field(path: list, value: object, field: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        parse_event(_mutate(path, value))
    assert info.value.field == field


def _problems(event) -> dict[str, str]:
    return {w.field: w.problem for w in event.warnings}


@pytest.mark.parametrize(
    ("path", "value", "field", "problem"),
    [
        (["producer"], KeyError, "producer", "missing_field"),
        (["producer"], 5, "producer", "wrong_type"),
        (["eventType"], "FINISHED", "eventType", "wrong_type"),
        (["inputs"], {"a": 1}, "inputs", "wrong_type"),
        (["inputs"], [{"namespace": "n"}], "inputs[0].name", "dataset_dropped"),
        (["outputs"], ["x"], "outputs[0]", "dataset_dropped"),
        (["run", "facets"], [], "run.facets", "wrong_type"),
        (["run", "facets"], {"nominalTime": "soon"}, "run.facets.nominalTime", "facet_schema"),
        (["schemaURL"], 7, "schemaURL", "wrong_type"),
    ],
    ids=lambda v: str(v) if not isinstance(v, (list, dict)) else None,
)
def test_anything_else_wrong_is_accepted_and_flagged_naming_the_field(path: list, value: object, field: str, problem: str) -> None:
    event = parse_event(_mutate(path, value))
    assert _problems(event).get(field) == problem
    assert event.run_uuid and event.job_name == "etl"  # the event's identity is intact


def test_a_dataset_without_a_name_is_dropped_and_the_others_are_kept() -> None:
    body = base()
    body["inputs"] = [{"namespace": "n"}, scenario.dataset("raw")]
    event = parse_event(body)
    assert [(r.name, r.position) for r in event.inputs] == [("raw", 1)]
    assert _problems(event) == {"inputs[0].name": "dataset_dropped"}
    assert [r.name for r in event.outputs] == ["clean"]


def test_an_unknown_event_type_is_read_as_other() -> None:
    assert parse_event(_mutate(["eventType"], "FINISHED")).event_type == "OTHER"


def test_not_an_object_and_too_deep_are_refused() -> None:
    with pytest.raises(InvalidEvent):
        parse_event([base()])
    deep: dict = {}
    cursor = deep
    for _ in range(100):
        cursor["x"] = {}
        cursor = cursor["x"]
    body = base()
    body["run"]["facets"]["deep"] = deep
    with pytest.raises(InvalidEvent, match="nested deeper"):
        parse_event(body)


@pytest.mark.parametrize(
    ("facets", "field", "read"),
    [
        ({"ml_modelVersion": scenario.facet(name="churn")}, "outputs[0].facets.ml_modelVersion.version", None),
        ({"ml_artifact": scenario.facet(sha256="abc")}, "outputs[0].facets.ml_artifact.sha256", None),
        (
            {"ml_endpoint": scenario.facet(name="e", trafficPercent=140)},
            "outputs[0].facets.ml_endpoint.trafficPercent",
            {"name": "e"},  # an optional field that breaks the schema is left out; the rest is read
        ),
        (
            {"ml_modelVersion": scenario.facet(name="m", version="2", metrics={"auc": "high"})},
            "outputs[0].facets.ml_modelVersion.metrics.auc",
            {"name": "m", "version": "2"},
        ),
    ],
    ids=["model-without-version", "bad-sha256", "traffic-over-100", "metric-not-a-number"],
)
def test_custom_facets_that_break_their_schema_are_flagged_and_read_only_as_far_as_they_hold(
    facets: dict, field: str, read: dict | None
) -> None:
    body = base()
    body["outputs"][0]["facets"] = facets
    event = parse_event(body)
    assert _problems(event) == {field: "facet_schema"}
    (key,) = facets
    got = event.outputs[0].facets.get(key)
    if read is None:
        assert got is None
    else:
        assert {k: v for k, v in got.items() if not k.startswith("_")} == read


def test_facets_naming_different_versions_keep_the_version_facet_and_flag_the_other() -> None:
    body = base()
    body["outputs"][0]["facets"] = {
        "version": scenario.facet(datasetVersion="v3"), "ml_modelVersion": scenario.facet(name="m", version="3")
    }
    event = parse_event(body)
    assert _problems(event) == {"outputs[0].facets.ml_modelVersion.version": "version_conflict"}
    assert declared_version(event.outputs[0]) == "v3"
    assert event.outputs[0].facets["ml_modelVersion"]["version"] == "3"  # kept as it came


def test_a_parent_facet_without_a_uuid_is_flagged_and_not_read() -> None:
    body = base()
    body["run"]["facets"]["parent"] = {"run": {"runId": "nope"}, "job": {"namespace": "n", "name": "p"}}
    event = parse_event(body)
    assert _problems(event) == {"run.facets.parent.run.runId": "facet_schema"}
    assert "parent" not in event.run_facets


def test_standard_facets_nobody_interprets_are_kept_whole_when_broken() -> None:
    body = base()
    body["outputs"][0]["outputFacets"] = {"outputStatistics": {"rowCount": "many", "size": 10}}
    event = parse_event(body)
    assert _problems(event) == {"outputs[0].outputFacets.outputStatistics.rowCount": "facet_schema"}
    assert event.outputs[0].io_facets["outputStatistics"] == {"rowCount": "many", "size": 10}


def test_run_facet_checks() -> None:
    body = base()
    body["run"]["facets"]["ml_approval"] = scenario.facet(reviewer="bob", decision="maybe")
    event = parse_event(body)
    assert _problems(event) == {"run.facets.ml_approval.decision": "facet_schema"}
    assert "ml_approval" not in event.run_facets  # a required field is broken: nothing of it is read
    body["run"]["facets"]["ml_approval"] = scenario.facet(reviewer="bob", decision="approved", checks={"auc": True})
    event = parse_event(body)
    assert event.run_facets["ml_approval"]["decision"] == "approved" and not event.warnings


def _reference_depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((_reference_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_reference_depth(v) for v in value), default=0)
    return 1


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=3),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=3), children, max_size=4),
    max_leaves=40,
)


@given(json_values, st.integers(min_value=1, max_value=12))
def test_depth_limit_measures_nesting_exactly(value: object, limit: int) -> None:
    # The nesting limit counts a scalar as one level and each array or object around it as one more.
    depth = _reference_depth(value)
    measured = _depth(value, limit)
    assert measured == depth if depth <= limit else measured > limit
