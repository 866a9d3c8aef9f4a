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

# Every document format is laid out from one header (`identity`) and one list of sections
# (`document`), so md, html, pdf and csv carry the same content as json (issues 5 and 33).

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


_STAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z")


def human(text: str) -> str:
    """Timestamps without trailing zero fractions: 2026-03-05T00:00:00.000000Z reads as
    2026-03-05T00:00:00Z, 09:00:00.250000Z as 09:00:00.25Z (the JSON keeps the stored form)."""
    return _STAMP.sub(lambda m: f"{m[1]}.{m[2].rstrip('0')}Z" if m[2] and m[2].rstrip("0") else f"{m[1]}Z", text)


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


def scope(report: Report) -> str:
    """What the report covers, in plain words: direction, depth and period."""
    sc, label = report.get("scope"), report["subject"]["label"]
    if not sc:
        return f"the chain of {label}"
    until = f" (the newest received {sc['until']})" if sc.get("until") else ""
    return (
        f"the chain {sc['direction']} of {label}, followed up to {sc['depth']} hops, from log entries 1 to "
        f"{sc['log_entries']}{until}; entries received later are not in it"
    )


def check_run(log: dict[str, Any]) -> str:
    """Which check of the hash chain was run, in plain words, and what it cannot see."""
    if log["checked"] == "chain":
        done = (
            f"the whole log: all {log.get('checked_entries', log['entries'])} entries, from the first to the head, were each "
            "re-hashed (the payload to its event id, the entry to its chain hash) and linked to the entry before it"
        )
    else:
        done = (
            f"the {log.get('checked_entries', 0)} entries listed as evidence and the head (entry {log['entries']}) were each "
            "re-hashed (the payload to its event id, the entry to its chain hash) and linked to the entries before and "
            "after them; the other entries were not read (check=chain, or --whole-chain, walks them all)"
        )
    return (
        f"{done}. A log rewritten and re-hashed from some entry to its head passes this check: only a head kept "
        "from before (Check later) shows that"
    )


def identity(report: Report) -> list[tuple[str, str]]:
    """The report's header: what it is about, its scope, who asked, when it was made, from which
    log state, and what was checked."""
    s, r, log = report["subject"], report["report"], report["log"]
    bad = log["first_bad"]
    verified = "yes: the check above found every entry it read sound" if log["verified"] else (
        f"NO: entry {bad['seq']} {bad['problem']} ({bad['detail']})" if bad else "NO"
    )
    query = f"/api/v1/verify?entries={log['entries']}&head={log['head']}"
    later = (
        f"GET {log['verify_url']}" if log.get("verify_url")
        else f"lineage verify --entries {log['entries']} --head {log['head']} (or GET <service address>{query})"
    )
    facts = [
        ("Subject", f"{s['label']} ({s['type'].replace('_', ' ')})"),
        ("Chain", completeness(report)),
        ("Scope", scope(report)),
        ("Requested by", r.get("requested_by") or "anonymous (auth off)"),
        ("Node id", s["id"]),
        ("Requested ref", r["ref"]),
        ("Generated at", r["generated_at"]),
        ("Generator", r["generator"]),
        ("Log entries", str(log["entries"])),
        ("Log head", log["head"]),
        ("Check run", check_run(log)),
        ("Chain verified", verified),
        ("Check later", later),
    ]
    return [(k, human(v)) for k, v in facts]


CHAIN_COLUMNS = ["step", "label", "name", "version", "time", "status", "detail", "events"]
_CHAIN_WIDTHS = [20, 42, 36, 60, 36, 18, 50, 15]


def _chain_sections(report: Report) -> list[Section]:
    """The release chain: one table, or for an endpoint one per model version it served
    (then the rows of no model version, such as the endpoint itself, last)."""
    chain = report["chain"]

    def table(heading: str, rows: list[dict[str, Any]]) -> Section:
        return Section(
            heading,
            CHAIN_COLUMNS,
            [[c["step"].replace("_", " "), c["label"], _text(c["name"]), _text(c["version"]), _text(c["time"]), _text(c["status"]), _text(c["detail"]), str(len(c["evidence"]))] for c in rows],
            _CHAIN_WIDTHS,
            mono=frozenset({3, 6}),
            highlight=frozenset(i for i, c in enumerate(rows) if c["subject"]),
        )

    groups = report.get("chain_groups") or []
    if not groups:
        return [table("Release chain", chain)]
    by_id = {c["id"]: c for c in chain}
    sections = [table(f"Release chain of {g['model_version']}", [by_id[i] for i in g["rows"] if i in by_id]) for g in groups]
    grouped = {i for g in groups for i in g["rows"]}
    rest = [c for c in chain if c["id"] not in grouped]
    if rest:
        sections.append(table("Release chain: rows of no model version", rest))
    return sections


def document(report: Report) -> list[Section]:
    """The report as tables, in reading order."""
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
    sections += _chain_sections(report)
    sections += [
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
    # Human formats show timestamps without the stored form's trailing zeros.
    return [Section(x.title, x.columns, [[human(v) for v in row] for row in x.rows], x.widths, x.mono, x.highlight) for x in sections]


# --- text formats ----------------------------------------------------------------------------
def render_json(report: Report) -> bytes:
    return orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


CSV_COLUMNS = ["step", "label", "name", "version", "time", "status", "detail", "subject", "id", "evidence"]
REPORT_BLOCK = "Report"
CHAIN_BLOCK = "Release chain"


def render_csv(report: Report) -> bytes:
    """Every section as a block: a row with the block's title, its column names, its rows, and an
    empty row. The first block is the header facts (field, value); then the release chain with
    its node ids and supporting event ids (space separated); then, for an endpoint, which model
    version each chain row belongs to; then every other section of the document formats.
    `read_csv` splits the blocks again."""
    out = io.StringIO()
    writer = csv.writer(out)

    def block(heading: str, columns: list[str], rows: list[list[str]]) -> None:
        writer.writerow([heading])
        writer.writerow(columns)
        writer.writerows(rows)
        writer.writerow([])

    block(REPORT_BLOCK, ["field", "value"], [[k, v] for k, v in identity(report)])
    # Where the chain is incomplete, rows of step "incomplete chain" come first (issue 29).
    chain = [["incomplete chain", w["label"], w["kind"], "", "", "", w["detail"], "no", w["node"], ""] for w in report.get("warnings") or []]
    chain += [[*(human(_text(row[c])) for c in CSV_COLUMNS[:-1]), " ".join(row["evidence"])] for row in report["chain"]]
    block(CHAIN_BLOCK, CSV_COLUMNS, chain)
    labels = {c["id"]: c["label"] for c in report["chain"]}
    if groups := report.get("chain_groups"):
        block("Release chain by model version", ["model version", "label", "id"], [[g["model_version"], labels.get(i, i), i] for g in groups for i in g["rows"]])
    for section in document(report):
        if not section.title.startswith(("Release chain", "Incomplete chain")):  # both are in the chain block
            block(section.title, section.columns, section.rows)
    return out.getvalue().encode()


def read_csv(text: str) -> dict[str, list[dict[str, str]]]:
    """The blocks of a CSV report by title, each as rows keyed by its column names."""
    blocks: dict[str, list[dict[str, str]]] = {}
    lines = iter(csv.reader(io.StringIO(text)))
    for line in lines:
        if not line:
            continue
        columns = next(lines)
        rows = blocks.setdefault(line[0], [])
        for row in lines:
            if not row:
                break
            rows.append(dict(zip(columns, row, strict=True)))
    return blocks


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
