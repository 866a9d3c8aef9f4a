"""SQLite's dataset/job-level adjacency (issue 34): its tables, its upkeep and its reads.

`track` runs in the writer's transaction just before a batch's mutations are applied: it reads
what they touch as it stands (lineage/store/levels.py works out the difference) and adds it.
Reads walk `level_edges` with a recursive query bounded by depth, so a collapsed answer costs
what it holds; counts come from `level_counts`, or, within a time window, from an index range.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import orjson

from lineage.graph import Node
from lineage.store.base import Direction
from lineage.store.levels import LEVEL_EDGE_TYPES, Delta, EdgeIdent, LevelWalk, delta, dump_rows, from_graph

# Level pairs (with how much of their support only a JobEvent declared) and counts, and an index
# of runs by job and time (newest run, runs in a window). A database from before gets them filled
# once from its graph (`backfill`); one from before `declared` gets the column and a recount.
SCHEMA = """
CREATE TABLE IF NOT EXISTS level_edges (
    src TEXT NOT NULL, dst TEXT NOT NULL, support INTEGER NOT NULL, declared INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (src, dst)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS level_edges_in ON level_edges(dst, src);
CREATE TABLE IF NOT EXISTS level_counts (
    id TEXT PRIMARY KEY, versions INTEGER NOT NULL, runs INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS level_state (id INTEGER PRIMARY KEY CHECK (id = 1), filled INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS nodes_runs_by_job ON nodes(
    json_extract(props, '$.job'), coalesce(json_extract(props, '$.started_at'), json_extract(props, '$.first_event_time'))
) WHERE kind = 'Run';
"""
RUN_JOB = "json_extract(props, '$.job')"
RUN_AT = "coalesce(json_extract(props, '$.started_at'), json_extract(props, '$.first_event_time'))"
RESET = "DELETE FROM level_edges; DELETE FROM level_counts;"


class _Before:
    """levels.Before over the writer's connection, inside its transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def existing_edges(self, idents: Sequence[EdgeIdent]) -> set[EdgeIdent]:
        if not idents:
            return set()
        rows = self.conn.execute(
            "SELECT e.src, e.type, e.dst, e.key FROM json_each(?) j"
            " JOIN edges e ON e.src = j.value ->> 0 AND e.type = j.value ->> 1 AND e.dst = j.value ->> 2"
            " AND e.key = j.value ->> 3",
            (orjson.dumps([list(i) for i in idents]).decode(),),
        ).fetchall()
        return {(r[0], r[1], r[2], r[3]) for r in rows}

    def existing_nodes(self, ids: Sequence[str]) -> dict[str, Node]:
        if not ids:
            return {}
        rows = self.conn.execute(
            "SELECT n.id, n.kind, n.labels, n.props FROM json_each(?) j JOIN nodes n ON n.id = j.value",
            (orjson.dumps(list(ids)).decode(),),
        ).fetchall()
        return {r[0]: Node(r[0], r[1], frozenset(orjson.loads(r[2])), orjson.loads(r[3])) for r in rows}

    def flow_edges_of(self, ids: Sequence[str]) -> list[EdgeIdent]:
        if not ids:
            return []
        arg = orjson.dumps(list(ids)).decode()
        types = orjson.dumps(list(LEVEL_EDGE_TYPES)).decode()
        rows = self.conn.execute(
            "SELECT src, type, dst, key FROM edges WHERE src IN (SELECT value FROM json_each(?))"
            " AND type IN (SELECT value FROM json_each(?))"
            " UNION SELECT src, type, dst, key FROM edges WHERE dst IN (SELECT value FROM json_each(?))"
            " AND type IN (SELECT value FROM json_each(?))",
            (arg, types, arg, types),
        ).fetchall()
        return [(r[0], r[1], r[2], r[3]) for r in rows]


def _ready(conn: sqlite3.Connection) -> bool:
    """Whether the adjacency was counted, with its declared support (issue 30's edges)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(level_edges)")}
    return "declared" in columns and conn.execute("SELECT filled FROM level_state").fetchone() is not None


def setup(conn: sqlite3.Connection) -> None:
    """Create the tables and index; fill them from the graph once, if it was there before them
    (or before the declared support was kept: its pairs are counted again, with it)."""
    conn.executescript(SCHEMA)
    if _ready(conn):
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        if not _ready(conn):  # another process may have counted it while this one waited
            if "declared" not in {row[1] for row in conn.execute("PRAGMA table_info(level_edges)")}:
                conn.execute("ALTER TABLE level_edges ADD COLUMN declared INTEGER NOT NULL DEFAULT 0")
            backfill(conn)
            conn.execute("INSERT OR REPLACE INTO level_state (id, filled) VALUES (1, 1)")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def write(conn: sqlite3.Connection, change: Delta) -> None:
    """Add a delta; pairs and counts that reach zero go."""
    pairs = change.pair_rows()
    if pairs:
        conn.executemany(
            "INSERT INTO level_edges (src, dst, support, declared) VALUES (?, ?, ?, ?) ON CONFLICT(src, dst)"
            " DO UPDATE SET support = support + excluded.support, declared = declared + excluded.declared",
            pairs,
        )
        conn.executemany("DELETE FROM level_edges WHERE src = ? AND dst = ? AND support <= 0", [p[:2] for p in pairs])
    members = change.member_rows()
    if members:
        conn.executemany(
            "INSERT INTO level_counts (id, versions, runs) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE"
            " SET versions = versions + excluded.versions, runs = runs + excluded.runs",
            members,
        )
        conn.executemany("DELETE FROM level_counts WHERE id = ? AND versions <= 0 AND runs <= 0", [(m[0],) for m in members])


def track(conn: sqlite3.Connection, mutations: Sequence[Any]) -> None:
    """Keep the adjacency in step with `mutations`, which are about to be applied on `conn`."""
    write(conn, delta(mutations, _Before(conn)))


def backfill(conn: sqlite3.Connection) -> None:
    """Count the adjacency afresh from the graph (a store from before it existed)."""
    conn.execute("DELETE FROM level_edges")
    conn.execute("DELETE FROM level_counts")
    nodes = [
        Node(r[0], r[1], frozenset(), orjson.loads(r[2]))
        for r in conn.execute("SELECT id, kind, props FROM nodes WHERE kind IN ('Dataset', 'Job', 'DatasetVersion', 'Run')")
    ]
    types = orjson.dumps(list(LEVEL_EDGE_TYPES)).decode()
    edges = [
        (r[0], r[1], r[2], r[3])
        for r in conn.execute("SELECT src, type, dst, key FROM edges WHERE type IN (SELECT value FROM json_each(?))", (types,))
    ]
    write(conn, from_graph(nodes, edges))


def walks(conn: sqlite3.Connection, start: Sequence[str], directions: Sequence[Direction], depth: int) -> dict[Direction, LevelWalk]:
    """`walk` each way (in process, a statement costs no round trip)."""
    return {way: walk(conn, start, way, depth) for way in directions}


def walk(conn: sqlite3.Connection, start: Sequence[str], direction: Direction, depth: int) -> LevelWalk:
    """Every dataset/job within `depth` level hops of `start`, and the pairs among them."""
    step = (
        "SELECT l.dst, r.d + 1 FROM reach r JOIN level_edges l ON l.src = r.id WHERE r.d < ?"
        if direction == "down"
        else "SELECT l.src, r.d + 1 FROM reach r JOIN level_edges l ON l.dst = r.id WHERE r.d < ?"
    )
    rows = conn.execute(
        "WITH RECURSIVE reach(id, d) AS (SELECT value, 0 FROM json_each(?) UNION " + step + ")"
        " SELECT id, min(d) FROM reach GROUP BY id",
        (orjson.dumps(list(start)).decode(), depth),
    ).fetchall()
    reached = {r[0]: r[1] for r in rows}
    arg = orjson.dumps(sorted(reached)).decode()
    edges = conn.execute(
        "SELECT src, dst, support, declared FROM level_edges WHERE src IN (SELECT value FROM json_each(?))"
        " AND dst IN (SELECT value FROM json_each(?)) ORDER BY src, dst",
        (arg, arg),
    ).fetchall()
    return LevelWalk(reached, [(e[0], e[1], e[2], e[3]) for e in edges])


def summaries(
    conn: sqlite3.Connection, datasets: Sequence[str], jobs: Sequence[str], since: str | None, until: str | None
) -> dict[str, dict[str, Any]]:
    """Per dataset its versions and newest version, per job its runs and newest run, within
    since <= time < until. Without a window the counts are the kept ones; with one, an index
    range: either way nothing outside what the answer states is read."""
    out: dict[str, dict[str, Any]] = {}
    window = since is not None or until is not None
    lo, hi = since or "", until or "\uffff"
    kept = {
        r[0]: (r[1], r[2])
        for r in conn.execute(
            "SELECT id, versions, runs FROM level_counts WHERE id IN (SELECT value FROM json_each(?))",
            (orjson.dumps([*datasets, *jobs]).decode(),),
        )
    }
    for ds in datasets:
        if window:
            count = conn.execute(
                # A placeholder has no written_at, so the window leaves it out as the count does.
                "SELECT count(*) FROM nodes WHERE dataset = ? AND written_at >= ? AND written_at < ?",
                (ds, lo, hi),
            ).fetchone()[0]
        else:
            count = kept.get(ds, (0, 0))[0]
        row = conn.execute(
            "SELECT id, kind, labels, props FROM nodes WHERE dataset = ? AND written_at >= ? AND written_at < ?"
            " ORDER BY written_at DESC, id DESC LIMIT 1",
            (ds, lo, hi),
        ).fetchone()
        out[ds] = {"count": count, "newest": _node(row) if row else None}
    for job in jobs:
        if window:
            count = conn.execute(
                f"SELECT count(*) FROM nodes WHERE kind = 'Run' AND {RUN_JOB} = ? AND {RUN_AT} >= ? AND {RUN_AT} < ?",
                (job, lo, hi),
            ).fetchone()[0]
        else:
            count = kept.get(job, (0, 0))[1]
        row = conn.execute(
            f"SELECT id, kind, labels, props FROM nodes WHERE kind = 'Run' AND {RUN_JOB} = ? AND {RUN_AT} >= ?"
            f" AND {RUN_AT} < ? ORDER BY {RUN_AT} DESC, id DESC LIMIT 1",
            (job, lo, hi),
        ).fetchone()
        out[job] = {"count": count, "newest": _node(row) if row else None}
    return out


def _node(row: Sequence[Any]) -> Node:
    return Node(row[0], row[1], frozenset(orjson.loads(row[2])), orjson.loads(row[3]))


def dump(conn: sqlite3.Connection) -> dict[str, list[list[object]]]:
    pairs = conn.execute("SELECT src, dst, support, declared FROM level_edges").fetchall()
    members = conn.execute("SELECT id, versions, runs FROM level_counts").fetchall()
    return dump_rows(pairs, members)
