"""The PDF audit report, rendered with fpdf2 as PDF/A-2b with an embedded Unicode font."""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.fonts import FontFace

from lineage.reports.render import Report, Section, document, identity, title

# DejaVu Sans (SIL OFL 1.1 / Bitstream Vera licence) as matplotlib ships it: a pinned, maintained
# PyPI dependency, so a fresh clone gets the same font from pip. Debian's fonts-dejavu-core is the
# fallback. It covers Latin, Greek, Cyrillic, Hebrew, Arabic, Armenian, Georgian and symbols such as
# — and ✓. It has no CJK glyphs: a character it lacks prints as its code point, [U+674E], rather
# than vanish (docs/audit.md says so); the JSON, HTML and Markdown forms carry the exact text.
SANS = "DejaVu"
MONO = "DejaVuMono"
_FILES = {
    (SANS, ""): "DejaVuSans.ttf",
    (SANS, "B"): "DejaVuSans-Bold.ttf",
    (SANS, "I"): "DejaVuSans-Oblique.ttf",
    (MONO, ""): "DejaVuSansMono.ttf",
}
_SYSTEM_DIR = Path("/usr/share/fonts/truetype/dejavu")

_MONO = FontFace(family=MONO, size_pt=6.5)
_HEADING = FontFace(family=SANS, emphasis="B", size_pt=6.5, fill_color=(236, 239, 242))
_SUBJECT = FontFace(fill_color=(255, 248, 197))


@cache
def font_dir() -> Path:
    """Where the DejaVu TTF files are: matplotlib's copy first, else the system's."""
    spec = importlib.util.find_spec("matplotlib")  # located, not imported: importing it costs ~0.5 s
    bases = list(spec.submodule_search_locations or []) if spec else []
    for base in bases:
        candidate = Path(base) / "mpl-data" / "fonts" / "ttf"
        if (candidate / "DejaVuSans.ttf").is_file():
            return candidate
    if (_SYSTEM_DIR / "DejaVuSans.ttf").is_file():
        return _SYSTEM_DIR
    raise RuntimeError("no DejaVu Sans font found: install matplotlib (a dependency) or fonts-dejavu-core")


@cache
def _covered() -> frozenset[int]:
    """The code points every embedded face has a glyph for."""
    from fontTools.ttLib import TTFont  # fpdf2's own dependency

    faces = [set(TTFont(font_dir() / name, lazy=True).getBestCmap()) for name in _FILES.values()]
    return frozenset(set.intersection(*faces))


def _p(text: str) -> str:
    """Text as the fonts can print it: a character they lack becomes its code point, [U+674E]."""
    covered = _covered()
    if all(ord(c) in covered or c in "\n\t" for c in text):
        return text
    return "".join(c if ord(c) in covered or c in "\n\t" else f"[U+{ord(c):04X}]" for c in text)


class _Document(FPDF):
    def __init__(self, report: Report) -> None:
        # PDF/A-2b: fonts embedded, XMP metadata and an sRGB output intent, checked by fpdf2 as it writes.
        super().__init__(orientation="landscape", unit="mm", format="A4", enforce_compliance="PDF/A-2B")
        self.report = report
        for (family, style), name in _FILES.items():
            self.add_font(family, style, str(font_dir() / name))
        self.set_margins(10, 10, 10)
        self.set_auto_page_break(auto=True, margin=12)
        self.set_title(_p(title(report)))
        self.set_creator(_p(report["report"]["generator"]))

    def footer(self) -> None:
        self.set_y(-9)
        self.set_font(SANS, size=6.5)
        self.set_text_color(90)
        log = self.report["log"]
        text = f"{title(self.report)}  |  log head {log['head']} ({log['entries']} entries)  |  page {self.page_no()}/{{nb}}"
        self.cell(0, 5, _p(text), align="C")
        self.set_text_color(0)


def _section(pdf: FPDF, section: Section) -> None:
    pdf.set_font(SANS, "B", 10)
    pdf.ln(3)
    pdf.cell(0, 6, _p(section.title), new_x="LMARGIN", new_y="NEXT")
    if not section.rows:
        pdf.set_font(SANS, "I", 7.5)
        pdf.cell(0, 5, "None.", new_x="LMARGIN", new_y="NEXT")
        return
    pdf.set_font(SANS, size=6.5)
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
            heading.cell(_p(column))
        for i, values in enumerate(section.rows):
            row = table.row()
            for j, value in enumerate(values):
                style: Any = _MONO if j in section.mono else None
                if i in section.highlight:
                    style = FontFace(family=style.family if style else None, size_pt=6.5, fill_color=_SUBJECT.fill_color)
                row.cell(_p(value), style=style)


def render_pdf(report: Report) -> bytes:
    pdf = _Document(report)
    pdf.add_page()
    pdf.set_font(SANS, "B", 15)
    pdf.cell(0, 9, _p(title(report)), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(SANS, size=8)
    for key, value in identity(report):
        pdf.set_font(SANS, "B", 8)
        pdf.cell(32, 4.5, _p(key))
        warn = key == "Chain" and bool(report.get("warnings"))  # "incomplete chain" stands out
        pdf.set_font(MONO if key == "Log head" else SANS, "B" if warn else "", size=8)
        pdf.set_text_color(180, 35, 24) if warn else pdf.set_text_color(0)
        pdf.multi_cell(0, 4.5, _p(value), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0)
    for section in document(report):
        _section(pdf, section)
    return bytes(pdf.output())
