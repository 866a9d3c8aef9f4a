"""Benchmarks: ingest throughput and latency, query latency, API memory, on both stores.

    python -m bench.run            # quick: 10k events (what `make bench` runs)
    python -m bench.run --full     # 10k, 100k and 1M events
    python -m bench.run --stores sqlite
    python -m bench.run --sizes 10000,100000
    python -m bench.run --workers 1,2         # API processes of the HTTP runs (default 1,2)
    python -m bench.run --repeat 5            # each timed HTTP run 5 times: median and range
    python -m bench.run --tree-cost           # only the Merkle tree's ingest cost (bench/tree_cost.py)
    python -m bench.run --history 0           # without the long-history workload (bench/history.py)
    python -m bench.run --ingest-turns ../main --repeat 3   # ingest of this build and another's, in turns
    python -m bench.run --kafka               # only HTTP -> Kafka -> store (bench/kafka.py)
    MARQUEZ_URL=http://127.0.0.1:15100 python -m bench.run    # and, at the end, against that Marquez
    MARQUEZ_URL=http://127.0.0.1:15100 python -m bench.run --marquez-only   # only that (bench/marquez.py)

Every figure is measured here and printed as a table; nothing is hard-coded. Beside each series
stands this machine's speed at the time (`machine_speed`): shared cores run at different speeds
from one minute to the next, and a figure is only comparable with others taken at a like speed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
from rich.console import Console
from rich.table import Table

from bench import corpus
from bench.load import Connection
from bench.workload import Workload
from lineage import queries, releases
from lineage.errors import InvalidEvent
from lineage.events import Event
from lineage.ingest.parse import parse_event
from lineage.reports.audit import build_report
from lineage.runtime import tuned_gc
from lineage.settings import Settings
from lineage.store import open_store
from lineage.store.base import Store
from lineage.store.stages import StageClock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "ops"))
NOW = "2026-06-01T00:00:00.000000Z"
HTTP_DAYS_PER_RUN = 100  # more days than an HTTP run's workload spans
# Before the timed HTTP runs a fresh server is sent windows of WARM_UP_WINDOW events by 32
# clients until its rate stops rising: a fresh Neo4j compiles each query plan on first use and
# its JVM compiles its hot code over tens of thousands of events (on these two cores the rate
# rose from 277 to 777 events/s over six 4,000-event windows, by fits and starts), which a
# running service has long done. SQLite settles in the first windows.
WARM_UP_WINDOW = 3_200
WARM_UP_MAX_WINDOWS = 16
WARM_UP_RISE = 1.05  # a window this much faster than the best before means still warming
# Events each client sends per timed HTTP run: a 32-client run lasts a few seconds, long enough
# that one scheduling hiccup of these shared cores does not decide its figure.
HTTP_EVENTS_PER_CLIENT = 200
WARM_UP_CALLS = 20  # of each query before it is timed (the server JIT-compiles what it runs often)
QUERY_CALLS = 100  # timed calls of each query, so that its p95 is the 95th of a hundred
QUERY_ROUNDS = 5  # in which the sizes' timed calls take turns (20 calls of each query a round)
BULK_CHUNK = 500  # events a transaction in a bulk load (`lineage import`)
# Events a transaction of the group commit at 32 HTTP clients, on average (from /metrics), on both stores.
HTTP_COMMIT_EVENTS = 16
BULK_TARGETS = {"sqlite": 20_000, "neo4j": 10_000}  # events/s, issue 7
HTTP_TARGETS = {"sqlite": 2_000, "neo4j": 1_000}  # events/s at 32 clients, issue 7


def machine_speed() -> float:
    """µs per event to parse and validate a fixed 1,000 events, the best of three: pure CPU
    work, so it follows how fast the cores run at the moment (lower is faster)."""
    bodies = [orjson.dumps(e) for e in Workload(1_000, seed=7).events()]
    best = float("inf")
    for attempt in range(4):  # the first pass warms the caches and is not counted
        started = time.perf_counter()
        for body in bodies:
            parse_event(orjson.loads(body))
        if attempt:
            best = min(best, time.perf_counter() - started)
    return best / len(bodies) * 1e6


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@contextmanager
def neo4j_server() -> Iterator[str]:
    import neo4j_local  # type: ignore[import-not-found]

    with tempfile.TemporaryDirectory() as home:
        server = neo4j_local.start(Path(home), neo4j_local.free_port(), heap="2g", pagecache="1g")
        try:
            yield server.uri
        finally:
            server.stop()


@contextmanager
def store_url(kind: str) -> Iterator[str]:
    if kind == "neo4j":
        with neo4j_server() as uri:
            yield uri
    else:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.db"


def in_chunks(events: list[Event], chunk: int = BULK_CHUNK) -> Iterator[tuple[list[Event], str]]:
    return ((events[start : start + chunk], NOW) for start in range(0, len(events), chunk))


def bulk(store: Store, size: int, chunk: int = BULK_CHUNK) -> tuple[float, Workload]:
    """Events per second of `store.ingest_chunks` in chunks of 500, as `lineage import` runs it."""
    workload = Workload(size)
    events = [parse_event(e) for e in workload.events()]
    with tuned_gc():
        started = time.perf_counter()
        for _ in store.ingest_chunks(in_chunks(events, chunk)):
            pass
        return len(events) / (time.perf_counter() - started), workload


def stage_split(store: Store, size: int, chunk: int = BULK_CHUNK) -> StageClock:
    """Where a bulk load's time goes: the workload ingested chunk by chunk (`ingest`, no
    pipeline, so the stages do not overlap) with a stage clock, after an untimed load of the
    same events that is then reset (a fresh Neo4j compiles its plans and hot code on first use)."""
    events = [parse_event(e) for e in Workload(size).events()]
    for part, received_at in in_chunks(events, chunk):
        store.ingest(part, received_at)
    store.reset()
    clock = StageClock()
    store.stages = clock
    try:
        with tuned_gc():
            for part, received_at in in_chunks(events, chunk):
                store.ingest(part, received_at)
    finally:
        store.stages = None
    return clock


def query_calls(store: Store, workload: Workload) -> dict[str, Callable[[], Any]]:
    """The timed queries, each a call on `store` about the workload's probes."""
    probes = workload.probes()
    a, b = probes["diff"][0].split("|")
    ep = probes["endpoint"][0]
    return {
        "impact": lambda: [queries.impact(store, r) for r in probes["impact"][:1]],
        "upstream": lambda: [queries.upstream(store, r) for r in probes["upstream"][:1]],
        "diff": lambda: releases.diff(store, a, b),
        "endpoint as-of": lambda: releases.endpoint(store, ep, "2026-01-20T00:00:00Z"),
        "audit": lambda: build_report(store, probes["upstream"][0], generated_at=NOW),
    }


