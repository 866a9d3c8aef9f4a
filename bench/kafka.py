"""HTTP -> Kafka -> store throughput, and the CPU each component spends per event (issue 35).

    python -m bench.run --kafka                  # both stores, one consumer, 2 partitions
    python -m bench.run --kafka --stores sqlite

Four runs on each store, on a broker started here (`ops/kafka_local.py`) unless
LINEAGE_BENCH_KAFKA_BOOTSTRAP names one, after a warm-up load (a fresh Neo4j compiles its plans):

0. The store alone: the same number of events ingested in this process, 500 a transaction,
   the rate the store takes at this moment's machine speed with no HTTP and no Kafka.
1. HTTP -> Kafka: `lineage serve` with LINEAGE_KAFKA_HTTP_TO_TOPIC, 32 clients posting single
   events, each answered 202 once Kafka acknowledged it; no consumer runs.
2. Kafka -> store: one `lineage consume` drains what run 1 left in the topic, timed from the
   first event stored (its start and group join are not ingest).
3. Both at once: the clients post while the consumer drains; the rate is events over the time
   from the first post until the last event is in the store.

Beside each rate stands the CPU (user + system) each process tree used during the run, per
event: the API, the consumer (with its SQLite writer process), the broker, Neo4j. These are the
per-component costs the scale model of docs/kafka.md is built from.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson

from bench.load import Connection
from bench.run import HTTP_DAYS_PER_RUN, ROOT, in_chunks, machine_speed, percentile, process_tree
from bench.workload import Workload
from lineage.ingest.parse import parse_event
from lineage.runtime import tuned_gc
from lineage.settings import Settings
from lineage.store import open_store

CLIENTS = 32
PER_CLIENT = 100
PARTITIONS = 2
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of each process and its descendants, as /proc tells it now."""
    total = 0
    for root in pids:
        for pid in process_tree(root):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / TICKS


@dataclass
class Run:
    """One timed run: events, seconds, ack latencies, and CPU seconds by component."""

    name: str
    store: str
    events: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def cpu_ms_per_event(self, component: str) -> float:
        return self.cpu.get(component, 0.0) / self.events * 1000 if self.events else 0.0


class Meter:
    """CPU seconds of named process trees between start() and stop()."""

    def __init__(self, components: dict[str, int]) -> None:
        self.components = components
        self.before: dict[str, float] = {}

    def start(self) -> None:
        self.before = {name: cpu_seconds([pid]) for name, pid in self.components.items()}

    def stop(self) -> dict[str, float]:
        return {name: cpu_seconds([pid]) - self.before[name] for name, pid in self.components.items()}


@contextmanager
def broker() -> Iterator[tuple[str, int | None]]:
    bootstrap = os.environ.get("LINEAGE_BENCH_KAFKA_BOOTSTRAP")
    if bootstrap:
        yield bootstrap, None
        return
    import kafka_local  # type: ignore[import-not-found]  # ops/, on sys.path through bench.run

    with tempfile.TemporaryDirectory() as home:
        server = kafka_local.start(Path(home), kafka_local.free_port(), heap="1g")
        try:
            yield server.bootstrap, server.pid
        finally:
            server.stop()


@contextmanager
def store_server(kind: str) -> Iterator[tuple[str, int | None]]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.db", None
        return
    import neo4j_local  # type: ignore[import-not-found]

    with tempfile.TemporaryDirectory() as home:
        server = neo4j_local.start(Path(home), neo4j_local.free_port(), heap="2g", pagecache="1g")
        try:
            yield server.uri, server.pid
        finally:
            server.stop()


