"""`lineage emit deploy/promote` end to end: the CLI, the SDK, a real `lineage serve`, the API."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import typer
from typer.testing import CliRunner

from lineage.cli import emit
from tests.server import running

PARENT = "ci/release-pipeline/0190c8e4-7b1a-7c7e-9d5e-1a2b3c4d5e6f"


@pytest.fixture
def cli() -> typer.Typer:
    """The `lineage` command group as main.py builds it, with `emit` registered."""
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """lineage"""

    emit.register(app)
    return app


@pytest.fixture
def service(tmp_path: Path, clean_env: Path) -> Iterator[str]:
    with running(f"sqlite:///{tmp_path / 'lineage.db'}") as url:
        yield url


def _run(cli: typer.Typer, *args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, ["emit", args[0], "--json", *args[1:]])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, orjson.loads(result.stdout.strip().splitlines()[-1])


def test_deploys_canary_failed_deploy_and_promotions(cli: typer.Typer, service: str) -> None:
    code, first = _run(cli, "deploy", "churn@2.2.0", "--endpoint", "churn-prod", "--to", service)
    assert (code, first["delivered"]) == (0, True)
    code, _ = _run(cli, "deploy", "churn@2.3.1", "--endpoint", "churn-prod", "--traffic", "10", "--endpoint-url", "https://churn.example", "--to", service)
    assert code == 0
    failing = [sys.executable, "-c", "import sys; sys.exit(3)"]
    code, failed = _run(cli, "deploy", "churn@2.3.1", "--endpoint", "churn-eu", "--to", service, "--", *failing)
    assert code == 3  # the deploy command's own status
    code, _ = _run(cli, "promote", "churn@2.2.0", "--alias", "Production", "--reviewer", "alice", "--check", "auc=true", "--to", service)
    assert code == 0
    code, _ = _run(cli, "promote", "churn@2.3.1", "--alias", "Production", "--reviewer", "bob", "--check", "bias=false", "--to", service)
    assert code == 0

    prod = httpx.get(f"{service}/api/v1/endpoints/churn-prod").json()
    assert sorted(prod["current_model_version"]) == ["churn@2.2.0", "churn@2.3.1"]
    canary = next(d for d in prod["current"] if d["canary"])
    assert (canary["model_versions"], canary["traffic_percent"]) == (["churn@2.3.1"], 10.0)
    eu = httpx.get(f"{service}/api/v1/endpoints/churn-eu").json()
    assert eu["current"] == [] and [d["status"] for d in eu["history"]] == ["failed"]
    assert eu["history"][0]["run_id"] == failed["run_id"]
    error = httpx.get(f"{service}/api/v1/events", params={"run": failed["run_id"]}).json()["events"][-1]["event"]
    assert "exited with status 3" in error["run"]["facets"]["errorMessage"]["message"]
    aliases = httpx.get(f"{service}/api/v1/models/churn/versions").json()["aliases"]
    production = next(a for a in aliases if a["alias"] == "Production")
    assert production["current_version"] == "2.2.0"  # bob's rejected promotion did not move it
    assert prod["history"][-1]["run_id"] == first["run_id"]  # newest first


def test_openlineage_configuration_and_parent_from_the_environment(
    cli: typer.Typer, service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "http")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__URL", service)
    monkeypatch.setenv("OPENLINEAGE_PARENT_ID", PARENT)
    monkeypatch.setenv("OPENLINEAGE_NAMESPACE", "ci")
    code, out = _run(cli, "deploy", "churn@2.3.1", "--endpoint", "churn-batch", "--environment", "batch")
    assert code == 0 and out["delivered"]
    event = httpx.get(f"{service}/api/v1/events", params={"run": out["run_id"]}).json()["events"][-1]["event"]
    assert event["job"] == event["job"] | {"namespace": "ci", "name": "deploy-churn-batch"}
    parent = event["run"]["facets"]["parent"]
    assert (parent["job"]["name"], parent["run"]["runId"]) == ("release-pipeline", PARENT.rsplit("/", 1)[1])
    node = httpx.get(f"{service}/api/v1/nodes/run-{out['run_id']}").json()
    assert {e["dst"] for e in node["out"] if e["type"] == "CHILD_OF"} == {f"run-{PARENT.rsplit('/', 1)[1]}"}


def test_service_down_warns_and_exits_0_unless_strict(cli: typer.Typer, clean_env: Path) -> None:
    from tests.server import free_port

    down = f"http://127.0.0.1:{free_port()}"
    relaxed = CliRunner().invoke(cli, ["emit", "promote", "churn@2.3.1", "--alias", "Staging", "--reviewer", "ci", "--decision", "approved", "--to", down])
    assert relaxed.exit_code == 0
    assert "not delivered" in relaxed.output
    strict = CliRunner().invoke(cli, ["emit", "deploy", "churn@2.3.1", "--endpoint", "churn-prod", "--to", down, "--strict", "--", "true"])
    assert strict.exit_code == 1
    assert "could not deliver START" in strict.output


def test_bad_arguments_are_refused(cli: typer.Typer, clean_env: Path) -> None:
    for args in (
        ["deploy", "churn-2.3.1", "--endpoint", "churn-prod"],
        ["deploy", "churn@2.3.1", "--endpoint", "churn-prod", "--traffic", "150"],
        ["promote", "churn@2.3.1", "--alias", "Production", "--reviewer", "a", "--check", "auc"],
        ["promote", "churn@2.3.1", "--alias", "Production", "--reviewer", "a", "--decision", "maybe"],
    ):
        result = CliRunner().invoke(cli, ["emit", *args])
        assert result.exit_code == 2, (args, result.output)
