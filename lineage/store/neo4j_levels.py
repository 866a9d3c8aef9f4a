"""Neo4j's dataset/job-level adjacency (issue 34): (:Level)-[:FLOWS {support, declared}]->(:Level).

A :Level node stands for one Dataset or Job (same id) and holds its `versions` and `runs`
counts; FLOWS joins two that data flows between, with how many version-level edges stand behind
it (`support`) and how many of those only a JobEvent declared (`declared`). They are kept apart from the :Node graph, so
dumps, rebuild's staging and the graph's writes never see them. `track` runs in the ingest's
transaction before its graph write: it reads what the batch's mutations touch as it stands
(lineage/store/levels.py works out the difference); the one statement that adds it runs after
the graph write.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, LiteralString

import orjson
from neo4j import ManagedTransaction, Session

from lineage.graph import Mutation, Node
from lineage.store.base import Direction
from lineage.store.levels import Delta, EdgeIdent, LevelWalk, delta, dump_rows

SCHEMA: tuple[LiteralString, ...] = (
    "CREATE CONSTRAINT level_id IF NOT EXISTS FOR (l:Level) REQUIRE l.id IS UNIQUE",
    # A run's job and time are promoted onto the node (neo4j._node_row): a job's newest run and
    # its runs within a window are an index range, however many runs it has.
    "CREATE INDEX run_job_at IF NOT EXISTS FOR (n:Run) ON (n.job, n.run_at)",
)
LABEL_CLAUSE: LiteralString = "n:Level"  # for the store's DROP_ALL

_EXISTING_NODES: LiteralString = """
UNWIND $p.ids AS id
MATCH (n:Node {id: id})
RETURN n.id, n.kind, n.labels, n.props
"""
_EXISTING_EDGES: LiteralString = """
UNWIND $p.rows AS row
MATCH (:Node {id: row[0]})-[r:$(row[1]) {key: row[3]}]->(:Node {id: row[2]})
RETURN row[0], row[1], row[2], row[3]
"""
_FLOW_EDGES_OF: LiteralString = """
UNWIND $p.ids AS id
MATCH (a:Node {id: id})-[r:WROTE|READ|SERVES|CHILD_OF|DECLARED_READ|DECLARED_WRITE|SYMLINK]-(:Node)
RETURN DISTINCT startNode(r).id, type(r), endNode(r).id, r.key
"""
_WRITE: LiteralString = """
CALL () {
    UNWIND $p.pairs AS row
    MERGE (a:Level {id: row[0]})
    MERGE (b:Level {id: row[1]})
    MERGE (a)-[f:FLOWS]->(b)
    SET f.support = coalesce(f.support, 0) + row[2], f.declared = coalesce(f.declared, 0) + row[3]
    WITH f WHERE f.support <= 0
    DELETE f
}
CALL () {
    UNWIND $p.members AS row
    MERGE (l:Level {id: row[0]})
    SET l.versions = coalesce(l.versions, 0) + row[1], l.runs = coalesce(l.runs, 0) + row[2]
}
"""
# WALK_LEVELS levels of the walk in one round trip, both ways at once: a graph both ways costs
# the deeper side's levels, and a walk of the usual depth one round trip, not one per level.
# Each level expands only the way's newest finds (its frontier) and keeps what the way reached
# before out, so a node is expanded once a way; `$p.levels` stops at the depth asked for.
WALK_LEVELS = 6


def _walk_levels() -> LiteralString:
    level: LiteralString = """
CALL (fd, rd, sizes) {
    UNWIND CASE WHEN size(sizes) < $p.levels THEN fd ELSE [] END AS id
    MATCH (:Level {id: id})-[:FLOWS]->(b:Level) WHERE NOT b.id IN rd
    RETURN collect(DISTINCT b.id) AS nd
}
CALL (fu, ru, sizes) {
    UNWIND CASE WHEN size(sizes) < $p.levels THEN fu ELSE [] END AS id
    MATCH (:Level {id: id})<-[:FLOWS]-(b:Level) WHERE NOT b.id IN ru
    RETURN collect(DISTINCT b.id) AS nu
}
WITH nd AS fd, rd + nd AS rd, nu AS fu, ru + nu AS ru, found + [[nd, nu]] AS found,
     sizes + [size(nd) + size(nu)] AS sizes"""
    body: LiteralString = ""
    for _ in range(WALK_LEVELS):
        body += level
    return (
        """
