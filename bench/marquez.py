"""This service side by side with a running Marquez (issue 34): the same events into both, ratios.

    MARQUEZ_URL=http://127.0.0.1:15100 python -m bench.run --marquez-only --repeat 3
    python -m bench.marquez --marquez-url http://127.0.0.1:15100 --stores sqlite --size 10000

For each store our service runs on, a fresh `lineage serve` (bench/run.py's `served`) and the
Marquez at the URL are sent the same events, bench/workload.py's `Workload(size)`, one event per
POST /api/v1/lineage: a first tenth untimed (both servers compile their hot code on first use),
then the rest in `repeat` rounds of an 8-client and a 32-client run, the two services taking
turns run by run (who goes first alternates), so that a slow minute of these shared cores falls
on both alike. What each then holds is read back through Marquez's API, which both answer.

Then the lineage of every dataset of the workload (or a fixed sample), asked of both in the same
interleaved way: ours at dataset level (`/api/v1/graph` both ways and `/api/v1/impact`, depth
20), Marquez's `GET /api/v1/lineage?nodeId=dataset:<ns>:<name>&depth=20`; one untimed call of
each per dataset, then `repeat` timed rounds over all of them.

CPU per ingested event and memory after the load are of the process trees: ours the API and
its writer (and the Neo4j server on that store); Marquez's its JVM and the PostgreSQL server it
is connected to, found by the port it listens on, or listed in MARQUEZ_PIDS (comma-separated);
"n/a" when neither finds them. Memory is the proportional set size (PSS), so PostgreSQL's shared
buffers count once, not once per backend.

Marquez should hold nothing when a store's load starts: MARQUEZ_RESET, when set, is a shell
command run before each store's load that empties it (drop and create its database, restart it);
without it, what Marquez held before is printed beside its figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import orjson
import psutil
from rich.console import Console
from rich.table import Table

from bench.kafka import cpu_seconds
from bench.run import SHED, percentile, post_bodies, process_tree, served, spread, store_url
from bench.workload import Workload

DEPTH = 20  # of every lineage asked, on both sides (the Marquez query)
WARM_SHARE = 10  # the first 1/WARM_SHARE of the events is sent untimed, at 32 clients
CLIENTS = (8, 32)
TARGET = 0.1  # dataset lineage p95 at or below a tenth of Marquez's /lineage p95 (issue 34)
READY_SECONDS = 120


@dataclass
class Loaded:
    """What a load holds: events, datasets and jobs (parent jobs included, as Marquez lists them)."""

    events: int
    datasets: int
    jobs: int


@dataclass
class Figure:
    """One row of the table: our figure, Marquez's, and the unit; `ours / marquez` is the ratio."""

    name: str
    unit: str
    ours: float | None
    marquez: float | None
    shown: tuple[str, str] = ("", "")  # cell texts when more than the value is shown (a range)

    @property
    def ratio(self) -> float | None:
        if self.ours is None or not self.marquez:
            return None
        return self.ours / self.marquez

    def cells(self) -> list[str]:
        def cell(value: float | None, text: str) -> str:
            if value is None:
                return "n/a"
            return text or (f"{value:,.0f}" if value >= 100 else f"{value:.2f}" if value < 10 else f"{value:.1f}")

        ratio = self.ratio
        return [self.name, cell(self.ours, self.shown[0]), cell(self.marquez, self.shown[1]), self.unit, "n/a" if ratio is None else f"{ratio:.3g}x"]


@dataclass
class Comparison:
    """The figures of one store against Marquez, with what each side was loaded with."""

    store: str
    workload: Loaded
    ours_loaded: Loaded
    marquez_loaded: Loaded
    marquez_before: int  # events Marquez held before this load
    datasets_asked: int
    ours_pids: list[int]  # the process trees measured for CPU and memory
    marquez_pids: list[int]
    shed: int  # ingest requests shed (503, Retry-After) and retried, on either side
    figures: list[Figure] = field(default_factory=list)

    def figure(self, name: str) -> Figure:
        return next(f for f in self.figures if f.name == name)


def workload_counts(events: Sequence[dict[str, Any]]) -> Loaded:
    """What the events name: datasets, and jobs with the parent jobs their runs name."""
    datasets, jobs = set(), set()
    for event in events:
        jobs.add((event["job"]["namespace"], event["job"]["name"]))
        parent = event["run"].get("facets", {}).get("parent")
        if parent:
            jobs.add((parent["job"]["namespace"], parent["job"]["name"]))
        for dataset in (*event.get("inputs", []), *event.get("outputs", [])):
            datasets.add((dataset["namespace"], dataset["name"]))
    return Loaded(len(events), len(datasets), len(jobs))


