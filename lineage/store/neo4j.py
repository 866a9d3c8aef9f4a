"""The production store: event log and graph in one Neo4j database, written in one transaction.

Why one module of this size: it is one implementation of the store protocol, and its Cypher
texts, the unit-of-work functions that run them and the driver's session discipline (bookmarks,
retries, error translation) are read together when a query changes. What stands apart already
lives apart: the shared batch and projection (batch.py), the dead-letter store
(neo4j_rejections.py), the stage clock (stages.py).
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, LiteralString, TypeVar

import orjson
from neo4j import GraphDatabase, ManagedTransaction, NotificationDisabledClassification, Record, Result, Session
from neo4j.exceptions import (
    ConstraintError,
    ConnectionPoolError,
    DriverError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)

from lineage.ids import run_id
from lineage.chain import GENESIS
from lineage.errors import InvalidEvent, StoreError, StoreUnavailable
from lineage.events import Event
from lineage.graph import (
    EDGE_TYPES,
    EXTRA_LABELS,
    DATASET,
    FIELD,
    JOB,
    KINDS,
    POINTS_TO,
    SERVES,
    WROTE,
    LOOKUP_PROPS,
    RUN,
    SUGGEST_PROPS,
    field_key,
    job_updated_at,
    run_key,
    VERSION,
    DeleteEdge,
    DeleteNode,
    Edge,
    Mutation,
    Node,
    PutEdge,
    PutNode,
)
from lineage.ingest.parse import parse_event
from lineage.merkle import TreeReader
from lineage.projection import subjects, touched
from lineage.store.base import (
    Around,
    Direction,
    EventFilter,
    Hop,
    IngestOutcome,
    Rejection,
    RejectionStats,
    StoredEvent,
    Subgraph,
    TokenRecord,
    sort_dump,
)
from lineage.store import neo4j_rejections as dead_letters
from lineage.store import neo4j_levels, neo4j_tree, neo4j_warmup
from lineage.store.batch import Batch, EdgeIdent, log_and_project, warnings_json
from lineage.store.levels import LevelWalk
from lineage.store.stages import StageClock, timed

T = TypeVar("T")

# Graph nodes are (:Node:<Kind>:<extra labels>); the log is (:Event)-[:ABOUT]->(:Subject), kept
# apart from :Node so that `rebuild` can drop the graph without touching the evidence.
SCHEMA: tuple[LiteralString, ...] = (
    "CREATE CONSTRAINT node_id IF NOT EXISTS FOR (n:Node) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT event_id IF NOT EXISTS FOR (e:Event) REQUIRE e.id IS UNIQUE",
    "CREATE CONSTRAINT event_seq IF NOT EXISTS FOR (e:Event) REQUIRE e.seq IS UNIQUE",
    "CREATE CONSTRAINT subject_id IF NOT EXISTS FOR (s:Subject) REQUIRE s.id IS UNIQUE",
    "CREATE CONSTRAINT log_head_name IF NOT EXISTS FOR (h:LogHead) REQUIRE h.name IS UNIQUE",
    "CREATE CONSTRAINT token_name IF NOT EXISTS FOR (t:Token) REQUIRE t.name IS UNIQUE",
    "CREATE CONSTRAINT token_hash IF NOT EXISTS FOR (t:Token) REQUIRE t.hash IS UNIQUE",
    neo4j_tree.CONSTRAINT,
    "CREATE INDEX event_run IF NOT EXISTS FOR (e:Event) ON (e.run_uuid)",
    "CREATE INDEX event_time IF NOT EXISTS FOR (e:Event) ON (e.event_time)",
    "CREATE INDEX version_written IF NOT EXISTS FOR (n:DatasetVersion) ON (n.dataset, n.written_at)",
    # One range index per graph.LOOKUP_PROPS property, promoted from `props` onto the node.
    "CREATE INDEX node_name IF NOT EXISTS FOR (n:Node) ON (n.name)",
    "CREATE INDEX node_version IF NOT EXISTS FOR (n:Node) ON (n.version)",
    "CREATE INDEX node_model_ref IF NOT EXISTS FOR (n:Node) ON (n.model_ref)",
    "CREATE INDEX node_feature_view_ref IF NOT EXISTS FOR (n:Node) ON (n.feature_view_ref)",
    "CREATE INDEX node_alias_ref IF NOT EXISTS FOR (n:Node) ON (n.alias_ref)",
    "CREATE INDEX node_model IF NOT EXISTS FOR (n:Node) ON (n.model)",
    "CREATE INDEX node_endpoint IF NOT EXISTS FOR (n:Node) ON (n.endpoint)",
    "CREATE INDEX node_model_name IF NOT EXISTS FOR (n:Node) ON (n.model_name)",
    "CREATE INDEX node_feature_view IF NOT EXISTS FOR (n:Node) ON (n.feature_view)",
    "CREATE INDEX node_run_id IF NOT EXISTS FOR (n:Node) ON (n.run_id)",
    "CREATE INDEX node_sha IF NOT EXISTS FOR (n:Node) ON (n.sha)",
    "CREATE INDEX node_target IF NOT EXISTS FOR (n:Node) ON (n.target)",
    "CREATE INDEX node_namespace IF NOT EXISTS FOR (n:Node) ON (n.namespace)",
    "CREATE INDEX node_alt_ref IF NOT EXISTS FOR (n:Node) ON (n.alt_ref)",
    "CREATE INDEX node_run_key IF NOT EXISTS FOR (n:Node) ON (n.run_key)",
    "CREATE INDEX node_run_label IF NOT EXISTS FOR (n:Node) ON (n.run_label)",
    # Marquez's listings: a namespace's jobs and datasets by name, jobs newest first (one
    # namespace or all), each read in index order as far as the page.
    "CREATE INDEX job_in_namespace IF NOT EXISTS FOR (n:Job) ON (n.namespace, n.name, n.id)",
    "CREATE INDEX dataset_in_namespace IF NOT EXISTS FOR (n:Dataset) ON (n.namespace, n.name, n.id)",
    "CREATE INDEX job_newest IF NOT EXISTS FOR (n:Job) ON (n.namespace, n.updated_at, n.name, n.id)",
    "CREATE INDEX job_newest_all IF NOT EXISTS FOR (n:Job) ON (n.updated_at, n.name, n.id)",
    # Fields by folded name and id, for search: a prefix read in index order, up to the limit.
    "CREATE INDEX field_key IF NOT EXISTS FOR (n:Field) ON (n.field_key, n.id)",
    # Superseded by node_model (which covers every kind); dropped from databases made before.
    "DROP INDEX alias_model IF EXISTS",
    "CREATE INDEX read_inferred IF NOT EXISTS FOR ()-[r:READ]-() ON (r.inferred_dataset, r.read_at)",
    # The graph a rebuild stages beside the live one (see `rebuild`): its edges find their ends by id.
    "CREATE INDEX staged_node_id IF NOT EXISTS FOR (n:StagedNode) ON (n.id)",
    *neo4j_levels.SCHEMA,
    "CALL db.awaitIndexes(300)",
)

# --- the log ---------------------------------------------------------------------------------
# Setting a property takes the node's write lock until commit: every ingest (in any process)
# queues here first, so seq and the hash chain stay linear. The head is read in a later query,
# once the lock is held: read in the same query, it could be a value from before the wait.
LOCK_HEAD: LiteralString = "MERGE (h:LogHead {name: 'head'}) SET h.locked = true"
# The head is the log's last entry, as in SQLite (`seq > 0` lets the seq index give the order);
# LogHead keeps a copy, written in the same transaction, for operators. Read with the seqs of
# the batch's events already logged: one round trip.
READ_HEAD: LiteralString = """
CALL () {
    OPTIONAL MATCH (e:Event) WHERE e.seq > 0
    RETURN e.seq AS seq, e.hash AS hash ORDER BY e.seq DESC LIMIT 1
}
RETURN seq, hash, COLLECT { UNWIND $p.ids AS id MATCH (e:Event {id: id}) RETURN [e.id, e.seq] } AS known
"""
# Per `id`: the node (or null) and the annotations targeting it, as `node` and `notes`: a
# batch's prefetch of nodes (NODES_AND_ANNOTATIONS, and with the head below).
_NODE_AND_NOTES: LiteralString = """
OPTIONAL MATCH (n:Node {id: id})
WITH CASE WHEN n IS NULL THEN null ELSE [n.id, n.kind, n.labels, n.props] END AS node,
    COLLECT { MATCH (a:Node) WHERE a.target = id AND a.kind = 'Annotation' RETURN [a.id, a.kind, a.labels, a.props] } AS notes