WITH $p.down AS fd, $p.seen_down AS rd, $p.up AS fu, $p.seen_up AS ru, [] AS found, [] AS sizes"""
        + body
        + """
RETURN found"""
    )


_WALK: LiteralString = _walk_levels()
_EDGES_AMONG: LiteralString = """
UNWIND $p.ids AS id
MATCH (a:Level {id: id})-[f:FLOWS]->(b:Level)
WHERE b.id IN $p.ids
RETURN a.id, b.id, f.support, coalesce(f.declared, 0) ORDER BY a.id, b.id
"""
# Each id's newest in one statement: in a subquery per id, ordered by both properties of the
# composite index, the planner reads the (dataset, written_at) or (job, run_at) index backwards
# and stops after a few rows (a Limit under the Apply, no sort of a history); ordered by the
# time alone it sorts every version (a Top): 50 ms against 5 at 10,000 versions. Ties in time
# are broken by id among the NEWEST_TIES rows read, as SQLite's `ORDER BY written_at DESC, id DESC`.
NEWEST_TIES = 8
_NEWEST: LiteralString = """
CALL () {
    UNWIND $p.datasets AS id
    CALL (id) {
        MATCH (v:DatasetVersion) WHERE v.dataset = id AND v.written_at < $p.hi
        WITH v ORDER BY v.dataset DESC, v.written_at DESC LIMIT $p.ties
        WITH v ORDER BY v.written_at DESC, v.id DESC LIMIT 1
        RETURN v AS n, v.written_at AS at
    }
    RETURN collect([id, n.id, n.kind, n.labels, n.props, at]) AS versions
}
CALL () {
    UNWIND $p.jobs AS id
    CALL (id) {
        MATCH (r:Run) WHERE r.job = id AND r.run_at < $p.hi
        WITH r ORDER BY r.job DESC, r.run_at DESC LIMIT $p.ties
        WITH r ORDER BY r.run_at DESC, r.id DESC LIMIT 1
        RETURN r AS n, r.run_at AS at
    }
    RETURN collect([id, n.id, n.kind, n.labels, n.props, at]) AS runs
}"""
# The counts, in the same statement as the newest (one round trip for an answer's summaries):
# kept on the :Level nodes, or within a window an index range per dataset or job.
_SUMMARIES_KEPT: LiteralString = _NEWEST + """
CALL () {
    UNWIND $p.datasets + $p.jobs AS id
    MATCH (l:Level {id: id})
    RETURN collect([id, CASE WHEN id IN $p.jobs THEN coalesce(l.runs, 0) ELSE coalesce(l.versions, 0) END]) AS counts
}
RETURN versions + runs, counts
"""
_SUMMARIES_WINDOW: LiteralString = _NEWEST + """
CALL () {
    UNWIND $p.datasets AS id
    CALL (id) {
        MATCH (v:DatasetVersion) WHERE v.dataset = id AND v.written_at >= $p.lo AND v.written_at < $p.hi
        RETURN count(v) AS n
    }
    RETURN collect([id, n]) AS version_counts
}
CALL () {
    UNWIND $p.jobs AS id
    CALL (id) {
        MATCH (r:Run) WHERE r.job = id AND r.run_at >= $p.lo AND r.run_at < $p.hi
        RETURN count(r) AS n
    }
    RETURN collect([id, n]) AS run_counts
}
RETURN versions + runs, version_counts + run_counts
"""
_DUMP_PAIRS: LiteralString = "MATCH (a:Level)-[f:FLOWS]->(b:Level) RETURN a.id, b.id, f.support, f.declared"
_DUMP_MEMBERS: LiteralString = "MATCH (l:Level) RETURN l.id, coalesce(l.versions, 0), coalesce(l.runs, 0)"
DROP: LiteralString = "MATCH (l:Level) CALL (l) { DETACH DELETE l } IN TRANSACTIONS OF 1000 ROWS"


def _run(runner: ManagedTransaction | Session, query: LiteralString, **named: Any) -> Any:
    # One map parameter, as lineage/store/neo4j.py's `_run` (one cached plan per query).
    return runner.run(query, {"p": named})


class _Before:
    """levels.Before in the ingest's transaction, before its graph write."""

    def __init__(self, tx: ManagedTransaction) -> None:
        self.tx = tx

    def existing_edges(self, idents: Sequence[EdgeIdent]) -> set[EdgeIdent]:
        if not idents:
            return set()
        return {(r[0], r[1], r[2], r[3]) for r in _run(self.tx, _EXISTING_EDGES, rows=[list(i) for i in idents])}

    def existing_nodes(self, ids: Sequence[str]) -> dict[str, Node]:
        if not ids:
            return {}
        return {r[0]: Node(r[0], r[1], frozenset(r[2]), orjson.loads(r[3])) for r in _run(self.tx, _EXISTING_NODES, ids=list(ids))}

    def flow_edges_of(self, ids: Sequence[str]) -> list[EdgeIdent]:
        if not ids:
            return []
        return [(r[0], r[1], r[2], r[3]) for r in _run(self.tx, _FLOW_EDGES_OF, ids=list(ids))]


