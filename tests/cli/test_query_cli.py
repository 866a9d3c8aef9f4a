"""The query commands: tables for people, --json for scripts, on a store or over HTTP."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from lineage import queries
from lineage.cli.main import app
from lineage.refs import resolve_ref
from lineage.store.base import Store
from tests import incident
from tests.cli.conftest import run
from tests import scenario as s
from tests.server import running
from tests.conformance.test_projection_rules import ingest

runner = CliRunner()


def test_json_output_is_the_api_answer(loaded: Store) -> None:
    assert json.loads(run("impact", "data-v1.8.2", "--json")) == json.loads(json.dumps(queries.impact(loaded, "data-v1.8.2")))


def table_rows(text: str, first_column: str) -> dict[str, dict[str, str]]:
    """The rows of the table whose first column is `first_column`, by their first cell, each a
    mapping of column name to cell."""

    def cells(line: str, bar: str) -> list[str]:
        return [c.strip() for c in line.strip().strip(bar).split(bar)]

    lines = text.splitlines()
    top = next(i for i, line in enumerate(lines) if line.lstrip().startswith("┃") and cells(line, "┃")[0] == first_column)
    names, rows = cells(lines[top], "┃"), {}
    for line in lines[top + 1 :]:
        if line.lstrip().startswith("└"):
            break
        if line.lstrip().startswith("│"):
            row = cells(line, "│")
            rows[row[0]] = dict(zip(names, row))
    return rows


def test_tables_answer_the_incident_questions(loaded: Store) -> None:
    impact = run("impact", "data-v1.8.2")
    endpoints = table_rows(impact, "endpoint")
    # Each endpoint's own row says whether it still serves the affected model.
    assert {name: row["serving it now"] for name, row in endpoints.items()} == {"churn-eu": "YES", "churn-us": "YES", "churn-prod": "no"}
    assert "churn-batch" not in impact
    assert "data-v1.8.2" in run("upstream", "churn@2.3.1")
    diff = run("diff", "churn@2.2.0", "churn@2.3.1")
    assert "data-v1.7.1" in diff and "data-v1.8.2" in diff and "0.05" in diff
    assert "at 2026-03-02T12:00:00.000000Z: churn@2.3.1" in run("endpoint", "churn-prod", "--at", "2026-03-02T12:00:00Z")
    assert "churn-prod" in run("search", "churn-p")
    assert "tagged" in run("annotate", "churn@2.2.0", "deprecated", "--author", "alice", "--reason", "old")
    assert "last known good before 2.3.1: none" in run("versions", "churn", "--before", "2.3.1")


def test_unknown_ref_exits_nonzero_with_suggestions(loaded: Store) -> None:
    result = runner.invoke(app, ["impact", "data-v1.8.3"])
    assert result.exit_code == 1
    assert "did you mean s3://lake/customers@data-v1.8.2" in result.stderr


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    with running(f"sqlite:///{tmp_path / 'served.db'}") as url:
        assert httpx.post(f"{url}/api/v1/lineage/batch", json=incident.EVENTS).json()["created"] == len(incident.EVENTS)
        yield url


def test_over_http_with_url(server: str) -> None:
    answer = json.loads(run("impact", "data-v1.8.2", "--url", server, "--json"))
    assert {e["name"] for e in answer["endpoints"]} == {"churn-prod", "churn-eu", "churn-us"}
    assert "rollback" in run("endpoint", "churn-prod", "--url", server)
    run("annotate", "data-v1.8.2", "quarantined", "--author", "oncall", "--url", server)
    versions = json.loads(run("versions", "churn", "--before", "2.3.1", "--url", server, "--json"))
    assert versions["last_known_good"]["version"] == "2.2.0"
    result = runner.invoke(app, ["upstream", "nope", "--url", server])
    assert result.exit_code == 1 and "nothing matches" in result.stderr


def test_the_readme_incident_file_is_the_incident_story() -> None:
    lines = (Path(__file__).resolve().parents[2] / "examples" / "incident.ndjson").read_text().splitlines()
    assert [json.loads(line) for line in lines] == incident.EVENTS


# Names long enough that an 80-column table would cut them (rich's width when not a terminal).
LONG_DATA = "warehouse/customers_with_every_contract_and_every_support_ticket_since_the_beginning"
LONG_MODEL = "churn_propensity_gradient_boosted_with_calibrated_probabilities_for_retention"
LONG_ENDPOINT = "churn-propensity-retention-campaigns-europe-west-production-primary"
LONG_VERSION = "snapshot-2026-03-01-full-refresh-after-the-contract-schema-migration"


def long_story() -> list[dict[str, Any]]:
    snap = s.event("long-snap#1", "COMPLETE", s.ts(6), job="snapshot-everything", outputs=[s.dataset(LONG_DATA, LONG_VERSION)])
    train = s.event("long-train#1", "COMPLETE", s.ts(9), job="train-long", inputs=[s.dataset(LONG_DATA, LONG_VERSION)], outputs=[s.model(LONG_MODEL, "1.0.0")])
    return [snap, train, *s.deploy("long-dep#1", s.ts(10), LONG_MODEL, "1.0.0", LONG_ENDPOINT)]


def piped(*args: str) -> str:
    """The CLI's output as a pipe gets it: not a terminal, COLUMNS as a shell may export it."""
    result = runner.invoke(app, list(args), env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    return result.stdout


def rows(output: str, first_column: str) -> list[list[str]]:
    """The body rows of the table whose header starts with `first_column`, cell by cell."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("┃") and line.strip("┃ ").startswith(first_column))
    body = []
    for line in lines[start + 2 :]:
        if not line.startswith("│"):
            break
        body.append([cell.strip() for cell in line.strip("│").split("│")])
    return body


def test_piped_tables_print_every_long_name_whole(loaded: Store) -> None:
    ingest(loaded, *long_story())
    impact = piped("impact", LONG_VERSION)
    model_ref = f"{LONG_MODEL}@1.0.0"
    ((endpoint, _, model, *_),) = rows(impact, "endpoint")
    assert (endpoint, model) == (LONG_ENDPOINT, model_ref)
    assert [r[0] for r in rows(impact, "ref")] == [model_ref]
    upstream = piped("upstream", LONG_ENDPOINT, "--level", "version")
    long_ref = f"s3://lake/{LONG_DATA}@{LONG_VERSION}"
    assert [r[:2] for r in rows(upstream, "ref") if r[0] == long_ref] == [[long_ref, LONG_DATA]]
    assert [r[0] for r in rows(piped("search", "retention"), "kind")].count("Endpoint") == 1
    assert LONG_VERSION in piped("versions", LONG_MODEL)
    assert "…" not in impact + upstream


def test_impact_with_nothing_downstream_says_so(loaded: Store) -> None:
    nothing = run("impact", "billing_summary")
    assert "Nothing downstream of s3://lake/billing_summary within 20 hops" in nothing
    assert "Endpoints" not in nothing and "runs:" not in nothing
    no_endpoint = run("impact", "inv-7")
    assert "No endpoint downstream of s3://lake/invoices@inv-7" in no_endpoint and "billing" in no_endpoint
    assert "Nothing upstream of s3://lake/invoices@inv-7" in run("upstream", "inv-7")


def test_nodes_are_named_by_their_most_specific_kind(loaded: Store) -> None:
    assert run("impact", "churn@2.3.1").splitlines()[0] == "churn@2.3.1 (ModelVersion of models/churn): downstream within 20 hops"
    assert run("upstream", "churn_features@fv-2").splitlines()[0].startswith("churn_features@fv-2 (FeatureViewVersion")
    assert run("impact", "data-v1.8.2").splitlines()[0].startswith("s3://lake/customers@data-v1.8.2 (DatasetVersion of customers)")
    assert run("impact", "churn-prod").splitlines()[0].startswith("churn-prod (Endpoint)")
    kinds = {r[1]: r[0] for r in rows(run("search", "churn"), "kind")}
    assert (kinds["churn@2.3.1"], kinds["churn_features@fv-1"], kinds["churn-eu"], kinds["churn"]) == ("ModelVersion", "FeatureViewVersion", "Endpoint", "Model")
    assert "DatasetVersion" not in kinds.values()  # every version found is a model, feature or deployment one


@pytest.mark.parametrize("ref", ["churn-prod", "data-v1.8.2", "churn@2.3.1", "churn-us"])
def test_yes_only_on_the_row_of_a_live_deployment(loaded: Store, ref: str) -> None:
    table = rows(run("impact", ref, "--level", "version"), "endpoint")
    answer = json.loads(run("impact", ref, "--level", "version", "--json"))
    deployments = {d["id"]: d for e in answer["endpoints"] for d in e["affected_deployments"]}
    assert len(table) == len(deployments) > 0
    for endpoint, deployment, _, _, until, status, serving, _ in table:
        assert status == deployments[deployment]["status"]
        assert serving == ("YES" if status == "live" else "no"), (endpoint, deployment, status, serving)
        assert deployments[deployment]["currently_serving"] is (status == "live") is (until == "-")
    if ref == "churn-prod":  # the endpoint serves the ref now, through its rollback deployment only
        assert [r[6] for r in table] == ["no", "no", "YES"]


def test_every_node_the_cli_prints_is_named_by_a_ref_that_resolves_to_it(loaded: Store) -> None:
    printed: list[tuple[str, dict[str, Any]]] = []
    for command, ref in (("impact", "data-v1.8.2"), ("impact", "clean_customers"), ("upstream", "churn@2.3.1"), ("upstream", "churn-prod")):
        answer = json.loads(run(command, ref, "--level", "version", "--json"))
        table = run(command, ref, "--level", "version")
        nodes = [answer["node"], *(i for key in ("dataset_versions", "feature_view_versions", "model_versions") for i in answer[key])]
        for node in nodes:
            printed.append((table, node))
    for r in json.loads(run("search", "churn", "--json"))["results"]:
        printed.append((run("search", "churn"), r))
    versions = json.loads(run("versions", "churn", "--json"))["versions"]
    for v in versions:
        data = v["training_data"]
        printed += [(run("versions", "churn"), n) for n in [v, *data["dataset_versions"], *data["feature_view_versions"]]]
    assert len({n["id"] for _, n in printed}) > 10
    for table, node in printed:
        name = node["ref"]
        assert re.search(rf"(^|[│ ]){re.escape(name)}([│ ]|$)", table, re.M), (name, node["label"])
        assert resolve_ref(loaded, name).id == node["id"], (name, node["label"])
    diff = json.loads(run("diff", "churn@2.2.0", "churn@2.3.1", "--json"))
    diff_table = run("diff", "churn@2.2.0", "churn@2.3.1")
    for d in diff["datasets"]:
        for name, version in [*zip(d["from_refs"], d["from"]), *zip(d["to_refs"], d["to"])]:
            assert name in diff_table
            found = resolve_ref(loaded, name)
            assert (found.props["dataset"], found.props["version"]) == (d["dataset"], version)
    # A derived version (its version is the writing run's UUID) is dataset@UUID; the bare UUID is the run's.
    derived = next(n for _, n in printed if n.get("name") == "customers_clean")
    assert derived["ref"] == f"s3://lake/customers_clean@{derived['version']}"
    assert run("impact", derived["ref"]).splitlines()[0].startswith(f"{derived['ref']} (DatasetVersion")


def test_no_match_names_the_store_it_searched(loaded: Store) -> None:
    uri = os.environ["LINEAGE_STORE"]
    result = runner.invoke(app, ["impact", "data-v9"])
    assert result.exit_code == 1 and f"nothing matches 'data-v9' in {uri}" in result.stderr
    assert "holds no events" not in result.stderr
    assert f"Nothing matches 'zzz' in {uri}" in run("search", "zzz")
    result = runner.invoke(app, ["versions", "churn", "--before", "9.9.9"])  # suggestions that are plain versions
    assert result.exit_code == 1 and f"has no version '9.9.9' in {uri}" in result.stderr and "did you mean 2.3.1" in result.stderr


def test_without_a_store_setting_the_default_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LINEAGE_STORE", raising=False)
    monkeypatch.delenv("LINEAGE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["impact", "data-v1.8.2"])
    assert result.exit_code == 1
    stderr = " ".join(result.stderr.split())  # the path may be long; the message is what counts
    assert f"nothing matches 'data-v1.8.2' in sqlite:///data/lineage.db ({tmp_path / 'data' / 'lineage.db'})" in stderr
    assert "that store holds no events" in stderr


def test_no_match_over_http_names_the_service(server: str) -> None:
    result = runner.invoke(app, ["impact", "data-v9", "--url", server])
    assert result.exit_code == 1 and f"nothing matches 'data-v9' in {server}" in result.stderr


def test_piped_token_list_prints_long_names_whole(loaded: Store) -> None:
    name = "deploy-pipeline-for-the-churn-propensity-models-in-every-european-region"
    assert runner.invoke(app, ["token", "create", name, "--scope", "read", "--scope", "ingest"]).exit_code == 0
    ((listed, scopes, *_),) = rows(piped("token", "list"), "name")
    assert (listed, sorted(scopes.split(", "))) == (name, ["ingest", "read"])


def test_child_runs_are_counted_unless_all_runs(loaded: Store) -> None:
    from tests.conformance.test_static_lineage import dbt_story

    ingest(loaded, *dbt_story())
    folded = run("impact", "duckdb://jaffle/raw.orders", "--level", "version")
    assert "3 child runs that touch no dataset folded under their parents" in folded and "sql.2" not in folded
    listed = json.loads(run("impact", "duckdb://jaffle/raw.orders", "--all-runs", "--level", "version", "--json"))
    assert len(listed["runs"]) == 4


def test_an_ambiguous_ref_lists_candidates_by_refs_that_name_only_them(loaded: Store) -> None:
    ingest(loaded, s.event("w#1", "COMPLETE", s.ts(1), outputs=[s.dataset("customers", "data-v1.8.2", namespace="warehouse")]))
    result = runner.invoke(app, ["impact", "customers@data-v1.8.2"])
    assert result.exit_code == 1 and "matches 2 nodes" in result.stderr
    lines = [line.split() for line in result.stderr.splitlines()[1:]]
    assert sorted(line[2] for line in lines) == ["s3://lake", "warehouse"]
    for ref, kind, _ in lines:
        assert kind == "DatasetVersion" and resolve_ref(loaded, ref).props["version"] == "data-v1.8.2"
    assert len({resolve_ref(loaded, line[0]).id for line in lines}) == 2