def namespaces_of(events: Sequence[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """The namespaces the events' datasets and jobs live in."""
    datasets = {d["namespace"] for e in events for d in (*e.get("inputs", []), *e.get("outputs", []))}
    jobs = {e["job"]["namespace"] for e in events} | {
        e["run"]["facets"]["parent"]["job"]["namespace"] for e in events if "parent" in e["run"].get("facets", {})
    }
    return sorted(datasets), sorted(jobs)


def total(http: httpx.Client, base: str, path: str) -> int:
    """`totalCount` of a Marquez listing; 0 when the namespace is not there."""
    answer = http.get(base + path, params={"limit": 1})
    if answer.status_code == 404:
        return 0
    answer.raise_for_status()
    return int(answer.json()["totalCount"])


def read_back(http: httpx.Client, base: str, events: Sequence[dict[str, Any]]) -> Loaded:
    """What `base` holds, read through Marquez's API: its events, and the datasets and jobs in
    the workload's namespaces."""
    dataset_ns, job_ns = namespaces_of(events)
    return Loaded(
        total(http, base, "/api/v1/events/lineage"),
        sum(total(http, base, f"/api/v1/namespaces/{quote(ns, safe='')}/datasets") for ns in dataset_ns),
        sum(total(http, base, f"/api/v1/namespaces/{quote(ns, safe='')}/jobs") for ns in job_ns),
    )


def pid_listening(port: int) -> int | None:
    """The process that listens on `port` (None when none does, or it is not ours to see)."""
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
            return int(conn.pid)
    return None


def _peer_ports(pid: int) -> set[int]:
    """The ports that `pid`'s established TCP connections go to."""
    try:
        conns = psutil.Process(pid).net_connections(kind="tcp")
    except psutil.Error:
        return set()
    return {c.raddr.port for c in conns if c.status == psutil.CONN_ESTABLISHED and c.raddr}


def marquez_pids(url: str) -> list[int]:
    """Marquez's JVM and the servers it is connected to (its PostgreSQL): MARQUEZ_PIDS when set,
    else the process listening on the URL's port and the listeners of its connections."""
    if os.environ.get("MARQUEZ_PIDS"):
        return [int(p) for p in os.environ["MARQUEZ_PIDS"].split(",") if p.strip()]
    jvm = pid_listening(urlsplit(url).port or 80)
    if jvm is None:
        return []
    servers = {pid_listening(port) for port in _peer_ports(jvm)} - {None, jvm}
    # A PostgreSQL backend's listener is the postmaster, the parent of every backend.
    return [jvm, *sorted(p for p in servers if p is not None)]


def pss_mb(pids: list[int]) -> float:
    """Proportional set size of the process trees, in MB (shared pages split among their users)."""
    kb = 0
    for root in pids:
        for pid in process_tree(root):
            try:
                lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
            except OSError:
                continue
            kb += sum(int(line.split()[1]) for line in lines if line.startswith("Pss:"))
    return kb / 1024


@dataclass
class Side:
    """One service under test: its base URL and the process trees whose CPU and memory count."""

    name: str
    base: str
    pids: list[int]
    cpu: float = 0.0  # CPU seconds over the timed ingest runs
    events: int = 0  # events sent in them
    runs: dict[int, list[tuple[float, float, float]]] = field(default_factory=dict)


def slices(bodies: list[bytes], repeat: int) -> tuple[list[bytes], list[tuple[int, list[bytes]]]]:
    """The untimed first tenth, and (clients, bodies) of the timed runs: `repeat` rounds of
    8 then 32 clients over the rest of the events, in their order (the timeline continues)."""
    warm = len(bodies) // WARM_SHARE
    rest = bodies[warm:]
    counts = [c for _ in range(repeat) for c in CLIENTS]
    step = len(rest) / len(counts)
    return bodies[:warm], [(c, rest[round(i * step) : round((i + 1) * step)]) for i, c in enumerate(counts)]


def ingest(sides: list[Side], bodies: list[bytes], repeat: int) -> None:
    """Send `bodies` to each side: the warm share, then the timed runs, the sides taking turns."""
    warm, runs = slices(bodies, repeat)
    for side in sides:
        asyncio.run(post_bodies(side.base, warm, 32))
    for i, (clients, part) in enumerate(runs):
        for side in sides if i % 2 == 0 else sides[::-1]:
            before = cpu_seconds(side.pids) if side.pids else 0.0
            side.runs.setdefault(clients, []).append(asyncio.run(post_bodies(side.base, part, clients)))
            side.cpu += (cpu_seconds(side.pids) - before) if side.pids else 0.0
            side.events += len(part)


def datasets_to_ask(events: Sequence[dict[str, Any]], sample: int | None) -> list[tuple[str, str]]:
    """Every dataset the events name, sorted; or a fixed sample of `sample` of them."""
    found = sorted({(d["namespace"], d["name"]) for e in events for d in (*e.get("inputs", []), *e.get("outputs", []))})
    if sample and sample < len(found):
        return sorted(random.Random(34).sample(found, sample))
    return found


def ask_calls(http: httpx.Client, ours: str, marquez: str, namespace: str, name: str) -> dict[str, Callable[[], None]]:
    """The three timed questions about one dataset; each checks that it was answered."""

    def get(url: str, params: dict[str, Any]) -> Callable[[], None]:
        def call() -> None:
            answer = http.get(url, params=params)
            if answer.status_code != 200:
                raise RuntimeError(f"{answer.request.url} answered {answer.status_code}: {answer.text[:200]}")

        return call

    ref = f"dataset:{namespace}:{name}"
    return {
        "graph": get(f"{ours}/api/v1/graph", {"ref": ref, "level": "dataset", "direction": "both", "depth": DEPTH}),
        "impact": get(f"{ours}/api/v1/impact", {"ref": ref, "level": "dataset", "depth": DEPTH}),
        "lineage": get(f"{marquez}/api/v1/lineage", {"nodeId": ref, "depth": DEPTH}),
    }


def lineage_latencies(ours: str, marquez: str, datasets: list[tuple[str, str]], rounds: int) -> dict[str, list[float]]:
    """ms of each question over every dataset: one untimed call each, then `rounds` rounds in
    which every dataset is asked of both (the order of the three turning round by round)."""
    times: dict[str, list[float]] = {"graph": [], "impact": [], "lineage": []}
    with httpx.Client(timeout=120) as http:
        asks = [ask_calls(http, ours, marquez, ns, name) for ns, name in datasets]
        for calls in asks:
            for call in calls.values():
                call()
        for round_ in range(rounds):
            for calls in asks:
                names = list(calls)
                for name in names[round_ % 3 :] + names[: round_ % 3]:
                    started = time.perf_counter()
                    calls[name]()
                    times[name].append((time.perf_counter() - started) * 1000)
    return times


def wait_ready(base: str) -> None:
    """Until Marquez answers its namespaces (after a reset it starts again and migrates)."""
    deadline = time.monotonic() + READY_SECONDS
    while True:
        try:
            if httpx.get(f"{base}/api/v1/namespaces", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"Marquez at {base} did not answer in {READY_SECONDS} s")
        time.sleep(1)


def compare(
    kind: str, marquez: str, size: int, repeat: int, sample: int | None = None, reset: str | None = None, store: str | None = None
) -> Comparison:
    """Load the same `size` events into our service on `kind` and into Marquez, and time both.
    Our service runs on a fresh store of that kind, or on `store` (a URL) when given."""
    if reset:
        subprocess.run(reset, shell=True, check=True)
    wait_ready(marquez)
    events = list(Workload(size).events())
    bodies = [orjson.dumps(e) for e in events]
    with httpx.Client(timeout=60) as http:
        before = total(http, marquez, "/api/v1/events/lineage")
    with (nullcontext(store) if store else store_url(kind)) as url, served(url, 1) as (base, pid):
        ours_pids = [pid]
        if kind == "neo4j":  # its server works for every event too, as PostgreSQL does for Marquez
            bolt = pid_listening(urlsplit(url).port or 7687)
            ours_pids += [bolt] if bolt else []
        sides = [Side("ours", base, ours_pids), Side("marquez", marquez, marquez_pids(marquez))]
        shed = SHED[0]
        ingest(sides, bodies, repeat)
        shed = SHED[0] - shed
        memory = [pss_mb(s.pids) if s.pids else None for s in sides]
        with httpx.Client(timeout=60) as http:
            loaded = [read_back(http, s.base, events) for s in sides]
        datasets = datasets_to_ask(events, sample)
        times = lineage_latencies(base, marquez, datasets, repeat)
    result = Comparison(kind, workload_counts(events), loaded[0], loaded[1], before, len(datasets), sides[0].pids, sides[1].pids, shed)
    ours, theirs = sides
    for clients in CLIENTS:
        rates = [r[0] for r in ours.runs[clients]], [r[0] for r in theirs.runs[clients]]
        result.figures.append(
            Figure(f"ingest, {clients} clients", "events/s", statistics.median(rates[0]), statistics.median(rates[1]), (spread(rates[0]), spread(rates[1])))
        )
        p99s = [r[2] for r in ours.runs[clients]], [r[2] for r in theirs.runs[clients]]
        result.figures.append(
            Figure(f"ingest p99, {clients} clients", "ms", statistics.median(p99s[0]), statistics.median(p99s[1]), (spread(p99s[0], "{:.1f}"), spread(p99s[1], "{:.1f}")))
        )
    lineage = times["lineage"]
    result.figures += [
        Figure("dataset lineage p50 (ours /graph)", "ms", statistics.median(times["graph"]), statistics.median(lineage)),
        Figure("dataset lineage p95 (ours /graph)", "ms", percentile(times["graph"], 0.95), percentile(lineage, 0.95)),
        Figure("dataset impact p95 (ours /impact)", "ms", percentile(times["impact"], 0.95), percentile(lineage, 0.95)),
        Figure(
            "CPU per ingested event", "ms",
            *(s.cpu / s.events * 1000 if s.pids and s.events else None for s in sides),  # type: ignore[arg-type]
        ),
        Figure("memory after load (PSS)", "MB", memory[0], memory[1]),
    ]
    return result


def table(found: Comparison) -> Table:
    w = found.workload
    t = Table(
        title=f"Against Marquez, {found.store} store: {w.events:,} events of {w.jobs} jobs and {w.datasets} datasets "
        f"(bench/workload.py); lineage of {found.datasets_asked} datasets at depth {DEPTH}; the ratio is ours / Marquez's"
    )
    for col in ("figure", "this service", "Marquez", "unit", "ratio"):
        t.add_column(col)
    for f in found.figures:
        t.add_row(*f.cells())
    return t


def notes(found: Comparison) -> list[str]:
    """What each side holds after the load, and the issue-34 target's status."""
    w, o, m = found.workload, found.ours_loaded, found.marquez_loaded
    lines = [
        f"workload {w.events:,} events, {w.datasets} datasets, {w.jobs} jobs; read back: this service "
        f"{o.events:,} / {o.datasets} / {o.jobs}, Marquez {m.events:,} / {m.datasets} / {m.jobs}"
        + ("" if o == w else "  (this service does not hold what was sent)")
        + ("" if m == w or found.marquez_before else "  (Marquez does not hold what was sent)"),
    ]
    lines.append(
        f"processes measured: this service {', '.join(map(str, found.ours_pids)) or 'none'}; "
        f"Marquez {', '.join(map(str, found.marquez_pids)) or 'none found (set MARQUEZ_PIDS)'} (each with its children)"
    )
    if found.shed:
        lines.append(f"{found.shed:,} ingest requests were shed (503 with Retry-After) and retried; their latency includes the wait")
    if found.marquez_before:
        lines.append(f"Marquez held {found.marquez_before:,} events before this load (not a fresh database; set MARQUEZ_RESET)")
    for name in ("dataset lineage p95 (ours /graph)", "dataset impact p95 (ours /impact)"):
        ratio = found.figure(name).ratio
        if ratio is not None:
            lines.append(f"target lineage p95 <= {TARGET:g}x Marquez's, {name}: {ratio:.3f}x, {'met' if ratio <= TARGET else 'not met'}")
    return lines


def run(marquez: str, stores: Sequence[str], size: int, repeat: int, sample: int | None, console: Console) -> list[Comparison]:
    out = []
    for kind in stores:
        found = compare(kind, marquez.rstrip("/"), size, repeat, sample, os.environ.get("MARQUEZ_RESET"))
        console.print(table(found))
        for line in notes(found):
            console.print(line)
        out.append(found)
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--marquez-url", default=os.environ.get("MARQUEZ_URL"), help="the running Marquez (default: MARQUEZ_URL)")
    parser.add_argument("--stores", default="sqlite,neo4j")
    parser.add_argument("--size", type=int, default=10_000, help="events of bench/workload.py's pipeline")
    parser.add_argument("--repeat", type=int, default=3, help="timed ingest rounds and lineage rounds")
    parser.add_argument("--datasets", type=int, help="ask a fixed sample of this many datasets instead of every one")
    args = parser.parse_args(argv)
    if not args.marquez_url:
        parser.error("--marquez-url or MARQUEZ_URL is required")
    console = Console() if sys.stdout.isatty() else Console(width=240)
    run(args.marquez_url, args.stores.split(","), args.size, args.repeat, args.datasets, console)


if __name__ == "__main__":
    main()