"""
# An ingest's first round trip: take the head's lock (held until commit, so ingesters queue
# here), then read the head and the nodes the batch touches. Within the one row the SET runs
# before the reads.
LOCK_AND_READ_HEAD: LiteralString = (
    LOCK_HEAD
    + " WITH h"
    + READ_HEAD.rstrip()
    + ", COLLECT { UNWIND $p.nodes AS id"
    + _NODE_AND_NOTES
    + " RETURN [node, notes] } AS nodes, h.rebuilding AS rebuilding, h.tree_size AS tree_size, h.frontier AS frontier"
    + ", COLLECT { UNWIND $p.run_keys + COLLECT { UNWIND $p.runs AS id MATCH (r:Node {id: id}) WHERE r.run_key IS NOT NULL"
    + " RETURN r.run_key } AS value WITH DISTINCT value"
    + " RETURN [value, COLLECT { MATCH (n:Node) WHERE n.run_key = value AND n.kind = 'Run' RETURN [n.id, n.kind, n.labels, n.props] }]"
    + " } AS run_keys"
)
# The head query's run labels: every run sharing the label an event of the batch gives its run,
# or the label its run already has (what `projection.preload_histories` asks for next): one
# round trip less per transaction. Each row is [label, runs], for every label looked up.
assert RUN == "Run", "LOCK_AND_READ_HEAD names the run kind in its text"
EVENT_FIELDS: LiteralString = (
    " RETURN e.seq, e.id, e.received_at, e.event_time, e.kind, e.event_type, e.run_uuid, e.job_namespace,"
    " e.job_name, e.producer, e.payload, e.prev_hash, e.hash, e.warnings"
)
EVENT_FILTER: LiteralString = (
    " WHERE e.seq > $p.after AND ($p.run IS NULL OR e.run_uuid = $p.run)"
    " AND ($p.since IS NULL OR e.event_time >= $p.since) AND ($p.until IS NULL OR e.event_time <= $p.until)"
    + EVENT_FIELDS
    + " ORDER BY e.seq LIMIT $p.limit"
)
# Start from the most selective filter given, so that an index does the work.
EVENTS: dict[str, LiteralString] = {
    "subject": "MATCH (:Subject {id: $p.subject})<-[:ABOUT]-(e:Event)" + EVENT_FILTER,
    "run": "MATCH (e:Event {run_uuid: $p.run})" + EVENT_FILTER,
    "all": "MATCH (e:Event)" + EVENT_FILTER,
}
# events_by_time() and count_by_time(): a half-open window along the event_time index (an open
# end is sent as the lowest or highest string, so the range always reaches the index).
_BY_TIME_WHERE: LiteralString = (
    "MATCH (e:Event) WHERE e.event_time >= $p.since AND e.event_time < $p.until AND e.kind IN $p.kinds"
)
_NO_END = "\U0010ffff"
EVENTS_BY_TIME: dict[bool, LiteralString] = {
    False: _BY_TIME_WHERE + EVENT_FIELDS + " ORDER BY e.event_time, e.seq SKIP $p.offset LIMIT $p.limit",
    True: _BY_TIME_WHERE + EVENT_FIELDS + " ORDER BY e.event_time DESC, e.seq DESC SKIP $p.offset LIMIT $p.limit",
}
COUNT_BY_TIME: LiteralString = _BY_TIME_WHERE + " RETURN count(e)"
EVENT_COUNT: LiteralString = "MATCH (e:Event) RETURN count(e)"
EVENTS_ABOUT: LiteralString = (
    "UNWIND $p.subjects AS subject MATCH (s:Subject {id: subject})"
    " CALL (s) { MATCH (s)<-[:ABOUT]-(e:Event) RETURN e ORDER BY e.seq LIMIT $p.limit }"
    " RETURN subject," + EVENT_FIELDS.removeprefix(" RETURN")
)
# A subject keeps the seqs of its first FIRST_SEQS log entries (`first_seqs`, appended as they
# are written): its first entries are then read by seq, at the cost of what is listed. Ordering
# its ABOUT relationships by seq instead reads every one of them, and a dataset version that
# every training reads has an entry in every few dozen of the log's.
FIRST_SEQS = 256
EVENTS_ABOUT_LISTED: LiteralString = (
    "UNWIND $p.subjects AS subject MATCH (s:Subject {id: subject})"
    " WITH subject, s, coalesce(s.first_seqs, [])[0..$p.limit] AS seqs"
    " RETURN subject, s.first_seqs IS NOT NULL AS listed, size(seqs) AS expected,"
    " COLLECT { UNWIND seqs AS seq MATCH (e:Event {seq: seq}) WHERE (e)-[:ABOUT]->(s)"
    + EVENT_FIELDS.replace(" RETURN ", " RETURN [", 1)
    + "] } AS entries"
)
# Subjects written before `first_seqs` existed get it here, a chunk at a time in id order, with
# the head locked so that no ingest adds an entry in between (ingest appends only to a list
# that exists). The flag on the head marks the work done.
FIRST_SEQS_DONE: LiteralString = "OPTIONAL MATCH (h:LogHead {name: 'head'}) RETURN h.first_seqs_ready = true"
BACKFILL_FIRST_SEQS: LiteralString = """
MATCH (s:Subject) WHERE s.id > $p.after
WITH s ORDER BY s.id LIMIT $p.chunk
CALL (s) {
    WITH s WHERE s.first_seqs IS NULL
    MATCH (s)<-[:ABOUT]-(e:Event)
    WITH s, e.seq AS seq ORDER BY seq LIMIT $p.cap
    WITH s, collect(seq) AS seqs
    SET s.first_seqs = seqs
}
RETURN max(s.id) AS last, count(s) AS seen
"""
MARK_FIRST_SEQS_DONE: LiteralString = "MERGE (h:LogHead {name: 'head'}) SET h.first_seqs_ready = true"
BACKFILL_CHUNK = 2000
# Keys promoted from props after a database was made (a job's `updated_at`, a field's
# `field_key`): filled in once at setup, a chunk at a time, then marked done on the head.
PROMOTED_KEYS_DONE: LiteralString = "OPTIONAL MATCH (h:LogHead {name: 'head'}) RETURN h.promoted_keys_ready = true"
MARK_PROMOTED_KEYS_DONE: LiteralString = "MERGE (h:LogHead {name: 'head'}) SET h.promoted_keys_ready = true"
UNPROMOTED: LiteralString = """
MATCH (n:Node) WHERE n.id > $p.after AND (n:Job OR n:Field)
WITH n ORDER BY n.id LIMIT $p.chunk
RETURN n.id, n.kind, n.props
"""
SET_PROMOTED: LiteralString = """
UNWIND $p.rows AS row
MATCH (n:Node {id: row.id})
SET n.updated_at = row.updated_at, n.field_key = row.field_key
"""
# With no other filter a subject's entries are counted from its degree, without visiting them.
COUNT_ABOUT: LiteralString = (
    "OPTIONAL MATCH (s:Subject {id: $p.subject}) RETURN CASE WHEN s IS NULL THEN 0 ELSE COUNT { (s)<-[:ABOUT]-() } END"
)
ENTRIES: LiteralString = "UNWIND $p.seqs AS seq MATCH (e:Event {seq: seq})" + EVENT_FIELDS + " ORDER BY e.seq"
# The predicate lets the seq constraint's index give the order, instead of a sort of every entry.
LAST_ENTRY: LiteralString = "MATCH (e:Event) WHERE e.seq IS NOT NULL" + EVENT_FIELDS + " ORDER BY e.seq DESC LIMIT 1"
# log_head(): the seq index read backwards, one entry, without its payload.
LOG_HEAD: LiteralString = "MATCH (e:Event) WHERE e.seq IS NOT NULL RETURN e.seq, e.received_at ORDER BY e.seq DESC LIMIT 1"
# newest_event_time(): the `event_time` range index read backwards, one entry.
NEWEST_EVENT_TIME: LiteralString = (
    "MATCH (e:Event) WHERE e.event_time IS NOT NULL RETURN e.event_time ORDER BY e.event_time DESC LIMIT 1"
)
# count_events(): the filters of `events` without the page (seq, limit); DISTINCT as SQLite's `IN`.
_COUNT_FILTER: LiteralString = (
    " WHERE ($p.run IS NULL OR e.run_uuid = $p.run)"
    " AND ($p.since IS NULL OR e.event_time >= $p.since) AND ($p.until IS NULL OR e.event_time <= $p.until)"
    " RETURN count(DISTINCT e)"
)
COUNT_EVENTS: dict[str, LiteralString] = {
    "subject": "MATCH (:Subject {id: $p.subject})<-[:ABOUT]-(e:Event)" + _COUNT_FILTER,
    "run": "MATCH (e:Event {run_uuid: $p.run})" + _COUNT_FILTER,
    "all": "MATCH (e:Event)" + _COUNT_FILTER,
}
REPLAY_CHUNK: LiteralString = "MATCH (e:Event) WHERE e.seq > $p.after RETURN e.seq, e.payload ORDER BY e.seq LIMIT $p.limit"

# --- the graph -------------------------------------------------------------------------------
# Reads answer in one row of lists: the driver spends tens of microseconds on each record it
# receives, more than the server spends finding it. Order, where it matters, comes first (WITH
# .. ORDER BY); collect() keeps it.
NODE_FIELDS: LiteralString = " RETURN collect([n.id, n.kind, n.labels, n.props])"
EDGE_FIELDS: LiteralString = " RETURN collect([a.id, type(r), b.id, r.key, r.props])"
NODE: LiteralString = "MATCH (n:Node {id: $p.id})" + NODE_FIELDS
# One fixed query per edge type: a static type lets Neo4j expand only that type's
# relationships of a dense node, where a dynamic `$($p.type)` expands all and filters.
# Each query serves one node or many (`UNWIND $p.ids`): an endpoint's history asks for the edges
# of all its deployments in one round trip.
_OUT: LiteralString = " WITH a, r, b ORDER BY a.id, b.id, r.key" + EDGE_FIELDS
_IN: LiteralString = " WITH a, r, b ORDER BY b.id, a.id, r.key" + EDGE_FIELDS
OUT_EDGES: dict[str, LiteralString] = {
    "RUN_OF": "UNWIND $p.ids AS id MATCH (a:Node {id: id})-[r:RUN_OF]->(b:Node)" + _OUT,
    "READ": "UNWIND $p.ids AS id MATCH (a:Node {id: id})-[r:READ]->(b:Node)" + _OUT,
    "WROTE": "UNWIND $p.ids AS id MATCH (a:Node {id: id})-[r:WROTE]->(b:Node)" + _OUT,
    "VERSION_OF": "UNWIND $p.ids AS id MATCH (a:Node {id: id})-[r:VERSION_OF]->(b:Node)" + _OUT,
    "AT_COMMIT": "UNWIND $p.ids AS id MATCH (a:Node {id: id})-[r:AT_COMMIT]->(b:Node)" + _OUT,
    "CHILD_OF": "UNWIND $p.ids AS id MATCH (a:Node {id: id})-[r:CHILD_OF]->(b:Node)" + _OUT,
    "SERVES": "UNWIND $p.ids AS id MATCH (a:Node {id: id})-[r:SERVES]->(b:Node)" + _OUT,
    "POINTS_TO": "UNWIND $p.ids AS id MATCH (a:Node {id: id})-[r:POINTS_TO]->(b:Node)" + _OUT,
    "ANNOTATES": "UNWIND $p.ids AS id MATCH (a:Node {id: id})-[r:ANNOTATES]->(b:Node)" + _OUT,
    "DECLARED_READ": "UNWIND $p.ids AS id MATCH (a:Node {id: id})-[r:DECLARED_READ]->(b:Node)" + _OUT,
    "DECLARED_WRITE": "UNWIND $p.ids AS id MATCH (a:Node {id: id})-[r:DECLARED_WRITE]->(b:Node)" + _OUT,
    "SYMLINK": "UNWIND $p.ids AS id MATCH (a:Node {id: id})-[r:SYMLINK]->(b:Node)" + _OUT,
    "HAS_FIELD": "UNWIND $p.ids AS id MATCH (a:Node {id: id})-[r:HAS_FIELD]->(b:Node)" + _OUT,
    "FEEDS": "UNWIND $p.ids AS id MATCH (a:Node {id: id})-[r:FEEDS]->(b:Node)" + _OUT,
}
IN_EDGES: dict[str, LiteralString] = {
    "RUN_OF": "UNWIND $p.ids AS id MATCH (a:Node)-[r:RUN_OF]->(b:Node {id: id})" + _IN,
    "READ": "UNWIND $p.ids AS id MATCH (a:Node)-[r:READ]->(b:Node {id: id})" + _IN,
    "WROTE": "UNWIND $p.ids AS id MATCH (a:Node)-[r:WROTE]->(b:Node {id: id})" + _IN,
    "VERSION_OF": "UNWIND $p.ids AS id MATCH (a:Node)-[r:VERSION_OF]->(b:Node {id: id})" + _IN,
    "AT_COMMIT": "UNWIND $p.ids AS id MATCH (a:Node)-[r:AT_COMMIT]->(b:Node {id: id})" + _IN,
    "CHILD_OF": "UNWIND $p.ids AS id MATCH (a:Node)-[r:CHILD_OF]->(b:Node {id: id})" + _IN,
    "SERVES": "UNWIND $p.ids AS id MATCH (a:Node)-[r:SERVES]->(b:Node {id: id})" + _IN,
    "POINTS_TO": "UNWIND $p.ids AS id MATCH (a:Node)-[r:POINTS_TO]->(b:Node {id: id})" + _IN,
    "ANNOTATES": "UNWIND $p.ids AS id MATCH (a:Node)-[r:ANNOTATES]->(b:Node {id: id})" + _IN,
    "DECLARED_READ": "UNWIND $p.ids AS id MATCH (a:Node)-[r:DECLARED_READ]->(b:Node {id: id})" + _IN,
    "DECLARED_WRITE": "UNWIND $p.ids AS id MATCH (a:Node)-[r:DECLARED_WRITE]->(b:Node {id: id})" + _IN,
    "SYMLINK": "UNWIND $p.ids AS id MATCH (a:Node)-[r:SYMLINK]->(b:Node {id: id})" + _IN,
    "HAS_FIELD": "UNWIND $p.ids AS id MATCH (a:Node)-[r:HAS_FIELD]->(b:Node {id: id})" + _IN,
    "FEEDS": "UNWIND $p.ids AS id MATCH (a:Node)-[r:FEEDS]->(b:Node {id: id})" + _IN,
}
# versions_at() of many datasets in one round trip, a row each: [dataset, its versions]. Ordered
# by (written_at, id), the planner sorts every version of a dataset (a Top): a history's cost. So
# the index, read backwards in its own order, first finds the time of the `limit`-th newest; then
# only the versions from that time on (the limit and its ties) are read and sorted. Both reads
# stop after about `limit` rows, however long the history.
NEWEST_VERSIONS_MANY: LiteralString = """
UNWIND $p.ids AS id
CALL (id) {
    MATCH (f:DatasetVersion) WHERE f.dataset = id AND f.written_at <= $p.at
    WITH f ORDER BY f.dataset DESC, f.written_at DESC LIMIT $p.limit
    WITH min(f.written_at) AS floor
    MATCH (n:DatasetVersion) WHERE n.dataset = id AND n.written_at <= $p.at AND n.written_at >= floor
    WITH n ORDER BY n.written_at DESC, n.id DESC LIMIT $p.limit
    RETURN collect([n.id, n.kind, n.labels, n.props]) AS versions
}
RETURN id, versions
"""
# The same two scans for many datasets, both in one round trip (a batch's prefetch): each is a
# short read, and on a loaded server a round trip costs about as much as the read. Each row
# leads with the dataset it answers.
VERSIONS_AND_READS_MANY: LiteralString = """
CALL () {
    UNWIND $p.versions AS row
    CALL (row) {
        MATCH (f:DatasetVersion) WHERE f.dataset = row.dataset AND f.written_at <= row.at
        WITH f ORDER BY f.dataset DESC, f.written_at DESC LIMIT $p.limit
        WITH min(f.written_at) AS floor
        MATCH (n:DatasetVersion) WHERE n.dataset = row.dataset AND n.written_at <= row.at AND n.written_at >= floor
        RETURN n ORDER BY n.written_at DESC, n.id DESC LIMIT $p.limit
    }
    RETURN collect([row.dataset, n.id, n.kind, n.labels, n.props]) AS versions
}
CALL () {
    UNWIND $p.reads AS row
    MATCH (a:Node)-[r:READ]->(b:Node) WHERE r.inferred_dataset = row.dataset AND r.read_at >= row.since
    RETURN collect([row.dataset, a.id, type(r), b.id, r.key, r.props]) AS reads
}
RETURN versions, reads
"""
INFERRED_READS: LiteralString = (
    "MATCH (a:Node)-[r:READ]->(b:Node) WHERE r.inferred_dataset = $p.dataset AND r.read_at >= $p.since"
    + " WITH a, r, b ORDER BY a.id, b.id, r.key"
    + EDGE_FIELDS
)
# find() and nodes_with(): one fixed query per graph.LOOKUP_PROPS property, each served by its
# range index (equality, or STARTS WITH for a prefix). A property name never comes from a request.
_EQ: LiteralString = " = $p.value AND ($p.kind IS NULL OR n.kind = $p.kind) WITH n ORDER BY n.id LIMIT $p.limit" + NODE_FIELDS
_PREFIX: LiteralString = (
    " STARTS WITH $p.value AND ($p.kind IS NULL OR n.kind = $p.kind) WITH n ORDER BY n.id LIMIT $p.limit" + NODE_FIELDS
)
FIND: dict[str, LiteralString] = {
    "name": "MATCH (n:Node) WHERE n.name" + _EQ,
    "version": "MATCH (n:Node) WHERE n.version" + _EQ,
    "model_ref": "MATCH (n:Node) WHERE n.model_ref" + _EQ,
    "feature_view_ref": "MATCH (n:Node) WHERE n.feature_view_ref" + _EQ,
    "alias_ref": "MATCH (n:Node) WHERE n.alias_ref" + _EQ,
    "model": "MATCH (n:Node) WHERE n.model" + _EQ,
    "endpoint": "MATCH (n:Node) WHERE n.endpoint" + _EQ,
    "model_name": "MATCH (n:Node) WHERE n.model_name" + _EQ,
    "feature_view": "MATCH (n:Node) WHERE n.feature_view" + _EQ,
    "run_id": "MATCH (n:Node) WHERE n.run_id" + _EQ,
    "sha": "MATCH (n:Node) WHERE n.sha" + _EQ,
    "target": "MATCH (n:Node) WHERE n.target" + _EQ,
    "alt_ref": "MATCH (n:Node) WHERE n.alt_ref" + _EQ,
    "run_key": "MATCH (n:Node) WHERE n.run_key" + _EQ,
    "run_label": "MATCH (n:Node) WHERE n.run_label" + _EQ,
    "namespace": "MATCH (n:Node) WHERE n.namespace" + _EQ,
}
# lookup(): the node by id and every FIND above, in one round trip; each branch is served by its
# own index, and the property names come from graph.LOOKUP_PROPS, never from a request.
LOOKUP: LiteralString = (
    "CALL () { MATCH (n:Node {id: $p.value}) WHERE 'id' IN $p.props RETURN 'id' AS prop, n"
    + "".join(
        f" UNION ALL MATCH (n:Node) WHERE '{p}' IN $p.props AND n.{p} = $p.value RETURN '{p}' AS prop, n ORDER BY n.id LIMIT $p.limit"
        for p in LOOKUP_PROPS
    )
    + " } RETURN collect([prop, n.id, n.kind, n.labels, n.props])"
)  # type: ignore[assignment]
FIND_PREFIX: dict[str, LiteralString] = {
    "name": "MATCH (n:Node) WHERE n.name" + _PREFIX,
    "version": "MATCH (n:Node) WHERE n.version" + _PREFIX,
    "model_ref": "MATCH (n:Node) WHERE n.model_ref" + _PREFIX,
    "feature_view_ref": "MATCH (n:Node) WHERE n.feature_view_ref" + _PREFIX,
    "alias_ref": "MATCH (n:Node) WHERE n.alias_ref" + _PREFIX,
    "model": "MATCH (n:Node) WHERE n.model" + _PREFIX,
    "endpoint": "MATCH (n:Node) WHERE n.endpoint" + _PREFIX,
    "model_name": "MATCH (n:Node) WHERE n.model_name" + _PREFIX,
    "feature_view": "MATCH (n:Node) WHERE n.feature_view" + _PREFIX,
    "run_id": "MATCH (n:Node) WHERE n.run_id" + _PREFIX,
    "sha": "MATCH (n:Node) WHERE n.sha" + _PREFIX,
    "target": "MATCH (n:Node) WHERE n.target" + _PREFIX,
    "alt_ref": "MATCH (n:Node) WHERE n.alt_ref" + _PREFIX,
    "run_key": "MATCH (n:Node) WHERE n.run_key" + _PREFIX,
    "run_label": "MATCH (n:Node) WHERE n.run_label" + _PREFIX,
    "namespace": "MATCH (n:Node) WHERE n.namespace" + _PREFIX,
}
# nodes_with_many(): nodes_with() for many values of one property, in one round trip.
_EQ_MANY: LiteralString = " = value AND n.kind = $p.kind RETURN collect([value, n.id, n.kind, n.labels, n.props])"
FIND_MANY: dict[str, LiteralString] = {
    "name": "UNWIND $p.values AS value MATCH (n:Node) WHERE n.name" + _EQ_MANY,
    "version": "UNWIND $p.values AS value MATCH (n:Node) WHERE n.version" + _EQ_MANY,
    "model_ref": "UNWIND $p.values AS value MATCH (n:Node) WHERE n.model_ref" + _EQ_MANY,
    "feature_view_ref": "UNWIND $p.values AS value MATCH (n:Node) WHERE n.feature_view_ref" + _EQ_MANY,
    "alias_ref": "UNWIND $p.values AS value MATCH (n:Node) WHERE n.alias_ref" + _EQ_MANY,
    "model": "UNWIND $p.values AS value MATCH (n:Node) WHERE n.model" + _EQ_MANY,
    "endpoint": "UNWIND $p.values AS value MATCH (n:Node) WHERE n.endpoint" + _EQ_MANY,
    "model_name": "UNWIND $p.values AS value MATCH (n:Node) WHERE n.model_name" + _EQ_MANY,
    "feature_view": "UNWIND $p.values AS value MATCH (n:Node) WHERE n.feature_view" + _EQ_MANY,
    "run_id": "UNWIND $p.values AS value MATCH (n:Node) WHERE n.run_id" + _EQ_MANY,
    "sha": "UNWIND $p.values AS value MATCH (n:Node) WHERE n.sha" + _EQ_MANY,
    "target": "UNWIND $p.values AS value MATCH (n:Node) WHERE n.target" + _EQ_MANY,
    "alt_ref": "UNWIND $p.values AS value MATCH (n:Node) WHERE n.alt_ref" + _EQ_MANY,
    "run_key": "UNWIND $p.values AS value MATCH (n:Node) WHERE n.run_key" + _EQ_MANY,
    "run_label": "UNWIND $p.values AS value MATCH (n:Node) WHERE n.run_label" + _EQ_MANY,
    "namespace": "UNWIND $p.values AS value MATCH (n:Node) WHERE n.namespace" + _EQ_MANY,
}
# namespaces() and in_namespace(): Marquez's listings (issue 30), served by the namespace index.
NAMESPACES: LiteralString = (
    "MATCH (n:Node) WHERE n.namespace IS NOT NULL WITH DISTINCT n.namespace AS ns ORDER BY ns RETURN collect(ns)"
)
# The page is read from a (namespace, name, id) index of the kind's own label in its order, as
# far as offset + limit; the count apart, so nothing collects the namespace whole.
_PAGE_FIELDS: LiteralString = " SKIP $p.offset LIMIT $p.limit RETURN collect([n.id, n.kind, n.labels, n.props]) AS page } RETURN [total, page]"
IN_NAMESPACE: dict[str, LiteralString] = {
    JOB: "CALL () { MATCH (n:Job) USING INDEX n:Job(namespace, name, id) WHERE n.namespace = $p.namespace"
    " AND n.name IS NOT NULL AND n.id IS NOT NULL RETURN count(n) AS total }"
    " CALL () { MATCH (n:Job) USING INDEX n:Job(namespace, name, id) WHERE n.namespace = $p.namespace"
    " AND n.name IS NOT NULL AND n.id IS NOT NULL WITH n ORDER BY n.namespace, n.name, n.id" + _PAGE_FIELDS,
    DATASET: "CALL () { MATCH (n:Dataset) USING INDEX n:Dataset(namespace, name, id) WHERE n.namespace = $p.namespace"
    " AND n.name IS NOT NULL AND n.id IS NOT NULL RETURN count(n) AS total }"
    " CALL () { MATCH (n:Dataset) USING INDEX n:Dataset(namespace, name, id) WHERE n.namespace = $p.namespace"
    " AND n.name IS NOT NULL AND n.id IS NOT NULL WITH n ORDER BY n.namespace, n.name, n.id" + _PAGE_FIELDS,
}
# newest_jobs(): jobs by graph.job_updated_at (promoted as `updated_at`), newest first, from the
# job_newest indexes read backwards as far as the page.
NEWEST_JOBS: LiteralString = (
    "CALL () { MATCH (n:Job) USING INDEX n:Job(namespace, name, id) WHERE n.namespace = $p.namespace"
    " AND n.name IS NOT NULL AND n.id IS NOT NULL RETURN count(n) AS total }"
    " CALL () { MATCH (n:Job) USING INDEX n:Job(namespace, updated_at, name, id) WHERE n.namespace = $p.namespace"
    " AND n.updated_at IS NOT NULL AND n.name IS NOT NULL AND n.id IS NOT NULL"
    " WITH n ORDER BY n.namespace DESC, n.updated_at DESC, n.name DESC, n.id DESC" + _PAGE_FIELDS
)
NEWEST_JOBS_ALL: LiteralString = (
    "CALL () { MATCH (n:Job) RETURN count(n) AS total }"
    " CALL () { MATCH (n:Job) WHERE n.updated_at IS NOT NULL AND n.name IS NOT NULL AND n.id IS NOT NULL"
    " WITH n ORDER BY n.updated_at DESC, n.name DESC, n.id DESC" + _PAGE_FIELDS
)
# suggest(): a substring of any graph.SUGGEST_PROPS property, case-insensitive (the needle comes
# lowercased). coalesce as in SQLite, where an empty needle matches every node.
SUGGEST: LiteralString = (
    "MATCH (n:Node) WHERE ($p.kind IS NULL OR n.kind = $p.kind) AND ("
    "toLower(coalesce(n.name, '')) CONTAINS $p.needle"
    " OR toLower(coalesce(n.version, '')) CONTAINS $p.needle"
    " OR toLower(coalesce(n.model_ref, '')) CONTAINS $p.needle"
    " OR toLower(coalesce(n.feature_view_ref, '')) CONTAINS $p.needle"
    " OR toLower(coalesce(n.alias_ref, '')) CONTAINS $p.needle"
    " OR toLower(coalesce(n.endpoint, '')) CONTAINS $p.needle"
    " OR toLower(coalesce(n.model_name, '')) CONTAINS $p.needle"
    " OR toLower(coalesce(n.feature_view, '')) CONTAINS $p.needle"
    " OR toLower(coalesce(n.run_id, '')) CONTAINS $p.needle"
    " OR toLower(coalesce(n.sha, '')) CONTAINS $p.needle"
    ") WITH n ORDER BY n.kind, n.id LIMIT $p.limit" + NODE_FIELDS
)
# fields_named(): Field nodes by the start of their folded name (graph.field_key, promoted as
# `field_key`), read from the field_key index in its order, so no more than the limit is read.
FIELDS_NAMED: LiteralString = (
    "MATCH (n:Field) WHERE n.field_key STARTS WITH $p.prefix AND n.id IS NOT NULL"
    " WITH n ORDER BY n.field_key, n.id LIMIT $p.limit" + NODE_FIELDS
)
# flow(): breadth first along graph.FLOW_FORWARD (src -> dst) and FLOW_BACKWARD (dst -> src)
# edges, or against them for "up". A round trip here costs more than a level's work, so one
# query walks FLOW_LEVELS levels: each level is the same block, expanding only the nodes the
# level before found, and keeping a node at the first level that reaches it (so cycles end).
# `$p.levels` stops the walk early (the depth asked for); `$p.seen` holds what earlier calls reached.
# The call that ends the walk (no new nodes, or `$p.final`: the depth is reached) also returns
# every flow edge among the reached nodes, as FLOW_EDGES would in one more round trip.
FLOW_LEVELS = 8
_FLOW_NEIGHBOURS: dict[str, LiteralString] = {
    "down": """
        MATCH (a)-[:WROTE|DECLARED_WRITE|SYMLINK]->(b:Node) RETURN b
        UNION
        MATCH (a)<-[:READ|SERVES|AT_COMMIT|CHILD_OF|DECLARED_READ|SYMLINK]-(b:Node) RETURN b""",
    "up": """
        MATCH (a)<-[:WROTE|DECLARED_WRITE|SYMLINK]-(b:Node) RETURN b
        UNION
        MATCH (a)-[:READ|SERVES|AT_COMMIT|CHILD_OF|DECLARED_READ|SYMLINK]->(b:Node) RETURN b""",
}


def _flow_walk(neighbours: LiteralString) -> LiteralString:
    level: LiteralString = (
        """
