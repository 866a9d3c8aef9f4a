"""`lineage token create|list|revoke`: API tokens, kept in the store as hashes only."""

from __future__ import annotations

from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lineage.auth import SCOPES, new_token
from lineage.cli.query import console
from lineage.errors import LineageError
from lineage.service import now
from lineage.settings import Settings
from lineage.store import open_store

tokens = typer.Typer(help="API tokens (bearer) with scopes ingest, read, admin.", no_args_is_help=True)


@tokens.command()
def create(
    name: str,
    scope: Annotated[list[str], typer.Option("--scope", help=f"Repeat for several: {', '.join(SCOPES)}")],
) -> None:
    """Create a token; the secret is printed once and never stored."""
    store = open_store(Settings())
    try:
        secret, record = new_token(name, scope, now())
        store.put_token(record)
    except LineageError as exc:
        Console(stderr=True).print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None
    finally:
        store.close()
    typer.echo(secret)
    Console(stderr=True).print(f"token {name!r} with scopes {', '.join(record.scopes)}: keep it now, it is not shown again")


@tokens.command(name="list")
def list_(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every token with its scopes and state (never the secret)."""
    store = open_store(Settings())
    try:
        records = store.tokens()
    finally:
        store.close()
    rows = [{"name": t.name, "scopes": list(t.scopes), "created_at": t.created_at, "revoked_at": t.revoked_at} for t in records]
    if as_json:
        typer.echo(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
        return
    table = Table("name", "scopes", "created", "revoked")
    for column in table.columns:
        column.overflow = "fold"
    for row in rows:
        table.add_row(escape(row["name"]), ", ".join(row["scopes"]), row["created_at"], row["revoked_at"] or "")
    console().print(table)  # whole when piped, like the query tables


@tokens.command()
def revoke(name: str) -> None:
    """Revoke a token; API processes stop accepting it within seconds."""
    store = open_store(Settings())
    try:
        done = store.revoke_token(name, now())
    finally:
        store.close()
    if not done:
        Console(stderr=True).print(f"[red]error:[/] no active token named {name!r}")
        raise typer.Exit(1)
    typer.echo(f"revoked {name}")


def register(app: typer.Typer) -> None:
    app.add_typer(tokens, name="token")
