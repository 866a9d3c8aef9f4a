"""What the reliability tests share: a real `lineage serve` process that can be SIGKILLed,
a tally of what clients sent and what was acknowledged, and the checks every fault test ends
with (the log holds what was acknowledged, once; the hash chain is linear; the graph equals
a rebuild of the log)."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx

from bench.run import process_tree
from lineage.chain import GENESIS, entry_hash
from lineage.ids import format_time
from lineage.ingest.parse import parse_event
from lineage.store.base import EventFilter, StoredEvent, Store
from tests import scenario as s
from tests.server import PORT_TAKEN, ready

ROOT = Path(__file__).resolve().parents[2]
INGEST = "/api/v1/lineage"
OK = (200, 201)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def store_url(backend: str, store: Store, request: Any) -> str:
    """LINEAGE_STORE for a server process on the test's `store` fixture."""
    if backend == "sqlite":
        return f"sqlite:///{store.path}"  # type: ignore[attr-defined]
    return str(request.getfixturevalue("neo4j_uri"))


class Serve:
    """One `lineage serve` process on a store; `kill()` is a crash (SIGKILL), `start()` again
    brings it back on the same port and store."""

    def __init__(self, store_url: str, log_dir: Path, name: str = "serve", **env: str) -> None:
        self.store_url = store_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = os.environ | {"LINEAGE_STORE": store_url, "LINEAGE_LOG_LEVEL": "warning"} | env
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.moves = 0  # to another port, when the first one was taken before the first start

    def start(self, timeout: float = 60) -> Serve:
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"--- start {self.starts}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "lineage.cli.main", "serve", "--port", str(self.port)],
                env=self.env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                if self.starts == 1 and self.moves < 2 and PORT_TAKEN in self.log_tail(10):
                    # Taken since `free_port` found it free: the first start may pick another;
                    # a restart must come back on the port its clients use.
                    self.moves += 1
                    self.port = free_port()
                    self.url = f"http://127.0.0.1:{self.port}"
                    self.starts = 0
                    return self.start(max(deadline - time.monotonic(), 1))
                raise RuntimeError(f"lineage serve exited with {self.proc.returncode}:\n{self.log_tail()}")
            if ready(self.proc, self.url, self.port):  # a 200 from this process, not another's
                return self
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"lineage serve not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hook, no flush, no goodbye; whatever was in flight is cut off.
        Returns once the server's child processes (its SQLite writer) are gone too."""
        children: list[int] = []
        if self.proc is not None and self.proc.poll() is None:
            children = process_tree(self.proc.pid)[1:]
            self.proc.send_signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(30)
        wait_until(lambda: all(gone(c) for c in children), 30, "the server's child processes to end")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> Serve:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class Tally:
    """What the clients did, shared by their threads: event ids sent, acknowledged (a 2xx),
    cut off without an answer, and every status seen."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: set[str] = field(default_factory=set)
    acked: set[str] = field(default_factory=set)
    no_answer: set[str] = field(default_factory=set)
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0
    failures: list[str] = field(default_factory=list)
    unavailable_seconds: list[float] = field(default_factory=list)  # how long each 503 took

    def record(self, status: int, seconds: float) -> None:
        with self.lock:
            self.statuses[status] += 1
            if status == 503:
                self.unavailable_seconds.append(seconds)

    def fail(self, text: str) -> None:
        with self.lock:
            self.failures.append(text)

    def ack(self, event_id: str) -> None:
        with self.lock:
            self.acked.add(event_id)

    def count(self, name: str) -> int:
        with self.lock:
            return len(getattr(self, name))


def event_id(body: dict[str, Any]) -> str:
    """The id the service gives an event: what it parses to, computed here."""
    return parse_event(body).id


BASE_TIME = datetime(2026, 3, 1, tzinfo=timezone.utc)


def stream_event(worker: int, i: int) -> dict[str, Any]:
    """Event `i` of worker `worker`'s endless stream: START and COMPLETE of its runs, each
    reading datasets other workers write (unversioned, so reads are inferred and re-bound as
    versions arrive) and writing a dataset others read. Distinct for every (worker, i)."""
    run, step = divmod(i, 2)
    when = format_time(BASE_TIME + timedelta(minutes=run, seconds=worker))
    io = {
        "inputs": [s.dataset(f"raw/{run % 4}"), s.dataset(f"clean/{(worker + 1) % 4}")],
        "outputs": [s.dataset(f"clean/{worker % 4}")],
    }
    return s.event(
        f"w{worker}#{run}", "START" if step == 0 else "COMPLETE", when,
        job=f"etl-{worker % 3}", run_facets={"progress": s.facet(worker=worker, i=i)}, **io,
    )


def read_log(store: Store) -> list[StoredEvent]:
    out: list[StoredEvent] = []
    after = 0
    while True:
        page = store.events(EventFilter(), after, 1000)
        if not page:
            return out
        out += page
        after = page[-1].seq


def api_log_ids(url: str) -> tuple[list[str], int]:
    """Every event id in the log as `GET /api/v1/events` pages it out, and the total it reports."""
    ids: list[str] = []
    cursor, total = 0, -1
    with httpx.Client(base_url=url, timeout=60) as client:
        while True:
            page = client.get("/api/v1/events", params={"limit": 1000, "cursor": cursor})
            assert page.status_code == 200, page.text
            body = page.json()
            total = body["total"]
            ids += [e["id"] for e in body["events"]]
            if body["next_cursor"] is None:
                return ids, total
            cursor = body["next_cursor"]


def check_chain(log: list[StoredEvent]) -> None:
    """seq 1..n without gaps, each entry linked to the one before, each hash recomputable,
    each id the sha256 of the stored payload: nothing half-written, nothing reordered."""
    prev = GENESIS
    for n, entry in enumerate(log, start=1):
        assert entry.seq == n, f"seq {entry.seq} where {n} was due"
        assert entry.prev_hash == prev, f"seq {n}: prev_hash does not link to seq {n - 1}"
        assert entry.id == hashlib.sha256(entry.payload).hexdigest(), f"seq {n}: payload does not match its id"
        assert entry.hash == entry_hash(prev, entry.seq, entry.id, entry.received_at), f"seq {n}: bad hash"
        prev = entry.hash


def dump_difference(a: dict[str, list[dict[str, Any]]], b: dict[str, list[dict[str, Any]]]) -> str:
    """A short account of how two dumps differ (a full pytest diff would be thousands of lines)."""
    lines = []
    def edge(x: dict[str, Any]) -> str:
        return f"{x['src']} -{x['type']}:{x['key']}-> {x['dst']}"

    for part, key in (("nodes", lambda x: x["id"]), ("edges", edge)):
        left = {key(x): x for x in a[part]}
        right = {key(x): x for x in b[part]}
        lines.append(f"{part}: {len(left)} vs {len(right)}")
        for k in sorted(set(left) ^ set(right))[:5]:
            lines.append(f"  only in {'first' if k in left else 'second'}: {left.get(k) or right.get(k)}")
        for k in sorted(k for k in set(left) & set(right) if left[k] != right[k])[:5]:
            lines.append(f"  differs: {left[k]}\n       vs: {right[k]}")
    return "\n".join(lines)


def check_graph_is_rebuild(store: Store, entries: int) -> dict[str, list[dict[str, Any]]]:
    """The graph as it is must equal the graph replayed from the log; returns the dump."""
    before = store.dump()
    assert store.rebuild() == entries
    after = store.dump()
    assert before == after, "graph differs from a rebuild of the log:\n" + dump_difference(before, after)
    return after


def check_unique(dump: dict[str, list[dict[str, Any]]]) -> None:
    ids = Counter(n["id"] for n in dump["nodes"])
    assert not [i for i, c in ids.items() if c > 1], "duplicate node ids"
    edges = Counter((e["src"], e["type"], e["dst"], e["key"]) for e in dump["edges"])
    assert not [e for e, c in edges.items() if c > 1], "duplicate edges"


@dataclass
class Timer:
    started: float = field(default_factory=time.monotonic)

    def __call__(self) -> float:
        return time.monotonic() - self.started


def gone(pid: int) -> bool:
    """The process has exited (a zombie waiting for its reaper counts as gone)."""
    try:
        return b"zombie" in Path(f"/proc/{pid}/status").read_bytes()
    except FileNotFoundError:
        return True


def waits_for_a_lock(pid: int) -> bool:
    """/proc/locks lists the processes blocked on a lock with `->`."""
    return any("->" in line and f" {pid} " in f" {line} " for line in Path("/proc/locks").read_text().splitlines())


def wait_until(condition: Any, timeout: float, what: str, step: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)


def threads(target: Any, count: int, *args: Any) -> Iterator[threading.Thread]:
    for n in range(count):
        thread = threading.Thread(target=target, args=(n, *args), name=f"client-{n}", daemon=True)
        thread.start()
        yield thread