CALL (frontier, reached, levels) {
    UNWIND CASE WHEN size(levels) < $p.levels THEN frontier ELSE [] END AS a
    CALL (a) {"""
        + neighbours
        + """
    }
    WITH DISTINCT b WHERE NOT b.id IN $p.seen AND NOT b IN reached
    RETURN collect(b) AS found
}
WITH found AS frontier, reached + found AS reached, levels + [size(found)] AS levels"""
    )
    body: LiteralString = ""
    for _ in range(FLOW_LEVELS):
        body += level
    return (
        """
UNWIND $p.frontier AS id
MATCH (s:Node {id: id})
WITH collect(s) AS frontier
WITH frontier, frontier AS reached, [] AS levels"""
        + body
        + """
WITH reached, levels, $p.final OR 0 IN levels[..$p.levels] AS done
WITH reached, levels, done, $p.seen + [n IN reached WHERE NOT n.id IN $p.seen | n.id] AS ids
CALL (done, ids) {
    UNWIND CASE WHEN done THEN ids ELSE [] END AS id
    MATCH (a:Node {id: id})
    CALL (a) {
        MATCH (a)-[r:WROTE|READ|SERVES|AT_COMMIT|CHILD_OF|DECLARED_READ|DECLARED_WRITE|SYMLINK]->(b:Node) RETURN r, b
    }
    WITH a, r, b WHERE b.id IN ids
    RETURN collect([a.id, type(r), b.id, r.key, r.props]) AS edges
}
RETURN [n IN reached | [n.id, n.kind, n.labels, n.props]], levels, done, edges"""
    )


FLOW_WALK: dict[str, LiteralString] = {d: _flow_walk(n) for d, n in _FLOW_NEIGHBOURS.items()}
NODES_BY_ID: LiteralString = "UNWIND $p.ids AS id MATCH (n:Node {id: id})" + NODE_FIELDS
# around(): a node and, per asked edge type and direction, its edges with their far ends, as
# one entry per node. Each branch names one static type (see OUT_EDGES); the types come from
# graph.EDGE_TYPES only, never from a request.
_AROUND_ROW: LiteralString = " b.id, b.kind, b.labels, b.props] AS x"
_AROUND_OUT: dict[str, LiteralString] = {
    t: "MATCH (a)-[r:" + t + "]->(b:Node) RETURN [a.id, type(r), b.id, r.key, r.props," + _AROUND_ROW for t in EDGE_TYPES
}
_AROUND_IN: dict[str, LiteralString] = {
    t: "MATCH (a)<-[r:" + t + "]-(b:Node) RETURN [b.id, type(r), a.id, r.key, r.props," + _AROUND_ROW for t in EDGE_TYPES
}


def _step(hop: Hop) -> LiteralString:
    branches = [_AROUND_OUT[t] for t in hop.out_types] + [_AROUND_IN[t] for t in hop.in_types]
    edges: LiteralString = "COLLECT { " + " UNION ALL ".join(branches) + " }" if branches else "[]"
    return " MATCH (a:Node {id: id}) WITH a, " + edges + " AS x"


@cache
def _hops_query(steps: tuple[Hop, ...]) -> LiteralString:
    """hops(): the first step from `$p.ids`, each later one (a subquery) from the far ends (x[5])
    of the step before; `steps` holds one list per step. A later step's nodes came whole as
    the far ends before, so only their ids come again."""
    query: LiteralString = (
        "UNWIND $p.ids AS id" + _step(steps[0]) + " WITH [collect([a.id, a.kind, a.labels, a.props, x])] AS steps"
    )
    for step in steps[1:]:
        query += (
            " CALL (steps) { UNWIND steps[-1] AS row UNWIND row[-1] AS e WITH DISTINCT e[5] AS id"
            + _step(step)
            + " RETURN collect([a.id, x]) AS found } WITH steps + [found] AS steps"
        )
    return query + " RETURN steps"


NODES_AND_ANNOTATIONS: LiteralString = "UNWIND $p.ids AS id" + _NODE_AND_NOTES + "RETURN collect([node, notes])"
# Every flow edge among the reached nodes, traversed or not (as SQLite's `src IN .. AND dst IN ..`).
# The subquery anchors the expansion on each reached node: a plain pattern with `b.id IN $p.ids` may
# be planned as a scan of the id index for b, whose cost follows the graph.
FLOW_EDGES: LiteralString = """
UNWIND $p.ids AS id
MATCH (a:Node {id: id})
CALL (a) {
    MATCH (a)-[r:WROTE|READ|SERVES|AT_COMMIT|CHILD_OF|DECLARED_READ|DECLARED_WRITE|SYMLINK]->(b:Node) RETURN r, b
}
WITH a, r, b WHERE b.id IN $p.ids
""" + EDGE_FIELDS
# A dump streams, one record per node or edge: the whole graph in one list would sit in the
# server's heap at once.
ALL_NODES: LiteralString = "MATCH (n:Node) RETURN n.id, n.kind, n.labels, n.props"
ALL_EDGES: LiteralString = "MATCH (a:Node)-[r]->(b:Node) RETURN a.id, type(r), b.id, r.key, r.props"

# A batch's whole write in one round trip: its net changes in the order Batch.mutations gives
# them (deleted nodes, deleted edges, nodes, edges), then the new log entries and the head's
# copy. Each part is a subquery over its own list, so an empty part does nothing.
# A node's Neo4j labels are exactly `keep` (Node, its kind, its extra labels); dynamic labels and
# types are parameters (Cypher 5.26), so no label is ever written into query text.
# `SET n = ` replaces every property: a promoted one no longer in `props` goes (null is no value).
# Edges the batch knows the store lacks are created: MERGE must first look for the edge, and a
# plan compiled while the database was still empty looks by scanning every relationship.
WRITE_BATCH: LiteralString = """
CALL () {
    UNWIND $p.delete_nodes AS id
    MATCH (n:Node {id: id}) DETACH DELETE n
}
CALL () {
    UNWIND $p.delete_edges AS row
    MATCH (:Node {id: row.src})-[r:$(row.type) {key: row.key}]->(:Node {id: row.dst})
    DELETE r
}
CALL () {
    UNWIND $p.nodes AS row
    MERGE (n:Node {id: row.id})
    SET n = row.fields
    WITH n, row
    REMOVE n:$([label IN labels(n) WHERE NOT label IN row.keep])
    SET n:$(row.keep)
}
CALL () {
    UNWIND $p.new_nodes AS row
    CREATE (n:Node)
    SET n = row.fields, n:$(row.keep)
}
CALL () {
    UNWIND $p.same_labels AS row
    MATCH (n:Node {id: row.id})
    SET n = row.fields
    RETURN count(n) AS updated
}
CALL () {
    UNWIND $p.created AS row
    MATCH (a:Node {id: row.src})
    MATCH (b:Node {id: row.dst})
    CREATE (a)-[r:$(row.type)]->(b)
    SET r.key = row.key, r.props = row.props, r.inferred_dataset = row.inferred_dataset, r.read_at = row.read_at
    RETURN count(r) AS created
}
CALL () {
    UNWIND $p.merged AS row
    MATCH (a:Node {id: row.src})
    MATCH (b:Node {id: row.dst})
    MERGE (a)-[r:$(row.type) {key: row.key}]->(b)
    SET r.props = row.props, r.inferred_dataset = row.inferred_dataset, r.read_at = row.read_at
    RETURN count(r) AS merged
}
CALL () {
    UNWIND CASE WHEN size($p.events) > 0 THEN [true] ELSE [] END AS moved
    MATCH (h:LogHead {name: 'head'})
    SET h.seq = $p.seq, h.hash = $p.hash
}
CALL () {
    UNWIND $p.events AS row
    CREATE (e:Event)
    SET e = row
    WITH collect(e) AS logged
    UNWIND $p.subjects AS row
    MERGE (s:Subject {id: row.id})
    ON CREATE SET s.first_seqs = []
    WITH logged, s, row, $p.first_seqs - size(s.first_seqs) AS room
    FOREACH (_ IN CASE WHEN room > 0 THEN [1] ELSE [] END | SET s.first_seqs = s.first_seqs + row.seqs[0..room])
    WITH logged, s, row
    UNWIND row.seqs AS seq
    WITH s, seq, logged[seq - logged[0].seq] AS e
    WHERE e.seq = seq
    CREATE (e)-[:ABOUT]->(s)
    RETURN count(e) AS abouts
}
""" + neo4j_tree.PUT_NODES + """
RETURN created, merged, updated, abouts
"""
# Batched deletes (auto-commit only): a big graph is never held in one transaction's memory.
DROP_GRAPH: LiteralString = "MATCH (n:Node) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 1000 ROWS"
DROP_ALL: LiteralString = (
    "MATCH (n) WHERE n:Node OR n:Level OR n:Event OR n:Subject OR n:LogHead OR n:Token OR n:StagedNode OR n:TreeNode OR "
    + dead_letters.LABELS
    + " CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 1000 ROWS"
)

# --- rebuild ------------------------------------------------------------------------------------
# A rebuild projects the log into a scratch SQLite store (the same pure projection), copies that
# graph in beside the live one as (:StagedNode) with its edges, and only then swaps: the live
# :Node graph is dropped and the staged nodes take their labels. Until the swap the live graph is
# untouched, so a rebuild that fails before it leaves the graph as it was. The marker on the log
# head (`rebuilding`, set under the head's lock, which every ingest takes first) refuses ingest
# and readiness from the moment the log is read until the swap is done; a failure during the swap
# itself leaves the marker, so the service stays unready until `lineage rebuild` runs again.
MARK_REBUILD: LiteralString = (
    "MERGE (h:LogHead {name: 'head'}) SET h.locked = true, h.rebuilding = $p.at, h.rebuild_phase = 'staging'"
)
MARK_SWAP: LiteralString = "MATCH (h:LogHead {name: 'head'}) SET h.rebuild_phase = 'swapping'"
CLEAR_REBUILD: LiteralString = "MATCH (h:LogHead {name: 'head'}) REMOVE h.rebuilding, h.rebuild_phase"
REBUILD_STATE: LiteralString = "OPTIONAL MATCH (h:LogHead {name: 'head'}) RETURN h.rebuilding, h.rebuild_phase"
DROP_STAGED: LiteralString = "MATCH (n:StagedNode) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 1000 ROWS"
STAGE_NODES: LiteralString = "UNWIND $p.rows AS row CREATE (n:StagedNode) SET n = row.fields, n.staged_labels = row.keep"
STAGE_EDGES: LiteralString = """
UNWIND $p.rows AS row
MATCH (a:StagedNode {id: row.src})
MATCH (b:StagedNode {id: row.dst})
CREATE (a)-[r:$(row.type)]->(b)
SET r.key = row.key, r.props = row.props, r.inferred_dataset = row.inferred_dataset, r.read_at = row.read_at
RETURN count(r)
"""
PROMOTE_STAGED: LiteralString = (
    "MATCH (n:StagedNode) CALL (n) { SET n:$(n.staged_labels) REMOVE n:StagedNode, n.staged_labels }"
    " IN TRANSACTIONS OF 1000 ROWS"
)
STAGE_PAGE = 2000  # nodes or edges per write of the staged copy
REPLAY_READ = 1000  # log entries per read, and per ingest into the scratch store

# API tokens live beside the graph (:Token, never :Node), hashed; see lineage/auth.py.
TOKEN_FIELDS: LiteralString = " RETURN t.name, t.hash, t.scopes, t.created_at, t.revoked_at"
CREATE_TOKEN: LiteralString = (
    "CREATE (t:Token {name: $p.name, hash: $p.hash, scopes: $p.scopes, created_at: $p.created_at, revoked_at: $p.revoked_at})"
)
TOKENS: LiteralString = "MATCH (t:Token)" + TOKEN_FIELDS + " ORDER BY t.name"
TOKEN_BY_HASH: LiteralString = "MATCH (t:Token {hash: $p.hash})" + TOKEN_FIELDS
REVOKE_TOKEN: LiteralString = (
    "MATCH (t:Token {name: $p.name}) WHERE t.revoked_at IS NULL SET t.revoked_at = $p.at RETURN count(t) AS n"
)

_EXTRA_LABELS = frozenset(EXTRA_LABELS)
# Node properties of our own, beside the promoted LOOKUP_PROPS: these must never collide.
_OWN_PROPS = frozenset({"id", "kind", "labels", "props", "dataset", "written_at", "field_key", "updated_at"})
# The fixed query dicts must cover the model's vocabulary exactly (checked at import, not in use).
assert set(OUT_EDGES) == set(IN_EDGES) == set(EDGE_TYPES), "OUT_EDGES/IN_EDGES must match graph.EDGE_TYPES"
assert set(FIND) == set(FIND_PREFIX) == set(LOOKUP_PROPS), "FIND/FIND_PREFIX must match graph.LOOKUP_PROPS"
assert SUGGEST.count("CONTAINS") == len(SUGGEST_PROPS) and all(
    f"coalesce(n.{p}, '')" in SUGGEST for p in SUGGEST_PROPS
), "SUGGEST must match graph.SUGGEST_PROPS"
assert not _OWN_PROPS & set(LOOKUP_PROPS), "a LOOKUP_PROPS name collides with a stored node property"
assert all(f"ON (n.{p})" in " ".join(SCHEMA) for p in LOOKUP_PROPS), "every LOOKUP_PROPS property needs an index"


def _run(
    runner: ManagedTransaction | Session, query: LiteralString, params: Mapping[str, Any] | None = None, **named: Any
) -> Result:
    """Run `query` with its parameters as the one map parameter `$p` that every query here reads.
    Neo4j 5 keys a cached plan by each parameter's type and, for lists and strings, its size
    bucket (1, 10, 100, ...): with separate parameters a batch whose lists or strings fell in
    other buckets than before, or whose optional value was null this time, compiled the query
    again (WRITE_BATCH: a few hundred ms on two cores, an ingest stall). A map's entries are not
    part of the key, so each query keeps one plan."""
    return runner.run(query, {"p": {**(params or {}), **named}})


def _dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _node(r: Record | Sequence[Any]) -> Node:
    return Node(r[0], r[1], frozenset(r[2]), orjson.loads(r[3]))


def _edge(r: Record | Sequence[Any]) -> Edge:
    return Edge(r[0], r[1], r[2], r[3], orjson.loads(r[4]))


def _stored(r: Record) -> StoredEvent:
    return StoredEvent(*r[:10], r[10].encode(), r[11], r[12], tuple(orjson.loads(r[13])) if r[13] else ())


def _nodes_and_annotations(rows: list[Any]) -> tuple[list[Node], list[Node]]:
    nodes, annotations = [], []
    for r in rows:
        if r[0] is not None:
            nodes.append(_node(r[0]))
        annotations += [_node(a) for a in r[1]]
    return nodes, annotations


def _around(rows: list[tuple[Node, list[Any]]]) -> Around:
    """One step of a hops() answer: per node, the node and its edges with their far ends."""
    out = Around()
    edges: dict[EdgeIdent, Edge] = {}
    for node, found in rows:
        out.nodes[node.id] = node
        for x in found:
            edges[(x[0], x[1], x[2], x[3])] = _edge(x)
            if x[5] not in out.nodes:
                out.nodes[x[5]] = _node(x[5:])
    out.edges = [edges[i] for i in sorted(edges)]
    return out


@contextmanager
def _translated() -> Iterator[None]:
    """Driver errors become our StoreError tree at the store's edge (STYLE habit 1)."""
    try:
        yield
    except (ServiceUnavailable, SessionExpired, ConnectionPoolError, TransientError) as exc:
        # Unreachable, or still transient once the driver's own retries are spent: retry later.
        raise StoreUnavailable(f"neo4j: {exc}") from exc
    except (Neo4jError, DriverError) as exc:
        raise StoreError(f"neo4j: {exc}") from exc


