"""`lineage serve` as a real process: what `make run` starts."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests import scenario as s
from tests.server import free_port, running  # noqa: F401  (free_port: used by other test modules)


def test_serve_ingests_into_the_embedded_store(tmp_path: Path) -> None:
    with running(f"sqlite:///{tmp_path / 'data' / 'lineage.db'}") as url:
        response = httpx.post(f"{url}/api/v1/lineage", json=s.event("etl#1", "COMPLETE", s.ts(1)))
        assert response.status_code == 201
        assert httpx.get(f"{url}/openapi.json").json()["info"]["title"] == "Lineage graph service"
    assert (tmp_path / "data" / "lineage.db").exists()


def spawned_children(pid: int) -> list[int]:
    """The processes multiprocessing spawned under `pid`: the uvicorn workers of a `lineage
    serve --workers N`, or a worker's SQLite writer process (a resource tracker is not one).
    A process that ends while it is read is left out: uvicorn replaces a worker that does not
    answer its health check in time."""
    spawned = []
    try:
        children = [int(c) for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()]
    except OSError:
        return []
    for child in children:
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                spawned.append(child)
        except OSError:
            pass
    return spawned


def writers_of_workers(pid: int) -> dict[int, int]:
    """How many processes each worker of `pid` spawned (its SQLite writer)."""
    return {worker: len(spawned_children(worker)) for worker in spawned_children(pid)}


def test_serve_with_workers_runs_them_as_processes_and_metrics_count_all_of_them(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from tests.reliability.harness import Serve, wait_until

    with Serve(f"sqlite:///{tmp_path / 'lineage.db'}", tmp_path, LINEAGE_WORKERS="3") as api:
        api.start()
        assert api.proc is not None
        pid = api.proc.pid
        # /readyz answered from one worker: the others may still be starting (on a busy machine
        # uvicorn even replaces a worker slower than its 5 s health check), and each starts its
        # writer as it starts. Wait for three workers that have all started theirs.
        writers: dict[int, int] = {}

        def started() -> bool:
            writers.clear()
            writers.update(writers_of_workers(pid))
            return len(writers) == 3 and all(writers.values())

        wait_until(started, 60, "three workers with their writers")
        assert sorted(writers.values()) == [1, 1, 1]  # each its own SQLite writer

        def post(i: int) -> int:
            # A new connection each time, so the kernel hands them to all the workers.
            return httpx.post(f"{api.url}/api/v1/lineage", json=s.event(f"etl#{i}", "COMPLETE", s.ts(1, i))).status_code

        with ThreadPoolExecutor(12) as pool:
            statuses = list(pool.map(post, range(60)))
        assert statuses == [201] * 60
        assert httpx.get(f"{api.url}/api/v1/events", params={"limit": 1}).json()["total"] == 60
        for _ in range(6):  # whichever worker answers, it counts every worker's events
            text = httpx.get(f"{api.url}/metrics").text
            created = [line for line in text.splitlines() if line.startswith('lineage_ingest_events_total{outcome="created"}')]
            assert created and float(created[0].split()[-1]) == 60


def test_serve_with_workers_refuses_an_open_address_without_auth_before_starting_them(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = os.environ | {"LINEAGE_STORE": f"sqlite:///{tmp_path / 'lineage.db'}", "LINEAGE_AUTH": "off"}
    done = subprocess.run(
        [sys.executable, "-m", "lineage.cli.main", "serve", "--workers", "2", "--host", "0.0.0.0", "--port", str(free_port())],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 1
    assert "refusing to listen on 0.0.0.0" in done.stderr
    assert "Started parent process" not in done.stderr + done.stdout


def test_a_running_app_keeps_its_start_up_heap_out_of_full_collections(tmp_path: Path, settings) -> None:
    """A full collection over the start-up heap (modules, routes, store) takes tens of ms, and an
    ingest queued behind it waits that long: while the app runs that heap is frozen and the young
    generation is collected less often; when it stops, both are given back."""
    import gc

    from fastapi.testclient import TestClient

    from api.app import create_app
    from lineage.runtime import YOUNG_THRESHOLD
    from lineage.store.sqlite import SqliteStore

    gc.unfreeze()
    before = gc.get_threshold()
    store = SqliteStore(str(tmp_path / "gc.db"))
    app = create_app(settings, store=store)
    try:
        with TestClient(app):
            assert gc.get_freeze_count() > 10_000
            assert not any(o is store for o in gc.get_objects(generation=2))
            assert gc.get_threshold()[0] == YOUNG_THRESHOLD
        assert gc.get_freeze_count() == 0
        assert gc.get_threshold() == before
        assert any(o is store for o in gc.get_objects(generation=2))
    finally:
        store.close()


def test_serve_commits_in_a_writer_process_that_dies_with_it(tmp_path: Path) -> None:
    """A SIGKILL of the API process takes its writer with it, even mid-transaction (here waiting
    for the writer lock): the batch rolls back rather than committing after the API is gone."""
    import threading

    from lineage.store.writer_lock import WriterLock
    from tests.reliability.harness import Serve, waits_for_a_lock, wait_until

    db = tmp_path / "lineage.db"
    with Serve(f"sqlite:///{db}", tmp_path) as api:
        api.start()
        assert api.proc is not None
        [writer] = spawned_children(api.proc.pid)
        response = httpx.post(f"{api.url}/api/v1/lineage", json=s.event("etl#1", "COMPLETE", s.ts(1)))
        assert response.status_code == 201
        cut_off: list[BaseException] = []

        def post() -> None:
            try:
                httpx.post(f"{api.url}/api/v1/lineage", json=s.event("etl#2", "COMPLETE", s.ts(2)), timeout=60)
            except httpx.TransportError as exc:
                cut_off.append(exc)

        with WriterLock(str(db) + "-writer.lock"):
            sender = threading.Thread(target=post)
            sender.start()
            wait_until(lambda: waits_for_a_lock(writer), 20, "the writer to wait for the lock")
            api.kill()  # returns once the writer is gone too (it never got the lock)
            sender.join(30)
        assert len(cut_off) == 1
        api.start()
        assert httpx.get(f"{api.url}/api/v1/events", params={"limit": 1}).json()["total"] == 1
    with Serve(f"sqlite:///{db}", tmp_path, LINEAGE_SQLITE_WRITER="inline") as api:
        api.start()
        assert api.proc is not None
        assert spawned_children(api.proc.pid) == []
        response = httpx.post(f"{api.url}/api/v1/lineage", json=s.event("etl#2", "COMPLETE", s.ts(2)))
        assert response.status_code == 201
        assert httpx.get(f"{api.url}/api/v1/events", params={"limit": 1}).json()["total"] == 2


def test_a_server_started_on_a_port_another_program_took_moves_to_another(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests' own start-up (tests/server.py): a port found free can be taken before the
    service binds it, and a 200 from whatever took it must not pass for the service's."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import tests.server

    class Impostor(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: object) -> None:
            pass

    other = ThreadingHTTPServer(("127.0.0.1", 0), Impostor)
    thread = threading.Thread(target=other.serve_forever, daemon=True)
    thread.start()
    taken = other.server_address[1]
    ports = iter([taken])
    real = tests.server.free_port
    monkeypatch.setattr(tests.server, "free_port", lambda: next(ports, None) or real())
    try:
        assert httpx.get(f"http://127.0.0.1:{taken}/readyz").status_code == 200  # it answers readiness too
        with running(f"sqlite:///{tmp_path / 'lineage.db'}") as url:
            assert url != f"http://127.0.0.1:{taken}"
            assert httpx.get(f"{url}/openapi.json").json()["info"]["title"] == "Lineage graph service"
    finally:
        other.shutdown()
        other.server_close()
        thread.join(10)