def interleaved_latencies(
    calls: dict[int, dict[str, Callable[[], Any]]], per_query: int, rounds: int
) -> dict[int, dict[str, tuple[float, float]]]:
    """p50 and p95 ms of each size's queries: each warmed, then timed `per_query` times in
    `rounds` rounds that take turns between the sizes, so that a slow minute of these shared
    cores falls on every size alike (the ratio of a size's latency to a smaller one's is a
    target; timed minutes apart, one size after its load, sub-millisecond figures drifted)."""
    for fns in calls.values():
        for fn in fns.values():
            for _ in range(WARM_UP_CALLS):  # warm caches and plans, as a running service has them
                fn()
    times: dict[int, dict[str, list[float]]] = {size: {name: [] for name in fns} for size, fns in calls.items()}
    for round_ in range(rounds):
        # The first `per_query % rounds` rounds take one call more, so every query is timed `per_query` times.
        in_round = per_query // rounds + (round_ < per_query % rounds)
        for size, fns in calls.items():
            for name, fn in fns.items():
                for _ in range(in_round):
                    started = time.perf_counter()
                    fn()
                    times[size][name].append((time.perf_counter() - started) * 1000)
    return {
        size: {name: (statistics.median(found), percentile(found, 0.95)) for name, found in by_name.items()}
        for size, by_name in times.items()
    }


def corpus_replay(store: Store) -> tuple[int, int, float]:
    """Replay the OpenLineage corpus in tests/corpus/ (events written by other projects) through bulk
    ingest: (accepted, rejected, events/s). The invalid-on-purpose files are the rejected."""
    events, rejected = [], 0
    for _, _, body in corpus.bodies():
        try:
            events.append(parse_event(body))
        except InvalidEvent:
            rejected += 1
    with tuned_gc():
        started = time.perf_counter()
        for _ in store.ingest_chunks(in_chunks(events)):
            pass
        return len(events), rejected, (len(events) + rejected) / (time.perf_counter() - started)