class _Reads:
    """Graph reads in one transaction: the GraphView the projection is handed."""

    def __init__(self, tx: ManagedTransaction) -> None:
        self.tx = tx

    def _rows(self, query: LiteralString, **params: Any) -> list[Any]:
        """The list a one-row read returns (see NODE_FIELDS)."""
        rows: list[Any] = _run(self.tx, query, params).single(strict=True)[0]
        return rows

    def _nodes(self, query: LiteralString, **params: Any) -> list[Node]:
        return [_node(r) for r in self._rows(query, **params)]

    def _edges(self, query: LiteralString, **params: Any) -> list[Edge]:
        return [_edge(r) for r in self._rows(query, **params)]

    def node(self, node_id: str) -> Node | None:
        found = self._nodes(NODE, id=node_id)
        return found[0] if found else None

    def nodes(self, ids: list[str]) -> list[Node]:
        return self._nodes(NODES_BY_ID, ids=ids)

    def around(self, ids: Sequence[str], out_types: Sequence[str] = (), in_types: Sequence[str] = ()) -> Around:
        return self.hops(ids, [Hop(tuple(out_types), tuple(in_types))])[0]

    def hops(self, ids: Sequence[str], steps: Sequence[Hop]) -> list[Around]:
        if not steps:
            return []
        first, *later = self._rows(_hops_query(tuple(steps)), ids=list(dict.fromkeys(ids)))
        out = [_around([(_node(r), r[4]) for r in first])]
        for rows in later:
            known = out[-1].nodes
            out.append(_around([(known[r[0]], r[1]) for r in rows]))
        return out

    def nodes_and_annotations(self, ids: list[str]) -> tuple[list[Node], list[Node]]:
        return _nodes_and_annotations(self._rows(NODES_AND_ANNOTATIONS, ids=ids))

    def versions_and_reads_many(
        self, versions: dict[str, str], limit: int, reads: dict[str, str]
    ) -> tuple[dict[str, list[Node]], dict[str, list[Edge]]]:
        found_versions: dict[str, list[Node]] = {d: [] for d in versions}
        found_reads: dict[str, list[Edge]] = {d: [] for d in reads}
        record = _run(
            self.tx, VERSIONS_AND_READS_MANY,
            versions=[{"dataset": d, "at": at} for d, at in versions.items()], limit=limit,
            reads=[{"dataset": d, "since": since} for d, since in reads.items()],
        ).single(strict=True)
        for r in record[0]:
            found_versions[r[0]].append(_node(r[1:]))
        for r in record[1]:
            found_reads[r[0]].append(_edge(r[1:]))
        return found_versions, {d: sorted(edges, key=lambda e: e.ident) for d, edges in found_reads.items()}

    def out_edges(self, src: str, edge_type: str) -> list[Edge]:
        return self.edges_from([src], edge_type)

    def in_edges(self, dst: str, edge_type: str) -> list[Edge]:
        return self.edges_to([dst], edge_type)

    def edges_from(self, ids: Sequence[str], edge_type: str) -> list[Edge]:
        query = OUT_EDGES.get(edge_type)
        return self._edges(query, ids=list(ids)) if query else []  # no edges of an unknown type

    def edges_to(self, ids: Sequence[str], edge_type: str) -> list[Edge]:
        query = IN_EDGES.get(edge_type)
        return self._edges(query, ids=list(ids)) if query else []

    def versions_at(self, dataset: str, at: str, limit: int) -> list[Node]:
        return self.newest_versions([dataset], at, limit)[dataset]

    def newest_versions(self, datasets: Sequence[str], at: str, limit: int) -> dict[str, list[Node]]:
        out: dict[str, list[Node]] = {d: [] for d in datasets}
        for row in _run(self.tx, NEWEST_VERSIONS_MANY, ids=list(out), at=at, limit=limit):
            out[row[0]] = [_node(r) for r in row[1]]
        return out

    def inferred_reads(self, dataset: str, since: str) -> list[Edge]:
        return self._edges(INFERRED_READS, dataset=dataset, since=since)

    def nodes_with(self, kind: str, prop: str, value: str) -> list[Node]:
        return self.find(prop, value, kind=kind, limit=10_000)  # the same cap as SQLite's

    def nodes_with_many(self, kind: str, prop: str, values: list[str]) -> dict[str, list[Node]]:
        out: dict[str, list[Node]] = {v: [] for v in values}
        for r in self._rows(FIND_MANY[prop], values=list(out), kind=kind):
            out[r[0]].append(_node(r[1:]))
        return {v: sorted(found, key=lambda n: n.id)[:10_000] for v, found in out.items()}

    def preload(self, node_ids: Sequence[str], out_types: Sequence[str] = (), in_types: Sequence[str] = ()) -> None:
        pass  # these reads keep nothing: an ingest batch over them does the preloading

    def preload_matching(self, kind: str, prop: str, values: Sequence[str]) -> None:
        pass

    def find(self, prop: str, value: str, *, kind: str | None = None, prefix: bool = False, limit: int = 50) -> list[Node]:
        query = (FIND_PREFIX if prefix else FIND)[prop]  # KeyError for a property not indexed, as SQLite
        return self._nodes(query, value=value, kind=kind, limit=_limit(limit))

    def lookup(self, value: str, props: Sequence[str], limit: int) -> dict[str, list[Node]]:
        out: dict[str, list[Node]] = {p: [] for p in props}
        for r in self._rows(LOOKUP, value=value, props=list(props), limit=_limit(limit)):
            out[r[0]].append(_node(r[1:]))
        return out

    def namespaces(self) -> list[str]:
        return list(self._rows(NAMESPACES))

    def in_namespace(self, kind: str, namespace: str, limit: int, offset: int) -> tuple[int, list[Node]]:
        query = IN_NAMESPACE[kind]  # KeyError for a kind Marquez does not list, as SQLite has no index for it
        total, rows = self._rows(query, namespace=namespace, limit=limit, offset=offset)
        return int(total), [_node(r) for r in rows]

    def newest_jobs(self, namespace: str | None, limit: int, offset: int) -> tuple[int, list[Node]]:
        query = NEWEST_JOBS_ALL if namespace is None else NEWEST_JOBS
        total, rows = self._rows(query, namespace=namespace, limit=limit, offset=offset)
        return int(total), [_node(r) for r in rows]

    def fields_named(self, key_prefix: str, limit: int) -> list[Node]:
        return self._nodes(FIELDS_NAMED, prefix=key_prefix, limit=_limit(limit))

    def suggest(self, text: str, kind: str | None, limit: int) -> list[Node]:
        return self._nodes(SUGGEST, needle=text.lower(), kind=kind, limit=_limit(limit))

    def flow(self, start: Sequence[str], direction: Direction, depth: int) -> Subgraph:
        """Breadth first, FLOW_LEVELS levels per round trip over the new nodes only: each node
        is expanded at most once (so cycles end), and never beyond `depth`."""
        walk = FLOW_WALK[direction]
        reached = dict.fromkeys(start, 0)
        if depth < 1 or not reached:
            nodes = {n.id: n for n in self._nodes(NODES_BY_ID, ids=list(reached))}
            edges = self._edges(FLOW_EDGES, ids=list(reached))
            return Subgraph({i: nodes[i] for i in sorted(nodes)}, sorted(edges, key=lambda e: e.ident), dict.fromkeys(sorted(nodes), 0))
        nodes: dict[str, Node] = {}
        frontier, level, done = list(reached), 0, False
        while not done:
            asked = min(FLOW_LEVELS, depth - level)
            params = {"frontier": frontier, "seen": list(reached), "levels": asked, "final": asked == depth - level}
            rows, sizes, done, edge_rows = _run(self.tx, walk, params).single(strict=True)
            # `rows` holds the frontier's nodes (those that exist), then each level's finds.
            for row in rows:
                if row[0] not in nodes:
                    nodes[row[0]] = _node(row)
            at = len(rows) - sum(sizes)
            found: list[Any] = []
            for size in sizes[:asked]:
                if not size:
                    break  # the walk ended here (`done` is set)
                found, at = rows[at : at + size], at + size
                level += 1
                reached.update((row[0], level) for row in found)
            frontier = [row[0] for row in found]
        ordered = {i: nodes[i] for i in sorted(nodes)}
        edges = sorted((_edge(r) for r in edge_rows), key=lambda e: e.ident)
        return Subgraph(ordered, edges, {i: reached[i] for i in ordered})

    def dump(self) -> tuple[list[Node], list[Edge]]:
        return [_node(r) for r in _run(self.tx, ALL_NODES)], [_edge(r) for r in _run(self.tx, ALL_EDGES)]


