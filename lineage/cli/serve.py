"""`lineage serve`: run the HTTP API with the store from LINEAGE_STORE."""

from __future__ import annotations

import logging
import os
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Annotated

import typer

from lineage import logs
from lineage.cli.terminal import own_foreground
from lineage.settings import Settings


def redact(url: str) -> str:
    """A store URL fit for a log line: no password."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rpartition('@')[2]}" if "@" in rest else url


def check_before_workers(settings: Settings) -> None:
    """The workers' start-up checks, once in the parent: a worker refusing to start would only
    end the supervisor with a worker's traceback, while here it is one clear error."""
    from api.app import open_checked

    store, _ = open_checked(settings)
    store.close()


class Stopped(Exception):
    """SIGINT or SIGTERM asked the service to stop."""


def _stop(signum: int, frame: FrameType | None) -> None:
    raise Stopped(signum)


@contextmanager
def stopped_cleanly() -> Iterator[None]:
    """Ctrl-C and SIGTERM (how `make run`, systemd and container runtimes stop a service) end
    `serve` with exit code 0. uvicorn shuts down gracefully on either signal and then raises it
    again under the handlers that were in place before it started; with Python's defaults that
    is death by SIGTERM (143) or a KeyboardInterrupt, which a supervisor reports as a failure.
    The handlers here turn the re-raised signal into a normal return instead. A signal that
    arrives before uvicorn has started stops the start-up the same way."""
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    except (Stopped, KeyboardInterrupt):
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: Annotated[str | None, typer.Option(help="Address to listen on [default: LINEAGE_HOST or 127.0.0.1]")] = None,
        port: Annotated[int | None, typer.Option(help="Port [default: LINEAGE_PORT or 5000]")] = None,
        workers: Annotated[
            int | None, typer.Option(min=1, max=64, help="API processes [default: LINEAGE_WORKERS or 1]")
        ] = None,
    ) -> None:
        """Start the API (ingest at /api/v1/lineage, docs at /docs)."""
        import uvicorn

        settings = Settings()
        for name, value in (("host", host), ("port", port), ("workers", workers)):
            if value is not None:
                setattr(settings, name, value)
        logs.configure(settings.log_level, settings.log_format)
        logging.getLogger("lineage").info(
            "starting",
            extra={
                "store": redact(settings.store),
                "listen": f"http://{settings.host}:{settings.port}",
                "workers": settings.workers,
            },
        )
        if settings.workers == 1:
            from api.app import create_app

            with own_foreground(), stopped_cleanly():
                uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)
            return
        try:
            check_before_workers(settings)
        except RuntimeError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        with tempfile.TemporaryDirectory(prefix="lineage-metrics-") as metrics_dir:
            # The workers are fresh interpreters that read their settings from the environment.
            os.environ.update({
                "LINEAGE_HOST": settings.host,
                "LINEAGE_PORT": str(settings.port),
                "LINEAGE_WORKERS": str(settings.workers),
                "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
            })
            with own_foreground(), stopped_cleanly():
                uvicorn.run(
                    "api.app:app_from_environment", factory=True, workers=settings.workers,
                    host=settings.host, port=settings.port, log_config=None,
                )
