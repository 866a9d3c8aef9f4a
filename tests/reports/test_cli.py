"""`lineage audit` and `lineage verify`: on a store directly, or through the HTTP API with --url."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from fastapi.testclient import TestClient
from pypdf import PdfReader
from typer.testing import CliRunner

from api.app import create_app
from api.routes import audit as audit_routes
from lineage.cli import audit
from lineage.reports.render import read_csv
from lineage.reports.verify import verify
from lineage.settings import Settings
from lineage.store.base import Store
from tests.reports.conftest import Forger, seq_of

runner = CliRunner()


def cli() -> typer.Typer:
    app = typer.Typer()
    audit.register(app)
    return app


@pytest.fixture
def local(graph: Store, backend: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Store:
    """The commands read LINEAGE_STORE: the test's store."""
    uri = f"sqlite:///{graph.path}" if backend == "sqlite" else request.getfixturevalue("neo4j_uri")  # type: ignore[attr-defined]
    monkeypatch.setenv("LINEAGE_STORE", uri)
    monkeypatch.delenv("LINEAGE_URL", raising=False)
    return graph


def invoke(*args: str) -> Any:
    return runner.invoke(cli(), list(args), env={"COLUMNS": "200"})


def test_audit_writes_the_format_named_by_the_file(local: Store, tmp_path: Path) -> None:
    out = tmp_path / "churn-2.3.1.pdf"
    result = invoke("audit", "churn@2.3.1", "-o", str(out))
    assert result.exit_code == 0, result.output
    head = verify(local)["head"]
    assert f"log head {head}" in result.stderr
    text = "".join(page.extract_text() for page in PdfReader(out).pages)
    assert "churn@2.3.1" in text and "alice" in text and head in text


def test_audit_prints_to_standard_output(local: Store) -> None:
    result = invoke("audit", "data-v1.8.2", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = read_csv(result.stdout)["Release chain"]
    assert "s3://lake/customers@data-v1.8.2" in [r["label"] for r in rows]
    report = json.loads(invoke("audit", "churn-prod").stdout)  # json by default
    assert report["subject"]["label"] == "churn-prod"
    # No token is involved when the command reads the store itself: the report names the OS user.
    assert report["report"]["requested_by"].endswith("(command line, local store)")


def test_audit_refusals_exit_1_and_say_why(local: Store) -> None:
    missing = invoke("audit", "churn@2.3.2")
    assert missing.exit_code == 1 and "did you mean churn@2.3.1" in missing.stderr
    unknown = invoke("audit", "churn@2.3.1", "--format", "docx")
    assert unknown.exit_code == 1 and "unknown format 'docx'" in unknown.stderr


def test_audit_whole_chain_walks_the_log(local: Store, forger: Forger) -> None:
    seq = seq_of(local, "dep-prod#3", "START")
    forger.swap(seq - 1, seq)
    report = json.loads(invoke("audit", "churn@2.2.0", "--whole-chain").stdout)
    assert (report["log"]["checked"], report["log"]["verified"], report["log"]["first_bad"]["seq"]) == ("chain", False, seq - 1)


def test_verify_exits_1_on_a_tampered_log_and_names_the_entry(local: Store, forger: Forger) -> None:
    sound = invoke("verify")
    assert sound.exit_code == 0 and "ok" in sound.stdout
    seq = seq_of(local, "dep-prod#3", "START")
    forger.swap(seq - 1, seq)
    tampered = invoke("verify")
    assert tampered.exit_code == 1
    assert f"first bad entry: seq {seq - 1} (reordered)" in tampered.stdout
    answer = json.loads(invoke("verify", "--json").stdout)
    assert (answer["ok"], answer["first_bad"]["seq"], answer["first_bad"]["problem"]) == (False, seq - 1, "reordered")


def test_verify_checks_a_reports_head(local: Store) -> None:
    check = verify(local)
    held = invoke("verify", "--entries", str(check["entries"]), "--head", check["head"])
    assert held.exit_code == 0 and f"still holds entry {check['entries']}" in held.stdout
    wrong = invoke("verify", "--entries", str(check["entries"]), "--head", "0" * 64)
    assert wrong.exit_code == 1 and "(modified)" in wrong.stdout
    assert invoke("verify", "--entries", "3").exit_code == 1


@pytest.fixture
def served(graph: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """--url requests go to the API app (with the audit routes) through a test client."""
    app = create_app(settings, store=graph)
    app.include_router(audit_routes.router)
    base = "http://lineage.test"
    with TestClient(app) as client:

        def get(url: str, **kwargs: Any) -> Any:
            kwargs.pop("timeout", None)
            return client.get(url.removeprefix(base), **kwargs)

        monkeypatch.setattr(httpx, "get", get)
        yield base


def test_url_mode_asks_the_service(served: str, graph: Store, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = invoke("audit", "churn@2.3.1", "-o", str(out), "--url", served)
    assert result.exit_code == 0, result.output
    head = verify(graph)["head"]
    assert f"log head {head}" in result.stderr and head in out.read_text()
    missing = invoke("audit", "churn@2.3.2", "--url", served)
    assert missing.exit_code == 1 and "did you mean churn@2.3.1" in missing.stderr
    answer = json.loads(invoke("verify", "--json", "--url", served).stdout)
    assert answer["ok"] is True and answer["head"] == head
