"""`lineage audit` (a report in json, md, html, pdf or csv) and `lineage verify` (the hash chain)."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import httpx
import orjson
import typer
from rich.console import Console

from lineage.cli.query import Failed, JsonOpt, UrlOpt, ask, failed, hints
from lineage.errors import LineageError
from lineage.reports.audit import build_report
from lineage.reports.render import RENDERERS, renderer
from lineage.reports.verify import Anchor, verify, well_formed_head
from lineage.settings import Settings
from lineage.store import open_store


def _fail(exc: Failed) -> typer.Exit:
    err = Console(stderr=True, soft_wrap=True)
    err.print(f"[red]error:[/] {exc}")
    for line in exc.details:
        err.print(f"  {line}")
    return typer.Exit(1)


def _local_user() -> str:
    """Who asks for a report read straight from the store: no token is involved, so the OS user."""
    try:
        name = getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        name = "unknown user"
    return f"{name} (command line, local store)"


def _local_report(ref: str, fmt: str, whole_chain: bool) -> tuple[bytes, dict[str, str]]:
    settings = Settings()
    store = open_store(settings)
    try:
        report = build_report(store, ref, whole_chain=whole_chain, stale_run_hours=settings.stale_run_hours, requested_by=_local_user())
    except LineageError as exc:
        raise failed(exc) from exc
    finally:
        store.close()
    log = report["log"]
    info = {"entries": str(log["entries"]), "head": log["head"], "label": report["subject"]["ref"], "warnings": str(len(report["warnings"]))}
    return renderer(fmt).render(report), info


def _remote_report(url: str, ref: str, fmt: str, whole_chain: bool) -> tuple[bytes, dict[str, str]]:
    token = os.environ.get("LINEAGE_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    params = {"ref": ref, "format": fmt, "check": "chain" if whole_chain else "evidence"}
    try:
        response = httpx.get(url.rstrip("/") + "/api/v1/audit", params=params, headers=headers, timeout=300)
    except httpx.HTTPError as exc:
        raise Failed(f"cannot reach {url}: {exc}", []) from exc
    if response.status_code >= 400:
        try:
            body: dict[str, Any] = response.json()
        except ValueError:
            body = {"detail": response.text}
        details = hints(body.get("suggestions", []), body.get("candidates", []))
        raise Failed(str(body.get("detail", response.text)), details)
    info = {
        "entries": response.headers.get("x-lineage-log-entries", "?"),
        "head": response.headers.get("x-lineage-log-head", "?"),
        "label": ref,
        "warnings": response.headers.get("x-lineage-warnings", "0"),
    }
    return response.content, info


def _verify_text(console: Console, answer: dict[str, Any]) -> None:
    if answer["ok"]:
        console.print(f"[green]ok[/]: {answer['entries']} entries, head {answer['head']}")
        if "anchor" in answer:
            console.print(f"the log still holds entry {answer['anchor']['entries']} with head {answer['anchor']['head']}")
        return
    bad = answer["first_bad"]
    console.print(f"[red]TAMPERED[/]: {answer['entries']} entries, head {answer['head']}")
    console.print(f"first bad entry: seq {bad['seq']} ({bad['problem']}){' id ' + bad['id'] if bad.get('id') else ''}")
    console.print(f"  {bad['detail']}")


def register(app: typer.Typer) -> None:
    @app.command()
    def audit(
        ref: Annotated[str, typer.Argument(help="A model version (churn@2.3.1), an endpoint or a dataset version")],
        format_: Annotated[
            str | None, typer.Option("--format", "-f", help=f"One of {', '.join(RENDERERS)}; default: from -o's extension, else json")
        ] = None,
        output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to this file (default: standard output)")] = None,
        whole_chain: Annotated[
            bool, typer.Option("--whole-chain", help="Walk the whole log's hash chain, not just the evidence entries and the head")
        ] = False,
        url: UrlOpt = None,
    ) -> None:
        """Audit report for REF: release chain, approvals, deployments, and the raw events as evidence."""
        suffix = output.suffix.lstrip(".").lower() if output else ""
        fmt = format_ or (suffix if suffix in RENDERERS else "json")
        try:
            renderer(fmt)
            body, info = _remote_report(url, ref, fmt, whole_chain) if url else _local_report(ref, fmt, whole_chain)
        except LineageError as exc:
            raise _fail(Failed(str(exc), [])) from None
        except Failed as exc:
            raise _fail(exc) from None
        if info["warnings"] not in ("0", "?"):  # the report says so first too; people at a terminal see it here
            Console(stderr=True, soft_wrap=True).print(
                f"[bold yellow]incomplete chain: {info['warnings']} warning(s), listed first in the report[/]"
            )
        if output is None:
            if fmt == "pdf" and sys.stdout.isatty():
                raise _fail(Failed("a PDF is not for the terminal: give -o FILE", []))
            sys.stdout.buffer.write(body)
            sys.stdout.flush()
            return
        output.write_bytes(body)
        Console(stderr=True, soft_wrap=True).print(
            f"wrote {output} ({fmt}, {len(body)} bytes): audit report for {info['label']}, log head {info['head']} ({info['entries']} entries)"
        )

    @app.command(name="verify")
    def verify_(
        entries: Annotated[int | None, typer.Option(min=0, help="With --head: a report's log entries, to check the log still holds them")] = None,
        head: Annotated[str | None, typer.Option(help="With --entries: a report's log head")] = None,
        url: UrlOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Check the event log's hash chain; exit 1 and name the first bad entry if it was tampered with."""
        if (entries is None) != (head is None):
            raise _fail(Failed("give --entries and --head together", []))
        if head is not None and not well_formed_head(head):
            raise typer.BadParameter("must be 64 lowercase hex digits (a report's log.head)", param_hint="--head")
        anchor = Anchor(entries, head) if entries is not None and head is not None else None
        params = {"entries": entries, "head": head}
        try:
            answer = ask(url, "GET", "/api/v1/verify", params, lambda store: verify(store, anchor))
        except Failed as exc:
            raise _fail(exc) from None
        if as_json:
            typer.echo(orjson.dumps(answer, option=orjson.OPT_INDENT_2).decode())
        else:
            _verify_text(Console(soft_wrap=True), answer)
        if not answer["ok"]:
            raise typer.Exit(1)
