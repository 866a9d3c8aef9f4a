"""A real `lineage serve` process for tests that need one (what `make run` starts)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running(store_url: str, **env: str) -> Iterator[str]:
    """Start the service on `store_url`, wait until it is ready, yield its base URL, stop it."""
    port = free_port()
    environ = os.environ | {"LINEAGE_STORE": store_url, "LINEAGE_LOG_LEVEL": "warning"} | env
    proc = subprocess.Popen(
        [sys.executable, "-m", "lineage.cli.main", "serve", "--port", str(port)],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"lineage serve exited with {proc.returncode}")
            time.sleep(0.1)
        else:
            raise RuntimeError("lineage serve did not become ready in 30 s")
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
