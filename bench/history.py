"""The long-history benchmark (issue 34): a dataset with many versions against one with few.

    python -m bench.history                          # 10,000 versions against 10, both stores
    python -m bench.history --versions 1000 --stores sqlite

Two chains of the same shape live in one store: a snapshot job writes a source dataset (one
version an hour), a cleaning job reads that version and writes a clean table, a training job
writes a model version from the clean table once a day (every TRAIN_EVERY versions, and after the
last), and a deploy job puts each model version on an endpoint. One chain has run `versions`
times, the other `short` times. The dataset-level impact and graph of each
source are timed in interleaved rounds (bench/run.py's `interleaved_latencies`), so a slow
minute of the machine falls on both alike, and the ratio of the long one's p95 to the short
one's is what the issue's target is about: within 2x.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from rich.console import Console
from rich.table import Table

from lineage import queries
from lineage.ingest.parse import parse_event
from lineage.runtime import tuned_gc
from lineage.settings import Settings
from lineage.store import open_store
from lineage.store.base import Store

PRODUCER = "https://example.com/bench/history"
SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
START = datetime(2025, 1, 1, tzinfo=timezone.utc)
NOW = "2026-06-01T00:00:00.000000Z"
CHUNK = 500
TRAIN_EVERY = 24  # an hourly source, a daily model
TARGET_RATIO = 2.0


def _facet(**fields: Any) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL": "https://example.com/facet", **fields}


def _run(job: str, at: datetime, run: str, inputs: list[Any], outputs: list[Any]) -> dict[str, Any]:
    return {
        "eventType": "COMPLETE",
        "eventTime": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "producer": PRODUCER,
        "schemaURL": SCHEMA,
        "run": {"runId": run, "facets": {}},
        "job": {"namespace": "hist", "name": job, "facets": {}},
        "inputs": inputs,
        "outputs": outputs,
    }


def _uuid(name: str, step: str, i: int) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{PRODUCER}/{name}/{step}/{i}"))


def chain(name: str, versions: int) -> Iterator[dict[str, Any]]:
    """The events of one chain that has run `versions` times, an hour apart."""
    source = {"namespace": "s3://hist", "name": name}
    clean = {"namespace": "s3://hist", "name": f"{name}_clean"}
    for i in range(versions):
        at = START + timedelta(hours=i)
        yield _run(f"{name}.snapshot", at, _uuid(name, "snap", i), [], [source | {"facets": {"version": _facet(datasetVersion=f"{name}-v{i}")}}])
        yield _run(f"{name}.clean", at + timedelta(minutes=10), _uuid(name, "clean", i), [source | {"facets": {"version": _facet(datasetVersion=f"{name}-v{i}")}}], [clean])
        if i % TRAIN_EVERY != TRAIN_EVERY - 1 and i != versions - 1:
            continue
        model = {"namespace": "models://hist", "name": f"{name}/model", "facets": {"ml_modelVersion": _facet(name=f"{name}-model", version=f"1.{i}")}}
        yield _run(f"{name}.train", at + timedelta(minutes=20), _uuid(name, "train", i), [clean], [model])
        endpoint = {"namespace": "serving://hist", "name": f"{name}-ep", "facets": {"ml_endpoint": _facet(name=f"{name}-ep", environment="prod")}}
        yield _run(f"{name}.deploy", at + timedelta(minutes=30), _uuid(name, "deploy", i), [model], [endpoint])


def load(store: Store, versions: int, short: int) -> tuple[str, str]:
    """Both chains into `store`, in chunks as `lineage import` sends them; the two source refs."""
    long_name, short_name = f"long{versions}", f"short{short}"
    events = [parse_event(e) for e in (*chain(long_name, versions), *chain(short_name, short))]
    with tuned_gc():
        for _ in store.ingest_chunks((events[at : at + CHUNK], NOW) for at in range(0, len(events), CHUNK)):
            pass
    return f"s3://hist/{long_name}", f"s3://hist/{short_name}"


def calls(store: Store, ref: str) -> dict[str, Callable[[], Any]]:
    return {
        "impact": lambda: queries.impact(store, ref),
        "graph": lambda: queries.graph(store, ref, "both", 10),
    }


def measure(store: Store, versions: int, short: int, per_query: int = 100, rounds: int = 5) -> dict[str, Any]:
    """Load both chains into an empty `store` and time the dataset-level answers of each source,
    interleaved: per query the p50 and p95 ms of each, the p95 ratio, and the answers' sizes."""
    from bench.run import interleaved_latencies

    long_ref, short_ref = load(store, versions, short)
    answers = {r: queries.impact(store, r) for r in (long_ref, short_ref)}
    with tuned_gc():
        lat = interleaved_latencies({versions: calls(store, long_ref), short: calls(store, short_ref)}, per_query, rounds)
    out: dict[str, Any] = {"versions": versions, "short": short, "queries": {}}
    for name in ("impact", "graph"):
        (lp50, lp95), (sp50, sp95) = lat[versions][name], lat[short][name]
        out["queries"][name] = {"long": (lp50, lp95), "short": (sp50, sp95), "ratio": lp95 / sp95 if sp95 else float("inf")}
    out["entries"] = {r: sum(answers[r]["counts"].values()) for r in answers}
    out["versions_seen"] = {r: answers[r]["node"]["versions"] for r in answers}
    return out