def write(runner: ManagedTransaction | Session, change: Delta) -> None:
    if change:
        _run(runner, _WRITE, pairs=[list(r) for r in change.pair_rows()], members=[list(r) for r in change.member_rows()]).consume()


def track(tx: ManagedTransaction, mutations: Sequence[Mutation]) -> Delta:
    """What keeps the adjacency in step with `mutations`, about to be written in `tx`: read
    before the graph write, to be written with `write` after it (see lineage/store/neo4j.py's
    `_apply` for why after)."""
    return delta(mutations, _Before(tx))


def replace(session: Session, pairs: Sequence[Sequence[Any]], members: Sequence[Sequence[Any]]) -> None:
    """Drop the adjacency and write this one (a rebuild's, counted by its scratch store)."""
    _run(session, DROP).consume()
    change = Delta()
    for src, dst, n, declared in pairs:
        change.pairs[(src, dst)] += n
        change.declared[(src, dst)] += declared
    for level, versions, runs in members:
        change.members[(level, "versions")] += versions
        change.members[(level, "runs")] += runs
    for at in range(0, max(len(change.pairs), len(change.members)) + 1, 5000):
        part = Delta()
        part.pairs.update(dict(list(change.pairs.items())[at : at + 5000]))
        part.declared.update({pair: change.declared[pair] for pair in part.pairs})
        part.members.update(dict(list(change.members.items())[at : at + 5000]))
        session.execute_write(lambda tx: write(tx, part))


# Two ways a database from before needs the count: it has no adjacency (from before issue 34),
# or its FLOWS lack the declared support (from before that was kept; the head is marked once it
# is counted, so this is asked once, not of every FLOWS at every start).
_NEEDS_BACKFILL: LiteralString = """
OPTIONAL MATCH (h:LogHead {name: 'head'})
WITH coalesce(h.levels_declared_ready, false) AS ready
RETURN NOT ready, (NOT EXISTS { MATCH (:Level) } AND EXISTS { MATCH (n:Node) WHERE n:Dataset OR n:Job })
    OR (NOT ready AND EXISTS { MATCH (:Level)-[:FLOWS]->(:Level) })
"""
MARK_COUNTED: LiteralString = "MERGE (h:LogHead {name: 'head'}) SET h.levels_declared_ready = true"
_LEVEL_NODES: LiteralString = (
    "MATCH (n:Node) WHERE n:Dataset OR n:Job OR n:DatasetVersion OR n:Run RETURN n.id, n.kind, n.props"
)
_LEVEL_EDGES: LiteralString = (
    "MATCH (a:Node)-[r:WROTE|READ|SERVES|CHILD_OF|DECLARED_READ|DECLARED_WRITE|SYMLINK]->(b:Node)"
    " RETURN a.id, type(r), b.id, r.key"
)


