"""The Neo4j store's dead letters: refused bodies as :Rejection nodes beside the graph.

Like tokens they are never :Node, so no traversal, dump or rebuild sees them, and they are
outside the event log's hash chain (a refused body is no evidence of lineage). The nodes a
refused body names are :RejectionSubject nodes it points to with NAMES, so "which entries name
these nodes" is an index lookup per node, whatever the store holds. One :RejectionStats node
keeps the count, the bytes and the number dropped by the bounds, and hands out ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, LiteralString

from neo4j import ManagedTransaction

from lineage.store.base import Rejection, RejectionStats

SCHEMA: tuple[LiteralString, ...] = (
    "CREATE CONSTRAINT rejection_id IF NOT EXISTS FOR (r:Rejection) REQUIRE r.id IS UNIQUE",
    "CREATE CONSTRAINT rejection_subject_id IF NOT EXISTS FOR (s:RejectionSubject) REQUIRE s.id IS UNIQUE",
)
LABELS: LiteralString = "n:Rejection OR n:RejectionSubject OR n:RejectionStats"

_FIELDS: LiteralString = (
    " RETURN r.id, r.received_at, r.error, r.field, r.detail, r.producer, r.body, r.size, r.sha256, r.truncated,"
    " r.subjects"
)
PUT: LiteralString = """
MERGE (s:RejectionStats {name: 'stats'})
    ON CREATE SET s.next = 0, s.entries = 0, s.bytes = 0, s.dropped = 0
SET s.next = s.next + 1, s.entries = s.entries + 1, s.bytes = s.bytes + $p.kept
CREATE (r:Rejection {id: s.next})
SET r += $p.fields
WITH r, s
CALL (r) {
    UNWIND $p.fields.subjects AS subject
    MERGE (m:RejectionSubject {id: subject})
    CREATE (r)-[:NAMES]->(m)
}
RETURN r.id, s.entries, s.bytes
"""
OLDEST: LiteralString = "MATCH (r:Rejection) WHERE r.id < $p.below RETURN r.id, size(r.body) ORDER BY r.id LIMIT $p.limit"
DELETE: LiteralString = """
MATCH (r:Rejection {id: $p.id})
WITH r, size(r.body) AS kept
DETACH DELETE r
WITH kept
MATCH (s:RejectionStats {name: 'stats'})
SET s.entries = s.entries - 1, s.bytes = s.bytes - kept, s.dropped = s.dropped + $p.dropped
RETURN kept
"""
LIST: LiteralString = (
    "MATCH (r:Rejection) WHERE $p.before IS NULL OR r.id < $p.before WITH r ORDER BY r.id DESC LIMIT $p.limit"
    + _FIELDS
)
ONE: LiteralString = "MATCH (r:Rejection {id: $p.id})" + _FIELDS
STATS: LiteralString = "OPTIONAL MATCH (s:RejectionStats {name: 'stats'}) RETURN s.entries, s.bytes, s.dropped"
ABOUT: LiteralString = (
    "UNWIND $p.subjects AS subject MATCH (:RejectionSubject {id: subject})<-[:NAMES]-(r:Rejection)"
    " RETURN subject, count(r)"
)
# A page of oldest entries at a time while evicting: the bounds rarely drop more than one.
_EVICT_PAGE = 64


def _record(r: Any) -> Rejection:
    return Rejection(r[0], r[1], r[2], r[3], r[4], r[5], bytes(r[6]), r[7], r[8], bool(r[9]), tuple(r[10] or ()))


def put(tx: ManagedTransaction, rej: Rejection, max_entries: int, max_bytes: int) -> Rejection:
    """The unit of work of `put_rejection`: safe to re-run, since all its state is local."""
    fields = {
        "received_at": rej.received_at, "error": rej.error, "field": rej.field, "detail": rej.detail,
        "producer": rej.producer, "body": rej.body, "size": rej.size, "sha256": rej.sha256,
        "truncated": rej.truncated, "subjects": list(rej.subjects),
    }
    new_id, entries, size = tx.run(PUT, {"p": {"fields": fields, "kept": len(rej.body)}}).single(strict=True)
    while entries > max_entries or size > max_bytes:
        page = list(tx.run(OLDEST, {"p": {"below": new_id, "limit": _EVICT_PAGE}}))
        if not page:
            break
        for old_id, old_size in page:
            if entries <= max_entries and size <= max_bytes:
                break
            tx.run(DELETE, {"p": {"id": old_id, "dropped": 1}}).consume()
            entries, size = entries - 1, size - old_size
    return replace(rej, id=int(new_id))


def listing(tx: ManagedTransaction, before: int | None, limit: int) -> list[Rejection]:
    return [_record(r) for r in tx.run(LIST, {"p": {"before": before, "limit": limit}})]


def one(tx: ManagedTransaction, rejection_id: int) -> Rejection | None:
    row = tx.run(ONE, {"p": {"id": rejection_id}}).single()
    return _record(row) if row else None


def delete(tx: ManagedTransaction, rejection_id: int) -> bool:
    return tx.run(DELETE, {"p": {"id": rejection_id, "dropped": 0}}).single() is not None


def stats(tx: ManagedTransaction) -> RejectionStats:
    row = tx.run(STATS, {"p": {}}).single(strict=True)
    return RejectionStats(row[0] or 0, row[1] or 0, row[2] or 0)


def about(tx: ManagedTransaction, subjects: Sequence[str]) -> dict[str, int]:
    return {r[0]: r[1] for r in tx.run(ABOUT, {"p": {"subjects": list(subjects)}})}
