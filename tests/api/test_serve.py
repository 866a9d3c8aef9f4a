"""`lineage serve` as a real process: what `make run` starts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests import scenario as s


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_ingests_into_the_embedded_store(tmp_path: Path) -> None:
    port = free_port()
    env = os.environ | {"LINEAGE_STORE": f"sqlite:///{tmp_path / 'data' / 'lineage.db'}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "lineage.cli.main", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{url}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        response = httpx.post(f"{url}/api/v1/lineage", json=s.event("etl#1", "COMPLETE", s.ts(1)))
        assert response.status_code == 201
        assert httpx.get(f"{url}/openapi.json").json()["info"]["title"] == "Lineage graph service"
    finally:
        proc.terminate()
        proc.wait(10)
    assert (tmp_path / "data" / "lineage.db").exists()