def _limit(limit: int) -> int:
    return limit if limit >= 0 else 2**62  # SQLite reads a negative LIMIT as none


def _node_row(n: Node) -> dict[str, Any]:
    # Labels become real Neo4j labels: only our fixed vocabulary may get there.
    if n.kind not in KINDS or not n.labels <= _EXTRA_LABELS:
        raise ValueError(f"node {n.id}: unknown kind {n.kind!r} or labels {sorted(n.labels)}")
    labels = sorted(n.labels)
    version = n.kind == VERSION
    fields: dict[str, Any] = {
        # Promoted scalars, as the SQLite store's indexed columns and expressions: string values
        # of LOOKUP_PROPS (the only kind SQLite's `json_extract(..) = ?` can match).
        **{p: v for p in LOOKUP_PROPS if isinstance(v := n.props.get(p), str)},
        "id": n.id,
        "kind": n.kind,
        "labels": labels,
        "props": _dumps(n.props),
    }
    if version:
        fields["dataset"], fields["written_at"] = n.props.get("dataset"), n.props.get("written_at")
    elif n.kind == JOB:  # Marquez lists jobs newest first (newest_jobs)
        fields["updated_at"] = job_updated_at(n.props)
    elif n.kind == FIELD and isinstance(n.props.get("field"), str):  # found by name in search
        fields["field_key"] = field_key(n.props["field"])
    elif n.kind == RUN:  # a job's runs by time, for the dataset/job level (neo4j_levels.py)
        fields["job"], fields["run_at"] = n.props.get("job"), n.props.get("started_at") or n.props.get("first_event_time")
    return {"id": n.id, "keep": ["Node", n.kind, *labels], "fields": fields}


