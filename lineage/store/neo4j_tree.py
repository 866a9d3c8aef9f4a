"""The Neo4j store's Merkle tree of the log (lineage/merkle.py): the frontier on the LogHead node,
stored subtrees as (:TreeNode {key: "level:index", hash})."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, LiteralString

from neo4j import ManagedTransaction, Session

from lineage.merkle import Frontier, NodeKey, TreeBehind, TreeReader, entry_leaf

CONSTRAINT: LiteralString = "CREATE CONSTRAINT tree_node_key IF NOT EXISTS FOR (t:TreeNode) REQUIRE t.key IS UNIQUE"
# Written in WRITE_BATCH's transaction (lineage/store/neo4j.py), after the head's lock was taken.
PUT_NODES: LiteralString = """
CALL () {
    UNWIND $p.tree_nodes AS row
    MERGE (t:TreeNode {key: row.key})
    SET t.hash = row.hash
}
CALL () {
    UNWIND CASE WHEN $p.tree_size IS NULL THEN [] ELSE [true] END AS grown
    MATCH (h:LogHead {name: 'head'})
    SET h.tree_size = $p.tree_size, h.frontier = $p.frontier
}
"""
_READ_STATE: LiteralString = (
    "OPTIONAL MATCH (h:LogHead {name: 'head'}) RETURN h.tree_size, h.frontier, COUNT { MATCH (e:Event) } AS entries"
)
_READ_NODES: LiteralString = "UNWIND $p.keys AS key MATCH (t:TreeNode {key: key}) RETURN t.key, t.hash"
_READ_LEAVES: LiteralString = "UNWIND $p.seqs AS seq MATCH (e:Event {seq: seq}) RETURN e.seq, e.id, e.received_at"
_FORGET: LiteralString = "MATCH (h:LogHead {name: 'head'}) REMOVE h.tree_size, h.frontier"
_DROP_NODES: LiteralString = "MATCH (t:TreeNode) CALL (t) { DELETE t } IN TRANSACTIONS OF 5000 ROWS"
_LOG_PAGE: LiteralString = (
    "MATCH (e:Event) WHERE e.seq > $p.after RETURN e.seq, e.id, e.received_at ORDER BY e.seq LIMIT $p.limit"
)
_WRITE_NODES: LiteralString = "UNWIND $p.rows AS row CREATE (t:TreeNode {key: row.key, hash: row.hash})"
_SET_FRONTIER: LiteralString = (
    "MERGE (h:LogHead {name: 'head'}) SET h.tree_size = $p.tree_size, h.frontier = $p.frontier"
)


def _key(level: int, idx: int) -> str:
    return f"{level}:{idx}"


def grow(tree_size: int | None, frontier: bytes | None, entries: Sequence[Any], received_at: str) -> dict[str, Any]:
    """PUT_NODES' parameters for new log entries (`.seq`, `.event.id`): the tree as read with the
    head. A tree that does not end where they start (a log from before the tree) is left as it is."""
    if not entries:
        return {"tree_nodes": [], "tree_size": None, "frontier": None}
    first = entries[0].seq
    if tree_size is None and first == 1:
        tree = Frontier()
    elif tree_size is not None and tree_size == first - 1:
        tree = Frontier.decode(tree_size, bytes(frontier or b""))
    else:
        return {"tree_nodes": [], "tree_size": None, "frontier": None}
    made: list[dict[str, Any]] = []
    for e in entries:
        for level, idx, h in tree.append(entry_leaf(e.seq, e.event.id, received_at)):
            made.append({"key": _key(level, idx), "hash": h})
    return {"tree_nodes": made, "tree_size": tree.size, "frontier": tree.encode()}


def reader(tx: ManagedTransaction) -> TreeReader:
    """The tree in `tx`'s view; raises TreeBehind if it does not cover the whole log."""
    size, _, entries = tx.run(_READ_STATE).single(strict=True)
    if size is None and entries == 0:
        size = 0
    if size != entries:
        raise TreeBehind(f"the log's tree covers {size or 0} of {entries} entries; run rebuild")

    def nodes(keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        rows = tx.run(_READ_NODES, p={"keys": [_key(*k) for k in keys]})
        out: dict[NodeKey, bytes] = {}
        for key, h in rows:
            level, idx = key.split(":")
            out[(int(level), int(idx))] = bytes(h)
        return out

    def leaves(indices: Sequence[int]) -> dict[int, bytes]:
        rows = tx.run(_READ_LEAVES, p={"seqs": [i + 1 for i in indices]})
        return {seq - 1: entry_leaf(seq, event_id, received_at) for seq, event_id, received_at in rows}

    return TreeReader(size, nodes, leaves)


def rebuild(session: Session, page: int = 5000) -> int:
    """Build the tree again from the whole log (ingest must be held off meanwhile); its size."""
    session.run(_FORGET).consume()  # until the end, ingest leaves the tree alone and proofs refuse
    session.run(_DROP_NODES).consume()
    tree, last = Frontier(), 0
    while True:
        rows = session.execute_read(lambda tx: list(tx.run(_LOG_PAGE, p={"after": last, "limit": page})))
        if not rows:
            break
        made: list[dict[str, Any]] = []
        for seq, event_id, received_at in rows:
            if seq != tree.size + 1:
                raise ValueError(f"the log skips from seq {tree.size} to {seq}: no tree can be built over a gap")
            made.extend({"key": _key(level, idx), "hash": h} for level, idx, h in tree.append(entry_leaf(seq, event_id, received_at)))
        session.execute_write(lambda tx: tx.run(_WRITE_NODES, p={"rows": made}).consume())
        last = rows[-1][0]
    session.execute_write(lambda tx: tx.run(_SET_FRONTIER, p={"tree_size": tree.size, "frontier": tree.encode()}).consume())
    return tree.size
