"""An audit report whose chain has holes says "incomplete chain" and why, first, in every
format (issue 29); one without says it is complete as far as the log shows."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from lineage.cli.main import app
from lineage.reports.audit import build_report
from lineage.reports.render import read_csv, renderer
from lineage.reports.schema import AUDIT_SCHEMA
from lineage.store.base import Store
from tests import gaps
from tests.conformance.test_projection_rules import ingest

AT = "2026-03-05T00:00:00.000000Z"


@pytest.fixture
def holes(store: Store) -> Store:
    ingest(store, *gaps.EVENTS)
    return store


@pytest.fixture
def report(holes: Store) -> dict[str, Any]:
    """The endpoint that served a model no run trained, and a deploy to it that failed."""
    return build_report(holes, "churn-shadow", generated_at=AT)


def test_the_json_lists_the_warnings_with_labels_and_validates(report: dict[str, Any]) -> None:
    parsed = json.loads(renderer("json").render(report))
    jsonschema.Draft202012Validator(AUDIT_SCHEMA).validate(parsed)
    assert {(w["kind"], w["label"]) for w in parsed["warnings"]} == {
        ("untrained_model_version", "churn@2.0.5"),
        ("failed_run", "deploy-churn-shadow @ 2026-03-02T10:30:00Z"),  # its START, to the second
    }


def test_the_markdown_and_html_say_incomplete_chain_before_the_chain(report: dict[str, Any]) -> None:
    md = renderer("md").render(report).decode()
    assert "- **Chain:** INCOMPLETE CHAIN: 2 warnings (failed run, untrained model version)" in md
    sections = re.findall(r"^## (.+)$", md, flags=re.M)
    # An endpoint's chain comes one table per model version (issue 33), after the warnings.
    assert sections[0] == "Incomplete chain: what this report could not see" and sections[1].startswith("Release chain")
    assert "no run is known to have written churn@2.0.5" in md
    page = renderer("html").render(report).decode()
    assert page.index("INCOMPLETE CHAIN") < page.index("<h2>Incomplete chain") < page.index("<h2>Release chain")
    assert '<dd class="bad">INCOMPLETE CHAIN' in page


def test_the_pdf_says_it_on_its_first_page(report: dict[str, Any]) -> None:
    first = PdfReader(io.BytesIO(renderer("pdf").render(report))).pages[0].extract_text()
    flat = " ".join(first.split())
    assert "INCOMPLETE CHAIN" in flat and "Incomplete chain: what this report could not see" in flat
    assert "churn@2.0.5" in flat and "untrained model version" in flat


def test_the_csv_opens_with_the_incomplete_chain_rows(report: dict[str, Any]) -> None:
    rows = read_csv(renderer("csv").render(report).decode())["Release chain"]
    head = rows[: len(report["warnings"])]
    assert {r["step"] for r in head} == {"incomplete chain"}
    assert {(r["name"], r["id"]) for r in head} == {(w["kind"], w["node"]) for w in report["warnings"]}
    assert [r["label"] for r in rows[len(head):]] == [c["label"] for c in report["chain"]]


def test_a_complete_chain_says_so_and_has_no_such_section(holes: Store) -> None:
    report = build_report(holes, "churn-eu", generated_at=AT)
    assert report["warnings"] == []
    md = renderer("md").render(report).decode()
    assert "- **Chain:** complete as far as the log shows" in md and "Incomplete chain" not in md
    rows = read_csv(renderer("csv").render(report).decode())["Release chain"]
    assert "incomplete chain" not in {r["step"] for r in rows}


def test_lineage_audit_tells_the_terminal(holes: Store, backend: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    uri = f"sqlite:///{holes.path}" if backend == "sqlite" else request.getfixturevalue("neo4j_uri")  # type: ignore[attr-defined]
    monkeypatch.setenv("LINEAGE_STORE", uri)
    monkeypatch.delenv("LINEAGE_URL", raising=False)
    out = tmp_path / "shadow.md"
    result = CliRunner().invoke(app, ["audit", "churn-shadow", "-o", str(out)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "incomplete chain: 2 warning(s)" in result.stderr and "INCOMPLETE CHAIN" in out.read_text()
    whole = CliRunner().invoke(app, ["audit", "churn-eu", "-o", str(tmp_path / "eu.md")], env={"COLUMNS": "200"})
    assert whole.exit_code == 0 and "incomplete chain" not in whole.stderr
