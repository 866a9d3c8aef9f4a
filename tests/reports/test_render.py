"""Every format of the audit report carries the chain, the approvals and the evidence ids."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import jsonschema
import pytest
from pypdf import PdfReader

from lineage.errors import InvalidEvent
from lineage.reports.audit import build_report
from lineage.reports.render import CSV_COLUMNS, RENDERERS, read_csv, renderer
from lineage.reports.schema import AUDIT_SCHEMA
from lineage.store.base import Store
from tests import incident

AT = "2026-03-05T00:00:00.000000Z"


@pytest.fixture
def report(graph: Store) -> dict[str, Any]:
    return build_report(graph, "churn@2.3.1", generated_at=AT)


def must_show(report: dict[str, Any]) -> list[str]:
    """What a reader must find in a document form of the churn@2.3.1 report."""
    return [
        "churn@2.3.1",  # the model version
        "s3://lake/customers@data-v1.8.2",  # its dataset version
        "churn_features@fv-2",  # its feature view version
        incident.COMMIT_DATA_BAD,  # the commits, in full
        incident.COMMIT_TRAIN_2,
        "churn-prod serving churn@2.3.1",  # a deployment
        "alice", "approved", "bob", "rejected", "bias_audit: FAIL",  # who approved, who refused, which check failed
        "quarantined", "biased label mapping",  # the annotation
        report["log"]["head"],  # the chain head it was made from
        *{e["id"] for f in report["evidence"] for e in f["events"]},  # every evidence event id
    ]


def pdf_text(body: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def test_the_pdf_is_a_real_document_with_the_whole_report(report: dict[str, Any]) -> None:
    body = renderer("pdf").render(report)
    assert body.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(body))
    assert len(reader.pages) >= 2
    # As PDF/A-2b the title is in the XMP metadata (fpdf2 writes no Info dictionary then).
    assert reader.xmp_metadata is not None and reader.xmp_metadata.dc_title["x-default"] == "Audit report: churn@2.3.1"
    text = pdf_text(body)
    missing = [want for want in must_show(report) if want not in text]
    assert not missing
    assert "Release chain" in text and "Evidence: log entries for each fact" in text


def test_the_html_is_one_self_contained_file_with_the_whole_report(report: dict[str, Any]) -> None:
    page = renderer("html").render(report).decode()
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    missing = [want for want in must_show(report) if want not in page]
    assert not missing
    # Nothing to fetch: no scripts, stylesheets, images or fonts from elsewhere.
    assert not re.search(r"<(script|link|img|iframe|object)\b|\bsrc=|@import|url\(", page, re.IGNORECASE)
    assert "<style>" in page


def test_markup_in_the_data_is_escaped(graph: Store) -> None:
    from lineage.ingest.parse import parse_event
    from lineage.refs import resolve_ref
    from lineage.service import annotation_body
    from tests.conformance.test_projection_rules import NOW

    target = resolve_ref(graph, "churn@2.3.1")
    body = annotation_body(target.id, "churn@2.3.1", "investigation", "<script>alert(1)</script> | x", "eve", "2026-03-04T01:00:00Z")
    graph.ingest([parse_event(body)], NOW)
    report = build_report(graph, "churn@2.3.1", generated_at=AT)
    page = renderer("html").render(report).decode()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "\\| x" in renderer("md").render(report).decode()
    assert "<script>alert(1)</script> | x" in pdf_text(renderer("pdf").render(report))


def test_the_csv_is_the_chain_table(report: dict[str, Any]) -> None:
    table = read_csv(renderer("csv").render(report).decode())["Release chain"]
    assert list(table[0]) == CSV_COLUMNS
    assert [r["label"] for r in table] == [c["label"] for c in report["chain"]]
    by_label = {r["label"]: r for r in table}
    assert by_label["churn@2.3.1"]["step"] == "model_version" and by_label["churn@2.3.1"]["subject"] == "yes"
    assert by_label[incident.COMMIT_TRAIN_2[:12]]["version"] == incident.COMMIT_TRAIN_2
    assert by_label["s3://lake/customers@data-v1.8.2"]["step"] == "dataset_version"
    chain = {c["label"]: c for c in report["chain"]}
    assert by_label["churn@2.3.1"]["evidence"].split() == chain["churn@2.3.1"]["evidence"]


def test_the_markdown_has_every_section(report: dict[str, Any]) -> None:
    text = renderer("md").render(report).decode()
    for heading in ("Release chain", "Training setup", "Approvals and checks", "Alias history", "Deployment timeline",
                    "Annotations", "Immutability violations", "Evidence: log entries for each fact"):
        assert f"\n## {heading}\n" in text
    missing = [want for want in must_show(report) if want not in text]
    assert not missing


def test_the_json_is_the_report_and_validates(report: dict[str, Any]) -> None:
    parsed = json.loads(renderer("json").render(report))
    assert parsed == json.loads(json.dumps(report))
    jsonschema.Draft202012Validator(AUDIT_SCHEMA).validate(parsed)


def test_the_formats_say_the_same(report: dict[str, Any]) -> None:
    """Each document format shows each fact of the chain and each evidence entry."""
    texts = {name: renderer(name).render(report).decode() for name in ("md", "html", "json")}
    texts["pdf"] = pdf_text(renderer("pdf").render(report))
    # A long label may wrap inside its PDF table cell: compare without white space.
    texts = {name: "".join(text.split()) for name, text in texts.items()}
    for row in report["chain"]:
        for name, text in texts.items():
            assert "".join(row["label"].split()) in text, (name, row["label"])
    seqs = [str(e["seq"]) for f in report["evidence"] for e in f["events"]]
    assert seqs and all(s in texts["pdf"] for s in seqs)


def test_unknown_formats_are_refused_by_name() -> None:
    assert set(RENDERERS) == {"json", "md", "html", "pdf", "csv"}
    with pytest.raises(InvalidEvent) as refused:
        renderer("docx")
    assert refused.value.field == "format" and "json, md, html, pdf, csv" in str(refused.value)
    assert renderer(" PDF ").name == "pdf"
