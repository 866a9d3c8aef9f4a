"""Every answer states what it could not see (issue 29): each warning kind in each answer
that walks through it, and the order of versions known only from promotion or deployment,
identically on both stores."""

from __future__ import annotations

import pytest

from lineage import coverage, queries, releases
from lineage.ingest.parse import parse_event
from lineage.refs import resolve_ref
from lineage.service import annotation_body
from lineage.reports.audit import build_report
from lineage.store.base import Store
from tests import gaps
from tests import scenario as s
from tests.conformance.test_projection_rules import NOW, ingest


@pytest.fixture
def holes(store: Store) -> Store:
    ingest(store, *gaps.EVENTS)
    return store


def test_newest_event_time_is_the_greatest_event_time_not_the_last_received(store: Store) -> None:
    assert store.newest_event_time() is None
    ingest(store, *gaps.EVENTS)
    assert store.newest_event_time() == gaps.NEWEST
    ingest(store, s.event("late#1", "COMPLETE", s.ts(1, day=1), job="late"))  # received last, oldest time
    assert store.newest_event_time() == gaps.NEWEST


def test_impact_warns_of_stale_and_failed_runs_it_reached(holes: Store) -> None:
    answer = queries.impact(holes, "data-v1.8.2")
    found = gaps.kinds(answer)
    assert ("stale_run", gaps.run("report#1")) in found
    assert ("stale_run", gaps.run("report#2")) not in found  # an hour before the newest event
    assert ("failed_run", gaps.run("score#1")) in found
    failed = next(w for w in answer["warnings"] if w["kind"] == "failed_run" and w["node"] == gaps.run("score#1"))
    assert "FAIL" in failed["detail"] and "out of memory" in failed["detail"]
    # Nothing upstream of the data (the survey placeholder is another run's input) is reported.
    assert gaps.SURVEY_PLACEHOLDER not in {w["node"] for w in answer["warnings"]}


def test_upstream_warns_of_an_input_read_without_a_known_version(holes: Store) -> None:
    answer = queries.upstream(holes, "sj-1")
    assert gaps.kinds(answer) == {("placeholder_input", gaps.SURVEY_PLACEHOLDER)}
    assert "survey" in answer["warnings"][0]["detail"]


def test_an_answer_that_saw_everything_has_an_empty_list(holes: Store) -> None:
    assert queries.upstream(holes, "churn@2.3.1")["warnings"] == []
    assert releases.endpoint(holes, "churn-eu")["warnings"] == []


def test_stale_is_measured_against_the_newest_event_and_the_setting(holes: Store) -> None:
    assert ("stale_run", gaps.run("report#1")) not in gaps.kinds(queries.impact(holes, "data-v1.8.2", stale_run_hours=48))
    assert ("stale_run", gaps.run("report#2")) not in gaps.kinds(queries.impact(holes, "data-v1.8.2"))
    ingest(holes, s.event("later#1", "COMPLETE", s.ts(12, day=5), job="elsewhere"))  # the data's clock moves on
    assert ("stale_run", gaps.run("report#2")) in gaps.kinds(queries.impact(holes, "data-v1.8.2"))


def test_a_run_that_completes_is_no_longer_stale(holes: Store) -> None:
    assert ("stale_run", gaps.run("report#1")) in gaps.kinds(queries.impact(holes, "data-v1.8.2"))
    ingest(holes, s.event("report#1", "COMPLETE", s.ts(9, day=2), job="weekly-report"))
    assert ("stale_run", gaps.run("report#1")) not in gaps.kinds(queries.impact(holes, "data-v1.8.2"))


def test_diff_warns_of_either_side(holes: Store) -> None:
    answer = releases.diff(holes, "churn@2.0.5", "sj-1")
    assert gaps.kinds(answer) == {
        ("untrained_model_version", gaps.model_version("2.0.5")),
        ("placeholder_input", gaps.SURVEY_PLACEHOLDER),
    }
    assert releases.diff(holes, "churn@2.2.0", "churn@2.3.1")["warnings"] == []


@pytest.mark.parametrize("at", [None, "2026-03-01T12:00:00Z"], ids=["now", "as-of"])
def test_endpoint_warns_of_a_model_no_run_trained_and_a_failed_deploy(holes: Store, at: str | None) -> None:
    answer = releases.endpoint(holes, "churn-shadow", at)
    assert gaps.kinds(answer) == {
        ("untrained_model_version", gaps.model_version("2.0.5")),
        ("failed_run", gaps.run("dep-shadow#2")),
    }
    if at is not None:
        assert answer["at"]["model_versions"] == ["churn@2.0.5"]


def test_model_versions_warn_of_versions_no_run_wrote(holes: Store) -> None:
    answer = releases.model_versions(holes, "churn")
    assert gaps.kinds(answer) == {
        ("untrained_model_version", gaps.model_version("2.0.5")),
        ("untrained_model_version", gaps.model_version("2.2.5")),
        ("untrained_model_version", gaps.CANARY),  # churn@2.1.0 has no node: the alias naming it
    }
    canary = next(w for w in answer["warnings"] if w["node"] == gaps.CANARY)
    assert "churn@2.1.0" in canary["detail"] and "churn@Canary" in canary["detail"]