def _edge_row(e: Edge) -> dict[str, Any]:
    if e.type not in EDGE_TYPES:
        raise ValueError(f"edge {e.ident}: unknown type {e.type!r}")
    inferred = e.props.get("dataset") if e.props.get("inferred") else None
    return {
        "src": e.src,
        "type": e.type,
        "dst": e.dst,
        "key": e.key,
        "props": _dumps(e.props),
        "inferred_dataset": inferred,
        "read_at": e.props.get("read_at") if inferred else None,
    }


_CANONICAL = {DeleteNode: 0, DeleteEdge: 1, PutNode: 2, PutEdge: 3}


def _apply(
    tx: ManagedTransaction,
    mutations: list[Mutation],
    surely_new: Callable[[EdgeIdent], bool] | None = None,
    events: list[dict[str, Any]] | None = None,
    head: tuple[int, str] | None = None,
    clock: StageClock | None = None,
    tree: dict[str, Any] | None = None,
    before: Callable[[str], tuple[bool, Node | None]] | None = None,
    subjects_of: list[Sequence[str]] | None = None,
) -> None:
    """`mutations`, in Batch.mutations' order, and new log entries (`events`, each about the
    subjects at its place in `subjects_of`) in one WRITE_BATCH. Edges the caller knows to be
    new are created rather than merged; `before` tells, per node id, whether the caller knows
    what the store held (and that node, None for none), so new nodes are created and nodes
    whose labels stay are only updated."""
    ranks = [_CANONICAL[type(m)] for m in mutations]
    if ranks != sorted(ranks):
        raise ValueError("mutations must come as Batch.mutations orders them")
    logged = events or []
    params: dict[str, Any] = {
        "delete_nodes": [m.id for m in mutations if isinstance(m, DeleteNode)],
        "delete_edges": [
            {"src": m.src, "type": m.type, "dst": m.dst, "key": m.key} for m in mutations if isinstance(m, DeleteEdge)
        ],
        "nodes": [],
        "new_nodes": [],
        "same_labels": [],
        "created": [],
        "merged": [],
        "events": logged,
        "subjects": _subject_rows(logged, subjects_of or []),
        "seq": head[0] if head else None,
        "hash": head[1] if head else None,
        "first_seqs": FIRST_SEQS,
        **(tree or {"tree_nodes": [], "tree_size": None, "frontier": None}),
    }
    for m in mutations:
        if isinstance(m, PutNode):
            known, stored = before(m.node.id) if before is not None else (False, None)
            if known and stored is None:
                part = "new_nodes"
            elif known and stored is not None and (stored.kind, stored.labels) == (m.node.kind, m.node.labels):
                part = "same_labels"
            else:
                part = "nodes"
            params[part].append(_node_row(m.node))
        elif isinstance(m, PutEdge):
            new = surely_new is not None and surely_new(m.edge.ident)
            params["created" if new else "merged"].append(_edge_row(m.edge))
    with timed(clock, "write"):
        levels = neo4j_levels.track(tx, mutations)  # reads the graph as it is before WRITE_BATCH changes it
        # WRITE_BATCH must be the transaction's first write (LOCK_HEAD's SET of an unchanged value
        # leaves no transaction state): Neo4j keys a cached plan by whether the transaction has
        # uncommitted changes too, so with the level write before it only when a batch changed the
        # adjacency, WRITE_BATCH was compiled a second time. The level write reads no :Node, so
        # after WRITE_BATCH it writes the same, and always with changes pending.
        created, merged, updated, abouts = _run(tx, WRITE_BATCH, params).single(strict=True)
        neo4j_levels.write(tx, levels)
    missing = len(params["created"]) + len(params["merged"]) - created - merged
    if missing:  # a relationship cannot dangle; the projection promised both ends
        raise StoreError(f"neo4j: {missing} edge(s) whose end node does not exist")
    if updated != len(params["same_labels"]):  # the batch read these nodes under the head's lock
        raise StoreError(f"neo4j: {len(params['same_labels']) - updated} node(s) gone since the batch read them")
    if abouts != sum(len(row["seqs"]) for row in params["subjects"]):
        raise StoreError("neo4j: log entries not linked to every subject they are about")


def _subject_rows(events: list[dict[str, Any]], subjects_of: list[Sequence[str]]) -> list[dict[str, Any]]:
    """Each subject of the new log entries once, with the seqs of its entries in order: one
    MERGE and one append to `first_seqs` per subject of a batch, not per entry and subject (a
    500-event batch has about 2,900 of those for 1,200 subjects)."""
    seqs: dict[str, list[int]] = {}
    for event, about in zip(events, subjects_of, strict=True):
        for subject in about:
            seqs.setdefault(subject, []).append(event["seq"])
    return [{"id": subject, "seqs": found} for subject, found in seqs.items()]


