"""Configuration the OpenLineage way: code, `openlineage.yml`, `OPENLINEAGE__...` variables,
`OPENLINEAGE_URL`; our default when nothing is configured; where facet schema URLs point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openlineage.client.transport.composite import CompositeTransport
from openlineage.client.transport.console import ConsoleTransport
from openlineage.client.transport.file import FileTransport
from openlineage.client.transport.http import HttpTransport
from openlineage.client.transport.noop import NoopTransport

from emitters import Lineage, build_client
from tests.emitters.conftest import TickClock, file_transport


def _events(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_nothing_configured_sends_http_to_the_local_service(clean_env: Path) -> None:
    client = build_client()
    assert isinstance(client.transport, HttpTransport)
    assert client.transport.url == "http://127.0.0.1:5000"
    assert client.transport.config.retry["total"] == 3  # bounded, shorter than the client's default
    assert Lineage(client=client).emitter.schema_base_url == "http://127.0.0.1:5000"


def test_openlineage_yml_in_the_working_directory(clean_env: Path, tmp_path: Path) -> None:
    out = tmp_path / "events.ndjson"
    (clean_env / "openlineage.yml").write_text(f"transport:\n  type: file\n  log_file_path: {out}\n  append: true\n")
    lineage = Lineage(clock=TickClock())
    assert isinstance(lineage.emitter.client.transport, FileTransport)
    with lineage.data_step("extract"):
        pass
    assert [e["eventType"] for e in _events(out)] == ["START", "COMPLETE"]


def test_openlineage_variables(clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "console")
    assert isinstance(build_client().transport, ConsoleTransport)
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "file")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__LOG_FILE_PATH", str(tmp_path / "env.ndjson"))
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__APPEND", "true")
    with Lineage(clock=TickClock()).data_step("extract"):
        pass
    assert len(_events(tmp_path / "env.ndjson")) == 2


def test_openlineage_url_and_the_schema_base_follows_it(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENLINEAGE_URL", "http://lineage.internal:5000/")
    lineage = Lineage()
    assert isinstance(lineage.emitter.client.transport, HttpTransport)
    assert lineage.emitter.schema_base_url == "http://lineage.internal:5000"


def test_code_beats_the_environment(clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "console")
    lineage = Lineage(config={"transport": file_transport(tmp_path / "code.ndjson")})
    assert isinstance(lineage.emitter.client.transport, FileTransport)


def test_disabled_sends_nothing_and_the_pipeline_runs(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENLINEAGE_DISABLED", "true")
    lineage = Lineage()
    assert isinstance(lineage.emitter.client.transport, NoopTransport)
    with lineage.deploy_step("churn@2.3.1", "churn-prod") as run:
        ran = run.run_id
    assert ran


def test_composite_sends_to_the_service_and_a_file_and_schemas_point_at_the_service(clean_env: Path, tmp_path: Path) -> None:
    config = {
        "transport": {
            "type": "composite",
            "transports": {"file": file_transport(tmp_path / "copy.ndjson"), "lineage": {"type": "http", "url": "http://lineage.internal:5000"}},
        }
    }
    lineage = Lineage(config=config)
    assert isinstance(lineage.emitter.client.transport, CompositeTransport)
    assert lineage.emitter.schema_base_url == "http://lineage.internal:5000"


def test_schema_base_setting_wins(clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINEAGE_EMIT_SCHEMA_BASE_URL", "https://lineage.example.com")
    out = tmp_path / "events.ndjson"
    lineage = Lineage(config={"transport": file_transport(out)}, clock=TickClock())
    with lineage.promotion("churn@2.3.1", "Production", reviewer="alice", decision="approved"):
        pass
    facets = _events(out)[-1]["run"]["facets"]
    assert facets["ml_alias"]["_schemaURL"] == "https://lineage.example.com/schemas/facets/ml_alias.json"  # type: ignore[index]
