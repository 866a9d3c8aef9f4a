"""`lineage check-log`: the local log against a signed checkpoint handed out earlier."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console

from lineage.checkpoints import Checkpoint, Signer
from lineage.cli.query import JsonOpt
from lineage.merkle import entry_leaf
from lineage.reports.logcheck import check_log
from lineage.settings import Settings
from lineage.store import open_store


def _bundle_leaves(path: Path) -> tuple[Checkpoint, dict[int, bytes]]:
    """A bundle's checkpoint, and the leaves of its events as they were when it was made."""
    archive = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    lines = archive.read("events.jsonl").split(b"\n")
    entries = [orjson.loads(line) for line in archive.read("entries.jsonl").splitlines() if line.strip()]
    leaves = {
        int(e["seq"]): entry_leaf(int(e["seq"]), hashlib.sha256(raw).hexdigest(), e["received_at"]) for raw, e in zip(lines, entries)
    }
    return Checkpoint.from_dict(orjson.loads(archive.read("checkpoint.json"))), leaves


def register(app: typer.Typer) -> None:
    @app.command(name="check-log")
    def check_log_(
        checkpoint: Annotated[Path, typer.Argument(help="A checkpoint (GET /api/v1/log/checkpoint, saved) or an evidence bundle (.zip)", exists=True)],
        kept: Annotated[list[Path] | None, typer.Option("--kept", help="Older checkpoints you kept: bound where a rewrite starts")] = None,
        key: Annotated[Path | None, typer.Option(help="The public key (PEM) to trust; default: this service's own key")] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Does the log still hold what a signed checkpoint vouched for? Exit 1 if it was rewritten,
        reordered or cut short, naming the first changed entry when a bundle gives the old ones."""
        settings = Settings()
        if checkpoint.suffix == ".zip":
            cp, known = _bundle_leaves(checkpoint)
        else:
            cp, known = Checkpoint.from_dict(orjson.loads(checkpoint.read_bytes())), {}
        older = [Checkpoint.from_dict(orjson.loads(p.read_bytes())) for p in kept or []]
        own = Path(settings.signing_key_path())
        if key is None and not own.exists():  # never made here: a new key would vouch for nothing
            Console(stderr=True).print(f"[red]error:[/] no signing key at {own}: give --key PEM")
            raise typer.Exit(1)
        pem = key.read_text() if key else Signer(own).public_pem()
        store = open_store(settings)
        try:
            answer = check_log(store, cp, pem, known, older)
        finally:
            store.close()
        console = Console(soft_wrap=True)
        if as_json:
            console.print_json(orjson.dumps(answer).decode())
        elif answer["ok"]:
            console.print(f"[green]ok[/]: the log ({answer['entries']} entries) still holds the checkpoint of {cp.size} entries ({cp.time})")
        else:
            console.print(f"[red]TAMPERED[/]: {answer['problem']}")
            if "first_changed" in answer:
                console.print(f"first changed entry: seq {answer['first_changed']}")
            if "rewritten_after" in answer:
                console.print(f"the log still matches its first {answer['rewritten_after']} entries (the largest kept checkpoint that holds)")
        if not answer["ok"]:
            raise typer.Exit(1)
