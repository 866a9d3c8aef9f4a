"""`lineage import` and `lineage rebuild`: bulk loading and replaying the event log."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lineage.deadletter import DeadLetters, rejection_of
from lineage.errors import InvalidEvent
from lineage.events import Event
from lineage.ingest.parse import parse_event
from lineage.runtime import tuned_gc
from lineage.service import now, read_events_file
from lineage.settings import Settings
from lineage.store import open_store
from lineage.store.base import Rejection

EVENT_FILES = (".json", ".ndjson", ".jsonl", ".json.gz", ".ndjson.gz", ".jsonl.gz")


def event_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(EVENT_FILES))


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    )


def register(app: typer.Typer) -> None:
    @app.command(name="import")
    def import_(
        path: Annotated[Path, typer.Argument(exists=True, help="An event file (JSON, JSON array, NDJSON) or a directory")],
        chunk: Annotated[int, typer.Option(min=1, help="Events per transaction")] = 500,
        as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON")] = False,
    ) -> None:
        """Bulk-load events into the store named by LINEAGE_STORE. Events that cannot be identified
        are listed and kept in the dead-letter store (`lineage rejections`); the others are
        loaded, with their problems counted."""
        console = Console(stderr=True)
        settings = Settings()
        store = open_store(settings)
        files = event_files(path)
        summary: dict[str, Any] = {
            "files": len(files), "created": 0, "duplicate": 0, "rejected": 0, "with_warnings": 0, "errors": [],
        }
        refused: list[Rejection] = []
        try:
            with tuned_gc(), _progress(console) as progress:
                task = progress.add_task("importing", total=len(files))
                chunks = _chunks(files, chunk, summary, refused, lambda: progress.advance(task))
                for outcomes in store.ingest_chunks(chunks):
                    for outcome in outcomes:
                        summary["created" if outcome.created else "duplicate"] += 1
            DeadLetters(store, settings).keep(refused)
        finally:
            store.close()
        if as_json:
            typer.echo(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode())
        else:
            for err in summary["errors"]:
                console.print(f"[yellow]rejected[/] {err['file']} #{err['index']}: {err['error']}")
            kept = " (kept: see `lineage rejections list`)" if summary["rejected"] else ""
            flawed = f", {summary['with_warnings']} with warnings" if summary["with_warnings"] else ""
            console.print(
                f"{summary['created']} created, {summary['duplicate']} duplicate, {summary['rejected']} rejected{kept}"
                f"{flawed} from {summary['files']} files"
            )

    @app.command()
    def rebuild() -> None:
        """Replay the whole event log into a new graph that replaces the current one.

        On Neo4j ingest and /readyz answer 503 while it runs, and a failed rebuild keeps the
        graph as it was (docs/stores.md)."""
        console = Console(stderr=True)
        store = open_store(Settings())
        try:
            with tuned_gc(), _progress(console) as progress:
                task = progress.add_task("replaying", total=store.event_count())
                done = store.rebuild(lambda n: progress.advance(task, n))
        finally:
            store.close()
        console.print(f"replayed {done} events")


def _chunks(
    files: list[Path], size: int, summary: dict[str, Any], refused: list[Rejection], file_done: Callable[[], None]
) -> Iterator[tuple[list[Event], str]]:
    """The events of `files` that can be identified, `size` at a time, each chunk with its time
    of receipt; the others are counted and listed in `summary`, and added to `refused`."""
    pending: list[Event] = []
    for file in files:
        try:
            items = read_events_file(file.read_bytes(), file.name)
        except (InvalidEvent, OSError, ValueError) as exc:
            items = [InvalidEvent("", f"unreadable file: {exc}")]
        for index, item in enumerate(items):
            try:
                if isinstance(item, InvalidEvent):
                    raise item
                event = parse_event(item)
                pending.append(event)
                summary["with_warnings"] += bool(event.warnings)
            except InvalidEvent as exc:
                summary["rejected"] += 1
                summary["errors"].append({"file": str(file), "index": index, "error": str(exc)})
                raw = exc.raw if isinstance(item, InvalidEvent) else orjson.dumps(item)
                refused.append(rejection_of(raw, exc, now(), None if isinstance(item, InvalidEvent) else item))
            if len(pending) >= size:
                yield pending, now()
                pending = []
        file_done()
    if pending:
        yield pending, now()