def _ingest(
    tx: ManagedTransaction, events: Sequence[Event], received_at: str, clock: StageClock | None = None
) -> list[IngestOutcome]:
    """The unit of work of `ingest`: all its state is local, so the driver may re-run it."""
    project_started = time.perf_counter()
    # Each read is a round trip: the nodes the events touch come with the head (those of
    # events already logged too, which are not known yet), and the batch caches every read.
    about_all = {e.id: subjects(e) for e in events}
    touching = sorted({i for e in events for i in touched(e, about_all[e.id])})
    runs = sorted({run_id(e.run_uuid) for e in events if e.run_uuid})
    labels = sorted({k for e in events if e.run_uuid and (k := run_key(e.job_name, e.event_time))})
    head = _run(
        tx, LOCK_AND_READ_HEAD, ids=[e.id for e in events], nodes=touching, runs=runs, run_keys=labels
    ).single(strict=True)
    if head[4] is not None:
        raise StoreUnavailable(f"neo4j: the graph is being rebuilt (since {head[4]}); retry when it is done")
    start = (head[0], head[1]) if head[0] is not None else (0, GENESIS)
    known: dict[str, int] = dict(head[2])
    batch = Batch(_Reads(tx))
    batch.seed(touching, *_nodes_and_annotations(head[3]))
    batch.seed_matching(RUN, "run_key", {label: [_node(r) for r in found] for label, found in head[7]})
    # `touching` covers every event of the call, logged before or not: prefetch need not redo it.
    outcomes, entries, end = log_and_project(batch, events, received_at, start, known, about_all, nodes_seeded=True)
    rows = [
        {
            "seq": e.seq, "id": e.event.id, "received_at": received_at, "event_time": e.event.event_time,
            "kind": e.event.kind, "event_type": e.event.event_type, "run_uuid": e.event.run_uuid,
            "job_namespace": e.event.job_namespace, "job_name": e.event.job_name, "producer": e.event.producer,
            "payload": e.event.canonical.decode(), "prev_hash": e.prev_hash, "hash": e.hash,
            "warnings": warnings_json(e.event),
        }
        for e in entries
    ]
    mutations = batch.mutations()
    if clock is not None:
        clock.add("project", time.perf_counter() - project_started)
    # The Merkle tree beside the chain, from the frontier read with the head, in the same write.
    tree = neo4j_tree.grow(head[5], head[6], entries, received_at)
    _apply(tx, mutations, batch.surely_new, rows, end, clock, tree, batch.node_before, [e.subjects for e in entries])
    return outcomes


# The reads an ingest makes only where the graph already holds what its events touch (a
# dataset's versions and the reads to rebind, a version's or run's edges, a deployment's and
# an alias's history): the warm-up's synthetic ingest, of names the graph does not hold, never
# makes them, so neo4j_warmup runs them on their own. The hops are the steps `projection`
# preloads (`preload(..., out_types, in_types)`).
INGEST_READS: tuple[LiteralString, ...] = (
    NODE,
    VERSIONS_AND_READS_MANY,
    NODES_AND_ANNOTATIONS,
    NODES_BY_ID,
    *OUT_EDGES.values(),
    *IN_EDGES.values(),
    *(FIND_MANY[prop] for prop in ("model", "model_ref", "run_key", "target")),  # those `projection` matches on
    *(
        _hops_query((Hop(out_types, in_types),))
        for out_types, in_types in (((), ()), ((SERVES,), (WROTE,)), ((SERVES,), ()), ((), (SERVES,)), ((POINTS_TO,), ()))
    ),
)


def _replay_chunk(tx: ManagedTransaction, after: int) -> list[Any]:
    """The next log entries after seq `after`, as (seq, payload) rows."""
    return [tuple(r) for r in _run(tx, REPLAY_CHUNK, after=after, limit=REPLAY_READ)]


def _stage(tx: ManagedTransaction, nodes: list[Node], edges: list[Edge]) -> None:
    """One page of the staged graph; an edge whose end was not staged is an error."""
    if nodes:
        _run(tx, STAGE_NODES, rows=[_node_row(n) for n in nodes]).consume()
    if edges:
        created = _run(tx, STAGE_EDGES, rows=[_edge_row(e) for e in edges]).single(strict=True)[0]
        if created != len(edges):
            raise StoreError(f"neo4j: {len(edges) - created} staged edge(s) whose end node does not exist")


def _backfill_promoted_keys(tx: ManagedTransaction, after: str) -> str | None:
    """One chunk of jobs and fields, in id order after `after`, given the keys ingest promotes
    now (`_node_row`); the last id done, None when none was left."""
    rows, last = [], None
    for node_id, kind, props in _run(tx, UNPROMOTED, after=after, chunk=BACKFILL_CHUNK):
        promoted = _node_row(Node(node_id, kind, frozenset(), orjson.loads(props)))["fields"]
        rows.append({"id": node_id, "updated_at": promoted.get("updated_at"), "field_key": promoted.get("field_key")})
        last = node_id
    _run(tx, SET_PROMOTED, rows=rows).consume()
    return last


def _backfill_first_seqs(tx: ManagedTransaction, after: str) -> str | None:
    """One chunk of the `first_seqs` backfill: the last subject id done, None when none was left."""
    _run(tx, LOCK_HEAD).consume()
    last, seen = _run(tx, BACKFILL_FIRST_SEQS, after=after, chunk=BACKFILL_CHUNK, cap=FIRST_SEQS).single(strict=True)
    return last if seen else None


def _token(record: Record) -> TokenRecord:
    return TokenRecord(record[0], record[1], tuple(record[2]), record[3], record[4])


