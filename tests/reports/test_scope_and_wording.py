"""Every format says what the report covers, who asked, which check ran, and where to check later;
the CSV carries every section; an endpoint's chain comes by model version (issue 33)."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from api.app import create_app
from api.routes import audit
from lineage.auth import new_token
from lineage.queries import DEFAULT_DEPTH
from lineage.reports.audit import build_report
from lineage.reports.render import CHAIN_BLOCK, REPORT_BLOCK, document, read_csv, renderer
from lineage.settings import Settings
from lineage.store.base import Store
from tests import incident
from tests.reports.conftest import log

AT = "2026-03-05T00:00:00.000000Z"
HUMAN = ("md", "html", "pdf", "csv")


def text(report: dict[str, Any], fmt: str) -> str:
    body = renderer(fmt).render(report)
    if fmt == "pdf":
        return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages).split())
    return body.decode()


@pytest.fixture
def report(graph: Store) -> dict[str, Any]:
    return build_report(graph, "churn@2.3.1", generated_at=AT)


@pytest.fixture
def client(graph: Store, settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings, store=graph)
    app.include_router(audit.router)
    with TestClient(app) as test_client:
        yield test_client


def test_the_scope_is_stated_in_every_format(graph: Store, report: dict[str, Any]) -> None:
    entries = log(graph)
    assert report["scope"] == {
        "direction": "upstream and downstream", "depth": DEFAULT_DEPTH,
        "log_entries": entries[-1].seq, "until": entries[-1].received_at,
    }
    endpoint = build_report(graph, "churn-prod", generated_at=AT)
    assert endpoint["scope"]["direction"] == "upstream"  # what fed the endpoint, nothing after it
    until = re.sub(r"\.0+Z$", "Z", entries[-1].received_at)
    for fmt in HUMAN:
        flat = " ".join(text(report, fmt).split())
        assert f"the chain upstream and downstream of churn@2.3.1, followed up to {DEFAULT_DEPTH} hops" in flat, fmt
        assert f"from log entries 1 to {entries[-1].seq} (the newest received {until})" in flat, fmt


def test_human_formats_have_no_zero_microseconds_and_json_keeps_the_stored_form(report: dict[str, Any]) -> None:
    for fmt in HUMAN:
        body = text(report, fmt)
        assert ".000000Z" not in body, fmt
        assert "2026-03-05T00:00:00Z" in body, fmt  # generated_at, trimmed
    assert '"generated_at": "2026-03-05T00:00:00.000000Z"' in text(report, "json")


def test_the_check_run_is_described_as_what_it_was(graph: Store, report: dict[str, Any]) -> None:
    listed = {e["seq"] for f in report["evidence"] for e in f["events"]}
    for fmt in HUMAN:
        flat = " ".join(text(report, fmt).split())
        assert f"the {len(listed)} entries listed as evidence and the head (entry {report['log']['entries']})" in flat, fmt
        assert "the other entries were not read" in flat, fmt
        assert "Chain verified" in flat and "yes: the check above found every entry it read sound" in flat, fmt
    whole = build_report(graph, "churn@2.3.1", generated_at=AT, whole_chain=True)
    assert whole["log"]["checked_entries"] == whole["log"]["entries"] == len(log(graph))
    flat = " ".join(text(whole, "md").split())
    assert f"the whole log: all {len(log(graph))} entries, from the first to the head" in flat
    assert "not read" not in flat


def test_without_auth_the_report_says_anonymous_and_carries_the_host(client: TestClient) -> None:
    report = client.get("/api/v1/audit", params={"ref": "churn@2.3.1"}).json()
    assert report["report"]["requested_by"] == "anonymous (auth off)"
    url = f"http://testserver/api/v1/verify?entries={report['log']['entries']}&head={report['log']['head']}"
    assert report["log"]["verify_url"] == url
    md = client.get("/api/v1/audit", params={"ref": "churn@2.3.1", "format": "md"}).text
    assert f"- **Check later:** GET {url}" in md and "- **Requested by:** anonymous (auth off)" in md
    # The link works as written.
    assert client.get(url.removeprefix("http://testserver")).json()["ok"] is True


def test_with_auth_the_report_names_the_token(graph: Store, settings: Settings) -> None:
    secret, record = new_token("compliance-officer", ["read"], "2026-01-01T00:00:00.000000Z")
    graph.put_token(record)
    app = create_app(settings, store=graph)
    app.include_router(audit.router)
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {secret}"}
        report = client.get("/api/v1/audit", params={"ref": "churn@2.3.1"}, headers=headers).json()
        assert report["report"]["requested_by"] == "compliance-officer"
        pdf = client.get("/api/v1/audit", params={"ref": "churn@2.3.1", "format": "pdf"}, headers=headers).content
        first = " ".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
        assert "Requested by compliance-officer" in first


def test_the_csv_carries_the_header_facts_and_every_section(report: dict[str, Any]) -> None:
    blocks = read_csv(text(report, "csv"))
    facts = {r["field"]: r["value"] for r in blocks[REPORT_BLOCK]}
    assert facts["Log head"] == report["log"]["head"] and facts["Log entries"] == str(report["log"]["entries"])
    assert facts["Requested by"] == "anonymous (auth off)" and facts["Scope"].startswith("the chain upstream and downstream")
    assert facts["Chain verified"].startswith("yes") and "entries listed as evidence" in facts["Check run"]
    assert [r["label"] for r in blocks[CHAIN_BLOCK]] == [c["label"] for c in report["chain"]]
    others = [s.title for s in document(report) if not s.title.startswith("Release chain")]
    assert others and all(title in blocks for title in others)
    assert {r["reviewer"]: r["decision"] for r in blocks["Approvals and checks"]} == {"alice": "approved", "bob": "rejected"}
    assert {r["tag"] for r in blocks["Annotations"]} == {"quarantined"}
    assert {r["version"] for r in blocks["Immutability violations"]} == {"s3://lake/customers@data-v1.8.2"}
    evidence = {r["event id = sha256"].split()[0] for r in blocks["Evidence: log entries for each fact"]}
    assert evidence == {e["id"] for f in report["evidence"] for e in f["events"]}


def test_an_endpoint_report_groups_its_chain_by_model_version(graph: Store) -> None:
    report = build_report(graph, "churn-prod", generated_at=AT)
    groups = {g["model_version"]: g["rows"] for g in report["chain_groups"]}
    assert set(groups) == {"churn@2.2.0", "churn@2.3.1"}
    label = {c["id"]: c["label"] for c in report["chain"]}
    old, new = ({label[i] for i in groups[v]} for v in ("churn@2.2.0", "churn@2.3.1"))
    assert "churn@2.3.1" in new and "churn@2.3.1" not in old
    assert "churn-prod serving churn@2.3.1" in new and "churn-prod serving churn@2.3.1" not in old
    assert "churn-prod serving churn@2.2.0" in old and "s3://lake/customers@data-v1.7.1" in old
    assert incident.COMMIT_TRAIN_2[:12] in new and incident.COMMIT_TRAIN_2[:12] not in old
    assert "s3://lake/customers@data-v1.8.2" in new and "s3://lake/customers@data-v1.8.2" not in old
    md = text(report, "md")
    assert md.index("## Release chain of churn@2.2.0") < md.index("## Release chain of churn@2.3.1")
    table = md.split("## Release chain of churn@2.2.0")[1].split("\n## ")[0]
    assert "churn@2.2.0" in table and "data-v1.8.2" not in table
    by_version = read_csv(text(report, "csv"))["Release chain by model version"]
    assert {(r["model version"], r["label"]) for r in by_version} >= {("churn@2.3.1", "churn-prod serving churn@2.3.1")}
    assert json.loads(text(report, "json"))["chain_groups"] == report["chain_groups"]
    # A model version's own report has one chain table.
    assert build_report(graph, "churn@2.3.1", generated_at=AT)["chain_groups"] == []
