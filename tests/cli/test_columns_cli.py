"""`lineage columns`: a version's fields and a field's lineage, tables for people and --json, on both stores."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from lineage import fieldlineage, queries
from lineage.cli.main import app
from lineage.refs import resolve_ref
from lineage.store.base import Store
from tests import column_story as c
from tests.cli.conftest import run
from tests.cli.test_query_cli import table_rows
from tests.conformance.test_projection_rules import ingest

runner = CliRunner()


@pytest.fixture
def loaded(store_env: Store) -> Store:
    ingest(store_env, *c.COLUMN_STORY)
    return store_env


def test_json_is_the_api_answer(loaded: Store) -> None:
    got = json.loads(run("columns", "data-v1.8.2", "income", "--json"))
    assert got == json.loads(json.dumps(fieldlineage.column_lineage(loaded, "data-v1.8.2", "income")))


def test_the_table_follows_the_column_to_the_endpoint(loaded: Store) -> None:
    out = run("columns", "data-v1.8.2", "income")
    fields = table_rows(out, "field")
    assert fields["churn@2.3.1[income_scaled]"]["hops"] == "3"
    assert "income / 1000" in next(r for k, r in fields.items() if k.startswith("s3://lake/clean@"))["made from (transformation)"]
    endpoints = table_rows(out, "endpoint")
    assert endpoints["churn-prod"]["serving it now"] == "YES"
    for label in fields:  # every field label printed is a ref that resolves to a field
        assert resolve_ref(loaded, label).kind == "Field"


def test_upstream_direct_only_and_the_field_form(loaded: Store) -> None:
    out = run("columns", "churn@2.3.1[income_scaled]", "--up", "--direct")
    fields = table_rows(out, "field")
    assert "s3://lake/customers@data-v1.8.2[income]" in fields
    assert "s3://lake/customers@data-v1.8.2[churned]" not in fields  # a filter, INDIRECT
    assert "churned" in table_rows(run("columns", "churn@2.3.1[income_scaled]", "--up"), "field").__repr__()


def test_a_version_alone_lists_its_fields(loaded: Store) -> None:
    rows = table_rows(run("columns", "s3://lake/customers@data-v1.8.2"), "field")
    assert {k: r["type"] for k, r in rows.items()} == {
        f"s3://lake/customers@data-v1.8.2[{n}]": t for n, t in (("churned", "boolean"), ("customer_id", "bigint"), ("income", "double"), ("tenure", "int"))
    }


def test_an_unknown_field_suggests_near_ones(loaded: Store) -> None:
    result = runner.invoke(app, ["columns", "data-v1.8.2", "incom"])
    assert result.exit_code == 1
    assert re.search(r"did you mean s3://lake/customers@data-v1\.8\.2\[income\]", result.output)


def test_impact_and_upstream_with_a_field_answer_that_columns_lineage(loaded: Store) -> None:
    down = json.loads(run("impact", "data-v1.8.2", "--field", "income", "--json"))
    assert down == json.loads(json.dumps(fieldlineage.column_lineage(loaded, "data-v1.8.2", "income", "down")))
    assert "churn@2.3.1[income_scaled]" in {f["ref"] for f in down["fields"]}
    up = json.loads(run("upstream", "churn@2.3.1", "--field", "income_scaled", "--direct", "--json"))
    assert up == json.loads(json.dumps(fieldlineage.column_lineage(loaded, "churn@2.3.1", "income_scaled", "up", transformations="direct")))
    assert up["direction"] == "up" and up["transformations"] == "direct" and up["fields"]


def test_search_lists_fields_by_refs_that_resolve_to_them(loaded: Store) -> None:
    answer = json.loads(run("search", "income", "--kind", "Field", "--json"))
    assert answer == json.loads(json.dumps(queries.search(loaded, "income", "Field")))
    assert {r["field"] for r in answer["results"]} == {"income", "income_scaled"}
    table = run("search", "income")
    for result in answer["results"]:  # every field printed is a ref that resolves to it
        assert re.search(rf"│ Field\s+│ {re.escape(result['ref'])}\s+│", table), result["ref"]
        assert resolve_ref(loaded, result["ref"]).id == result["id"]
