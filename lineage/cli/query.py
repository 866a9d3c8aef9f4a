"""Incident questions from the command line: against the HTTP API (`--url`) or a store directly."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import httpx
import orjson
import typer
from rich.console import Console
from rich.table import Table

from lineage import queries, releases
from lineage.cli.warnings import print_warnings
from lineage.errors import Ambiguous, LineageError, NotFound
from lineage.ingest.parse import parse_event
from lineage.refs import resolve_ref
from lineage.service import annotation_body, now
from lineage.settings import Settings
from lineage.store import open_store
from lineage.store.base import Store

UrlOpt = Annotated[
    str | None, typer.Option("--url", envvar="LINEAGE_URL", help="Ask a running service (e.g. http://127.0.0.1:5000) instead of LINEAGE_STORE")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the answer as JSON, for scripts")]
DepthOpt = Annotated[int, typer.Option(min=1, max=queries.MAX_DEPTH, help="How many hops to follow")]


class Failed(Exception):
    """A query the service refused, with what to tell the person."""

    def __init__(self, message: str, details: list[str]) -> None:
        super().__init__(message)
        self.details = details


def failed(exc: LineageError) -> Failed:
    """What to tell a person about a refused query: suggestions or candidates when there are some."""
    if isinstance(exc, NotFound):
        return Failed(str(exc), [f"did you mean {s['ref']} ({s['kind']})" for s in exc.suggestions])
    if isinstance(exc, Ambiguous):
        return Failed(str(exc), [f"{c['id']}  {c['kind']}  {c['label']}" for c in exc.candidates])
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


def ask(url: str | None, method: str, path: str, params: dict[str, Any], local: Callable[[Store], Any]) -> Any:
    """One answer, from the HTTP API when `url` is given, else from the store directly."""
    if url is None:
        try:
            with _store() as store:
                return local(store)
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
        details = [f"did you mean {s['ref']} ({s['kind']})" for s in body.get("suggestions", [])]
        details += [f"{c['id']}  {c['kind']}  {c['label']}" for c in body.get("candidates", [])]
        raise Failed(str(body.get("detail", response.text)), details)
    return body


def _show(answer: Any, as_json: bool, render: Callable[[Console, Any], None]) -> None:
    if as_json:
        typer.echo(orjson.dumps(answer, option=orjson.OPT_INDENT_2).decode())
    else:
        render(Console(), answer)


def _run(as_json: bool, produce: Callable[[], Any], render: Callable[[Console, Any], None]) -> None:
    try:
        answer = produce()
    except Failed as exc:
        err = Console(stderr=True)
        err.print(f"[red]error:[/] {exc}")
        for line in exc.details:
            err.print(f"  {line}")
        raise typer.Exit(1) from None
    _show(answer, as_json, render)


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    return table


def _short(time: str | None) -> str:
    return time[:16].replace("T", " ") if time else "-"


def render_impact(console: Console, a: dict[str, Any]) -> None:
    print_warnings(console, a)
    console.print(f"[bold]{a['node']['label']}[/] ({a['node']['kind']}): downstream within {a['depth']} hops")
    rows = []
    for e in a["endpoints"]:
        for d in e["affected_deployments"]:
            current = e["current_model_version"]
            rows.append([e["name"], "YES" if e["currently_serving"] else "no", ", ".join(current) if isinstance(current, list) else current, d["model_version"], _short(d["since"]), _short(d["until"]), d["status"]])
    console.print(_table("Endpoints", ["endpoint", "still serving it", "serving now", "affected model", "since", "until", "status"], rows))
    for key in ("model_versions", "feature_view_versions", "dataset_versions"):
        if a[key]:
            console.print(_table(key.replace("_", " ").capitalize(), ["label", "hops", "id"], [[i["label"], i["depth"], i["id"]] for i in a[key]]))
    console.print(f"runs: {len(a['runs'])}  ({', '.join(sorted({r['job'] for r in a['runs'] if r.get('job')}))})")


def render_upstream(console: Console, a: dict[str, Any]) -> None:
    print_warnings(console, a)
    console.print(f"[bold]{a['node']['label']}[/] ({a['node']['kind']}): upstream within {a['depth']} hops")
    if a["commits"]:
        console.print(_table("Commits", ["sha", "repo", "branch"], [[c["sha"][:12], c["repo"], c["branch"]] for c in a["commits"]]))
    for key in ("dataset_versions", "feature_view_versions", "model_versions"):
        if a[key]:
            console.print(_table(key.replace("_", " ").capitalize(), ["label", "hops", "written"], [[i["label"], i["depth"], _short(i.get("written_at"))] for i in a[key]]))
    runs = [[r["job"], r["state"], _short(r.get("ended_at")), orjson.dumps(r["params"]).decode() if r["params"] else ""] for r in a["runs"]]
    console.print(_table("Runs", ["job", "state", "ended", "params"], runs))


def render_diff(console: Console, a: dict[str, Any]) -> None:
    print_warnings(console, a)
    console.print(f"[bold]{a['from']['label']}[/] -> [bold]{a['to']['label']}[/]")
    changed = [d for d in a["datasets"] if d["change"] != "same"]
    console.print(_table("Data, features and models", ["name", "kind", "from", "to", "change"], [[d["name"], d["kind"], ", ".join(d["from"]), ", ".join(d["to"]), d["change"]] for d in changed]))
    commits = [[c["repo"], ", ".join(s[:12] for s in c["from"]), ", ".join(s[:12] for s in c["to"]), c["change"]] for c in a["commits"] if c["change"] != "same"]
    if commits:
        console.print(_table("Commits", ["repo", "from", "to", "change"], commits))
    for key in ("params", "metrics"):
        if a[key]:
            console.print(_table(key.capitalize(), ["job", "name", "from", "to"], [[p["job"], p["name"], p["from"], p["to"]] for p in a[key]]))


def render_endpoint(console: Console, a: dict[str, Any]) -> None:
    print_warnings(console, a)
    console.print(f"[bold]{a['name']}[/] ({a.get('environment') or 'no environment'}): serving {', '.join(a['current_model_version']) or 'nothing'}")
    if "at" in a:
        console.print(f"at {a['at']['time']}: {', '.join(a['at']['model_versions']) or 'nothing'}")
    rows = [[_short(d["since"]), _short(d["until"]), ", ".join(d["model_versions"]), d["status"], f"{d['traffic_percent']:g}%" if d.get("traffic_percent") is not None else "", "rollback" if d.get("rollback") else ("canary" if d.get("canary") else "")] for d in a["history"]]
    console.print(_table("Deployments (newest first)", ["since", "until", "model", "status", "traffic", "note"], rows))


def render_versions(console: Console, a: dict[str, Any]) -> None:
    print_warnings(console, a)
    rows = []
    for v in a["versions"]:
        data = [i["label"] for i in v["training_data"]["dataset_versions"] + v["training_data"]["feature_view_versions"]]
        tags = ", ".join(t["tag"] for t in v["annotations"])
        rows.append([v["version"], _short(v.get("written_at")), ", ".join(v["aliases"]), orjson.dumps(v["metrics"]).decode(), tags, ", ".join(data)])
    console.print(_table(f"Model {a['model']}", ["version", "registered", "aliases", "metrics", "annotations", "trained on"], rows))
    if "before" in a:
        good = a["last_known_good"]
        for ex in a["excluded"]:
            console.print(f"skipped {ex['version']}: {ex['reason']}")
        console.print(f"last known good before {a['before']}: [bold]{good['version'] if good else 'none'}[/]")


def render_search(console: Console, a: dict[str, Any]) -> None:
    console.print(_table(f"Search {a['q']!r}", ["kind", "label", "ref", "id"], [[r["kind"], r["label"], r["ref"], r["id"]] for r in a["results"]]))


def register(app: typer.Typer) -> None:
    @app.command()
    def impact(ref: str, depth: DepthOpt = queries.DEFAULT_DEPTH, url: UrlOpt = None, as_json: JsonOpt = False) -> None:
        """Everything downstream of REF, and which endpoints used it and still serve it."""
        _run(as_json, lambda: ask(url, "GET", "/api/v1/impact", {"ref": ref, "depth": depth}, lambda s: queries.impact(s, ref, depth, stale_run_hours=_hours())), render_impact)

    @app.command()
    def upstream(ref: str, depth: DepthOpt = queries.DEFAULT_DEPTH, url: UrlOpt = None, as_json: JsonOpt = False) -> None:
        """Provenance of REF: commits, dataset and feature versions, runs with params."""
        _run(as_json, lambda: ask(url, "GET", "/api/v1/upstream", {"ref": ref, "depth": depth}, lambda s: queries.upstream(s, ref, depth, stale_run_hours=_hours())), render_upstream)

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
        kind: Annotated[str | None, typer.Option(help="Only nodes of this kind (Dataset, DatasetVersion, Run, Job, Commit, Alias)")] = None,
        url: UrlOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Nodes whose name, version or handle contains Q."""
        _run(as_json, lambda: ask(url, "GET", "/api/v1/search", {"q": q, "kind": kind}, lambda s: queries.search(s, q, kind)), render_search)

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
