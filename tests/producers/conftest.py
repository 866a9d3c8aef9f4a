"""One real Spark run per test session, its OpenLineage listener sending to a running service.

Spark takes tens of seconds to start on a small machine, so the job runs once (session scope)
and the tests read what it sent. A missing pyspark, a jar Maven cannot fetch or a job that fails
is a test failure, never a skip: `make test` must run this on a fresh clone.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server import running

ROOT = Path(__file__).resolve().parents[2]
# Generous: a cold JVM, Spark and the listener on two shared cores; it takes about 30 s alone.
JOB_TIMEOUT_SECONDS = 600
# Headers that belong to one hop; the proxy's own client sets them for the next.
HOP = {"host", "connection", "content-length", "transfer-encoding", "keep-alive"}


@dataclass(frozen=True)
class Exchange:
    """One request the listener sent, and what the service answered."""

    path: str
    body: bytes
    status: int
    answer: Any  # the decoded JSON answer, or its text when it was not JSON

    def event(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class SparkRun:
    data: Path  # where the job wrote its inputs and output
    url: str  # the service (on SQLite) the listener sent to, still running
    exchanges: list[Exchange] = field(default_factory=list)
    seconds: float = 0.0

    def path(self, name: str) -> str:
        """A dataset's OpenLineage name, as the listener names a local file dataset."""
        return str(self.data / name)

    def events(self) -> list[dict[str, Any]]:
        return [x.event() for x in self.exchanges if x.path.startswith("/api/v1/lineage")]


# Filled by the fixture, printed at the end of the run: the time the Spark test adds, and the
# warnings the service gave the listener's events (allowed, but shown).
_SUMMARY: list[str] = []


@contextmanager
def recording_proxy(upstream: str) -> Iterator[tuple[str, list[Exchange]]]:
    """A proxy in front of the service that keeps each request and the service's answer: the
    listener only logs a refusal, so the answers must be read on the wire."""
    seen: list[Exchange] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            sent = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
            answer = httpx.post(upstream + self.path, headers=sent, content=body, timeout=120)
            try:
                decoded: Any = answer.json()
            except ValueError:
                decoded = answer.text
            with lock:
                seen.append(Exchange(self.path, body, answer.status_code, decoded))
            self.send_response(answer.status_code)
            self.send_header("Content-Type", answer.headers.get("content-type", "application/json"))
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        def log_message(self, format: str, *args: object) -> None:
            pass  # the tests read `seen`

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def spark_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkRun]:
    if importlib.util.find_spec("pyspark") is None:
        pytest.fail("pyspark is not installed: `make install` installs the test extras (pyproject.toml)")
    import spark_listener  # ops/ is on the path (tests/conftest.py)

    jar = spark_listener.install()
    base = tmp_path_factory.mktemp("spark")
    data = base / "data"
    log = base / "spark.log"
    with running(f"sqlite:///{base / 'live.db'}") as url, recording_proxy(url) as (proxy, seen):
        started = time.monotonic()
        with open(log, "wb") as out:
            # Its own process group: the JVM that pyspark starts goes with it on a timeout.
            proc = subprocess.Popen(
                [sys.executable, "-m", "tests.producers.spark_job", str(jar), str(data), proxy],
                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )
            try:
                code = proc.wait(JOB_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                code = None
        seconds = time.monotonic() - started
        if code != 0:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-60:])
            said = f"exit {code}" if code is not None else f"stopped after {JOB_TIMEOUT_SECONDS} s"
            pytest.fail(f"the Spark job failed ({said}); the end of {log}:\n{tail}")
        warnings = [
            f"  {x.event()['job']['name']}: {w.get('field')}: {w.get('problem')} {w.get('detail')}"
            for x in seen if isinstance(x.answer, dict) for w in x.answer.get("warnings") or []
        ]
        _SUMMARY.append(
            f"Spark job with the OpenLineage listener: {seconds:.1f} s, {len(seen)} events sent, "
            f"{len(warnings)} warnings"
        )
        _SUMMARY.extend(warnings)
        yield SparkRun(data=data, url=url, exchanges=list(seen), seconds=seconds)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for line in _SUMMARY:
        terminalreporter.write_line(line)
