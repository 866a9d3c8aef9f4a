"""The incident graph for audit tests, and a forger that edits either store behind its back."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from lineage.chain import entry_hash
from lineage.ingest.parse import parse_event
from lineage.refs import resolve_ref
from lineage.service import annotation_body
from lineage.store.base import EventFilter, Store, StoredEvent
from tests import incident
from tests.conformance.test_projection_rules import NOW, ingest

s = incident.s

# Beyond the incident: a rejected promotion of 2.3.1 (who refused it, and why, is evidence too),
# and a re-run of the bad snapshot whose content differs from the first (an immutability violation).
REJECTED = s.event(
    "prom#0",
    "COMPLETE",
    s.ts(9, 15, day=2),
    job="promote-churn",
    inputs=[s.model("churn", "2.3.1")],
    run_facets={
        "ml_alias": s.facet(model="churn", alias="Production", version="2.3.1"),
        "ml_approval": s.facet(reviewer="bob", decision="rejected", checks={"auc": True, "bias_audit": False}, notes="label drift"),
    },
)
RESNAPSHOT = incident.snapshot("snap#182b", 3, "data-v1.8.2", "c" * 64, incident.COMMIT_DATA_BAD)
EVENTS = [*incident.EVENTS, REJECTED, RESNAPSHOT]


@pytest.fixture
def graph(store: Store) -> Store:
    return load(store)


def load(store: Store) -> Store:
    """The incident on a fresh store, and oncall's quarantine of the bad data as an annotation."""
    ingest(store, *EVENTS)
    target = resolve_ref(store, "data-v1.8.2")
    body = annotation_body(target.id, "data-v1.8.2", "quarantined", "biased label mapping", "oncall", "2026-03-04T00:00:00Z")
    store.ingest([parse_event(body)], NOW)
    return store


def log(store: Store) -> list[StoredEvent]:
    return store.events(EventFilter(), -(2**62), 100_000)


def seq_of(store: Store, run: str, event_type: str = "COMPLETE") -> int:
    """Where the event of a scenario run sits in the log."""
    uuid = s.run_uuid(run)
    (found,) = [e for e in log(store) if e.run_uuid == uuid and e.event_type == event_type]
    return found.seq


class Forger:
    """Rewrites the event log directly (SQL or Cypher), as someone with database access would."""

    def entry(self, seq: int) -> dict[str, Any]:
        raise NotImplementedError

    def update(self, seq: int, **fields: Any) -> None:
        raise NotImplementedError

    def delete(self, seq: int) -> None:
        raise NotImplementedError

    def shift(self, after: int, by: int) -> None:
        """Renumber every entry after `after` by `by`."""
        raise NotImplementedError

    def insert(self, row: dict[str, Any]) -> None:
        raise NotImplementedError

    def swap(self, a: int, b: int) -> None:
        raise NotImplementedError

    def rehash(self, seq: int) -> None:
        """Recompute an entry's hash from its fields, as a forger who knows the chain's rule."""
        e = self.entry(seq)
        self.update(seq, hash=entry_hash(e["prev_hash"], seq, e["id"], e["received_at"]))

    def close(self) -> None:
        pass


_COLUMNS = "seq, id, received_at, event_time, kind, event_type, run_uuid, job_namespace, job_name, producer, payload, prev_hash, hash"


class SqliteForger(Forger):
    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)

    def entry(self, seq: int) -> dict[str, Any]:
        cur = self.conn.execute(f"SELECT {_COLUMNS} FROM events WHERE seq = ?", (seq,))
        row = cur.fetchone()
        return dict(zip([d[0] for d in cur.description], row))

    def update(self, seq: int, **fields: Any) -> None:
        for key, value in fields.items():  # keys are this test file's own, never input
            self.conn.execute(f"UPDATE events SET {key} = ? WHERE seq = ?", (value, seq))

    def delete(self, seq: int) -> None:
        self.conn.execute("DELETE FROM events WHERE seq = ?", (seq,))

    def shift(self, after: int, by: int) -> None:
        # Through negative numbers: seq is the primary key, so no step may collide.
        self.conn.execute("UPDATE events SET seq = -seq WHERE seq > ?", (after,))
        self.conn.execute("UPDATE events SET seq = -seq + ? WHERE seq < 0", (by,))

    def insert(self, row: dict[str, Any]) -> None:
        self.conn.execute(f"INSERT INTO events ({_COLUMNS}) VALUES ({', '.join('?' * 13)})", [row[k] for k in _COLUMNS.split(", ")])

    def swap(self, a: int, b: int) -> None:
        self.conn.execute("UPDATE events SET seq = -1 WHERE seq = ?", (a,))
        self.conn.execute("UPDATE events SET seq = ? WHERE seq = ?", (a, b))
        self.conn.execute("UPDATE events SET seq = ? WHERE seq = -1", (b,))

    def close(self) -> None:
        self.conn.close()


class Neo4jForger(Forger):
    def __init__(self, uri: str) -> None:
        from neo4j import GraphDatabase

        password = os.environ.get("LINEAGE_TEST_NEO4J_PASSWORD", "")
        self.driver = GraphDatabase.driver(uri, auth=("neo4j", password) if password else None)

    def _run(self, query: Any, **params: Any) -> list[Any]:
        records, _, _ = self.driver.execute_query(query, params, database_="neo4j")
        return records

    def entry(self, seq: int) -> dict[str, Any]:
        (record,) = self._run("MATCH (e:Event {seq: $seq}) RETURN properties(e) AS e", seq=seq)
        return dict(record["e"]) | {"payload": record["e"]["payload"].encode()}

    def update(self, seq: int, **fields: Any) -> None:
        fields = {k: v.decode() if isinstance(v, bytes) else v for k, v in fields.items()}
        self._run("MATCH (e:Event {seq: $seq}) SET e += $fields", seq=seq, fields=fields)

    def delete(self, seq: int) -> None:
        self._run("MATCH (e:Event {seq: $seq}) DETACH DELETE e", seq=seq)

    def shift(self, after: int, by: int) -> None:
        # Through negative numbers: the seq uniqueness constraint is checked at every step.
        self._run("MATCH (e:Event) WHERE e.seq > $after SET e.seq = -e.seq", after=after)
        self._run("MATCH (e:Event) WHERE e.seq < 0 SET e.seq = -e.seq + $by", by=by)

    def insert(self, row: dict[str, Any]) -> None:
        self._run("CREATE (e:Event) SET e = $row", row=row | {"payload": row["payload"].decode()})

    def swap(self, a: int, b: int) -> None:
        self._run("MATCH (e:Event {seq: $a}) SET e.seq = -1", a=a)
        self._run("MATCH (e:Event {seq: $b}) SET e.seq = $a", a=a, b=b)
        self._run("MATCH (e:Event {seq: -1}) SET e.seq = $b", b=b)

    def close(self) -> None:
        self.driver.close()


@pytest.fixture
def forger(graph: Store, backend: str, request: pytest.FixtureRequest) -> Iterator[Forger]:
    made: Forger = SqliteForger(graph.path) if backend == "sqlite" else Neo4jForger(request.getfixturevalue("neo4j_uri"))  # type: ignore[attr-defined]
    try:
        yield made
    finally:
        made.close()
