"""Renderers of an audit report, in a small registry keyed by format: json, md, html, pdf, csv."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from lineage.errors import InvalidEvent

# Every document format is laid out from one list of sections (`document`), so json, md, html and
# pdf carry the same content; csv is the release chain table alone (issue 5).

Report = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Section:
    """One table of a report: a title, the column names, rows of text, and for the PDF the
    column widths in mm (277 in all, A4 landscape) and which columns hold hashes (monospace)."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    widths: list[float]
    mono: frozenset[int] = field(default_factory=frozenset)
    highlight: frozenset[int] = field(default_factory=frozenset)  # rows about the subject itself


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (dict, list)):
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode() if value else ""
    return str(value)


def _checks(checks: dict[str, Any]) -> str:
    return ", ".join(f"{k}: {'pass' if v is True else 'FAIL' if v is False else _text(v)}" for k, v in sorted(checks.items()))


def title(report: Report) -> str:
    return f"Audit report: {report['subject']['label']}"


def completeness(report: Report) -> str:
    """The report's first statement about its chain: complete as far as the log shows, or
    "incomplete chain" and why (issue 29)."""
    warnings = report.get("warnings") or []
    if not warnings:
        return "complete as far as the log shows"
    kinds = sorted({w["kind"].replace("_", " ") for w in warnings})
    return f"INCOMPLETE CHAIN: {len(warnings)} warning{'s' * (len(warnings) != 1)} ({', '.join(kinds)}); see 'Incomplete chain' below"


def identity(report: Report) -> list[tuple[str, str]]:
    """The report's header: what it is about, when it was made, and from which log state."""
    s, r, log = report["subject"], report["report"], report["log"]
    bad = log["first_bad"]
    scope = "the whole hash chain" if log["checked"] == "chain" else "the evidence entries and the head, each where it stands in the hash chain"
    verified = f"yes: {scope}" if log["verified"] else (
        f"NO: entry {bad['seq']} {bad['problem']} ({bad['detail']})" if bad else "NO"
    )
    return [
        ("Subject", f"{s['label']} ({s['type'].replace('_', ' ')})"),
        ("Chain", completeness(report)),
        ("Node id", s["id"]),
        ("Requested ref", r["ref"]),
        ("Generated at", r["generated_at"]),
        ("Generator", r["generator"]),
        ("Log entries", str(log["entries"])),
        ("Log head", log["head"]),
        ("Chain verified", verified),
        ("Check later", f"GET /api/v1/verify?entries={log['entries']}&head={log['head']}"),
    ]


