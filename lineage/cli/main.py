"""`lineage`: the command group; each sub-module adds its commands."""

from __future__ import annotations

import typer

from lineage.cli import actions, admin, audit, checkpoints, columns, consume, emit, query, rejections, serve, tokens

app = typer.Typer(help="OpenLineage lineage graph service for ML releases.", no_args_is_help=True)
serve.register(app)
admin.register(app)
query.register(app)
columns.register(app)
actions.register(app)
tokens.register(app)
audit.register(app)
checkpoints.register(app)
emit.register(app)
rejections.register(app)
consume.register(app)

if __name__ == "__main__":
    app()
