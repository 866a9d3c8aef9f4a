"""How the CLI prints a dataset/job-level answer (issue 34), and the options that choose it."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

LevelOpt = Annotated[
    str | None,
    typer.Option(help="dataset (each dataset and job once, with counts) or version (version-exact, paged); by default by the ref's kind"),
]
SinceOpt = Annotated[str | None, typer.Option(help="Count versions and runs from this time on (ISO 8601; dataset level)")]
UntilOpt = Annotated[str | None, typer.Option(help="Count versions and runs before this time (ISO 8601; dataset level)")]
CursorOpt = Annotated[str | None, typer.Option(help="Go on after this page (the next_cursor an answer gave; version level)")]
LimitOpt = Annotated[int | None, typer.Option(min=1, max=1000, help="At most this many items per page (version level)")]

GROUP_TITLES = {"endpoints": "Endpoints", "models": "Models", "feature_views": "Feature views", "datasets": "Datasets", "jobs": "Jobs"}


def _newest(entry: dict[str, Any]) -> str:
    newest = entry.get("newest_version") or entry.get("newest_run")
    return str(newest["ref"]) if newest else ""


def level_table(title: str, entries: list[dict[str, Any]], endpoints: bool = False) -> Table:
    table = Table(title=title, title_justify="left")
    # Where only a JobEvent's declaration joins an entry to the ref (issue 30), a column says so.
    declared = any(e.get("declared") for e in entries)
    columns = ["ref", "hops", "versions / runs", "newest"] + (["serving it now", "serves now"] if endpoints else [])
    for column in columns + (["joined by"] if declared else []):
        table.add_column(column)
    for e in entries:
        row = [escape(str(e["ref"])), str(e["depth"]), str(e.get("runs", e.get("versions", 0))), escape(_newest(e))]
        if endpoints:
            current = e.get("current_model_version")
            row += ["yes" if e.get("currently_serving") else "no", escape(", ".join(current) if isinstance(current, list) else (current or "-"))]
        if declared:
            row.append("declaration only" if e.get("declared") else "runs")
        table.add_row(*row)
    return table


def render_collapsed(console: Console, a: dict[str, Any], way: str, title: str) -> None:
    """A dataset/job-level impact or upstream: one table per kind, counts within the window;
    `title` names the ref as the version-level answer does."""
    node = a["node"]
    window = f" between {a['since'] or 'the start'} and {a['until'] or 'now'}" if a.get("since") or a.get("until") else ""
    what = f"{node.get('runs', node.get('versions', 0))} {'runs' if 'runs' in node else 'versions'}{window}"
    # The first line is the version level's, so that a script or a reader finds the ref the same way.
    console.print(f"{title}: {way} within {a['depth']} hops")
    console.print(f"At dataset/job level, each dataset and job once; {escape(str(node['ref']))} has {what}.")
    if not any(a[g] for g in GROUP_TITLES):
        console.print(f"Nothing {way} of {escape(str(node['ref']))} within {a['depth']} hops.")
        return
    for group, title in GROUP_TITLES.items():
        if a[group]:
            console.print(level_table(title, a[group], endpoints=group == "endpoints" and way == "downstream"))
    if any(e.get("declared") for g in GROUP_TITLES for e in a[g]):
        console.print("Joined by declaration only: a JobEvent declared the job's inputs or outputs; no run seen moves that data.")
    console.print("Version-exact detail: the same command with --level version (paged with --limit and --cursor).")


def print_page(console: Console, a: dict[str, Any]) -> None:
    """Say that a version-level answer is one page, and how to get the next."""
    if a.get("partial"):
        console.print(f"Partial answer: {a['page']['returned']} items on this page; the next: --cursor {a['next_cursor']}")