class Neo4jStore:
    """One driver per store; every write is a retried unit of work in a write transaction."""

    backend = "neo4j"

    def __init__(self, url: str, user: str, password: str, database: str, retry_seconds: float = 2.0) -> None:
        """`retry_seconds` bounds the driver's retries of a transaction and each connection
        attempt, so a Neo4j that is down turns into StoreUnavailable (a 503) within a few
        seconds (with 2 s: attempts at about 0, 1 and 3 s) instead of after the driver's 30 s."""
        self.url = url
        self.database = database
        with _translated():
            self._driver = GraphDatabase.driver(
                url,
                auth=(user, password) if password else None,
                max_transaction_retry_time=retry_seconds,
                connection_timeout=max(retry_seconds, 1.0),
                # Expected, not news: "label/property does not exist yet" on an empty database, and
                # "index or constraint already exists" from setup() at every start.
                notifications_disabled_classifications=[
                    NotificationDisabledClassification.UNRECOGNIZED, NotificationDisabledClassification.SCHEMA,
                ],
            )
        self._schema_ready = False
        self.stages: StageClock | None = None  # set by the benchmark to see where ingest time goes
        self._pinned = threading.local()  # the read transaction of a `snapshot` on this thread
        try:
            self._prepare()
        except StoreUnavailable:
            pass  # Neo4j is down: start anyway (/readyz says 503); the schema follows on first write
        except BaseException:
            self._driver.close()
            raise

    def _session(self) -> Session:
        # One bookmark manager for every session: on a cluster, a read sees the writes before it.
        return self._driver.session(
            database=self.database, bookmark_manager=self._driver.execute_query_bookmark_manager
        )

    def _read(self, work: Callable[[_Reads], T]) -> T:
        pinned: _Reads | None = getattr(self._pinned, "view", None)
        if pinned is not None:
            return work(pinned)
        with _translated(), self._session() as session:
            return session.execute_read(lambda tx: work(_Reads(tx)))

    def snapshot(self, work: Callable[[], T]) -> T:
        if getattr(self._pinned, "view", None) is not None:
            return work()

        def unit(tx: ManagedTransaction) -> T:
            self._pinned.view = _Reads(tx)
            try:
                return work()
            finally:
                self._pinned.view = None

        with _translated(), self._session() as session:
            return session.execute_read(unit)

    def setup(self) -> None:
        """The schema and backfills (`_prepare`), then the ingest path's plans compiled by a
        rolled-back ingest (neo4j_warmup.py), so that the first real ingest finds them cached.
        Only here, not at every opening: `lineage serve` and `lineage consume` call it before
        taking events, a one-off command need not pay for it."""
        self._prepare()
        with _translated(), self._session() as session:
            neo4j_warmup.warm(session, _ingest, INGEST_READS)

    def _prepare(self) -> None:
        with _translated(), self._session() as session:
            for query in (*SCHEMA, *dead_letters.SCHEMA):
                _run(session, query).consume()
            if not _run(session, FIRST_SEQS_DONE).single(strict=True)[0]:
                after = ""
                while (after := session.execute_write(_backfill_first_seqs, after)) is not None:
                    pass
                _run(session, MARK_FIRST_SEQS_DONE).consume()
            if not _run(session, PROMOTED_KEYS_DONE).single(strict=True)[0]:
                after = ""
                while (after := session.execute_write(_backfill_promoted_keys, after)) is not None:
                    pass
                _run(session, MARK_PROMOTED_KEYS_DONE).consume()
            neo4j_levels.backfill(session)  # a graph from before the dataset/job level (issue 34)
        self._schema_ready = True

    def _ensure_schema(self) -> None:
        # Constraints must exist before the first write, also when Neo4j was down at start-up.
        if not self._schema_ready:
            self.setup()

    # --- writes --------------------------------------------------------------------------
    def ingest(self, events: Sequence[Event], received_at: str) -> list[IngestOutcome]:
        self._ensure_schema()
        clock = self.stages
        inside = StageClock() if clock is not None else None  # a retried unit of work counts each of its tries
        started = time.perf_counter()
        with _translated(), self._session() as session:
            outcomes = session.execute_write(_ingest, events, received_at, inside)
        if clock is None or inside is None:
            return outcomes
        # What the unit of work did not spend projecting and writing went on opening and
        # committing the transaction.
        clock.add("commit", time.perf_counter() - started - inside.seconds["project"] - inside.seconds["write"])
        clock.add("project", inside.seconds["project"])
        clock.add("write", inside.seconds["write"])
        clock.events += len(events)
        return outcomes

    def ingest_chunks(self, chunks: Iterable[tuple[Sequence[Event], str]]) -> Iterator[list[IngestOutcome]]:
        # One after another: projecting a chunk over the one in writing would cost a round trip
        # for each read its batch cannot answer from its prefetch.
        for events, received_at in chunks:
            yield self.ingest(events, received_at)

    def rebuild(self, progress: Callable[[int], None] | None = None) -> int:
        """Replay the log into a new graph staged beside the live one, then swap (see
        MARK_REBUILD): ingest and `ping` refuse with StoreUnavailable meanwhile, and a failure
        before the swap (`progress` raising included) leaves the live graph as it was."""
        self._ensure_schema()
        # The scratch projection is SQLite's, so the rebuild needs no graph held in memory.
        from lineage.store.sqlite import SqliteStore

        started = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        with _translated(), self._session() as session:
            # Under the head's lock: ingests in flight commit first, and every later one sees it.
            session.execute_write(lambda tx: _run(tx, MARK_REBUILD, at=started).consume())
            try:
                _run(session, DROP_STAGED).consume()  # what a rebuild that died left behind
                with tempfile.TemporaryDirectory(prefix="lineage-rebuild-") as scratch_dir:
                    scratch = SqliteStore(str(Path(scratch_dir) / "graph.db"))
                    try:
                        done, last = 0, 0
                        while rows := session.execute_read(_replay_chunk, last):
                            scratch.ingest([parse_event(orjson.loads(r[1])) for r in rows], started)
                            done, last = done + len(rows), rows[-1][0]
                            if progress:
                                progress(len(rows))
                        for nodes, edges in scratch.graph_pages(STAGE_PAGE):
                            session.execute_write(_stage, nodes, edges)
                        levels = scratch.level_dump()  # counted by the scratch store as it projected
                    finally:
                        scratch.close()
                neo4j_tree.rebuild(session)  # ingest is held off by the marker meanwhile
            except BaseException:
                try:
                    _run(session, DROP_STAGED).consume()
                    session.execute_write(lambda tx: _run(tx, CLEAR_REBUILD).consume())
                except Exception:  # noqa: BLE001 - the first error is the one to report
                    pass  # the marker stays: unready until a rebuild runs again, never half a graph
                raise
            # The staged graph is complete: from here on a failure leaves the marker set.
            session.execute_write(lambda tx: _run(tx, MARK_SWAP).consume())
            _run(session, DROP_GRAPH).consume()
            _run(session, PROMOTE_STAGED).consume()
            neo4j_levels.replace(session, levels["pairs"], levels["members"])  # type: ignore[arg-type]
            session.execute_write(lambda tx: _run(tx, CLEAR_REBUILD).consume())
        return done

    def reset(self) -> None:
        with _translated(), self._session() as session:
            _run(session, DROP_ALL).consume()
            _run(session, MARK_FIRST_SEQS_DONE).consume()  # an empty log has no subject to backfill
            _run(session, MARK_PROMOTED_KEYS_DONE).consume()
            _run(session, neo4j_levels.MARK_COUNTED).consume()  # nor an adjacency to count

    # --- reads ---------------------------------------------------------------------------
    def log_tree(self, work: Callable[[TreeReader], T]) -> T:
        with _translated(), self._session() as session:
            return session.execute_read(lambda tx: work(neo4j_tree.reader(tx)))

    def node(self, node_id: str) -> Node | None:
        return self._read(lambda view: view.node(node_id))

    def out_edges(self, src: str, edge_type: str) -> list[Edge]:
        return self._read(lambda view: view.out_edges(src, edge_type))

    def in_edges(self, dst: str, edge_type: str) -> list[Edge]:
        return self._read(lambda view: view.in_edges(dst, edge_type))

    def nodes(self, ids: Sequence[str]) -> list[Node]:
        return self._read(lambda view: view.nodes(list(ids)))

    def edges_from(self, ids: Sequence[str], edge_type: str) -> list[Edge]:
        return self._read(lambda view: view.edges_from(ids, edge_type))

    def edges_to(self, ids: Sequence[str], edge_type: str) -> list[Edge]:
        return self._read(lambda view: view.edges_to(ids, edge_type))

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        return sort_dump(*self._read(lambda view: view.dump()))

    def around(self, ids: Sequence[str], out_types: Sequence[str] = (), in_types: Sequence[str] = ()) -> Around:
        return self._read(lambda view: view.around(ids, out_types, in_types))

    def hops(self, ids: Sequence[str], steps: Sequence[Hop]) -> list[Around]:
        return self._read(lambda view: view.hops(ids, steps))

    def versions_at(self, dataset: str, at: str, limit: int) -> list[Node]:
        return self._read(lambda view: view.versions_at(dataset, at, limit))

    def newest_versions(self, datasets: Sequence[str], at: str, limit: int) -> dict[str, list[Node]]:
        return self._read(lambda view: view.newest_versions(datasets, at, limit))

    def find(self, prop: str, value: str, *, kind: str | None = None, prefix: bool = False, limit: int = 50) -> list[Node]:
        return self._read(lambda view: view.find(prop, value, kind=kind, prefix=prefix, limit=limit))

    def lookup(self, value: str, props: Sequence[str], limit: int) -> dict[str, list[Node]]:
        return self._read(lambda view: view.lookup(value, props, limit))

    def fields_named(self, key_prefix: str, limit: int) -> list[Node]:
        return self._read(lambda view: view.fields_named(key_prefix, limit))

    def suggest(self, text: str, kind: str | None, limit: int) -> list[Node]:
        return self._read(lambda view: view.suggest(text, kind, limit))

    def namespaces(self) -> list[str]:
        return self._read(lambda view: view.namespaces())

    def in_namespace(self, kind: str, namespace: str, limit: int, offset: int) -> tuple[int, list[Node]]:
        return self._read(lambda view: view.in_namespace(kind, namespace, limit, offset))

    def newest_jobs(self, namespace: str | None, limit: int, offset: int) -> tuple[int, list[Node]]:
        return self._read(lambda view: view.newest_jobs(namespace, limit, offset))

    def flow(self, start: Sequence[str], direction: Direction, depth: int) -> Subgraph:
        # One read transaction for the walk, its nodes and its edges (one session, not three).
        return self._read(lambda view: view.flow(start, direction, depth))

    # --- the dataset/job level (issue 34, lineage/store/neo4j_levels.py) -----------------------
    def level_walk(self, start: Sequence[str], directions: Sequence[Direction], depth: int) -> dict[Direction, LevelWalk]:
        return self._read(lambda view: neo4j_levels.walk(view.tx, start, directions, depth))

    def level_summaries(
        self, datasets: Sequence[str], jobs: Sequence[str], since: str | None, until: str | None
    ) -> dict[str, dict[str, Any]]:
        return self._read(lambda view: neo4j_levels.summaries(view.tx, datasets, jobs, since, until))

    def level_dump(self) -> Mapping[str, list[list[object]]]:
        return self._read(lambda view: neo4j_levels.dump(view.tx))

    def count_events(self, flt: EventFilter) -> int:
        if flt == EventFilter():
            return self.event_count()  # the count store answers without a scan
        if flt == EventFilter(subject=flt.subject):
            return self._read(lambda view: int(_run(view.tx, COUNT_ABOUT, subject=flt.subject).single(strict=True)[0]))
        query = COUNT_EVENTS["subject" if flt.subject is not None else "run" if flt.run_uuid is not None else "all"]
        params = {"run": flt.run_uuid, "since": flt.since, "until": flt.until, "subject": flt.subject}
        return self._read(lambda view: int(_run(view.tx, query, params).single(strict=True)[0]))

    def event_count(self) -> int:
        return self._read(lambda view: int(_run(view.tx, EVENT_COUNT).single(strict=True)[0]))

    def events(self, flt: EventFilter, after_seq: int, limit: int) -> list[StoredEvent]:
        query = EVENTS["subject" if flt.subject is not None else "run" if flt.run_uuid is not None else "all"]
        params = {
            "after": after_seq, "run": flt.run_uuid, "since": flt.since, "until": flt.until,
            "subject": flt.subject,
            "limit": limit if limit >= 0 else 2**62,  # SQLite reads a negative LIMIT as none
        }
        return self._read(lambda view: [_stored(r) for r in _run(view.tx, query, params)])

    def events_by_time(
        self, since: str | None, until: str | None, kinds: Sequence[str], descending: bool, limit: int, offset: int
    ) -> list[StoredEvent]:
        params = {"since": since or "", "until": until or _NO_END, "kinds": list(kinds), "limit": limit, "offset": offset}
        return self._read(lambda view: [_stored(r) for r in _run(view.tx, EVENTS_BY_TIME[descending], params)])

    def count_by_time(self, since: str | None, until: str | None, kinds: Sequence[str]) -> int:
        params = {"since": since or "", "until": until or _NO_END, "kinds": list(kinds)}
        return self._read(lambda view: int(_run(view.tx, COUNT_BY_TIME, params).single(strict=True)[0]))

    def events_about(self, subjects: Sequence[str], limit: int) -> dict[str, list[StoredEvent]]:
        def read(view: _Reads) -> dict[str, list[StoredEvent]]:
            out: dict[str, list[StoredEvent]] = {s: [] for s in subjects}
            wanted = list(dict.fromkeys(subjects))
            scan = wanted
            if 0 <= limit <= FIRST_SEQS:
                scan = []
                for subject, listed, expected, entries in _run(view.tx, EVENTS_ABOUT_LISTED, subjects=wanted, limit=limit):
                    # Unlisted (and not yet backfilled), or an entry not where its list says
                    # (the log altered behind the store's back): read it the long way.
                    if not listed or len(entries) != expected:
                        scan.append(subject)
                        continue
                    out[subject] = sorted((_stored(e) for e in entries), key=lambda e: e.seq)
            if scan:
                for r in _run(view.tx, EVENTS_ABOUT, subjects=scan, limit=_limit(limit)):
                    out[r[0]].append(_stored(r[1:]))
            return out

        return self._read(read)

    def entries_at(self, seqs: Sequence[int]) -> list[StoredEvent]:
        return self._read(lambda view: [_stored(r) for r in _run(view.tx, ENTRIES, seqs=list(seqs))])

    def last_entry(self) -> StoredEvent | None:
        return self._read(lambda view: next((_stored(r) for r in _run(view.tx, LAST_ENTRY)), None))

    def log_head(self) -> tuple[int, str] | None:
        return self._read(lambda view: next(((int(r[0]), str(r[1])) for r in _run(view.tx, LOG_HEAD)), None))

    def newest_event_time(self) -> str | None:
        return self._read(lambda view: next((str(r[0]) for r in _run(view.tx, NEWEST_EVENT_TIME)), None))

    # --- dead letters (lineage/store/neo4j_rejections.py) -----------------------------------
    def put_rejection(self, rejection: Rejection, max_entries: int, max_bytes: int) -> Rejection:
        self._ensure_schema()
        with _translated(), self._session() as session:
            return session.execute_write(dead_letters.put, rejection, max_entries, max_bytes)

    def rejections(self, before: int | None, limit: int) -> list[Rejection]:
        return self._read(lambda view: dead_letters.listing(view.tx, before, limit))

    def rejection(self, rejection_id: int) -> Rejection | None:
        return self._read(lambda view: dead_letters.one(view.tx, rejection_id))

    def delete_rejection(self, rejection_id: int) -> bool:
        with _translated(), self._session() as session:
            return session.execute_write(dead_letters.delete, rejection_id)

    def rejection_stats(self) -> RejectionStats:
        return self._read(lambda view: dead_letters.stats(view.tx))

    def rejections_about(self, subjects: Sequence[str]) -> dict[str, int]:
        return self._read(lambda view: dead_letters.about(view.tx, subjects))

    def put_token(self, record: TokenRecord) -> None:
        try:
            with _translated(), self._session() as session:
                _run(
                    session,
                    CREATE_TOKEN, name=record.name, hash=record.hash, scopes=list(record.scopes),
                    created_at=record.created_at, revoked_at=record.revoked_at,
                ).consume()
        except StoreError as exc:
            if isinstance(exc.__cause__, ConstraintError):
                raise InvalidEvent("name", f"a token named {record.name!r} exists") from None
            raise

    def tokens(self) -> list[TokenRecord]:
        with _translated(), self._session() as session:
            return [_token(r) for r in _run(session, TOKENS)]

    def token(self, token_hash: str) -> TokenRecord | None:
        with _translated(), self._session() as session:
            record = _run(session, TOKEN_BY_HASH, hash=token_hash).single()
            return _token(record) if record else None

    def revoke_token(self, name: str, at: str) -> bool:
        with _translated(), self._session() as session:
            record = _run(session, REVOKE_TOKEN, name=name, at=at).single()
            return bool(record and record["n"])

    def ping(self) -> None:
        with _translated(), self._session() as session:
            since, phase = _run(session, REBUILD_STATE).single(strict=True)
        if since is not None:
            raise StoreUnavailable(f"neo4j: the graph is being rebuilt ({phase} since {since})")

    def close(self) -> None:
        self._driver.close()