def backfill(session: Session) -> bool:
    """Count the adjacency from the graph when a database from before it has none, or has it
    without the declared support (once, at setup: until then its dataset-level answers would be
    empty, or unmarked where only a declaration joins two). True if it did."""
    unmarked, needed = _run(session, _NEEDS_BACKFILL).single(strict=True)
    if needed:
        from lineage.store.levels import from_graph

        nodes = [Node(r[0], r[1], frozenset(), orjson.loads(r[2])) for r in _run(session, _LEVEL_NODES)]
        edges = [(r[0], r[1], r[2], r[3]) for r in _run(session, _LEVEL_EDGES)]
        change = from_graph(nodes, edges)
        replace(session, change.pair_rows(), change.member_rows())
    if unmarked:
        _run(session, MARK_COUNTED).consume()
    return bool(needed)


def walk(tx: ManagedTransaction, start: Sequence[str], directions: Sequence[Direction], depth: int) -> dict[Direction, LevelWalk]:
    """Breadth first over FLOWS, WALK_LEVELS levels of both ways per round trip, each node
    expanded once a way; then the pairs among all reached, in one more."""
    reached: dict[Direction, dict[str, int]] = {way: dict.fromkeys(start, 0) for way in directions}
    frontier: dict[Direction, list[str]] = {way: list(start) for way in directions}
    level = 0
    while level < depth and any(frontier.values()):
        asked = min(WALK_LEVELS, depth - level)
        found = _run(
            tx, _WALK, levels=asked,
            down=frontier.get("down", []), seen_down=list(reached.get("down", {})),
            up=frontier.get("up", []), seen_up=list(reached.get("up", {})),
        ).single(strict=True)[0]
        for new in found[:asked]:
            level += 1
            for way, ids in zip(("down", "up"), new):
                if way in reached:
                    reached[way].update((i, level) for i in ids if i not in reached[way])  # type: ignore[index]
                    frontier[way] = list(ids)  # type: ignore[index]
            if not any(new):
                break
    everyone = sorted({i for r in reached.values() for i in r})
    among = [(r[0], r[1], r[2], r[3]) for r in _run(tx, _EDGES_AMONG, ids=everyone)]
    return {way: LevelWalk(r, [e for e in among if e[0] in r and e[1] in r]) for way, r in reached.items()}


def summaries(
    tx: ManagedTransaction, datasets: Sequence[str], jobs: Sequence[str], since: str | None, until: str | None
) -> dict[str, dict[str, Any]]:
    """As sqlite_levels.summaries: kept counts, or an index range within a window."""
    lo, hi = since or "", until or "\uffff"
    query = _SUMMARIES_KEPT if since is None and until is None else _SUMMARIES_WINDOW
    newest_rows, count_rows = _run(
        tx, query, datasets=list(datasets), jobs=list(jobs), lo=lo, hi=hi, ties=NEWEST_TIES
    ).single(strict=True)
    counts = {r[0]: r[1] for r in count_rows}
    newest = {
        r[0]: Node(r[1], r[2], frozenset(r[3]), orjson.loads(r[4]))
        for r in newest_rows
        if r[5] >= lo  # the newest before `until`, if it is in the window
    }
    return {i: {"count": counts.get(i, 0), "newest": newest.get(i)} for i in [*datasets, *jobs]}


def dump(tx: ManagedTransaction) -> Mapping[str, list[list[object]]]:
    return dump_rows(
        [(r[0], r[1], r[2], r[3]) for r in _run(tx, _DUMP_PAIRS)], [(r[0], r[1], r[2]) for r in _run(tx, _DUMP_MEMBERS)]
    )
