"""The SQLite store's Merkle tree of the log (lineage/merkle.py): frontier and stored subtrees."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from lineage.merkle import Frontier, NodeKey, TreeReader, entry_leaf

SCHEMA = """
CREATE TABLE IF NOT EXISTS log_tree (id INTEGER PRIMARY KEY CHECK (id = 1), size INTEGER NOT NULL, frontier BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS tree_nodes (
    level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (level, idx)
) WITHOUT ROWID;
"""
RESET = "DELETE FROM log_tree; DELETE FROM tree_nodes;"
_PUT_NODE = "INSERT OR REPLACE INTO tree_nodes (level, idx, hash) VALUES (?, ?, ?)"
_PUT_FRONTIER = "INSERT OR REPLACE INTO log_tree (id, size, frontier) VALUES (1, ?, ?)"


def frontier(conn: sqlite3.Connection) -> Frontier:
    row = conn.execute("SELECT size, frontier FROM log_tree WHERE id = 1").fetchone()
    return Frontier.decode(row[0], row[1]) if row else Frontier()


def extend(conn: sqlite3.Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Add new log rows (seq, id, received_at first) to the tree, in the caller's transaction.

    A tree that does not end where these rows start (a log written before the tree was kept)
    is left as it is: proofs then refuse, and `rebuild` builds it whole."""
    if not rows:
        return
    tree = frontier(conn)
    if tree.size != rows[0][0] - 1:
        return
    made: list[tuple[int, int, bytes]] = []
    for row in rows:
        made.extend(tree.append(entry_leaf(row[0], row[1], row[2])))
    conn.executemany(_PUT_NODE, made)
    conn.execute(_PUT_FRONTIER, (tree.size, tree.encode()))


def rebuild(conn: sqlite3.Connection, progress: Callable[[int], None] | None = None) -> int:
    """Build the tree again from the whole log, in the caller's transaction; returns its size."""
    conn.execute("DELETE FROM tree_nodes")
    tree = Frontier()
    last = 0
    while rows := conn.execute(
        "SELECT seq, id, received_at FROM events WHERE seq > ? ORDER BY seq LIMIT 5000", (last,)
    ).fetchall():
        made: list[tuple[int, int, bytes]] = []
        for seq, event_id, received_at in rows:
            if seq != tree.size + 1:
                raise ValueError(f"the log skips from seq {tree.size} to {seq}: no tree can be built over a gap")
            made.extend(tree.append(entry_leaf(seq, event_id, received_at)))
        conn.executemany(_PUT_NODE, made)
        last = rows[-1][0]
    conn.execute(_PUT_FRONTIER, (tree.size, tree.encode()))
    return tree.size


def reader(conn: sqlite3.Connection) -> TreeReader:
    """The tree as of `conn`'s view (call inside one read snapshot for consistent answers)."""

    def nodes(keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        found = conn.execute(
            "SELECT t.level, t.idx, t.hash FROM json_each(?) j"
            " JOIN tree_nodes t ON t.level = j.value ->> 0 AND t.idx = j.value ->> 1",
            (orjson.dumps([list(k) for k in keys]).decode(),),
        )
        return {(level, idx): bytes(h) for level, idx, h in found}

    def leaves(indices: Sequence[int]) -> dict[int, bytes]:
        found = conn.execute(
            "SELECT seq, id, received_at FROM events WHERE seq IN (SELECT value FROM json_each(?))",
            (orjson.dumps([i + 1 for i in indices]).decode(),),
        )
        return {seq - 1: entry_leaf(seq, event_id, received_at) for seq, event_id, received_at in found}

    return TreeReader(frontier(conn).size, nodes, leaves)
