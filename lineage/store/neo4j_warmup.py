"""Warming Neo4j's plan cache for the ingest path: one synthetic ingest, rolled back.

Why: on a server that has just started (or a database whose plans were evicted) the first
ingest compiles every statement it runs (the head's lock and prefetch, the batch's reads, the
one WRITE_BATCH, the dataset/job-level reads and write), which takes longer than the 3 s
deadline of a single event (api/deadline.py): the first events after a start got a 503. Neo4j
keys a cached plan by the query text, its parameter types and whether the transaction already
wrote, so the warm-up runs the real unit of work (`_ingest`) in a transaction of its own, in
the order and state of a real ingest, and then rolls it back: no log entry, node, level or
hash-chain head of it stays, and the plans stay cached. docs/performance.md has the figures.

What it costs to remove: nothing breaks, the first ingest after a start is slow again.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any, LiteralString

from neo4j import Session
from neo4j.exceptions import DriverError, Neo4jError

from lineage.errors import StoreError
from lineage.events import Event
from lineage.ingest.parse import parse_event
from lineage.store.base import IngestOutcome

log = logging.getLogger("lineage.store")

# Names of our own, so that a warm-up never meets a real node (a clash would only change which
# reads the warm-up runs: it is rolled back either way).
NAMESPACE = "lineage-warmup"
PRODUCER = "https://lineage.invalid/warmup"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
FACET_URL = "https://lineage.invalid/warmup/facet"
RECEIVED_AT = "2000-01-01T00:00:00.000000Z"


def _uuid(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{PRODUCER}/{name}"))


def _facet(**fields: Any) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL": FACET_URL, **fields}


def _dataset(name: str, namespace: str = NAMESPACE, **facets: Any) -> dict[str, Any]:
    return {"namespace": namespace, "name": name, "facets": facets}


def _run(name: str, event_type: str, minute: int, **parts: Any) -> dict[str, Any]:
    return {
        "eventType": event_type,
        "eventTime": f"2000-01-01T00:{minute:02d}:00.000Z",
        "producer": PRODUCER,
        "schemaURL": SCHEMA_URL,
        "run": {"runId": _uuid(name), "facets": parts.pop("run_facets", {})},
        "job": {"namespace": NAMESPACE, "name": name, "facets": parts.pop("job_facets", {})},
        "inputs": parts.pop("inputs", []),
        "outputs": parts.pop("outputs", []),
    }


def events() -> list[Event]:
    """The release steps most events describe, in one batch: a plain job with a parent run that
    reads a dataset without a version (an inferred read) and writes a versioned one with a
    content hash, a schema and column lineage, at a git commit; a training run that reads that
    version and writes a model version; a deployment of the model to an endpoint; a promotion
    that moves an alias, with an approval. Each run has a START and a COMPLETE."""
    git = {"sourceCodeLocation": _facet(type="git", url="https://git.invalid/warmup.git", version="0" * 40, branch="main")}
    raw = _dataset("raw/customers")
    clean = _dataset(
        "clean/customers",
        version=_facet(datasetVersion="warmup-1"),
        ml_artifact=_facet(sha256="0" * 64, sizeBytes=1),
        schema=_facet(fields=[{"name": "id", "type": "string"}, {"name": "tenure", "type": "int"}]),
        columnLineage=_facet(
            fields={"tenure": {"inputFields": [{"namespace": NAMESPACE, "name": "raw/customers", "field": "tenure"}]}}
        ),
    )
    clean_in = _dataset("clean/customers", version=_facet(datasetVersion="warmup-1"))
    model = _dataset(
        "models/warmup", "registry://warmup", ml_modelVersion=_facet(name="warmup", version="1.0.0", framework="none")
    )
    endpoint = _dataset("endpoints/warmup", "k8s://warmup", ml_endpoint=_facet(name="warmup", environment="none"))
    parent = {"parent": _facet(run={"runId": _uuid("dag")}, job={"namespace": NAMESPACE, "name": "dag"})}
    steps = [
        ("clean", 0, {"inputs": [raw], "outputs": [clean], "job_facets": git, "run_facets": parent}),
        ("train", 10, {"inputs": [clean_in], "outputs": [model], "run_facets": {"ml_training": _facet(params={}, metrics={})}}),
        ("deploy", 20, {"inputs": [model], "outputs": [endpoint]}),
        ("promote", 30, {"inputs": [model], "run_facets": {
            "ml_alias": _facet(model="warmup", alias="Production", version="1.0.0"),
            "ml_approval": _facet(reviewer="warmup", decision="approved", checks={}),
        }}),
    ]
    out = []
    for name, minute, parts in steps:
        for event_type, at in (("START", minute), ("COMPLETE", minute + 5)):
            out.append(parse_event(_run(name, event_type, at, **parts)))
    return out


UnitOfWork = Callable[[Any, Sequence[Event], str], list[IngestOutcome]]
# What the reads are given: every list they unwind empty, so each runs (and is planned) at no
# cost. As with every query of the store, one map parameter `$p`: a plan is cached by the
# parameter's type (a map), never by what the map holds.
READ_PARAMS: dict[str, Any] = {"ids": [], "values": [], "versions": [], "reads": [], "kind": "", "limit": 1}


def warm(session: Session, ingest: UnitOfWork, reads: Sequence[LiteralString]) -> float | None:
    """Run `ingest` (the store's unit of work) over `events()` in a transaction that is rolled
    back, then each of `reads` in one that writes nothing, as an ingest runs them before its
    write (LOCK_HEAD's SET of an unchanged value leaves no transaction state); the seconds it
    took, or None when it could not run. It only makes the first ingest faster, so a failure is
    logged, never raised: a real ingest would meet it anyway."""
    started = time.perf_counter()
    try:
        tx = session.begin_transaction()
        try:
            ingest(tx, events(), RECEIVED_AT)
        finally:
            tx.rollback()  # nothing of it stays, whatever happened
        tx = session.begin_transaction()
        try:
            for query in reads:
                tx.run(query, {"p": READ_PARAMS}).consume()
        finally:
            tx.rollback()
    except (StoreError, Neo4jError, DriverError) as exc:  # e.g. a rebuild in progress refuses ingest
        log.warning("neo4j: ingest warm-up skipped", extra={"error": str(exc)})
        return None
    return time.perf_counter() - started
