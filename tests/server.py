"""A real `lineage serve` process for tests that need one (what `make run` starts)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil

# uvicorn's words when the port went to another process between `free_port` and its bind.
PORT_TAKEN = "address already in use"


def free_port() -> int:
    """A port nothing listens on now; another process may still take it before the caller binds
    it, so a server started on it must be checked to own it (`listens_on`)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_tree(pid: int) -> list[int]:
    """pid and its descendants that are still there (a process may end while it is read)."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        try:
            tasks = list(Path(f"/proc/{current}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
    return out


def listens_on(pid: int, port: int) -> bool:
    """Whether the process `pid` (or one of its children) holds the socket listening on `port`:
    a 200 from that port may otherwise come from a server that some other test or program
    started there."""
    members = set(process_tree(pid))
    return any(
        c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid in members
        for c in psutil.net_connections(kind="tcp")
    )


def ready(proc: subprocess.Popen[bytes], url: str, port: int) -> bool:
    """The process is up, answers /readyz with 200, and the answer is its own."""
    try:
        answered = httpx.get(f"{url}/readyz", timeout=5).status_code == 200
    except httpx.TransportError:
        return False
    return answered and proc.poll() is None and listens_on(proc.pid, port)


@contextmanager
def running(store_url: str, **env: str) -> Iterator[str]:
    """Start the service on `store_url`, wait until it is ready, yield its base URL, stop it.
    A port taken by another process before the service could bind it is replaced by another."""
    # Tests that use this server check answers, not deadlines: a Neo4j's first commits plan their
    # queries and can pass the 3 s request deadline on a loaded machine. The deadlines have their
    # own tests (tests/reliability/test_deadline.py, test_overload.py); a caller may set them.
    wide = {"LINEAGE_REQUEST_DEADLINE_SECONDS": "60", "LINEAGE_INGEST_QUEUE_MAX_WAIT_SECONDS": "60"}
    environ = os.environ | wide | {"LINEAGE_STORE": store_url, "LINEAGE_LOG_LEVEL": "warning"} | env
    for attempt in range(3):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        with tempfile.TemporaryFile() as errors:
            proc = subprocess.Popen(
                [sys.executable, "-m", "lineage.cli.main", "serve", "--port", str(port)],
                env=environ,
                stdout=subprocess.DEVNULL,
                stderr=errors,
            )
            try:
                deadline = time.monotonic() + 60
                while not ready(proc, url, port):
                    if proc.poll() is not None:
                        errors.seek(0)
                        said = errors.read().decode(errors="replace")
                        if PORT_TAKEN in said and attempt < 2:
                            break
                        raise RuntimeError(f"lineage serve exited with {proc.returncode}:\n{said[-2000:]}")
                    if time.monotonic() > deadline:
                        raise RuntimeError("lineage serve did not become ready in 60 s")
                    time.sleep(0.1)
                else:
                    yield url
                    return
            finally:
                if proc.poll() is None:
                    proc.terminate()
                proc.wait(10)
    raise AssertionError("unreachable: the last attempt raises or yields")
