"""The audit report's metadata checklist section (issue 37), on both stores."""

from __future__ import annotations

import jsonschema

from lineage.actions import checklist
from lineage.reports.audit import build_report
from lineage.reports.render import render_md
from lineage.reports.schema import AUDIT_SCHEMA
from lineage.store.base import Store
from tests.conformance.test_projection_rules import ingest
from tests.conformance.test_release_actions import story

AT = "2026-03-05T00:00:00.000000Z"


def test_a_model_versions_report_carries_its_checklist(store: Store) -> None:
    ingest(store, *story())
    report = build_report(store, "churn@2.3.1", generated_at=AT)
    jsonschema.Draft202012Validator(AUDIT_SCHEMA).validate(report)
    (section,) = report["checklist"]
    answer = checklist(store, "churn", "2.3.1")
    assert section["model_version"] == "churn@2.3.1"
    assert (section["present"], section["total"]) == (answer["present"], 11)
    assert {i["item"]: i["status"] for i in section["items"]} == {r["item"]: r["status"] for r in answer["items"]}
    text = render_md(report).decode()
    assert "Metadata checklist" in text
    assert "no ml_environment facet on the training run" in text


def test_an_endpoints_report_has_the_checklist_of_each_version_it_served(store: Store) -> None:
    from tests import scenario as s

    ingest(store, *story(), *s.deploy("dep#1", s.ts(12), "churn", "2.2.0", "churn-prod"), *s.deploy("dep#2", s.ts(13), "churn", "2.3.1", "churn-prod"))
    report = build_report(store, "churn-prod", generated_at=AT)
    assert [c["model_version"] for c in report["checklist"]] == ["churn@2.2.0", "churn@2.3.1"]
