"""Concurrency: many clients write events about the same runs and datasets at once, through
two API processes on one store (issue 6, point 7).

Every event is posted by two or three clients (shuffled, some one at a time, some in batches),
split over two `lineage serve` processes on the same SQLite file or Neo4j database, or sent to
one `lineage serve --workers 2` whose two worker processes share its port. No request
fails (a 503 would be retried, and is counted), every event is stored once, no node or edge
exists twice (for Neo4j also asked of the database itself), and the final graph equals the one
a single client gets by ingesting the same events one by one into an empty store.
"""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from lineage.ingest.parse import parse_event
from lineage.service import now
from lineage.store.base import Store
from lineage.store.sqlite import SqliteStore
from tests import scenario as s
from tests.reliability.harness import (
    INGEST,
    OK,
    Serve,
    Tally,
    Timer,
    api_log_ids,
    check_chain,
    check_graph_is_rebuild,
    check_unique,
    dump_difference,
    event_id,
    read_log,
    store_url,
    threads,
)

CLIENTS = 8  # half on each API process
RELEASES = 6
CLEANERS = 3  # runs of one job that read and write the same datasets in each release
BATCH = 4  # odd-numbered clients post batches of this many
MAX_RETRIES = 20  # of one request on 503


def release_events(k: int) -> list[dict[str, Any]]:
    """Release k of a churn model: new data, parallel cleaning runs, training, two deployments
    and a promotion; every run's START, RUNNING and COMPLETE. Versions of `customers` and
    `customers_clean` are read without a version, so the graph depends on which versions
    exist at each read's time, whatever order the events arrive in."""
    day = k + 1
    phases = ("START", "RUNNING", "COMPLETE")
    out = [
        s.event(
            f"ingest#{k}", phase, s.ts(1, 10 * j, day), job="ingest", outputs=[s.dataset("customers", f"data-v{k}")]
        )
        for j, phase in enumerate(phases)
    ]
    for p in range(CLEANERS):
        io = {"inputs": [s.dataset("customers")], "outputs": [s.dataset("customers_clean")]}
        out += [
            s.event(
                f"clean#{k}-{p}", phase, s.ts(2, 10 * j + p, day), job="clean",
                run_facets={"progress": s.facet(phase=phase, part=p)}, **io,
            )
            for j, phase in enumerate(phases)
        ]
    train_io = {
        "inputs": [s.dataset("customers_clean"), s.feature_view("churn_features", f"fv-{k}")],
        "outputs": [s.model("churn", f"1.{k}.0", metrics={"auc": 0.8 + k / 100})],
        "job_facets": s.git(f"{k:07d}abcdef"),
    }
    out += [
        s.event(
            f"train#{k}", phase, s.ts(3, 10 * j, day), job="train-churn",
            run_facets={"ml_training": s.facet(params={"lr": 0.1 / (j + 1)}, metrics={"auc": 0.7 + j / 10})},
            **train_io,
        )
        for j, phase in enumerate(phases)
    ]
    out += s.deploy(f"deploy#{k}-prod", s.ts(5, 0, day), "churn", f"1.{k}.0", "churn-prod")
    out += s.deploy(f"deploy#{k}-eu", s.ts(6, 0, day), "churn", f"1.{k}.0", "churn-eu", traffic=50)
    out.append(s.promote(f"promote#{k}", s.ts(7, 0, day), "churn", "Production", f"1.{k}.0"))
    return out


def shared_events() -> list[dict[str, Any]]:
    events = [e for k in range(RELEASES) for e in release_events(k)]
    assert len({event_id(e) for e in events}) == len(events)
    return events


def plan(events: list[dict[str, Any]], seed: int = 6) -> list[list[dict[str, Any]]]:
    """Each event to two or three distinct clients; each client's share in its own order."""
    rng = random.Random(seed)
    shares: list[list[dict[str, Any]]] = [[] for _ in range(CLIENTS)]
    for event in events:
        for client in rng.sample(range(CLIENTS), rng.choice((2, 3))):
            shares[client].append(event)
    for share in shares:
        rng.shuffle(share)
    return shares


