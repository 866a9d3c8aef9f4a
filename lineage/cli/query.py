"""Incident questions from the command line: against the HTTP API (`--url`) or a store directly."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import httpx
import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lineage import queries, releases
from lineage.cli.levels import CursorOpt, LevelOpt, LimitOpt, SinceOpt, UntilOpt, print_page, render_collapsed
from lineage.cli.serve import redact
from lineage.cli.warnings import print_warnings
from lineage.errors import Ambiguous, LineageError, NotFound
from lineage.graph import DEPLOYMENT, ENDPOINT, FEATURE_VIEW, FEATURE_VIEW_VERSION, MODEL, MODEL_VERSION, VERSION
from lineage.ingest.parse import parse_event
from lineage.refs import resolve_ref
from lineage.service import annotation_body, now
from lineage.settings import Settings
from lineage.store import open_store
from lineage.store.base import EventFilter, Store

UrlOpt = Annotated[
    str | None, typer.Option("--url", envvar="LINEAGE_URL", help="Ask a running service (e.g. http://127.0.0.1:5000) instead of LINEAGE_STORE")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the answer as JSON, for scripts")]
DepthOpt = Annotated[int, typer.Option(min=1, max=queries.MAX_DEPTH, help="How many hops to follow")]
AllRunsOpt = Annotated[bool, typer.Option("--all-runs", help="List child runs that touch no dataset (counted under their parent otherwise)")]


class Failed(Exception):
    """A query the service refused, with what to tell the person."""

    def __init__(self, message: str, details: list[str]) -> None:
        super().__init__(message)
        self.details = details


def hints(suggestions: list[Any], candidates: list[Any]) -> list[str]:
    """The lines under a refused query: refs it may have meant (node summaries, or plain refs
    such as a model's versions), and for an ambiguous ref the candidates, each by a ref that names
    only it, with its kind and namespace."""
    lines = [f"did you mean {s['ref']} ({kind_of(s)})" if isinstance(s, dict) else f"did you mean {s}" for s in suggestions]
    return lines + [f"{c.get('ref') or c['id']}  {kind_of(c)}  {c.get('namespace') or ''}".rstrip() for c in candidates]


def failed(exc: LineageError) -> Failed:
    """What to tell a person about a refused query: suggestions or candidates when there are some."""
    if isinstance(exc, NotFound):
        return Failed(str(exc), hints(exc.suggestions, []))
    if isinstance(exc, Ambiguous):
        return Failed(str(exc), hints([], exc.candidates))
    return Failed(str(exc), [])


def _hours() -> float:
    return Settings().stale_run_hours


@contextmanager
def _store() -> Iterator[Store]:
    store = open_store(Settings())
    try:
        yield store
    finally:
        store.close()


def searched(url: str | None) -> str:
    """Where an answer comes from, for a person: the service URL, or the store URL (no password)
    with the file a relative SQLite path names from here (it depends on the working directory)."""
    if url is not None:
        return url
    store = redact(Settings().store)
    if store.startswith("sqlite://"):
        path = store.removeprefix("sqlite://").removeprefix("/") or "lineage.db"
        if not Path(path).is_absolute():
            return f"{store} ({Path(path).resolve()})"
    return store


def _not_found(exc: Failed, url: str | None, empty: bool) -> Failed:
    """A ref that matched nothing says where it was looked for: a CLI run without --url or
    LINEAGE_STORE reads data/lineage.db under the working directory, which may not be the store
    the person has in mind."""
    details = list(exc.details)
    if empty:
        details.append("that store holds no events: import some (`lineage import`), or set LINEAGE_STORE or --url")
    return Failed(f"{exc} in {searched(url)}", details)


def ask(url: str | None, method: str, path: str, params: dict[str, Any], local: Callable[[Store], Any]) -> Any:
    """One answer, from the HTTP API when `url` is given, else from the store directly."""
    if url is None:
        try:
            with _store() as store:
                try:
                    return local(store)
                except NotFound as exc:
                    raise _not_found(failed(exc), None, store.count_events(EventFilter()) == 0) from exc
        except LineageError as exc:
            raise failed(exc) from exc
    clean = {k: v for k, v in params.items() if v is not None}
    token = os.environ.get("LINEAGE_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        if method == "GET":
            response = httpx.get(url.rstrip("/") + path, params=clean, headers=headers, timeout=60)
        else:
            response = httpx.post(url.rstrip("/") + path, json=clean, headers=headers, timeout=60)
    except httpx.HTTPError as exc:
        raise Failed(f"cannot reach {url}: {exc}", []) from exc
    body = response.json()
    if response.status_code >= 400:
        details = hints(body.get("suggestions", []), body.get("candidates", []))
        if response.status_code == 404:
            raise _not_found(Failed(str(body.get("detail", response.text)), details), url, False)
        raise Failed(str(body.get("detail", response.text)), details)
    return body


# Wide enough that no row of an answer is ever cut: rich lays tables out to the console width,
# which is 80 columns when the output is not a terminal, and ellipsizes what does not fit.
PIPE_WIDTH = 100_000

# The most specific name of a node's kind: the extra labels our facets give (DESIGN.md section 3)
# say more than the primary kind (a ModelVersion is also a DatasetVersion).
SPECIFIC_KINDS = (DEPLOYMENT, MODEL_VERSION, FEATURE_VIEW_VERSION, ENDPOINT, MODEL, FEATURE_VIEW)


def console(stderr: bool = False) -> Console:
    """A console for answers: a terminal's own width (cells fold there, never ellipsized), and
    when piped or redirected one wide enough that every cell is printed whole on one line."""
    out = Console(stderr=stderr, soft_wrap=True)
    if out.is_terminal:
        return out
    return Console(stderr=stderr, soft_wrap=True, width=PIPE_WIDTH)


def kind_of(node: dict[str, Any]) -> str:
    """The most specific kind of a node in an answer: ModelVersion rather than DatasetVersion."""
    labels = set(node.get("labels") or ())
    return next((k for k in SPECIFIC_KINDS if k in labels), str(node["kind"]))


def ref_of(node: dict[str, Any]) -> str:
    """What the CLI prints for a node: its ref, which `lineage impact <ref>` resolves back to it
    (labels are refs too, docs/refs.md; the id stands in for a node that has neither)."""
    return str(node.get("ref") or node["id"])


def headline(node: dict[str, Any]) -> str:
    """A node named by its ref and most specific kind, and for a version the dataset it is of."""
    of = f" of {node['name']}" if node.get("kind") == VERSION and node.get("name") else ""
    return f"[bold]{escape(ref_of(node))}[/] ({kind_of(node)}{of})"


def _show(answer: Any, as_json: bool, render: Callable[[Console, Any], None]) -> None:
    if as_json:
        typer.echo(orjson.dumps(answer, option=orjson.OPT_INDENT_2).decode())
    else:
        render(console(), answer)


def _run(as_json: bool, produce: Callable[[], Any], render: Callable[[Console, Any], None]) -> None:
    try:
        answer = produce()
    except Failed as exc:
        err = console(stderr=True)
        err.print(f"[red]error:[/] {escape(str(exc))}")
        for line in exc.details:
            err.print(f"  {escape(line)}")
        raise typer.Exit(1) from None
    _show(answer, as_json, render)


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        # fold, not ellipsis: on a narrow terminal a long name wraps but is never cut short
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else escape(str(v)) for v in row))
    return table


def _short(time: str | None) -> str:
    return time[:16].replace("T", " ") if time else "-"


def _names(values: Any) -> str:
    return ", ".join(values) if isinstance(values, list) else str(values or "-")


def _version_rows(items: list[dict[str, Any]], last: str) -> list[list[Any]]:
    return [[ref_of(i), i.get("name"), i.get("depth"), _short(i.get("written_at")) if last == "written" else i["id"]] for i in items]


def _job_level_table(a: dict[str, Any]) -> Table | None:
    """Jobs and datasets reached at job level: declared by a JobEvent, or another name of a
    dataset (symlinks)."""
    items = [*a.get("jobs", ()), *a.get("datasets", ())]
    if not items:
        return None
    rows = [[ref_of(i), kind_of(i), i.get("namespace"), i.get("depth"), "declared" if i.get("declared") else "symlink"] for i in items]
    return _table("Jobs and datasets (job level)", ["ref", "kind", "namespace", "hops", "via"], rows)


def print_folded(console: Console, a: dict[str, Any]) -> None:
    """How many child runs that touch no dataset were folded under their parents."""
    folded = a.get("folded_runs") or {}
    if folded.get("count") and not folded.get("listed"):
        parents = ", ".join(f"{ref_of(p)} ({p['child_runs']})" for p in folded["parents"])
        console.print(f"{folded['count']} child runs that touch no dataset folded under their parents: {escape(parents)} (--all-runs lists them)")


def _beyond_start(a: dict[str, Any]) -> bool:
    """Whether an impact or upstream answer reaches past where its walk began (a dataset, job or
    alias ref begins at its versions, runs or model versions, at 0 hops)."""
    return any(i.get("depth") for key in a["counts"] for i in a.get(key, ()))


def endpoint_rows(endpoints: list[dict[str, Any]]) -> list[list[Any]]:
    """One row per affected deployment. "serving it now" is the deployment's own state (YES only
    for a live deployment, which serves the affected version): `currently_serving` of the
    endpoint is true when any of its affected deployments is live, and repeating it on the rows
    of its ended deployments would say those still serve."""
    rows = []
    for e in endpoints:
        for d in e["affected_deployments"]:
            live = d.get("currently_serving", d.get("status") == "live")
            rows.append([e["name"], d["id"], d["model_version"], _short(d["since"]), _short(d["until"]), d["status"], "YES" if live else "no", _names(e["current_model_version"])])
    return rows


def render_impact(console: Console, a: dict[str, Any]) -> None:
    print_warnings(console, a)
    if a.get("level") == "dataset":
        render_collapsed(console, a, "downstream", headline(a["node"]))
        return
    print_page(console, a)
    console.print(f"{headline(a['node'])}: downstream within {a['depth']} hops")
    ref = escape(ref_of(a["node"]))
    if not a["endpoints"] and not _beyond_start(a):
        console.print(f"Nothing downstream of {ref} within {a['depth']} hops: no run read it, no endpoint serves it.")
        return
    if a["endpoints"]:
        columns = ["endpoint", "deployment", "model", "since", "until", "status", "serving it now", "endpoint serves now"]
        console.print(_table("Endpoints (one row per deployment reached)", columns, endpoint_rows(a["endpoints"])))
    else:
        console.print(f"No endpoint downstream of {ref} within {a['depth']} hops.")
    for key in ("model_versions", "feature_view_versions", "dataset_versions"):
        if a[key]:
            console.print(_table(key.replace("_", " ").capitalize(), ["ref", "dataset", "hops", "id"], _version_rows(a[key], "id")))
    if (job_level := _job_level_table(a)) is not None:
        console.print(job_level)
    if a["runs"]:
        console.print(f"runs: {len(a['runs'])}  (jobs: {', '.join(sorted({r['job'] for r in a['runs'] if r.get('job')}))})")
    print_folded(console, a)


def render_upstream(console: Console, a: dict[str, Any]) -> None:
    print_warnings(console, a)
    if a.get("level") == "dataset":
        render_collapsed(console, a, "upstream", headline(a["node"]))
        return
    print_page(console, a)
    console.print(f"{headline(a['node'])}: upstream within {a['depth']} hops")
    if not _beyond_start(a):
        console.print(f"Nothing upstream of {escape(ref_of(a['node']))} within {a['depth']} hops: no run is known to have written it.")
        return
    if a["commits"]:
        console.print(_table("Commits", ["sha", "repo", "branch"], [[c["sha"][:12], c["repo"], c["branch"]] for c in a["commits"]]))
    for key in ("dataset_versions", "feature_view_versions", "model_versions"):
        if a[key]:
            console.print(_table(key.replace("_", " ").capitalize(), ["ref", "dataset", "hops", "written"], _version_rows(a[key], "written")))
    if (job_level := _job_level_table(a)) is not None:
        console.print(job_level)
    if a["runs"]:
        runs = [[ref_of(r), r.get("run_id"), r["state"], _short(r.get("ended_at")), orjson.dumps(r["params"]).decode() if r["params"] else ""] for r in a["runs"]]
        console.print(_table("Runs", ["run", "run id", "state", "ended", "params"], runs))
    print_folded(console, a)


def render_diff(console: Console, a: dict[str, Any]) -> None:
    print_warnings(console, a)
    console.print(f"{headline(a['from'])} -> {headline(a['to'])}")
    changed = [d for d in a["datasets"] if d["change"] != "same"]
    commits = [[c["repo"], ", ".join(s[:12] for s in c["from"]), ", ".join(s[:12] for s in c["to"]), c["change"]] for c in a["commits"] if c["change"] != "same"]
    if not (changed or commits or a["params"] or a["metrics"]):
        console.print("No difference upstream: the same data, features, models, commits, params and metrics.")
        return
    if changed:
        console.print(_table("Data, features and models", ["name", "kind", "from", "to", "change"], [[d["name"], d["kind"], ", ".join(d.get("from_refs", d["from"])), ", ".join(d.get("to_refs", d["to"])), d["change"]] for d in changed]))
    else:
        console.print("Same data, features and models upstream of both.")
    if commits:
        console.print(_table("Commits", ["repo", "from", "to", "change"], commits))
    for key in ("params", "metrics"):
        if a[key]:
            console.print(_table(key.capitalize(), ["job", "name", "from", "to"], [[p["job"], p["name"], p["from"], p["to"]] for p in a[key]]))
    render_data_changes(console, a.get("data_changes") or [])


def _columns(change: dict[str, Any]) -> str:
    cols = change["columns"]
    parts = [f"+{c['name']} {c['type']}" for c in cols["added"]] + [f"-{c['name']}" for c in cols["removed"]]
    parts += [f"~{c['name']} {c['from']}->{c['to']}" for c in cols["retyped"]]
    if not any(change["schema_known"].values()):
        return "schema unknown"
    return ", ".join(parts) or "same columns"


def _rows(stats: dict[str, Any]) -> str:
    def count(side: dict[str, Any] | None) -> str:
        return "?" if not side or side.get("rowCount") is None else f"{side['rowCount']:,}"
    return "" if not (stats["from"] or stats["to"]) else f"{count(stats['from'])} -> {count(stats['to'])}"


def _failed(failed: dict[str, list[dict[str, Any]]]) -> str:
    def names(side: list[dict[str, Any]]) -> str:
        return ", ".join(f"{f.get('assertion')}({f['column']})" if f.get("column") else str(f.get("assertion")) for f in side) or "none"
    return "" if not (failed["from"] or failed["to"]) else f"{names(failed['from'])} -> {names(failed['to'])}"


def render_data_changes(console: Console, changes: list[dict[str, Any]]) -> None:
    """Columns, row counts and failed assertions of each changed dataset (issue 37), and the
    contract breaks below the table, whole."""
    known = [
        c for c in changes
        if any(c["schema_known"].values()) or c["statistics"]["from"] or c["statistics"]["to"] or c["failed_assertions"]["from"] or c["failed_assertions"]["to"]
    ]
    if not known:
        return
    rows = [[c["name"] or c["dataset"], c["from"] or "", c["to"] or "", _columns(c), _rows(c["statistics"]), _failed(c["failed_assertions"])] for c in known]
    console.print(_table("Data changes", ["name", "from", "to", "columns", "rows", "failed assertions"], rows))
    for c in known:
        if c["contract_break"]:
            console.print(f"[bold red]contract break[/]: {escape(c['contract_break'])}")


def render_endpoint(console: Console, a: dict[str, Any]) -> None:
    print_warnings(console, a)
    console.print(f"[bold]{escape(a['name'])}[/] ({escape(a.get('environment') or 'no environment')}): serving {escape(', '.join(a['current_model_version']) or 'nothing')}")
    if "at" in a:
        console.print(f"at {a['at']['time']}: {escape(', '.join(a['at']['model_versions']) or 'nothing')}")
    if not a["history"]:
        console.print(f"No deployment of {escape(a['name'])} is recorded.")
        return
    rows = [[_short(d["since"]), _short(d["until"]), ", ".join(d["model_versions"]), d["status"], f"{d['traffic_percent']:g}%" if d.get("traffic_percent") is not None else "", "rollback" if d.get("rollback") else ("canary" if d.get("canary") else ""), d["id"]] for d in a["history"]]
    console.print(_table("Deployments (newest first)", ["since", "until", "model", "status", "traffic", "note", "deployment"], rows))


def render_versions(console: Console, a: dict[str, Any]) -> None:
    print_warnings(console, a)
    if not a["versions"]:
        console.print(f"No version of model {escape(a['model'])} is recorded.")
    else:
        rows = []
        for v in a["versions"]:
            data = [f"{ref_of(i)} ({i['name']})" for i in v["training_data"]["dataset_versions"] + v["training_data"]["feature_view_versions"]]
            tags = ", ".join(t["tag"] for t in v["annotations"])
            rows.append([ref_of(v), _short(v.get("written_at")), ", ".join(v["aliases"]), orjson.dumps(v["metrics"]).decode(), tags, ", ".join(data)])
        console.print(_table(f"Model {a['model']}", ["version", "registered", "aliases", "metrics", "annotations", "trained on"], rows))
    if "before" in a:
        good = a["last_known_good"]
        for ex in a["excluded"]:
            console.print(f"skipped {escape(ex['version'])}: {escape(ex['reason'])}")
        console.print(f"last known good before {escape(a['before'])}: [bold]{escape(good['version']) if good else 'none'}[/]")


def render_search(console: Console, a: dict[str, Any], where: str = "") -> None:
    if not a["results"]:
        console.print(f"Nothing matches {a['q']!r}{' in ' + escape(where) if where else ''}.")
        return
    rows = [[kind_of(r), ref_of(r), r.get("name") or r.get("job") or "", r["id"]] for r in a["results"]]
    console.print(_table(f"Search {a['q']!r}", ["kind", "ref", "of", "id"], rows))


FieldOpt = Annotated[str | None, typer.Option("--field", help="A field of the version REF names: answer with that column's lineage")]
DirectOpt = Annotated[bool, typer.Option("--direct", help="With --field: follow DIRECT transformations only")]


def walk(
    direction: str, ref: str, depth: int, url: str | None, as_json: bool, all_runs: bool, levels: dict[str, Any], field: str | None, direct: bool
) -> None:
    """`impact` (down) or `upstream` (up) of REF: with --field, that column's lineage, as
    `lineage columns` prints it; otherwise the answer of /impact or /upstream."""
    if field is not None:
        from lineage.cli.columns import show_field_lineage  # it builds on this module

        show_field_lineage(ref, field, direction, depth, direct, url, as_json)
        return
    path, answer, render = ("/api/v1/impact", queries.impact, render_impact) if direction == "down" else ("/api/v1/upstream", queries.upstream, render_upstream)
    params = {"ref": ref, "depth": depth, "all_runs": all_runs, **levels}
    _run(as_json, lambda: ask(url, "GET", path, params, lambda s: answer(s, ref, depth, stale_run_hours=_hours(), all_runs=all_runs, **levels)), render)


def register(app: typer.Typer) -> None:
    @app.command()
    def impact(
        ref: str, depth: DepthOpt = queries.DEFAULT_DEPTH, url: UrlOpt = None, as_json: JsonOpt = False, all_runs: AllRunsOpt = False,
        level: LevelOpt = None, since: SinceOpt = None, until: UntilOpt = None, cursor: CursorOpt = None, limit: LimitOpt = None,
        field: FieldOpt = None, direct: DirectOpt = False,
    ) -> None:
        """Everything downstream of REF, and which endpoints used it and still serve it."""
        lv = {"level": level, "since": since, "until": until, "cursor": cursor, "limit": limit}
        walk("down", ref, depth, url, as_json, all_runs, lv, field, direct)

    @app.command()
    def upstream(
        ref: str, depth: DepthOpt = queries.DEFAULT_DEPTH, url: UrlOpt = None, as_json: JsonOpt = False, all_runs: AllRunsOpt = False,
        level: LevelOpt = None, since: SinceOpt = None, until: UntilOpt = None, cursor: CursorOpt = None, limit: LimitOpt = None,
        field: FieldOpt = None, direct: DirectOpt = False,
    ) -> None:
        """Provenance of REF: commits, dataset and feature versions, runs with params."""
        lv = {"level": level, "since": since, "until": until, "cursor": cursor, "limit": limit}
        walk("up", ref, depth, url, as_json, all_runs, lv, field, direct)

    @app.command()
    def diff(a: str, b: str, depth: DepthOpt = queries.DEFAULT_DEPTH, url: UrlOpt = None, as_json: JsonOpt = False) -> None:
        """What differs upstream of A and B (e.g. churn@2.2.0 churn@2.3.1)."""
        _run(as_json, lambda: ask(url, "GET", "/api/v1/diff", {"from": a, "to": b, "depth": depth}, lambda s: releases.diff(s, a, b, depth, stale_run_hours=_hours())), render_diff)

    @app.command()
    def endpoint(
        name: str,
        at: Annotated[str | None, typer.Option(help="What did it serve at this time (ISO 8601)?")] = None,
        url: UrlOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """An endpoint's current deployment and history, or what it served --at a time."""
        _run(as_json, lambda: ask(url, "GET", f"/api/v1/endpoints/{name}", {"at": at}, lambda s: releases.endpoint(s, name, at, stale_run_hours=_hours())), render_endpoint)

    @app.command()
    def versions(
        model: str,
        before: Annotated[str | None, typer.Option(help="Also find the last known good version before this one")] = None,
        url: UrlOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """A model's versions with training data, aliases and annotations."""
        _run(as_json, lambda: ask(url, "GET", f"/api/v1/models/{model}/versions", {"before": before}, lambda s: releases.model_versions(s, model, before, stale_run_hours=_hours())), render_versions)

    @app.command()
    def search(
        q: str,
        kind: Annotated[str | None, typer.Option(help="Only nodes of this kind (Dataset, DatasetVersion, Run, Job, Commit, Alias, Field)")] = None,
        url: UrlOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Nodes whose name, version or handle contains Q, and fields whose name starts with it
        (or that Q names as version[field])."""
        _run(as_json, lambda: ask(url, "GET", "/api/v1/nodes/search", {"q": q, "kind": kind}, lambda s: queries.search(s, q, kind)), lambda c, a: render_search(c, a, searched(url)))

    @app.command()
    def annotate(
        ref: str,
        tag: Annotated[str, typer.Argument(help="deprecated, quarantined, investigation, known-good, or any tag")],
        author: Annotated[str, typer.Option(help="Who says so")],
        reason: Annotated[str, typer.Option(help="Why")] = "",
        url: UrlOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Tag REF (stored as an event in the log, so it is evidence)."""

        def local(store: Store) -> dict[str, Any]:
            target = resolve_ref(store, ref)
            event = parse_event(annotation_body(target.id, ref, tag, reason, author, now()))
            (outcome,) = store.ingest([event], now())
            assert event.annotation is not None
            return {"event": outcome.id, "seq": outcome.seq, **event.annotation}

        body = {"ref": ref, "tag": tag, "reason": reason, "author": author}
        _run(
            as_json,
            lambda: ask(url, "POST", "/api/v1/annotations", body, local),
            lambda c, a: c.print(f"tagged {a['ref']} ({a['target']}) #{a['tag']} by {a['author']}"),
        )