def test_promotion_only_versions_take_their_place_by_their_first_mention(holes: Store) -> None:
    answer = releases.model_versions(holes, "churn")
    order = [(v["version"], v["ordering"]) for v in answer["versions"]]
    assert order == [
        ("2.3.1", "written"), ("2.2.5", "first_seen"), ("2.2.0", "written"), ("2.1.0", "first_seen"), ("2.0.5", "first_seen")
    ]
    by_version = {v["version"]: v for v in answer["versions"]}
    assert by_version["2.0.5"]["first_seen"] == "2026-03-01T07:30:00.000000Z"  # promoted before it was deployed
    assert by_version["2.2.5"]["first_seen"] == "2026-03-02T08:00:00.000000Z"
    alias_only = by_version["2.1.0"]
    assert (alias_only["id"], alias_only["known_from"], alias_only["first_seen"]) == (None, "ml_alias", "2026-03-01T08:30:00.000000Z")
    assert alias_only["aliases"] == ["Canary"] and by_version["2.2.5"]["aliases"] == ["Staging"]
    assert by_version["2.2.0"]["ordering"] == "written" and "first_seen" not in by_version["2.2.0"]
    assert "first_seen" in answer["ordering"]


def test_a_first_mention_is_the_earliest_event_not_the_first_received(holes: Store) -> None:
    # A deploy of 2.0.5 reported late, but timed before its promotion, moves its place.
    ingest(holes, *s.deploy("dep-shadow#0", s.ts(5, day=1), "churn", "2.0.5", "churn-shadow"))
    by_version = {v["version"]: v for v in releases.model_versions(holes, "churn")["versions"]}
    assert by_version["2.0.5"]["first_seen"] == "2026-03-01T05:00:00.000000Z"


def test_last_known_good_before_and_of_a_promotion_only_version(holes: Store) -> None:
    oldest = releases.model_versions(holes, "churn", before="2.0.5")
    assert oldest["before"] == "2.0.5" and oldest["last_known_good"] is None
    assert releases.model_versions(holes, "churn", before="2.1.0")["last_known_good"]["version"] == "2.0.5"
    assert releases.model_versions(holes, "churn", before="2.2.0")["last_known_good"]["version"] == "2.1.0"
    assert releases.model_versions(holes, "churn", before="2.2.5")["last_known_good"]["version"] == "2.2.0"
    assert releases.model_versions(holes, "churn", before="2.3.1")["last_known_good"]["version"] == "2.2.5"


def test_a_bad_tag_still_rules_a_promotion_only_version_out(holes: Store) -> None:
    target = resolve_ref(holes, "churn@2.2.5")
    holes.ingest([parse_event(annotation_body(target.id, "churn@2.2.5", "deprecated", "never trained", "oncall", s.ts(12, day=3)))], NOW)
    answer = releases.model_versions(holes, "churn", before="2.3.1")
    assert answer["last_known_good"]["version"] == "2.2.0"
    assert answer["excluded"] == [{"version": "2.2.5", "reason": "churn@2.2.5 is deprecated"}]


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("churn@2.3.1", {("failed_run", gaps.run("score#1")), ("failed_run", gaps.run("dep-shadow#2"))}),
        ("churn-shadow", {("untrained_model_version", gaps.model_version("2.0.5")), ("failed_run", gaps.run("dep-shadow#2"))}),
        ("sj-1", {("placeholder_input", gaps.SURVEY_PLACEHOLDER)}),
        ("data-v1.8.2", None),  # downstream reaches the stale report run
    ],
    ids=["model-version", "endpoint", "dataset-version", "data"],
)
def test_audit_report_warns_of_its_chain(holes: Store, ref: str, expected: set[tuple[str, str]] | None) -> None:
    report = build_report(holes, ref, generated_at="2026-03-04T00:00:00Z")
    if expected is None:
        assert ("stale_run", gaps.run("report#1")) in gaps.kinds(report)
    else:
        assert gaps.kinds(report) == expected


def test_warnings_cost_the_answer_not_the_history(holes: Store) -> None:
    # The check reads only the nodes it is handed: none, nothing to say and nothing asked.
    class NoStore:
        def __getattr__(self, name: str) -> None:
            raise AssertionError(f"store.{name} asked with no nodes")

    assert coverage.answer_warnings(NoStore(), []) == []  # type: ignore[arg-type]


def test_the_graph_for_drawing_warns_of_what_it_draws(holes: Store) -> None:
    drawn = queries.graph(holes, "churn-shadow", "up", 10, level="version")
    collapsed = queries.graph(holes, "churn-shadow", "up", 10)  # the endpoint itself: what it serves now
    assert ("untrained_model_version", gaps.model_version("2.0.5")) in gaps.kinds(collapsed)
    assert gaps.kinds(drawn) == {
        ("untrained_model_version", gaps.model_version("2.0.5")),
        ("failed_run", gaps.run("dep-shadow#2")),
    }
    assert {w["node"] for w in drawn["warnings"]} <= {n["id"] for n in drawn["nodes"]}  # each one is on the page
    assert queries.graph(holes, "churn@2.3.1", "up", 10)["warnings"] == []
