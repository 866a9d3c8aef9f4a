"""Fixtures for the SDK tests: a real git repository, and a `Lineage` whose events are captured
by openlineage-python's own file transport (NDJSON), so tests read exactly what was sent."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from emitters import Lineage

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_AUTHOR_DATE": "2026-03-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2026-03-01T00:00:00Z",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, env=os.environ | GIT_ENV, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@dataclass
class Repo:
    path: Path
    sha: str
    url: str  # the origin remote as configured (with credentials)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """A git repository on branch `main` with one commit and a remote carrying credentials."""
    path = tmp_path / "pipeline"
    path.mkdir()
    git(path, "init", "--quiet", "--initial-branch=main")
    (path / "train.py").write_text("print('train')\n")
    git(path, "add", "train.py")
    git(path, "commit", "--quiet", "-m", "first")
    url = "https://ci-bot:s3cret@git.example.com/ml/churn.git"
    git(path, "remote", "add", "origin", url)
    return Repo(path, git(path, "rev-parse", "HEAD"), url)


class TickClock:
    """Event times one second apart from a fixed start: deterministic and strictly increasing."""

    def __init__(self, start: datetime = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        moment, self.now = self.now, self.now + timedelta(seconds=1)
        return moment


@dataclass
class Capture:
    lineage: Lineage
    path: Path

    def events(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]


def file_transport(path: Path) -> dict[str, Any]:
    return {"type": "file", "log_file_path": str(path), "append": True}


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No OpenLineage or SDK configuration from the machine: no variables, no openlineage.yml
    in the working directory or home. Yields the (empty) working directory.

    openlineage-python writes `OPENLINEAGE__TRANSPORT__TRANSPORTS__DEFAULT_HTTP__*` into the
    environment when `OPENLINEAGE_URL` is set; those are removed afterwards too."""
    for key in list(os.environ):
        if key.startswith(("OPENLINEAGE", "LINEAGE_EMIT_")):
            monkeypatch.delenv(key)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    yield work
    for key in list(os.environ):
        if key.startswith("OPENLINEAGE__TRANSPORT__TRANSPORTS__DEFAULT_HTTP"):
            del os.environ[key]


@pytest.fixture
def make_capture(tmp_path: Path, repo: Repo, clean_env: Path) -> Callable[..., Capture]:
    """A factory of captured `Lineage`s (strict, so a capture that fails fails the test)."""
    counter = iter(range(1000))

    def make(**kwargs: Any) -> Capture:
        path = tmp_path / f"events-{next(counter)}.ndjson"
        options: dict[str, Any] = {
            "config": {"transport": file_transport(path)},
            "clock": TickClock(),
            "source_dir": repo.path,
            "strict": True,
            "schema_base_url": "http://lineage.test",
        }
        return Capture(Lineage(**(options | kwargs)), path)

    return make


@pytest.fixture
def capture(make_capture: Callable[..., Capture]) -> Capture:
    return make_capture()


class FlakyServer:
    """A loopback OpenLineage endpoint answering the scripted statuses in turn, then 201;
    records every request (status, body) so tests see what the transport really sent."""

    def __init__(self, statuses: list[int]) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.script = list(statuses)
        self.requests: list[tuple[int, dict[str, Any]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
                status = server.script.pop(0) if server.script else 201
                server.requests.append((status, body))
                payload = b'{"status": "created"}' if status < 300 else b'{"detail": "scripted failure"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def accepted(self) -> list[dict[str, Any]]:
        return [body for status, body in self.requests if status < 300]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def flaky() -> Iterator[Callable[[list[int]], FlakyServer]]:
    servers: list[FlakyServer] = []

    def start(statuses: list[int]) -> FlakyServer:
        servers.append(FlakyServer(statuses))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def http_transport(url: str, retries: int = 1) -> dict[str, Any]:
    """HTTP transport config with a small bounded retry and a tiny backoff, to keep tests fast."""
    return {"type": "http", "url": url, "timeout": 5, "retry": {"total": retries, "connect": retries, "read": retries, "backoff_factor": 0.01}}
