"""`lineage rejections list|show|replay|dismiss`: the dead-letter store of refused events."""

from __future__ import annotations

from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.table import Table

from lineage.deadletter import replay as replay_entry
from lineage.deadletter import summary
from lineage.events import Event
from lineage.service import now
from lineage.settings import Settings
from lineage.store import open_store
from lineage.store.base import IngestOutcome, Store

rejections = typer.Typer(help="Refused events, kept so they can be replayed once fixed (store from LINEAGE_STORE).", no_args_is_help=True)


def _dump(value: object) -> None:
    typer.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


def _open() -> Store:
    return open_store(Settings())


@rejections.command(name="list")
def list_(
    limit: Annotated[int, typer.Option(min=1, help="How many, newest first")] = 50,
    before: Annotated[int | None, typer.Option(help="Only entries with a smaller id")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Refused events, newest first."""
    store = _open()
    try:
        entries, stats = store.rejections(before, limit), store.rejection_stats()
    finally:
        store.close()
    if as_json:
        _dump({"entries": [summary(e) for e in entries], "total": stats.entries, "dropped": stats.dropped})
        return
    console = Console(width=200 if not Console().is_terminal else None)
    if not entries:
        console.print(f"No refused events are kept ({stats.dropped} dropped by the bounds).")
        return
    table = Table("id", "received", "error", "field", "detail", "producer", "size")
    for e in entries:
        table.add_row(str(e.id), e.received_at, e.error, e.field, e.detail, e.producer or "", str(e.size))
    console.print(table)
    console.print(f"{stats.entries} kept, {stats.bytes} bytes; {stats.dropped} dropped by the bounds, oldest first")


@rejections.command()
def show(rejection_id: Annotated[int, typer.Argument(help="The entry's id")]) -> None:
    """One refused event, with its body as sent (JSON)."""
    store = _open()
    try:
        entry = store.rejection(rejection_id)
    finally:
        store.close()
    if entry is None:
        typer.echo(f"no dead-letter entry {rejection_id}", err=True)
        raise typer.Exit(1)
    _dump(summary(entry, with_body=True))


@rejections.command()
def replay(
    ids: Annotated[list[int] | None, typer.Argument(help="Entry ids; none means every entry")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Submit refused events again, through today's rules; accepted ones leave the store.
    Exits 1 when any is still refused."""
    store = _open()

    def ingest(events: list[Event]) -> list[IngestOutcome]:
        return store.ingest(events, now())

    try:
        if ids:
            entries = [e for i in ids if (e := store.rejection(i)) is not None]
            missing = sorted(set(ids) - {e.id for e in entries})
        else:
            entries, missing, before = [], [], None
            while page := store.rejections(before, 500):
                entries += page
                before = page[-1].id
        results = [replay_entry(store, e, ingest).to_dict() for e in reversed(entries)]  # oldest first
    finally:
        store.close()
    if as_json:
        _dump({"results": results, "missing": missing})
    else:
        for r in results:
            why = "; ".join(f"{e['field'] or 'body'}: {e['detail']}" for e in r["errors"])
            typer.echo(f"{r['id']}: {r['status']}" + (f" ({why})" if why else f" ({r['created']} created, {r['duplicate']} duplicate)"))
        for i in missing:
            typer.echo(f"{i}: no such entry", err=True)
    if missing or any(r["errors"] for r in results):
        raise typer.Exit(1)


@rejections.command()
def dismiss(rejection_id: Annotated[int, typer.Argument(help="The entry's id")]) -> None:
    """Delete a refused event for good."""
    store = _open()
    try:
        found = store.delete_rejection(rejection_id)
    finally:
        store.close()
    if not found:
        typer.echo(f"no dead-letter entry {rejection_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{rejection_id}: dismissed")


def register(app: typer.Typer) -> None:
    app.add_typer(rejections, name="rejections")