def document(report: Report) -> list[Section]:
    """The report as tables, in reading order."""
    chain = report["chain"]
    warnings = report.get("warnings") or []
    # What the chain could not show comes before the chain itself, on the first page.
    sections = [
        Section(
            "Incomplete chain: what this report could not see",
            ["kind", "node", "detail"],
            [[w["kind"].replace("_", " "), w["label"], w["detail"]] for w in warnings],
            [36, 60, 181],
        )
    ] if warnings else []
    sections += [
        Section(
            "Release chain",
            ["step", "label", "name", "version", "time", "status", "detail", "events"],
            [[c["step"].replace("_", " "), c["label"], _text(c["name"]), _text(c["version"]), _text(c["time"]), _text(c["status"]), _text(c["detail"]), str(len(c["evidence"]))] for c in chain],
            [20, 42, 36, 60, 36, 18, 50, 15],
            mono=frozenset({3, 6}),
            highlight=frozenset(i for i, c in enumerate(chain) if c["subject"]),
        ),
        Section(
            "Training setup",
            ["run", "job", "model versions", "params", "metrics", "seed", "hardware", "duration s", "other"],
            [[t["run_id"] or t["run"], _text(t["job"]), ", ".join(t["model_versions"]), _text(t["params"]), _text(t["metrics"]), _text(t["seed"]), _text(t["hardware"]), _text(t["duration_seconds"]), _text(t["extra"])] for t in report["training"]],
            [52, 28, 28, 45, 30, 14, 25, 20, 35],
            mono=frozenset({0}),
        ),
        Section(
            "Approvals and checks",
            ["model version", "job", "run", "time", "alias", "reviewer", "decision", "checks", "notes", "state"],
            [[a["model_version"], _text(a["job"]), _text(a["run_id"]), _text(a["time"]), _text(a["alias"]), _text(a["reviewer"]), _text(a["decision"]), _checks(a["checks"]), _text(a["notes"]), _text(a["state"])] for a in report["approvals"]],
            [24, 26, 52, 36, 20, 22, 18, 30, 31, 18],
            mono=frozenset({2}),
        ),
        Section(
            "Alias history",
            ["alias", "version", "since", "until", "run", "current"],
            [[_text(a["ref"]), _text(h["version"]), _text(h["since"]), _text(h["until"]), _text(h["run"]), _text(h["until"] is None)] for a in report["aliases"] for h in a["history"]],
            [40, 25, 40, 40, 107, 25],
            mono=frozenset({4}),
        ),
        Section(
            "Deployment timeline",
            ["endpoint", "since", "until", "model versions", "status", "traffic %", "note", "in this chain", "deploy run"],
            [
                [d["endpoint"], _text(t["since"]), _text(t["until"]), ", ".join(t["model_versions"]), _text(t["status"]), _text(t["traffic_percent"]), "rollback" if t["rollback"] else ("canary" if t["canary"] else ""), _text(t["in_chain"]), _text(t["run_id"])]
                for d in report["deployments"]
                for t in d["timeline"]
            ],
            [26, 36, 36, 30, 14, 14, 18, 18, 85],
            mono=frozenset({8}),
        ),
        Section(
            "Annotations",
            ["node", "tag", "reason", "author", "created at"],
            [[a["label"], _text(a["tag"]), _text(a["reason"]), _text(a["author"]), _text(a["created_at"])] for a in report["annotations"]],
            [50, 30, 117, 40, 40],
        ),
        Section(
            "Immutability violations",
            ["version", "expected sha256", "seen sha256", "first seen", "event"],
            [[v["label"], _text(v["expected"]), _text(v["sha256"]), _text(v["first_seen"]), _text(v["event"])] for v in report["immutability_violations"]],
            [33, 60, 60, 36, 88],
            mono=frozenset({1, 2, 4}),
        ),
    ]
    # Reports made before issue 37 have no checklist.
    checklist = report.get("checklist") or []
    if checklist:
        sections.append(
            Section(
                "Metadata checklist",
                ["model version", "item", "status", "event", "note"],
                [[c["model_version"], i["item"].replace("_", " "), i["status"], _text(i["event"]), _text(i["note"])] for c in checklist for i in c["items"]],
                [30, 40, 18, 96, 93],
                mono=frozenset({3}),
            )
        )
    rows = []
    for fact in report["evidence"]:
        for e in fact["events"]:
            event_id = e["id"] if e["sha256"] == e["id"] else f"{e['id']} (payload now hashes to {e['sha256']})"
            rows.append([fact["label"], str(e["seq"]), event_id, e["received_at"], e["event_time"], e["type"], e["producer"]])
    sections.append(
        Section("Evidence: log entries for each fact", ["fact", "seq", "event id = sha256", "received at", "event time", "type", "producer"], rows, [40, 10, 96, 36, 36, 20, 39], mono=frozenset({2}))
    )
    return sections


# --- text formats ----------------------------------------------------------------------------
def render_json(report: Report) -> bytes:
    return orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


CSV_COLUMNS = ["step", "label", "name", "version", "time", "status", "detail", "subject", "id", "evidence"]


