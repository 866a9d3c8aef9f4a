"""Disk full (issue 31, point 3), on a real `lineage serve` whose SQLite store lives on a small
tmpfs (2 MiB, mounted by the test; it needs root, as CI has) that a filler file brings to the
brim: ingest answers 503 `disk_full` with Retry-After, the log says so once for the episode,
reads keep working, and once the filler is removed ingest is accepted again; every
acknowledged event is in the log once."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lineage.store.sqlite import SqliteStore
from tests import scenario as s
from tests.reliability.harness import INGEST, OK, Serve, check_chain, event_id, read_log, wait_until

TMPFS_BYTES = 2 * 1024 * 1024
HEADROOM = 48 * 1024  # what the filler leaves free: a few commits' worth
MAX_POSTS = 300  # the fill loop's bound


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_BYTES}", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a tmpfs in CI: {mounted.stderr.decode()}")
        pytest.skip(f"cannot mount a tmpfs here (root needed): {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def padded(n: int) -> dict:
    """An event of about 6 KB (a documentation facet), so the disk fills in a bounded loop."""
    body = s.event(f"fill#{n}", "COMPLETE", s.ts(1, n % 60))
    body["job"]["facets"] = {"documentation": {"_producer": "t", "_schemaURL": "t", "description": f"{n} " + "x" * 6000}}
    return body


def log_lines(path: Path, needle: str) -> int:
    return sum(1 for line in path.read_text(errors="replace").splitlines() if needle in line)


def test_a_full_disk_answers_503_naming_it_then_recovers(small_disk: Path, tmp_path: Path) -> None:
    acked: list[str] = []
    with Serve(f"sqlite:///{small_disk / 'lineage.db'}", tmp_path) as server, httpx.Client(base_url=server.start().url, timeout=10) as client:
        assert client.post(INGEST, json=padded(0)).status_code == 201
        acked.append(event_id(padded(0)))
        filler = small_disk / "filler"
        with open(filler, "wb") as out:
            out.write(b"\0" * max(shutil.disk_usage(small_disk).free - HEADROOM, 0))

        full = None
        for n in range(1, MAX_POSTS):
            response = client.post(INGEST, json=padded(n))
            if response.status_code in OK:
                acked.append(event_id(padded(n)))
                continue
            full = response
            break
        assert full is not None, f"the disk did not fill within {MAX_POSTS} events"
        body = full.json()
        assert full.status_code == 503 and int(full.headers["Retry-After"]) >= 1, body
        assert body["error"] == "disk_full" and "disk is full" in body["detail"], body
        assert "rollback" not in full.text.lower()

        # More of the same episode: still 503, and one log line for all of them.
        assert all(client.post(INGEST, json=padded(1000 + n)).status_code == 503 for n in range(3))
        reads = client.get("/api/v1/events", params={"limit": 5})
        assert reads.status_code == 200 and reads.json()["total"] == len(acked)
        assert client.get("/healthz").status_code == 200

        filler.unlink()
        wait_until(lambda: client.post(INGEST, json=padded(2000)).status_code in OK, 10, "ingest to be accepted again")
        acked.append(event_id(padded(2000)))
        wait_until(lambda: log_lines(server.log_path, "room again") == 1, 5, "the end of the episode in the log")
        assert log_lines(server.log_path, "disk is full: ingest answers 503") == 1, server.log_tail()
        assert log_lines(server.log_path, "rollback") == 0

    store = SqliteStore(str(small_disk / "lineage.db"))
    try:
        log = read_log(store)
        check_chain(log)
        assert sorted(e.id for e in log) == sorted(acked)
    finally:
        store.close()
