"""Every ingest request has a deadline (issue 31, point 2): with the SQLite writer process of a
real `lineage serve` stopped (SIGSTOP), ingest answers 503 with Retry-After within the deadline
(3 s by default, below OpenLineage clients' 5 s timeout), later ones are refused at once, reads
keep working and /readyz says 503; after SIGCONT the late commit is logged, and the clients'
retries leave each event in the log exactly once."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx

from bench.run import process_tree
from lineage.store.sqlite import SqliteStore
from tests import scenario as s
from tests.reliability.harness import INGEST, Serve, check_chain, event_id, read_log, wait_until

DEADLINE = 3.0  # the default of LINEAGE_REQUEST_DEADLINE_SECONDS


def writer_child(pid: int) -> int:
    """The SQLite writer process (a multiprocessing child) of the server `pid`."""
    for member in process_tree(pid)[1:]:
        try:
            if b"spawn_main" in Path(f"/proc/{member}/cmdline").read_bytes():
                return member
        except OSError:
            continue
    raise AssertionError(f"no writer process under {pid}")


def test_a_stopped_writer_gives_503_within_the_deadline_and_loses_nothing(tmp_path: Path) -> None:
    db = tmp_path / "deadline.db"
    bodies = [s.event(f"deadline#{n}", "COMPLETE", s.ts(n)) for n in range(3)]
    with Serve(f"sqlite:///{db}", tmp_path) as server, httpx.Client(base_url=server.start().url, timeout=10) as client:
        assert server.proc is not None
        assert client.post(INGEST, json=bodies[0]).status_code == 201
        writer = writer_child(server.proc.pid)
        os.kill(writer, signal.SIGSTOP)
        try:
            started = time.monotonic()
            stuck = client.post(INGEST, json=bodies[1])
            waited = time.monotonic() - started
            assert stuck.status_code == 503 and int(stuck.headers["Retry-After"]) >= 1, stuck.text
            assert DEADLINE - 0.2 <= waited < DEADLINE + 1.9, waited  # and below the clients' 5 s
            assert stuck.json()["error"] == "store_unavailable"

            # The queue's wait is past its bound now: refused at once, not after another 3 s.
            started = time.monotonic()
            shed = client.post(INGEST, json=bodies[2])
            assert shed.status_code == 503 and shed.headers["Retry-After"], shed.text
            assert time.monotonic() - started < 1.0

            assert client.get("/readyz").status_code == 503
            reads = client.get("/api/v1/events", params={"limit": 10})
            assert reads.status_code == 200 and reads.json()["total"] == 1
        finally:
            os.kill(writer, signal.SIGCONT)

        wait_until(lambda: client.get("/readyz").status_code == 200, 10, "/readyz to be 200 after SIGCONT")
        wait_until(lambda: "late commit" in server.log_path.read_text(errors="replace"), 10, "the late commit's log line")
        # The clients retry what was refused: the late-committed event is a duplicate, the shed one new.
        again = [client.post(INGEST, json=body) for body in bodies[1:]]
        assert [(r.status_code, r.json()["status"]) for r in again] == [(200, "duplicate"), (201, "created")]

    store = SqliteStore(str(db))
    try:
        log = read_log(store)
        check_chain(log)
        assert sorted(e.id for e in log) == sorted(event_id(b) for b in bodies)
    finally:
        store.close()