def render_csv(report: Report) -> bytes:
    """The release chain table; `evidence` holds the supporting event ids, space separated."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    # Where the chain is incomplete, rows of step "incomplete chain" come first (issue 29).
    for w in report.get("warnings") or []:
        writer.writerow(["incomplete chain", w["label"], w["kind"], "", "", "", w["detail"], "no", w["node"], ""])
    for row in report["chain"]:
        writer.writerow([*(_text(row[c]) for c in CSV_COLUMNS[:-1]), " ".join(row["evidence"])])
    return out.getvalue().encode()


def _md_cell(value: str) -> str:
    return value.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ") or " "


def render_md(report: Report) -> bytes:
    lines = [f"# {_md_cell(title(report))}", ""]
    lines += [f"- **{k}:** {_md_cell(v)}" for k, v in identity(report)]
    for section in document(report):
        lines += ["", f"## {section.title}", ""]
        if not section.rows:
            lines.append("None.")
            continue
        lines.append("| " + " | ".join(section.columns) + " |")
        lines.append("|" + "---|" * len(section.columns))
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in section.rows]
    return ("\n".join(lines) + "\n").encode()


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1400px;color:#1b1f24;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.5rem}h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.25rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:600}dd{margin:0;word-break:break-all}
table{border-collapse:collapse;width:100%;font-size:12px}th,td{border:1px solid #d0d7de;padding:.25rem .4rem;text-align:left;vertical-align:top;overflow-wrap:break-word}
th{background:#f3f5f7}tr.subject td{background:#fff8c5}.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere}.t{white-space:nowrap}
.bad{color:#b42318;font-weight:600}.none{color:#57606a;font-style:italic}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}tr{break-inside:avoid}}
"""


_TIME = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+Z$")


def _css(mono: bool, value: str) -> str:
    # Hashes may break anywhere; a timestamp never, so the time columns stay readable.
    return ' class="mono"' if mono else ' class="t"' if _TIME.match(value) else ""


def render_html(report: Report) -> bytes:
    """One self-contained file: inline CSS, no scripts, no external assets."""
    esc = html.escape
    head = esc(title(report))
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{head}</title><style>{_CSS}</style></head><body>",
        f"<h1>{head}</h1><dl>",
    ]
    for key, value in identity(report):
        bad = (key == "Chain verified" and not report["log"]["verified"]) or (key == "Chain" and report.get("warnings"))
        css = ' class="bad"' if bad else ""
        parts.append(f"<dt>{esc(key)}</dt><dd{css}>{esc(value)}</dd>")
    parts.append("</dl>")
    for section in document(report):
        parts.append(f"<h2>{esc(section.title)}</h2>")
        if not section.rows:
            parts.append('<p class="none">None.</p>')
            continue
        parts.append("<table><thead><tr>" + "".join(f"<th>{esc(c)}</th>" for c in section.columns) + "</tr></thead><tbody>")
        for i, row in enumerate(section.rows):
            cls = ' class="subject"' if i in section.highlight else ""
            cells = "".join(f"<td{_css(j in section.mono, v)}>{esc(v)}</td>" for j, v in enumerate(row))
            parts.append(f"<tr{cls}>{cells}</tr>")
        parts.append("</tbody></table>")
    parts.append("</body></html>\n")
    return "\n".join(parts).encode()


def render_pdf(report: Report) -> bytes:
    from lineage.reports.pdf import render_pdf as render  # fpdf2 is loaded only when a PDF is asked for

    return render(report)


# --- the registry ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Renderer:
    name: str
    media_type: str
    extension: str
    render: Callable[[Report], bytes]


RENDERERS: dict[str, Renderer] = {
    r.name: r
    for r in (
        Renderer("json", "application/json", "json", render_json),
        Renderer("md", "text/markdown; charset=utf-8", "md", render_md),
        Renderer("html", "text/html; charset=utf-8", "html", render_html),
        Renderer("pdf", "application/pdf", "pdf", render_pdf),
        Renderer("csv", "text/csv; charset=utf-8", "csv", render_csv),
    )
}


def renderer(name: str) -> Renderer:
    """The renderer for a format name, or InvalidEvent (a 400) naming the formats there are."""
    found = RENDERERS.get(name.strip().lower())
    if found is None:
        raise InvalidEvent("format", f"unknown format {name!r}: use one of {', '.join(RENDERERS)}")
    return found