def measured(kinds: Sequence[str], versions: int, short: int, per_query: int = 100, rounds: int = 5) -> list[tuple[str, dict[str, Any]]]:
    """`measure` on a fresh store of each kind, for `table`."""
    from bench.run import store_url

    rows = []
    for kind in kinds:
        with store_url(kind) as url:
            store = open_store(Settings(store=url))
            try:
                rows.append((kind, measure(store, versions, short, per_query, rounds)))
            finally:
                store.close()
    return rows


def every_dataset(store: Store, size: int, calls_each: int = 3) -> dict[str, Any]:
    """The lineage of every dataset of bench/workload.py's `size`-event pipeline, at dataset
    level (`/graph` both ways, what Marquez's `/lineage` answers, and `/impact`): p50, p95 and
    the slowest ms over all datasets, each asked `calls_each` times after one untimed call."""
    import statistics
    import time

    from bench.run import BULK_CHUNK, in_chunks, percentile
    from bench.workload import Workload

    events = [parse_event(e) for e in Workload(size).events()]
    with tuned_gc():
        for _ in store.ingest_chunks(in_chunks(events, BULK_CHUNK)):
            pass
    datasets = [n.id for ns in store.namespaces() for n in store.in_namespace("Dataset", ns, 10_000, 0)[1]]
    jobs = [n.id for ns in store.namespaces() for n in store.in_namespace("Job", ns, 10_000, 0)[1]]
    out: dict[str, Any] = {"events": size, "datasets": len(datasets), "jobs": len(jobs)}
    asks = {"graph": lambda r: queries.graph(store, r, "both", 20), "impact": lambda r: queries.impact(store, r)}
    with tuned_gc():
        for name, ask in asks.items():
            times: list[float] = []
            for ref in datasets:
                ask(ref)
                for _ in range(calls_each):
                    started = time.perf_counter()
                    ask(ref)
                    times.append((time.perf_counter() - started) * 1000)
            out[name] = (statistics.median(times), percentile(times, 0.95), max(times))
    return out


def table(rows: list[tuple[str, dict[str, Any]]]) -> Table:
    t = Table(title=f"Long history (issue 34): dataset-level answers of a source with N versions against one with few, p50 / p95 ms, interleaved; target ratio <= {TARGET_RATIO:g}")
    for col in ("store", "versions (long / short)", "query", "long", "short", "p95 ratio", "entries (long / short)"):
        t.add_column(col)
    for kind, found in rows:
        entries = " / ".join(str(n) for n in found["entries"].values())
        for name, q in found["queries"].items():
            t.add_row(
                kind, f"{found['versions']:,} / {found['short']:,}", name,
                f"{q['long'][0]:.1f} / {q['long'][1]:.1f}", f"{q['short'][0]:.1f} / {q['short'][1]:.1f}", f"{q['ratio']:.2f}", entries,
            )
    return t


def main() -> None:
    from bench.run import store_url

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--versions", type=int, default=10_000)
    parser.add_argument("--short", type=int, default=10)
    parser.add_argument("--stores", default="sqlite,neo4j")
    parser.add_argument("--calls", type=int, default=100, help="timed calls of each query for each source")
    parser.add_argument("--every-dataset", type=int, default=0, metavar="EVENTS",
                        help="instead: the dataset-level lineage of every dataset of bench/workload.py's EVENTS-event pipeline")
    args = parser.parse_args()
    console = Console() if sys.stdout.isatty() else Console(width=240)
    if args.every_dataset:
        t = Table(title="Dataset-level lineage of every dataset (ms: p50 / p95 / slowest)")
        for col in ("store", "events", "datasets", "jobs", "graph (both ways)", "impact"):
            t.add_column(col)
        for kind in args.stores.split(","):
            with store_url(kind) as url:
                store = open_store(Settings(store=url))
                try:
                    f = every_dataset(store, args.every_dataset)
                finally:
                    store.close()
            t.add_row(kind, f"{f['events']:,}", str(f["datasets"]), str(f["jobs"]), *(" / ".join(f"{v:.1f}" for v in f[q]) for q in ("graph", "impact")))
        console.print(t)
        return
    console.print(table(measured(args.stores.split(","), args.versions, args.short, args.calls)))


if __name__ == "__main__":
    main()
