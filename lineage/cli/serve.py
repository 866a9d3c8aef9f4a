"""`lineage serve`: run the HTTP API with the store from LINEAGE_STORE."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from lineage import logs
from lineage.settings import Settings


def redact(url: str) -> str:
    """A store URL fit for a log line: no password."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rpartition('@')[2]}" if "@" in rest else url


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: Annotated[str | None, typer.Option(help="Address to listen on [default: LINEAGE_HOST or 127.0.0.1]")] = None,
        port: Annotated[int | None, typer.Option(help="Port [default: LINEAGE_PORT or 5000]")] = None,
    ) -> None:
        """Start the API (ingest at /api/v1/lineage, docs at /docs)."""
        import uvicorn

        from api.app import create_app

        settings = Settings()
        if host is not None:
            settings.host = host
        if port is not None:
            settings.port = port
        logs.configure(settings.log_level, settings.log_format)
        logging.getLogger("lineage").info(
            "starting", extra={"store": redact(settings.store), "listen": f"http://{settings.host}:{settings.port}"}
        )
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)
