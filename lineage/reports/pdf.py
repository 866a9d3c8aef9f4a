"""The PDF audit report, rendered with fpdf2 (pure Python: no system libraries needed)."""

from __future__ import annotations

from typing import Any

from fpdf import FPDF
from fpdf.fonts import FontFace

from lineage.reports.render import Report, Section, document, identity, title

_MONO = FontFace(family="Courier", size_pt=6.5)
_HEADING = FontFace(family="Helvetica", emphasis="B", size_pt=6.5, fill_color=(236, 239, 242))
_SUBJECT = FontFace(fill_color=(255, 248, 197))


def _latin1(text: str) -> str:
    """The PDF core fonts cover Latin-1 only: anything else is kept visible as \\uXXXX rather
    than dropped (the JSON and HTML forms carry the exact text)."""
    return text.encode("latin-1", "backslashreplace").decode("latin-1")


class _Document(FPDF):
    def __init__(self, report: Report) -> None:
        super().__init__(orientation="landscape", unit="mm", format="A4")
        self.report = report
        self.set_margins(10, 10, 10)
        self.set_auto_page_break(auto=True, margin=12)
        self.set_title(_latin1(title(report)))
        self.set_creator(_latin1(report["report"]["generator"]))

    def footer(self) -> None:
        self.set_y(-9)
        self.set_font("Helvetica", size=6.5)
        self.set_text_color(90)
        log = self.report["log"]
        text = f"{title(self.report)}  |  log head {log['head']} ({log['entries']} entries)  |  page {self.page_no()}/{{nb}}"
        self.cell(0, 5, _latin1(text), align="C")
        self.set_text_color(0)


def _section(pdf: FPDF, section: Section) -> None:
    pdf.set_font("Helvetica", "B", 10)
    pdf.ln(3)
    pdf.cell(0, 6, _latin1(section.title), new_x="LMARGIN", new_y="NEXT")
    if not section.rows:
        pdf.set_font("Helvetica", "I", 7.5)
        pdf.cell(0, 5, "None.", new_x="LMARGIN", new_y="NEXT")
        return
    pdf.set_font("Helvetica", size=6.5)
    with pdf.table(
        col_widths=section.widths,
        width=sum(section.widths),
        align="LEFT",
        text_align="LEFT",
        headings_style=_HEADING,
        line_height=3.2,
        padding=0.8,
        repeat_headings=1,
    ) as table:
        heading = table.row()
        for column in section.columns:
            heading.cell(_latin1(column))
        for i, values in enumerate(section.rows):
            row = table.row()
            for j, value in enumerate(values):
                style: Any = _MONO if j in section.mono else None
                if i in section.highlight:
                    style = FontFace(family=style.family if style else None, size_pt=6.5, fill_color=_SUBJECT.fill_color)
                row.cell(_latin1(value), style=style)


def render_pdf(report: Report) -> bytes:
    pdf = _Document(report)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(0, 9, _latin1(title(report)), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=8)
    for key, value in identity(report):
        pdf.set_font("Helvetica", "B", 8)
        pdf.cell(32, 4.5, _latin1(key))
        warn = key == "Chain" and bool(report.get("warnings"))  # "incomplete chain" stands out
        pdf.set_font("Courier" if key == "Log head" else "Helvetica", "B" if warn else "", size=8)
        pdf.set_text_color(180, 35, 24) if warn else pdf.set_text_color(0)
        pdf.multi_cell(0, 4.5, _latin1(value), new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0)
    for section in document(report):
        _section(pdf, section)
    return bytes(pdf.output())
