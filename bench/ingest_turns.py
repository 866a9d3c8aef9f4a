"""Ingest throughput of two builds side by side: this checkout's and another's, taking turns.

    python -m bench.ingest_turns --base /path/to/other/checkout [--stores neo4j,sqlite] [--turns 3]
    python -m bench.run --ingest-turns /path/to/other/checkout --repeat 3   # the same, from make bench

Each turn runs one measurement in a fresh subprocess whose `lineage` package comes from one of
the two checkouts (PYTHONPATH first), on a fresh store: a bulk load in chunks of 500 (on Neo4j a
fresh server, which compiles its plans during the load), the same events again after a reset
(a warm server), the same events in 16-event commits (what the group commit makes of 32
HTTP clients), and the last two again writing the log alone, each with its stage split. The builds alternate, so a slow minute of these
shared cores falls on both alike; the medians and their ratio are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]
EVENTS = 10_000
BULK_CHUNK = 500
GROUP_CHUNK = 16
NOW = "2026-06-01T00:00:00.000000Z"
# Each turn's loads: bulk on a fresh store, bulk again after a reset, 16-event commits, and the
# two again writing the log alone (`log_only`).
FIGURES = ("fresh", "warm", "group", "log_bulk", "log_group")


@contextmanager
def _store(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/turns.db"
        return
    sys.path.insert(0, str(HERE / "ops"))
    import neo4j_local  # type: ignore[import-not-found]

    with tempfile.TemporaryDirectory() as home:
        server = neo4j_local.start(Path(home), neo4j_local.free_port(), heap="2g", pagecache="1g")
        try:
            yield server.uri
        finally:
            server.stop()


def _load(store: Any, events: list[Any], chunk: int) -> dict[str, float]:
    """One load of `events` through `ingest`, chunk after chunk: its rate and stage split."""
    from lineage.runtime import tuned_gc
    from lineage.store.stages import StageClock

    clock = StageClock()
    store.stages = clock
    try:
        with tuned_gc():
            started = time.perf_counter()
            for start in range(0, len(events), chunk):
                store.ingest(events[start : start + chunk], NOW)
            elapsed = time.perf_counter() - started
    finally:
        store.stages = None
    return {"rate": len(events) / elapsed, **clock.per_event_us(), "bound": clock.storage_bound()}


@contextmanager
def log_only() -> Iterator[None]:
    """Ingest that writes the log alone: no projection, no graph reads or writes. What a design
    that acknowledges an event once its log entry commits, and projects the graph later, would
    pay before the acknowledgement (the head's lock, the known ids, the entries, their subjects
    and the Merkle tree)."""
    from lineage.store import batch, neo4j

    saved = (batch.project, batch.Batch.prefetch, neo4j.touched)
    batch.project = lambda event, view: []  # type: ignore[assignment]
    batch.Batch.prefetch = lambda self, events, subjects=None, nodes_seeded=False: None  # type: ignore[method-assign]
    neo4j.touched = lambda event, about=None: []  # type: ignore[assignment]
    try:
        yield
    finally:
        batch.project, batch.Batch.prefetch, neo4j.touched = saved  # type: ignore[method-assign]


def measure_one(kind: str, size: int) -> dict[str, Any]:
    """The figures of one turn, with the build measured: fresh bulk, warm bulk, 16-event commits."""
    import lineage
    from bench.workload import Workload
    from lineage.ingest.parse import parse_event
    from lineage.settings import Settings
    from lineage.store import open_store

    events = [parse_event(e) for e in Workload(size).events()]
    with _store(kind) as url:
        store = open_store(Settings(store=url))
        try:
            fresh = _load(store, events, BULK_CHUNK)
            logged = store.event_count()
            store.reset()
            warm = _load(store, events, BULK_CHUNK)
            store.reset()
            group = _load(store, events, GROUP_CHUNK)
            if store.event_count() != logged or logged != len({e.id for e in events}):
                raise RuntimeError("a load did not log every event once")
            with log_only():
                store.reset()
                log_bulk = _load(store, events, BULK_CHUNK)
                store.reset()
                log_group = _load(store, events, GROUP_CHUNK)
            if store.event_count() != logged or store.dump()["nodes"]:
                raise RuntimeError("the log-only load must log every event and no graph")
        finally:
            store.close()
    return {
        "code": str(Path(lineage.__file__).parents[1]), "fresh": fresh, "warm": warm, "group": group,
        "log_bulk": log_bulk, "log_group": log_group,
    }


def _turn(checkout: Path, kind: str, size: int) -> dict[str, Any]:
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(checkout), str(HERE)])}
    out = subprocess.run(
        [sys.executable, str(Path(__file__)), "--one", kind, "--size", str(size)],
        env=env, cwd=checkout, check=True, capture_output=True, text=True,
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    if Path(result["code"]).resolve() != checkout.resolve():  # the build measured must be the one named
        raise RuntimeError(f"measured {result['code']}, meant {checkout}")
    return result


def compare(base: Path, stores: list[str], turns: int = 3, size: int = EVENTS) -> None:
    """Measure `base`'s build and this one's in turns on each store; print each turn and the medians."""
    builds = {"base": base, "this": HERE}
    for kind in stores:
        runs: dict[str, list[dict[str, Any]]] = {"base": [], "this": []}
        for turn in range(turns):
            order = ["base", "this"] if turn % 2 == 0 else ["this", "base"]
            for name in order:
                runs[name].append(_turn(builds[name], kind, size))
                print(f"{kind} turn {turn + 1} {name}: " + json.dumps(
                    {k: round(v["rate"]) for k, v in runs[name][-1].items() if k != "code"}), flush=True)
        for figure in FIGURES:
            cells = []
            for name in ("base", "this"):
                rates = [r[figure]["rate"] for r in runs[name]]
                stages = {s: statistics.median(r[figure][s] for r in runs[name]) for s in ("project", "write", "commit")}
                bound = statistics.median(r[figure]["bound"] for r in runs[name])
                cells.append(statistics.median(rates))
                print(
                    f"{kind} {figure:9} {name}: median {statistics.median(rates):,.0f} ev/s "
                    f"({min(rates):,.0f}-{max(rates):,.0f}); µs/event project {stages['project']:.0f}, "
                    f"write {stages['write']:.0f}, commit {stages['commit']:.0f}; storage bound {bound:,.0f} ev/s",
                    flush=True,
                )
            print(f"{kind} {figure:9} ratio this/base: {cells[1] / cells[0]:.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, help="the other checkout, measured in turns with this one")
    parser.add_argument("--stores", default="neo4j,sqlite")
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--size", type=int, default=EVENTS)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a single measurement, in a subprocess
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(args.one, args.size)))
        return
    if args.base is None:
        parser.error("--base is required")
    compare(args.base, args.stores.split(","), args.turns, args.size)


if __name__ == "__main__":
    main()
