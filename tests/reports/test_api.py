"""The audit HTTP contract: /api/v1/audit, /api/v1/verify and /schemas/audit.json, on both stores."""

from __future__ import annotations

import io
from collections.abc import Iterator

import jsonschema
import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from api.app import create_app
from api.routes import audit
from lineage.reports.render import read_csv
from lineage.settings import Settings
from lineage.store.base import Store
from tests.reports.conftest import Forger, seq_of


@pytest.fixture
def client(graph: Store, settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings, store=graph)
    app.include_router(audit.router)
    with TestClient(app) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [("json", "application/json"), ("md", "text/markdown"), ("html", "text/html"), ("pdf", "application/pdf"), ("csv", "text/csv")],
)
def test_every_format_is_served_with_the_log_head(client: TestClient, fmt: str, media_type: str) -> None:
    response = client.get("/api/v1/audit", params={"ref": "churn@2.3.1", "format": fmt})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    assert response.headers["content-disposition"] == f'inline; filename="audit-churn_2.3.1.{fmt}"'
    verified = client.get("/api/v1/verify").json()
    assert response.headers["x-lineage-log-head"] == verified["head"]
    assert response.headers["x-lineage-log-entries"] == str(verified["entries"])
    if fmt == "pdf":
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
        assert "churn@2.3.1" in text and verified["head"] in text
    elif fmt == "csv":
        assert "churn@2.3.1" in [r["label"] for r in read_csv(response.text)["Release chain"]]
    else:
        assert verified["head"] in response.text


def test_json_is_the_default_and_validates_against_the_served_schema(client: TestClient) -> None:
    report = client.get("/api/v1/audit", params={"ref": "churn-prod"}).json()
    schema_response = client.get("/schemas/audit.json")
    assert schema_response.status_code == 200
    assert schema_response.headers["content-type"].startswith("application/schema+json")
    schema = schema_response.json()
    assert report["$schema"] == schema["$id"] == "http://testserver/schemas/audit.json"
    jsonschema.Draft202012Validator(schema).validate(report)
    assert report["subject"]["type"] == "endpoint"
    check = client.get("/api/v1/verify").json()
    assert (report["log"]["entries"], report["log"]["head"], report["log"]["verified"]) == (check["entries"], check["head"], True)


def test_check_chain_walks_the_whole_log(client: TestClient, graph: Store, forger: Forger) -> None:
    """Tampering outside a report's evidence shows only when the whole chain is asked for."""
    from tests.conformance.test_projection_rules import ingest
    from tests.reports.conftest import s

    ingest(graph, s.event("other#1", "COMPLETE", s.ts(8, day=6), job="unrelated-etl", outputs=[s.dataset("ledger", "l-1")]))
    ingest(graph, s.event("other#2", "COMPLETE", s.ts(9, day=6), job="unrelated-etl", outputs=[s.dataset("ledger", "l-2")]))
    seq = seq_of(graph, "other#1")
    forger.update(seq, received_at="2026-03-01T00:00:00.000000Z")
    scoped = client.get("/api/v1/audit", params={"ref": "churn@2.3.1"}).json()["log"]
    assert (scoped["verified"], scoped["checked"]) == (True, "evidence")
    whole = client.get("/api/v1/audit", params={"ref": "churn@2.3.1", "check": "chain"}).json()["log"]
    assert (whole["verified"], whole["checked"], whole["first_bad"]["seq"]) == (False, "chain", seq)
    md = client.get("/api/v1/audit", params={"ref": "churn@2.3.1", "check": "chain", "format": "md"}).text
    assert f"NO: entry {seq} modified" in md
    bad = client.get("/api/v1/audit", params={"ref": "churn@2.3.1", "check": "all"})
    assert bad.status_code == 400 and bad.json()["field"] == "check"


def test_unknown_ref_is_404_with_suggestions_and_unknown_format_is_400(client: TestClient) -> None:
    missing = client.get("/api/v1/audit", params={"ref": "churn@2.3.2", "format": "pdf"})
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    assert "churn@2.3.1" in [s["ref"] for s in missing.json()["suggestions"]]
    bad = client.get("/api/v1/audit", params={"ref": "churn@2.3.1", "format": "docx"})
    assert bad.status_code == 400
    assert bad.json()["field"] == "format" and "json, md, html, pdf, csv" in bad.json()["detail"]
    job = client.get("/api/v1/audit", params={"ref": "train-churn"})
    assert job.status_code == 400 and job.json()["field"] == "ref"
    assert client.get("/api/v1/audit").json()["field"] == "ref"  # ref is required


def test_verify_names_the_first_bad_entry(client: TestClient, graph: Store, forger: Forger) -> None:
    sound = client.get("/api/v1/verify").json()
    assert sound["ok"] is True and sound["first_bad"] is None
    seq = seq_of(graph, "prom#2")
    forger.update(seq, received_at="2026-03-01T00:00:00.000000Z")
    answer = client.get("/api/v1/verify")
    assert answer.status_code == 200  # the check ran; its answer is that the log was altered
    assert answer.json()["ok"] is False
    assert answer.json()["first_bad"] | {"detail": ""} == {"seq": seq, "id": forger.entry(seq)["id"], "problem": "modified", "detail": ""}


def test_verify_checks_a_reports_head(client: TestClient, graph: Store, forger: Forger) -> None:
    report = client.get("/api/v1/audit", params={"ref": "churn@2.3.1"}).json()
    params = {"entries": report["log"]["entries"], "head": report["log"]["head"]}
    held = client.get("/api/v1/verify", params=params).json()
    assert held["ok"] is True and held["anchor"] == {**params, "ok": True, "first_bad": None}
    forger.delete(report["log"]["entries"])
    cut = client.get("/api/v1/verify", params=params).json()
    assert cut["ok"] is False and cut["first_bad"]["problem"] == "deleted"
    assert client.get("/api/v1/verify", params={"entries": 3}).status_code == 400
    assert client.get("/api/v1/verify", params={"entries": 3, "head": "xyz"}).status_code == 400


def test_reports_and_verify_need_the_read_scope_and_the_schema_is_open(graph: Store, settings: Settings) -> None:
    from lineage.auth import new_token

    secrets = {}
    for name, scopes in (("pipeline", ["ingest"]), ("auditor", ["read"])):
        secrets[name], record = new_token(name, scopes, "2026-01-01T00:00:00.000000Z")
        graph.put_token(record)
    app = create_app(settings, store=graph)
    app.include_router(audit.router)
    with TestClient(app) as client:
        for path, params in (("/api/v1/audit", {"ref": "churn@2.3.1"}), ("/api/v1/verify", {})):
            assert client.get(path, params=params).status_code == 401
            assert client.get(path, params=params, headers={"Authorization": f"Bearer {secrets['pipeline']}"}).status_code == 403
            assert client.get(path, params=params, headers={"Authorization": f"Bearer {secrets['auditor']}"}).status_code == 200
        assert client.get("/schemas/audit.json").status_code == 200
