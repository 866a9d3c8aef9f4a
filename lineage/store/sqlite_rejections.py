"""The SQLite store's dead-letter tables: refused bodies, the nodes they name, and their bounds.

Kept apart from the event log on purpose: a refused body is no evidence of lineage, so it is
outside the hash chain, and its bounds may drop old entries, which the log never does.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from collections.abc import Sequence
from typing import Any

import orjson

from lineage.store.base import Rejection, RejectionStats

SCHEMA = """
CREATE TABLE IF NOT EXISTS rejections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT NOT NULL,
    error TEXT NOT NULL,
    field TEXT NOT NULL,
    detail TEXT NOT NULL,
    producer TEXT,
    body BLOB NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT,
    truncated INTEGER NOT NULL,
    subjects TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rejection_subjects (
    node_id TEXT NOT NULL,
    rejection INTEGER NOT NULL,
    PRIMARY KEY (node_id, rejection)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rejection_subjects_by_entry ON rejection_subjects(rejection);
CREATE TABLE IF NOT EXISTS rejection_stats (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    entries INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    dropped INTEGER NOT NULL
);
INSERT OR IGNORE INTO rejection_stats (id, entries, bytes, dropped) VALUES (1, 0, 0, 0);
"""
RESET = "DELETE FROM rejections; DELETE FROM rejection_subjects; UPDATE rejection_stats SET entries = 0, bytes = 0, dropped = 0;"

_FIELDS = "id, received_at, error, field, detail, producer, body, size, sha256, truncated, subjects"


def _record(row: tuple[Any, ...]) -> Rejection:
    return Rejection(*row[:6], bytes(row[6]), row[7], row[8], bool(row[9]), tuple(orjson.loads(row[10])))


def _stats(conn: sqlite3.Connection) -> RejectionStats:
    row = conn.execute("SELECT entries, bytes, dropped FROM rejection_stats WHERE id = 1").fetchone()
    return RejectionStats(*row) if row else RejectionStats(0, 0, 0)


def _delete(conn: sqlite3.Connection, rejection_id: int, dropped: int) -> bool:
    row = conn.execute("SELECT length(body) FROM rejections WHERE id = ?", (rejection_id,)).fetchone()
    if row is None:
        return False
    conn.execute("DELETE FROM rejections WHERE id = ?", (rejection_id,))
    conn.execute("DELETE FROM rejection_subjects WHERE rejection = ?", (rejection_id,))
    conn.execute(
        "UPDATE rejection_stats SET entries = entries - 1, bytes = bytes - ?, dropped = dropped + ? WHERE id = 1",
        (row[0], dropped),
    )
    return True


def put(conn: sqlite3.Connection, r: Rejection, max_entries: int, max_bytes: int) -> Rejection:
    """In one transaction: the entry, its subjects, then the oldest others dropped to the bounds."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        cur = conn.execute(
            f"INSERT INTO rejections ({_FIELDS.removeprefix('id, ')}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (r.received_at, r.error, r.field, r.detail, r.producer, r.body, r.size, r.sha256, int(r.truncated),
             orjson.dumps(list(r.subjects)).decode()),
        )
        new_id = int(cur.lastrowid or 0)
        conn.executemany(
            "INSERT OR IGNORE INTO rejection_subjects (node_id, rejection) VALUES (?, ?)",
            [(s, new_id) for s in r.subjects],
        )
        conn.execute("UPDATE rejection_stats SET entries = entries + 1, bytes = bytes + ? WHERE id = 1", (len(r.body),))
        stats = _stats(conn)
        entries, size = stats.entries, stats.bytes
        oldest = conn.execute("SELECT id, length(body) FROM rejections WHERE id < ? ORDER BY id", (new_id,))
        for old_id, old_size in oldest.fetchall() if entries > max_entries or size > max_bytes else ():
            if entries <= max_entries and size <= max_bytes:
                break
            _delete(conn, old_id, dropped=1)
            entries, size = entries - 1, size - old_size
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return replace(r, id=new_id)


def listing(conn: sqlite3.Connection, before: int | None, limit: int) -> list[Rejection]:
    rows = conn.execute(
        f"SELECT {_FIELDS} FROM rejections WHERE (? IS NULL OR id < ?) ORDER BY id DESC LIMIT ?", (before, before, limit)
    )
    return [_record(r) for r in rows]


def one(conn: sqlite3.Connection, rejection_id: int) -> Rejection | None:
    row = conn.execute(f"SELECT {_FIELDS} FROM rejections WHERE id = ?", (rejection_id,)).fetchone()
    return _record(row) if row else None


def delete(conn: sqlite3.Connection, rejection_id: int) -> bool:
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = _delete(conn, rejection_id, dropped=0)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return found


def stats(conn: sqlite3.Connection) -> RejectionStats:
    return _stats(conn)


def about(conn: sqlite3.Connection, subjects: Sequence[str]) -> dict[str, int]:
    rows = conn.execute(
        "SELECT node_id, count(*) FROM rejection_subjects WHERE node_id IN (SELECT value FROM json_each(?)) GROUP BY node_id",
        (orjson.dumps(list(subjects)).decode(),),
    )
    return {r[0]: r[1] for r in rows}