@pytest.mark.parametrize("topology", ["two serve processes", "one serve of two workers"])
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def test_clients_writing_the_same_runs_and_datasets_at_once(
    backend: str, topology: str, store: Store, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = store_url(backend, store, request)
    events = shared_events()
    shares = plan(events)
    if topology == "two serve processes":
        apis = [Serve(url, tmp_path, name="serve-a"), Serve(url, tmp_path, name="serve-b")]
    else:
        apis = [Serve(url, tmp_path, name="serve-workers", LINEAGE_WORKERS="2")]
    tally = Tally()
    retried = {"503": 0}
    start = threading.Barrier(CLIENTS)

    def post(http: httpx.Client, path: str, body: Any) -> httpx.Response | None:
        for _ in range(MAX_RETRIES):
            started = time.monotonic()
            try:
                response = http.post(path, json=body)
            except httpx.TransportError as exc:
                tally.fail(f"transport error: {exc!r}")
                return None
            tally.record(response.status_code, time.monotonic() - started)
            if response.status_code != 503:
                return response
            with tally.lock:
                retried["503"] += 1
            time.sleep(float(response.headers.get("Retry-After", "1")))
        tally.fail(f"{path}: still 503 after {MAX_RETRIES} tries")
        return None

    def client(n: int) -> None:
        share = shares[n]
        with httpx.Client(base_url=apis[n % len(apis)].url, timeout=60) as http:
            start.wait(30)
            if n % 2 == 0:
                for body in share:
                    response = post(http, INGEST, body)
                    if response is None:
                        return
                    if response.status_code not in OK:
                        tally.fail(f"{response.status_code} {response.text[:300]}")
                        return
                    tally.ack(response.json()["id"])
                return
            for i in range(0, len(share), BATCH):
                response = post(http, f"{INGEST}/batch", share[i : i + BATCH])
                if response is None:
                    return
                results = response.json().get("results", []) if response.status_code == 200 else []
                if len(results) != len(share[i : i + BATCH]) or any(r["status"] == "rejected" for r in results):
                    tally.fail(f"{response.status_code} {response.text[:300]}")
                    return
                for r in results:
                    tally.ack(r["id"])

    clock = Timer()
    for api in apis:
        api.start()
    try:
        workers = list(threads(client, CLIENTS))
        for worker in workers:
            worker.join(240)
        assert not any(w.is_alive() for w in workers), "a client did not finish"
        elapsed = clock()
        assert not tally.failures, tally.failures[:5]
        assert set(tally.statuses) <= {200, 201, 503}, tally.statuses
        ids = {event_id(e) for e in events}
        assert tally.acked == ids
        api_ids, total = api_log_ids(apis[-1].url)
        assert total == len(api_ids) == len(set(api_ids)) == len(ids), "an event stored twice, or not at all"
        assert set(api_ids) == ids
    finally:
        for api in apis:
            api.stop()

    log = read_log(store)
    check_chain(log)
    dump = check_graph_is_rebuild(store, len(log))
    check_unique(dump)
    if backend == "neo4j":
        duplicates = neo4j_duplicates(str(request.getfixturevalue("neo4j_uri")))
        assert duplicates == {"nodes": 0, "edges": 0, "events": 0}, duplicates

    # The same events, one client, one at a time, into an empty store.
    reference = reference_dump(backend, store, events, tmp_path)
    assert dump == reference, "concurrent ingest differs from a single-client ingest:\n" + dump_difference(
        dump, reference
    )
    posted = sum(len(share) for share in shares)
    print(
        f"\nconcurrency[{backend}]: {CLIENTS} clients, {topology}, {len(events)} distinct events"
        f" about {len({e['run']['runId'] for e in events})} runs, posted {posted} times in {elapsed:.1f} s;"
        f" answers {dict(sorted(tally.statuses.items()))} (503 retried: {retried['503']}); log {len(log)}"
        f" entries, no duplicate node or edge; graph == rebuild == single-client ingest"
        f" ({len(dump['nodes'])} nodes, {len(dump['edges'])} edges)"
    )


def neo4j_duplicates(uri: str) -> dict[str, int]:
    """Ask the database itself: ids held by more than one node, edges MERGEd twice, events twice."""
    from neo4j import GraphDatabase

    queries = {
        "nodes": "MATCH (n:Node) WITH n.id AS id, count(*) AS c WHERE c > 1 RETURN count(*)",
        "edges": (
            "MATCH (a:Node)-[r]->(b:Node) WITH a.id AS a, type(r) AS t, b.id AS b, r.key AS k, count(*) AS c"
            " WHERE c > 1 RETURN count(*)"
        ),
        "events": "MATCH (e:Event) WITH e.id AS id, count(*) AS c WHERE c > 1 RETURN count(*)",
    }
    with GraphDatabase.driver(uri, auth=None) as driver:
        found = {name: int(driver.execute_query(q).records[0][0]) for name, q in queries.items()}
        constraints = {r["name"] for r in driver.execute_query("SHOW CONSTRAINTS YIELD name").records}
    assert {"node_id", "event_id", "event_seq"} <= constraints, constraints
    return found


def reference_dump(backend: str, store: Store, events: list[dict[str, Any]], tmp_path: Path) -> dict[str, Any]:
    if backend == "sqlite":
        reference: Store = SqliteStore(str(tmp_path / "reference.db"))
    else:
        store.reset()  # the same database, emptied: the concurrent result is already dumped
        reference = store
    try:
        for body in events:
            reference.ingest([parse_event(body)], now())
        return reference.dump()
    finally:
        if reference is not store:
            reference.close()
