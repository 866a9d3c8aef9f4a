"""The incident with holes in it, for the answers' `warnings` (issue 29): each hole is one
kind of thing an answer cannot see, placed where a known answer walks through it.

- report#1 (weekly-report) reads data-v1.8.2, STARTs on day 2 and is never heard of again: by
  the newest event (day 3 11:05) it is stale; report#2 STARTs an hour before that: not stale.
- score#1 (score-churn) reads churn@2.3.1 and FAILs.
- survey#1 (survey-join) reads data-v1.8.2 and a dataset `survey` no version of which is
  known, and writes survey_joined@sj-1: its input binds to the unversioned placeholder.
- churn@2.0.5 is promoted (Staging) and deployed to churn-shadow but no run ever trained it;
  churn@2.2.5 is only promoted (Staging, day 2 08:00); churn@2.1.0 is named by nothing but an
  alias move (Canary, day 1 08:30: an ml_alias facet, no input). A later deploy of churn@2.3.1
  to churn-shadow FAILs.
"""

from __future__ import annotations

from typing import Any

from lineage import ids
from tests import incident
from tests import scenario as s

NEWEST = "2026-03-03T11:05:00.000000Z"  # incident's last event (prom#3)
ERROR = {"errorMessage": s.facet(message="scorer ran out of memory", programmingLanguage="python")}

HOLES: list[dict[str, Any]] = [
    s.event("report#1", "START", s.ts(8, day=2), job="weekly-report", inputs=[s.dataset("customers", "data-v1.8.2")]),
    s.event("report#2", "START", s.ts(10, day=3), job="weekly-report", inputs=[s.dataset("customers", "data-v1.8.2")]),
    s.event("score#1", "START", s.ts(14, day=2), job="score-churn", inputs=[s.model("churn", "2.3.1")]),
    s.event("score#1", "FAIL", s.ts(14, 10, day=2), job="score-churn", inputs=[s.model("churn", "2.3.1")], run_facets=ERROR),
    s.event(
        "survey#1", "COMPLETE", s.ts(11, day=2), job="survey-join",
        inputs=[s.dataset("customers", "data-v1.8.2"), s.dataset("survey")], outputs=[s.dataset("survey_joined", "sj-1")],
    ),
    s.promote("prom#0", s.ts(7, 30, day=1), "churn", "Staging", "2.0.5"),
    *s.deploy("dep-shadow#1", s.ts(8, day=1), "churn", "2.0.5", "churn-shadow"),
    s.promote("prom#4", s.ts(8, day=2), "churn", "Staging", "2.2.5"),
    s.event(
        "canary#1", "COMPLETE", s.ts(8, 30, day=1), job="promote-churn",
        run_facets={"ml_alias": s.facet(model="churn", alias="Canary", version="2.1.0")},
    ),
    s.event(
        "dep-shadow#2", "START", s.ts(10, 30, day=2), job="deploy-churn-shadow",
        inputs=[s.model("churn", "2.3.1")], outputs=[s.endpoint("churn-shadow")],
    ),
    s.event(
        "dep-shadow#2", "FAIL", s.ts(10, 31, day=2), job="deploy-churn-shadow",
        inputs=[s.model("churn", "2.3.1")], outputs=[s.endpoint("churn-shadow")],
    ),
]
EVENTS: list[dict[str, Any]] = [*incident.EVENTS, *HOLES]


def kinds(answer: dict[str, Any]) -> set[tuple[str, str]]:
    """The (kind, node) pairs of an answer's warnings."""
    return {(w["kind"], w["node"]) for w in answer["warnings"]}


def run(name: str) -> str:
    """The node id of a run named as in the events (report#1...)."""
    return ids.run_id(s.run_uuid(name))


def model_version(version: str) -> str:
    return ids.version_id(ids.dataset_id("registry://models", "models/churn"), version)


CANARY = ids.alias_id("churn", "Canary")
SURVEY_PLACEHOLDER = ids.version_id(ids.dataset_id("s3://lake", "survey"), "")
