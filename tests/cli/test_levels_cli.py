"""The CLI at dataset/job level and its version-level pages (issue 34), on both stores."""

from __future__ import annotations

import json

from lineage.refs import resolve_ref
from lineage.store.base import Store
from tests.cli.conftest import run



def test_impact_of_a_dataset_prints_each_dataset_and_job_once_with_its_counts(loaded: Store) -> None:
    text = run("impact", "customers")
    answer = json.loads(run("impact", "customers", "--json"))
    assert answer["level"] == "dataset"
    assert text.splitlines()[:2] == [
        "s3://lake/customers (Dataset): downstream within 20 hops",
        "At dataset/job level, each dataset and job once; s3://lake/customers has 2 versions.",
    ]
    for group in ("jobs", "feature_views", "models", "endpoints"):
        for entry in answer[group]:
            assert text.count(f"│ {entry['ref']} ") == 1, entry["ref"]  # once, in its table
            # Every label printed is a ref that resolves to the node it labels.
            assert resolve_ref(loaded, entry["ref"]).id == entry["id"]
            newest = entry.get("newest_version") or entry.get("newest_run")
            assert newest is not None and resolve_ref(loaded, newest["ref"]).id == newest["id"]
    assert "--level version" in text


def test_the_version_level_pages_with_limit_and_cursor(loaded: Store) -> None:
    first = json.loads(run("impact", "customers", "--level", "version", "--limit", "2", "--json"))
    assert first["partial"] and first["page"]["returned"] == 2
    text = run("impact", "customers", "--level", "version", "--limit", "2")
    assert f"--cursor {first['next_cursor']}" in text
    second = json.loads(run("impact", "customers", "--level", "version", "--limit", "2", "--cursor", first["next_cursor"], "--json"))
    ids = lambda a: {i["id"] for g in ("dataset_versions", "runs", "jobs", "datasets", "model_versions", "feature_view_versions", "deployments", "commits") for i in a[g]}  # noqa: E731
    assert len(ids(second)) == 2 and not ids(first) & ids(second)


def test_a_window_narrows_the_counts(loaded: Store) -> None:
    whole = json.loads(run("upstream", "churn-prod", "--json"))
    day = json.loads(run("upstream", "churn-prod", "--since", "2026-03-02T00:00:00Z", "--until", "2026-03-03T00:00:00Z", "--json"))
    assert day["since"] and sum(e.get("versions", 0) for e in day["datasets"]) < sum(e.get("versions", 0) for e in whole["datasets"])
    assert "between 2026-03-02" in run("upstream", "churn-prod", "--since", "2026-03-02T00:00:00Z")


def test_what_only_a_declaration_joins_is_printed_as_such(store_env: Store) -> None:
    from tests.conformance.test_levels_declared import DECLARE, EARLIER_READ, REPORT_RUN
    from tests.conformance.test_projection_rules import ingest

    ingest(store_env, DECLARE, EARLIER_READ, REPORT_RUN)
    answer = json.loads(run("impact", "warehouse:raw_orders", "--json"))
    declared = {e["ref"]: bool(e.get("declared")) for g in ("jobs", "datasets") for e in answer[g]}
    assert declared == {"dbt:orders_daily": False, "warehouse:orders_daily": True, "dbt:orders_report": True, "warehouse:orders_report": True}
    text = run("impact", "warehouse:raw_orders")
    rows = {line.split("│")[1].strip(): line for line in text.splitlines() if line.count("│") > 2}
    for ref, flag in declared.items():
        assert rows[ref].rstrip(" │").endswith("declaration only" if flag else "runs"), rows[ref]
    assert "Joined by declaration only" in text
    # Where a run joins everything, no such column or note.
    text = run("impact", "warehouse:orders_daily")
    assert "declaration only" not in text and "joined by" not in text
