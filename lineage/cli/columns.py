"""`lineage columns REF [FIELD]`: a dataset version's fields, or one field's column lineage (issue 36)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from lineage import fieldlineage, queries
from lineage.cli.query import DepthOpt, JsonOpt, UrlOpt, _hours, _run, _table, ask, endpoint_rows, headline, ref_of
from lineage.cli.warnings import print_warnings


def transformation_text(transformations: list[dict[str, Any]]) -> str:
    """`DIRECT/TRANSFORMATION (income / 1000)`, one per transformation; `-` when none was named."""
    parts = []
    for t in transformations:
        kind = "/".join(x for x in (t.get("type"), t.get("subtype")) if x) or "?"
        if t.get("masking"):
            kind += " masked"
        if t.get("dataset_wide"):
            kind += " (whole dataset)"
        parts.append(f"{kind} ({t['description']})" if t.get("description") else kind)
    return "; ".join(parts) or "-"


def render_columns(console: Console, a: dict[str, Any]) -> None:
    print_warnings(console, a)
    field = a["field"]
    way = "downstream" if a["direction"] == "down" else "upstream"
    only = ", DIRECT only" if a["transformations"] == "direct" else ""
    console.print(f"[bold]{escape(ref_of(field))}[/] ({field.get('type') or 'type unknown'}): {way} within {a['depth']} hops{only}")
    if not a["fields"]:
        what = "no column is made from it" if a["direction"] == "down" else "no column lineage says what it is made from"
        console.print(f"Nothing {way} of {escape(ref_of(field))} within {a['depth']} hops: {what}.")
        return
    near = "src_ref" if a["direction"] == "down" else "dst_ref"
    far = "dst_ref" if a["direction"] == "down" else "src_ref"
    how = {(e[near], e[far]): e["transformations"] for e in a["edges"]}
    rows = []
    for f in a["fields"]:
        steps = [f"{src}: {transformation_text(t)}" for (src, dst), t in how.items() if dst == f["ref"]]
        rows.append([ref_of(f), f.get("type") or "", f["depth"], "\n".join(steps)])
    via = "from" if a["direction"] == "down" else "into"
    console.print(_table("Fields", ["field", "type", "hops", f"made {via} (transformation)"], rows))
    if a["features"]:
        console.print(_table("Features", ["feature", "feature view", "ref"], [[f["feature"], f["feature_view"], f["ref"]] for f in a["features"]]))
    if a["model_versions"]:
        console.print(_table("Model versions", ["model version", "its fields reached"], [[m["ref"], ", ".join(m["fields"])] for m in a["model_versions"]]))
    if a["direction"] == "down":
        if a["endpoints"]:
            columns = ["endpoint", "deployment", "model", "since", "until", "status", "serving it now", "endpoint serves now"]
            console.print(_table("Endpoints (one row per deployment reached)", columns, endpoint_rows(a["endpoints"])))
        else:
            console.print(f"No endpoint serves a model made from {escape(ref_of(field))} within {a['depth']} hops.")


def render_fields(console: Console, a: dict[str, Any]) -> None:
    console.print(f"{headline(a['node'])}: {len(a['fields'])} fields")
    rows = [[f["ref"], f.get("type") or "", f["inputs"], f["outputs"]] for f in a["fields"]]
    console.print(_table("Fields", ["field", "type", "made from", "feeds"], rows))


def show_field_lineage(ref: str, field: str | None, direction: str, depth: int, direct: bool, url: str | None, as_json: bool) -> None:
    """One field's column lineage, asked of the service at `url` or read from the store; also
    what `lineage impact|upstream REF --field F` print."""
    only = "direct" if direct else "all"
    params = {"ref": ref, "field": field, "direction": direction, "depth": depth, "transformations": only}
    _run(
        as_json,
        lambda: ask(
            url, "GET", "/api/v1/column-lineage", params,
            lambda s: fieldlineage.column_lineage(s, ref, field, direction, depth, only, stale_run_hours=_hours()),
        ),
        render_columns,
    )


def register(app: typer.Typer) -> None:
    @app.command()
    def columns(
        ref: str,
        field: Annotated[str | None, typer.Argument(help="A field of the version REF names; leave out to list its fields")] = None,
        up: Annotated[bool, typer.Option("--up", help="What the field is made from, instead of what is made from it")] = False,
        direct: Annotated[bool, typer.Option("--direct", help="Follow DIRECT transformations only (not filters, joins, sorts)")] = False,
        depth: DepthOpt = queries.DEFAULT_DEPTH,
        url: UrlOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Column lineage of FIELD of REF (a dataset version): the fields, features, model versions
        and endpoints made from it (--up: what it is made from). REF alone lists its fields;
        REF may also be a field itself, version[field]."""
        if field is None and not ref.endswith("]"):
            _run(as_json, lambda: ask(url, "GET", "/api/v1/fields", {"ref": ref}, lambda s: fieldlineage.version_fields(s, ref)), render_fields)
            return
        show_field_lineage(ref, field, "up" if up else "down", depth, direct, url, as_json)
