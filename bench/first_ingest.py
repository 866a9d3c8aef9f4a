"""The first ingest on Neo4j with an empty plan cache, without and with the ingest warm-up.

    python -m bench.first_ingest --uri neo4j://127.0.0.1:7687 [--events 2000] [--rounds 3]

Loads a workload into the database (after a reset: use a scratch database), then takes turns:
plans evicted (`db.clearQueryCaches()`, as after a restart) and one event ingested cold; the
next event (plans cached); plans evicted, `setup()` with its warm-up, then one event. Neo4j's
own query statistics (`db.stats`) give each statement's compile time in the cold ingest.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Iterator
from typing import Any

from neo4j import GraphDatabase

from bench.workload import Workload
from lineage.ingest.parse import parse_event
from lineage.store.neo4j import Neo4jStore


def _timed(store: Neo4jStore, body: dict[str, Any]) -> float:
    started = time.perf_counter()
    store.ingest([parse_event(body)], "2026-12-06T00:00:00.000000Z")
    return time.perf_counter() - started


def _compile_times(session: Any, since_ms: int) -> list[tuple[float, str]]:
    """(compile ms, start of the text) of each statement run from `since_ms` (server clock) on,
    slowest first, from the statistics `db.stats.collect('QUERIES')` keeps."""
    out = []
    for row in session.run("CALL db.stats.retrieve('QUERIES')").data():
        text = " ".join(row["data"]["query"].split())
        for run in row["data"]["invocations"]:
            if run["startTimestampMillis"] >= since_ms and not text.startswith("CALL db."):
                out.append((run["elapsedCompileTimeInUs"] / 1000, text[:100]))
    return sorted(out, reverse=True)


def _now_ms(session: Any) -> int:
    return int(session.run("RETURN datetime().epochMillis").single()[0])


def _ms(seconds: list[float]) -> str:
    return f"{statistics.median(seconds) * 1000:.0f} ms (runs: {', '.join(f'{x * 1000:.0f}' for x in seconds)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--uri", required=True)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    store = Neo4jStore(args.uri, "neo4j", "", "neo4j")
    store.reset()
    bodies: Iterator[dict[str, Any]] = iter(list(Workload(args.events + 3 * args.rounds + 10, seed=11).events()))
    chunk: list[Any] = []
    for _ in range(args.events):
        chunk.append(parse_event(next(bodies)))
        if len(chunk) == 500:
            store.ingest(chunk, "2026-12-06T00:00:00.000000Z")
            chunk = []
    if chunk:
        store.ingest(chunk, "2026-12-06T00:00:00.000000Z")
    driver = GraphDatabase.driver(args.uri, auth=None)
    cold, warm, warmed, warmups = [], [], [], []
    with driver.session(database="neo4j") as session:
        for _ in range(args.rounds):
            session.run("CALL db.clearQueryCaches()").consume()
            session.run("CALL db.stats.collect('QUERIES')").consume()
            since = _now_ms(session)
            cold.append(_timed(store, next(bodies)))
            compiled = _compile_times(session, since)
            warm.append(_timed(store, next(bodies)))
            session.run("CALL db.clearQueryCaches()").consume()
            started = time.perf_counter()
            store.setup()
            warmups.append(time.perf_counter() - started)
            since = _now_ms(session)
            warmed.append(_timed(store, next(bodies)))
            after_warmup = _compile_times(session, since)
    driver.close()
    store.close()
    print(f"first ingest, plans evicted:       {_ms(cold)}")
    print(f"next ingest, plans cached:         {_ms(warm)}")
    print(f"setup() with warm-up, plans evicted: {_ms(warmups)}")
    print(f"first ingest after the warm-up:    {_ms(warmed)}")
    for title, rows in (("the last cold ingest", compiled), ("the last ingest after a warm-up", after_warmup)):
        print(f"compile time of each statement run by {title} (ms, text):")
        for compile_ms, text in rows:
            print(f"  {compile_ms:8.1f}  {text}")


if __name__ == "__main__":
    main()