def make_topic(bootstrap: str) -> str:
    from confluent_kafka.admin import AdminClient, NewTopic

    name = f"bench-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})  # held until the futures resolve: its end fails them
    for future in admin.create_topics([NewTopic(name, PARTITIONS, 1)]).values():
        future.result(timeout=60)
    return name


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def process(args: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen([sys.executable, "-m", "lineage.cli.main", *args], env=os.environ | env, cwd=ROOT,
                            stdout=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(60)


def wait_ready(base: str) -> None:
    for _ in range(600):
        try:
            if httpx.get(f"{base}/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{base} did not become ready")


async def post_all(base: str, offset: int) -> list[float]:
    """CLIENTS clients posting single events, each waiting for its 202 (Kafka's ack)."""
    workload = Workload(CLIENTS * PER_CLIENT, seed=2000 + offset, first_day=HTTP_DAYS_PER_RUN * offset)
    bodies = [orjson.dumps(e) for e in workload.events()]
    latencies: list[float] = []

    async def client(i: int) -> None:
        async with Connection(base) as http:
            for body in bodies[i::CLIENTS]:
                started = time.perf_counter()
                status, answer = await asyncio.wait_for(http.post("/api/v1/lineage", body), 60)
                if status != 202:
                    raise RuntimeError(f"ingest answered {status}: {answer[:200]!r}")
                latencies.append((time.perf_counter() - started) * 1000)

    await asyncio.gather(*(client(i) for i in range(CLIENTS)))
    return latencies


def wait_for_count(url: str, count: int, timeout: float = 1800) -> float:
    """Wait until the store holds `count` events; perf_counter() when the first new one landed."""
    store = open_store(Settings(store=url))
    try:
        deadline = time.monotonic() + timeout
        before, first = store.event_count(), None
        while (now := store.event_count()) < count:
            if first is None and now > before:
                first = time.perf_counter()
            if time.monotonic() > deadline:
                raise RuntimeError(f"{now} of {count} events in the store after {timeout:.0f} s")
            time.sleep(0.05)
        return first or time.perf_counter()
    finally:
        store.close()


def store_alone(url: str, offset: int, components: dict[str, int]) -> Run:
    """The same number of events bulk-ingested in process, chunks of 500 as a consumer's batch:
    what the store takes with no HTTP and no Kafka, at this moment's machine speed."""
    workload = Workload(CLIENTS * PER_CLIENT, seed=2000 + offset, first_day=HTTP_DAYS_PER_RUN * offset)
    events = [parse_event(e) for e in workload.events()]
    store = open_store(Settings(store=url))
    try:
        meter = Meter(components)
        meter.start()
        client_cpu = time.process_time()  # this process is the consumer here
        started = time.perf_counter()
        with tuned_gc():
            for chunk, received in in_chunks(events, 500):
                store.ingest(chunk, received)
        seconds = time.perf_counter() - started
        cpu = meter.stop() | {"consumer": time.process_time() - client_cpu}
        return Run("store alone (in process, 500 a commit)", "", len(events), seconds, [], cpu)
    finally:
        store.close()


def measure(kind: str) -> list[Run]:
    runs: list[Run] = []
    with broker() as (bootstrap, broker_pid), store_server(kind) as (url, store_pid):
        topic = make_topic(bootstrap)
        kafka_env = {
            "LINEAGE_STORE": url, "LINEAGE_LOG_LEVEL": "warning", "LINEAGE_KAFKA_BOOTSTRAP": bootstrap,
            "LINEAGE_KAFKA_TOPICS": topic, "LINEAGE_KAFKA_GROUP": f"bench-{topic}", "LINEAGE_KAFKA_DEAD_LETTER_TOPIC": "",
        }
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        others = {"broker": broker_pid, "neo4j": store_pid}
        speed = machine_speed()
        # A fresh Neo4j compiles its query plans on first use: warm it (and SQLite's file) first.
        # Every load continues the timeline of the one before (offsets 0 to 3): a load of earlier
        # days would be a backfill, whose re-binding of inferred reads costs far more per event.
        store_alone(url, 0, {})
        runs.append(store_alone(url, 1, {k: v for k, v in others.items() if v}))
        with process(["serve", "--port", str(port)], kafka_env | {"LINEAGE_KAFKA_HTTP_TO_TOPIC": "true"}) as api:
            wait_ready(base)
            components = {"api": api.pid, **{k: v for k, v in others.items() if v}}
            # 1. HTTP -> Kafka, nothing consuming.
            meter = Meter(components)
            meter.start()
            started = time.perf_counter()
            latencies = asyncio.run(post_all(base, 2))
            runs.append(Run("HTTP -> Kafka", kind, len(latencies), time.perf_counter() - started, latencies, meter.stop()))
            sent = len(latencies)
            # 2. Kafka -> store: one consumer drains the topic.
            stored = CLIENTS * PER_CLIENT * 2  # the two store-alone loads
            with process(["consume"], kafka_env) as consumer:
                meter = Meter(components | {"consumer": consumer.pid})
                meter.start()
                # Timed from the first event stored: the consumer's start and group join are not ingest.
                first = wait_for_count(url, stored + sent)
                runs.append(Run("Kafka -> store (1 consumer)", kind, sent, time.perf_counter() - first, [], meter.stop()))
                # 3. Both at once.
                meter.start()
                started = time.perf_counter()
                latencies = asyncio.run(post_all(base, 3))
                wait_for_count(url, stored + sent + len(latencies))
                runs.append(Run("HTTP -> Kafka -> store", kind, len(latencies), time.perf_counter() - started, latencies, meter.stop()))
    for run in runs:
        run.store = f"{kind} (speed {speed:.0f} µs)"
    return runs


def report(runs: list[Run]) -> str:
    lines = [
        f"HTTP -> Kafka -> store: {CLIENTS} clients x {PER_CLIENT} single events, {PARTITIONS} partitions, one consumer",
        "",
        "| store | run | events | events/s | ack p50 / p99 ms | CPU ms per event: api | consumer | broker | neo4j |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        acks = (f"{statistics.median(run.latencies):.1f} / {percentile(run.latencies, 0.99):.1f}" if run.latencies else "-")
        cpu = " | ".join(
            f"{run.cpu_ms_per_event(c):.2f}" if c in run.cpu else "-" for c in ("api", "consumer", "broker", "neo4j")
        )
        lines.append(f"| {run.store} | {run.name} | {run.events:,} | {run.rate:,.0f} | {acks} | {cpu} |")
    return "\n".join(lines)


def main(stores: list[str]) -> None:
    for kind in stores:  # each store's table as soon as it is measured
        print(report(measure(kind)), flush=True)
