"""The PDF report embeds a Unicode font, is PDF/A-2b, and gives back the names it prints."""

from __future__ import annotations

import io
from typing import Any

import pytest
from pypdf import PdfReader

from lineage.reports.audit import build_report
from lineage.reports.render import renderer
from lineage.store.base import Store

AT = "2026-03-05T00:00:00.000000Z"
AUTHOR = "Zoë Łukasz 李明"


@pytest.fixture
def report(graph: Store) -> dict[str, Any]:
    built = build_report(graph, "churn@2.3.1", generated_at=AT)
    # A name from outside Latin-1 where a reader meets it: the author of the annotation, and a
    # dash and a tick in its reason.
    built["annotations"][0]["author"] = AUTHOR
    built["annotations"][0]["reason"] = "biased label mapping — reviewed ✓"
    return built


def text_of(body: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def test_latin_greek_and_symbols_come_back_out_of_the_pdf(report: dict[str, Any]) -> None:
    text = text_of(renderer("pdf").render(report))
    assert "Zoë Łukasz" in text
    assert "biased label mapping — reviewed ✓" in text
    assert "\\u0141" not in text and "\\u2014" not in text  # no escapes any more


def test_cjk_prints_as_its_code_points_because_the_font_has_no_cjk(report: dict[str, Any]) -> None:
    """The stated fallback (docs/audit.md): DejaVu Sans has no CJK glyphs, so 李明 prints as
    [U+674E][U+660E] instead of vanishing; the other formats carry the characters themselves."""
    text = text_of(renderer("pdf").render(report))
    assert "Zoë Łukasz [U+674E][U+660E]" in text
    assert AUTHOR in renderer("html").render(report).decode()


def test_the_font_is_embedded_and_the_file_claims_pdf_a_2b(report: dict[str, Any]) -> None:
    reader = PdfReader(io.BytesIO(renderer("pdf").render(report)))
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts[font["/BaseFont"]] = font
    assert fonts and all("DejaVu" in name for name in fonts)  # no core (unembedded) fonts left
    for font in fonts.values():
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor  # the TrueType program is inside the file
    xmp = reader.xmp_metadata
    assert xmp is not None
    raw = xmp.stream.get_data().decode()
    assert "<pdfaid:part>2</pdfaid:part>" in raw and "<pdfaid:conformance>B</pdfaid:conformance>" in raw
    assert "/OutputIntents" in reader.trailer["/Root"]