@contextmanager
def served(url: str, workers: int) -> Iterator[tuple[str, int]]:
    port = int(subprocess.check_output([sys.executable, "-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"]))
    env = os.environ | {"LINEAGE_STORE": url, "LINEAGE_LOG_LEVEL": "warning", "LINEAGE_WORKERS": str(workers)}
    proc = subprocess.Popen([sys.executable, "-m", "lineage.cli.main", "serve", "--port", str(port)], env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/readyz").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    try:
        yield base, proc.pid
    finally:
        proc.terminate()
        proc.wait(30)


def process_tree(pid: int) -> list[int]:
    """pid and its descendants: `lineage serve --workers N` and its worker processes."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        for task in Path(f"/proc/{current}/task").iterdir():
            todo += [int(c) for c in (task / "children").read_text().split()]
    return out


def peak_rss_mb(pid: int) -> float:
    """The sum of each API process's peak resident memory."""
    total = 0
    for member in process_tree(pid):
        for line in Path(f"/proc/{member}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1])
    return total / 1024


SHED = [0]  # requests the server shed with 503 and Retry-After over the whole run, retried
MAX_SHED = 10_000  # past it the run fails: a server that sheds that much is not being measured


async def http_ingest(base: str, clients: int, per_client: int, offset: int) -> tuple[float, float, float]:
    """`clients` concurrent clients, each posting single events and waiting for each ack.
    Each run continues the timeline of the runs before it on the same server (new days, as
    pipelines send them), rather than backfilling days the store already holds."""
    workload = Workload(clients * per_client, seed=1000 + offset, first_day=HTTP_DAYS_PER_RUN * offset)
    return await post_bodies(base, [orjson.dumps(e) for e in workload.events()], clients)


async def post_bodies(base: str, bodies: list[bytes], clients: int) -> tuple[float, float, float]:
    """Post `bodies` to `base` from `clients` concurrent clients (client i sends every
    `clients`-th body from the i-th on, one at a time): events/s, p50 and p99 ack ms."""
    latencies: list[float] = []

    async def client(i: int) -> None:
        async with Connection(base) as http:
            for body in bodies[i::clients]:
                started = time.perf_counter()
                status, answer = await asyncio.wait_for(http.post("/api/v1/lineage", body), 60)
                # A shed request (503 with Retry-After) is retried as an OpenLineage client's
                # retry policy would; its latency runs from the first attempt, and it is counted.
                retried = False
                while status == 503 and http.retry_after is not None and SHED[0] < MAX_SHED:
                    SHED[0] += 1
                    retried = True
                    await asyncio.sleep(http.retry_after)
                    status, answer = await asyncio.wait_for(http.post("/api/v1/lineage", body), 60)
                # A retry may find the event stored: a 503 after the deadline does not undo the
                # commit it waited for, and ingest is idempotent (200, duplicate).
                if status != 201 and not (status == 200 and retried):
                    raise RuntimeError(f"ingest answered {status}: {answer[:200]!r}")
                latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    elapsed = time.perf_counter() - started
    return len(bodies) / elapsed, statistics.median(latencies), percentile(latencies, 0.99)


def http_runs(repeat: int) -> list[tuple[int, int]]:
    """(timeline offset, clients) of the timed HTTP runs on one server: 1, 8 and 32 clients,
    `repeat` rounds of them interleaved (so that a slow minute of these shared cores falls on
    every client count alike), each on days after the warm-up's and the runs' before it."""
    counts = [clients for _ in range(repeat) for clients in (1, 8, 32)]
    return [(WARM_UP_MAX_WINDOWS + i, clients) for i, clients in enumerate(counts)]


def spread(values: Sequence[float], fmt: str = "{:,.0f}") -> str:
    """A figure of repeated runs: their median, and their range when there are several."""
    middle = fmt.format(statistics.median(values))
    if len(values) == 1:
        return middle
    return f"{middle} ({fmt.format(min(values))}-{fmt.format(max(values))})"


def settled(rates: Sequence[float]) -> bool:
    """Whether a warm-up whose windows ran at `rates` (events/s, in order) can stop: neither of
    the last two windows is clearly faster than the best before them (one window alone is
    often a plateau between two rises), or the cap is reached."""
    if len(rates) >= WARM_UP_MAX_WINDOWS:
        return True
    return len(rates) >= 3 and max(rates[-2:]) < max(rates[:-2]) * WARM_UP_RISE


def warm_up(base: str) -> list[float]:
    """Untimed windows of 32 clients until the server's rate settles; their rates, in order.
    They take the timeline's first days (offsets 0 to WARM_UP_MAX_WINDOWS - 1)."""
    rates: list[float] = []
    while not settled(rates):
        rate, _, _ = asyncio.run(http_ingest(base, 32, WARM_UP_WINDOW // 32, len(rates)))
        rates.append(rate)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="10k, 100k and 1M events")
    parser.add_argument("--stores", default="sqlite,neo4j")
    parser.add_argument("--sizes", help="comma-separated graph sizes in events, e.g. 10000,100000 (overrides --full)")
    parser.add_argument("--workers", default="1,2", help="API processes of the HTTP runs, e.g. 1,2 (LINEAGE_WORKERS)")
    parser.add_argument(
        "--repeat", type=int, default=1, help="timed HTTP runs per client count on each server; the table shows median (range)"
    )
    parser.add_argument("--tree-cost", action="store_true", help="only the Merkle tree's ingest cost: SQLite bulk with and without it")
    parser.add_argument(
        "--history", type=int, default=10_000, metavar="VERSIONS",
        help="the long-history workload (bench/history.py): a source with VERSIONS versions against one with 10; 0 skips it",
    )
    parser.add_argument(
        "--ingest-turns", type=Path, metavar="CHECKOUT",
        help="only ingest throughput, of this build and CHECKOUT's in turns, --repeat turns each (bench/ingest_turns.py)",
    )
    parser.add_argument("--kafka", action="store_true", help="only HTTP -> Kafka -> store, with CPU per component (bench/kafka.py)")
    parser.add_argument(
        "--marquez-only", action="store_true",
        help="only the comparison with the Marquez at MARQUEZ_URL (bench/marquez.py), on the first of --sizes (10,000)",
    )
    parser.add_argument("--marquez-repeat", type=int, default=3, metavar="N", help="against Marquez, timed ingest and lineage rounds")
    parser.add_argument("--marquez-datasets", type=int, metavar="N", help="against Marquez, a fixed sample of N datasets, not every one")
    args = parser.parse_args()
    marquez_url = os.environ.get("MARQUEZ_URL")
    if args.marquez_only and not marquez_url:
        parser.error("--marquez-only needs MARQUEZ_URL, the base URL of a running Marquez")
    if args.ingest_turns:
        from bench import ingest_turns

        ingest_turns.compare(args.ingest_turns, args.stores.split(","), max(args.repeat, 2))
        return
    if args.kafka:
        from bench import kafka

        kafka.main(args.stores.split(","))
        return
    if args.tree_cost:
        from bench import tree_cost

        print(tree_cost.report(tree_cost.measure()))
        return
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.marquez_only:
        compare_marquez(marquez_url, args)
        return
    sizes = [10_000, 100_000, 1_000_000] if args.full else [10_000]
    if args.sizes:
        sizes = [int(x) for x in args.sizes.split(",")]
    per_client = HTTP_EVENTS_PER_CLIENT
    # Piped to a file, rich would wrap the tables at 80 columns; a log should keep each row whole.
    console = Console() if sys.stdout.isatty() else Console(width=240)
    console.print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {'full' if args.full else 'quick'} run")
    ingest_rows, query_rows, corpus_rows, stage_rows = [], [], [], []
    for kind in args.stores.split(","):
        with store_url(kind) as url:
            store = open_store(Settings(store=url))
            try:
                accepted, rejected, rate = corpus_replay(store)
                for chunk, target in ((BULK_CHUNK, BULK_TARGETS[kind]), (HTTP_COMMIT_EVENTS, HTTP_TARGETS[kind])):
                    store.reset()
                    speed = machine_speed()
                    clock = stage_split(store, min(sizes), chunk)
                    stage_rows.append(
                        [kind, str(chunk), f"{clock.events:,}", f"{speed:.0f}"]
                        + [f"{us:.0f}" for us in clock.per_event_us().values()]
                        + [f"{clock.events / sum(clock.seconds.values()):,.0f}", f"{clock.storage_bound():,.0f}", f"{clock.overlapped_bound():,.0f}", f"{target:,}"]
                    )
            finally:
                store.close()
            corpus_rows.append([kind, str(accepted), str(rejected), f"{rate:,.0f}"])
        # Every size's store stays open until the queries of all sizes have been timed together.
        with ExitStack() as stores:
            calls: dict[int, dict[str, Callable[[], Any]]] = {}
            loads: dict[int, tuple[float, float]] = {}
            for size in sizes:
                store = open_store(Settings(store=stores.enter_context(store_url(kind))))
                stores.callback(store.close)
                speed = machine_speed()
                rate, workload = bulk(store, size)
                loads[size] = (speed, rate)
                calls[size] = query_calls(store, workload)
            speed_queries = machine_speed()
            with tuned_gc():  # as the API process that answers these runs
                lat = interleaved_latencies(calls, QUERY_CALLS, QUERY_ROUNDS)
        for size, (speed, rate) in loads.items():
            query_rows.append(
                [kind, f"{size:,}", f"{speed:.0f} / {speed_queries:.0f}", f"{rate:,.0f}"]
                + [f"{p50:.1f} / {p95:.1f}" for p50, p95 in lat[size].values()]
            )
        for workers in [int(w) for w in args.workers.split(",")]:
            with store_url(kind) as url, served(url, workers) as (base, pid):
                warm = warm_up(base)
                warmed = f"{len(warm) * WARM_UP_WINDOW:,} ({warm[0]:,.0f} -> {warm[-1]:,.0f}/s)"
                speed = machine_speed()
                runs: dict[int, list[tuple[float, float, float]]] = {}
                for offset, clients in http_runs(args.repeat):
                    runs.setdefault(clients, []).append(asyncio.run(http_ingest(base, clients, per_client, offset)))
                rss = f"{peak_rss_mb(pid):.0f}"
                for clients, figures in runs.items():
                    rates, p50s, p99s = zip(*figures)
                    ingest_rows.append(
                        [kind, str(workers), warmed, f"{speed:.0f}", str(clients), spread(rates), spread(p50s, "{:.1f}"), spread(p99s, "{:.1f}"), rss]
                    )
    runs_note = f", median (range) of {args.repeat} runs each" if args.repeat > 1 else ""
    table = Table(title=f"Single-event HTTP ingest (POST /api/v1/lineage, ack after commit{runs_note})")
    for col in ("store", "workers", "warm-up events (first -> last window)", "speed µs", "clients", "events/s", "p50 ms", "p99 ms", "API peak RSS MB"):
        table.add_column(col)
    for row in ingest_rows:
        table.add_row(*row)
    console.print(table)
    if SHED[0]:
        console.print(f"{SHED[0]:,} requests were shed (503 with Retry-After) and retried after the wait; their latency includes it")
    table = Table(title="Bulk ingest and query latency (p50 / p95 ms)")
    for col in ("store", "events", "speed µs (bulk / queries)", "bulk events/s", "impact", "upstream", "diff", "endpoint as-of", "audit"):
        table.add_column(col)
    for row in query_rows:
        table.add_row(*row)
    console.print(table)
    table = Table(
        title="Where ingest time goes (transactions one after another, µs per event); "
        f"the storage bound is the rate if projecting took no time, the pipelined bound that of projection on cores of its own beside the writes; {BULK_CHUNK} events a commit is the bulk load's, "
        f"{HTTP_COMMIT_EVENTS} the group commit's at 32 HTTP clients, and the target is that of bulk or of 32 clients"
    )
    for col in ("store", "events a commit", "events", "speed µs", "project", "write", "commit", "events/s", "storage bound events/s", "pipelined bound events/s", "target events/s"):
        table.add_column(col)
    for row in stage_rows:
        table.add_row(*row)
    console.print(table)
    if args.history:
        from bench import history

        console.print(history.table(history.measured(args.stores.split(","), args.history, 10, QUERY_CALLS, QUERY_ROUNDS)))
    table = Table(title="Replay of the shared OpenLineage corpus (bulk ingest)")
    for col in ("store", "accepted", "rejected (invalid on purpose)", "events/s"):
        table.add_column(col)
    for row in corpus_rows:
        table.add_row(*row)
    console.print(table)
    if marquez_url:
        compare_marquez(marquez_url, args)


def compare_marquez(url: str | None, args: argparse.Namespace) -> None:
    """The same events into our service and the Marquez at `url`, on each store (bench/marquez.py)."""
    from bench import marquez

    assert url is not None
    console = Console() if sys.stdout.isatty() else Console(width=240)
    size = int(args.sizes.split(",")[0]) if args.sizes else 10_000
    marquez.run(url, args.stores.split(","), size, args.marquez_repeat, args.marquez_datasets, console)


if __name__ == "__main__":
    main()
