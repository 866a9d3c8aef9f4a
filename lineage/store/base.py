"""The store protocol both backends implement, and the records it returns."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Concatenate, Literal, ParamSpec, Protocol, TypeVar

from lineage.events import Event
from lineage.graph import Edge, Node
from lineage.merkle import TreeReader
from lineage.store.levels import LevelWalk
from lineage.store.stages import StageClock


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One entry of the event log: the evidence, as received, with its place in the chain."""

    seq: int
    id: str
    received_at: str
    event_time: str
    kind: str
    event_type: str | None
    run_uuid: str | None
    job_namespace: str | None
    job_name: str | None
    producer: str
    payload: bytes  # canonical JSON
    prev_hash: str
    hash: str
    # The event's problems, noted when it was accepted (issue 29); outside the hash chain, since
    # they follow from the payload alone.
    warnings: tuple[dict[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    """What happened to one event of an ingest call: stored anew, or already in the log."""

    id: str
    created: bool
    seq: int


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which log entries to list; `subject` is a node id the event is about (run, job, dataset...)."""

    run_uuid: str | None = None
    subject: str | None = None
    since: str | None = None
    until: str | None = None


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """An API token as stored: its sha256, never the secret itself."""

    name: str
    hash: str
    scopes: tuple[str, ...]
    created_at: str
    revoked_at: str | None = None

    def allows(self, scope: str) -> bool:
        return self.revoked_at is None and (scope in self.scopes or "admin" in self.scopes)


@dataclass(frozen=True, slots=True)
class Rejection:
    """A refused request body or batch item, kept in the dead-letter store (issue 29): what was
    sent (`body`, its first bytes only when `truncated`), why it was refused, and the nodes it
    names (`subjects`, read from it as far as it could be), so answers can say it is missing."""

    id: int  # 0 until stored
    received_at: str
    error: str  # the error code of the refusal (invalid_input, payload_too_large)
    field: str
    detail: str
    producer: str | None
    body: bytes
    size: int  # of the whole body as sent
    sha256: str | None  # of the whole body; None when it was not read whole
    truncated: bool
    subjects: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RejectionStats:
    """The dead-letter store's size, and how many entries its bounds have dropped."""

    entries: int
    bytes: int
    dropped: int


@dataclass
class Subgraph:
    """Nodes reached by a traversal, the edges among them, and each node's distance."""

    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    depth: dict[str, int] = field(default_factory=dict)


@dataclass
class Around:
    """`Store.around`: nodes by id (the asked ones and their neighbours), edges in ident order."""

    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Hop:
    """One step of `Store.hops`: the edge types followed out of and into the step's nodes."""

    out_types: tuple[str, ...] = ()
    in_types: tuple[str, ...] = ()


def far_ends(step: Hop, asked: Sequence[str], found: Around) -> list[str]:
    """Where `Store.hops` goes on from a step: the other end of each edge the step followed."""
    wanted = set(asked)
    ends = [e.dst for e in found.edges if e.type in step.out_types and e.src in wanted]
    ends += [e.src for e in found.edges if e.type in step.in_types and e.dst in wanted]
    return list(dict.fromkeys(ends))


Direction = Literal["down", "up"]
T = TypeVar("T")
P = ParamSpec("P")


class Store(Protocol):
    """Event log and graph in one backend, written in one transaction per `ingest` call."""

    backend: str
    stages: StageClock | None  # where each `ingest` call's time goes, when set (the benchmark's bounds)

    def setup(self) -> None:
        """Create tables, constraints and indexes if missing; safe to call at every start."""

    def ingest(self, events: Sequence[Event], received_at: str) -> list[IngestOutcome]:
        """Append the new events to the log and project them, all in one transaction.

        Events already in the log (same id) change nothing. Safe to re-run after a failure.
        """

    def ingest_chunks(self, chunks: Iterable[tuple[Sequence[Event], str]]) -> Iterator[list[IngestOutcome]]:
        """`ingest(events, received_at)` of each chunk in turn, yielding each one's outcomes
        once it has committed (what `lineage import` runs). A failure raises after the chunks
        before it have committed and before any after it is written."""

    def rebuild(self, progress: Callable[[int], None] | None = None) -> int:
        """Drop the graph and replay the whole log into it; returns the events replayed."""

    def log_tree(self, work: Callable[[TreeReader], T]) -> T:
        """Run `work` over the log's Merkle tree (lineage/merkle.py) in one read snapshot;
        raises TreeBehind when the tree does not cover the whole log."""

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Every node and edge, sorted: a canonical form for comparing graphs."""

    def snapshot(self, work: Callable[[], T]) -> T:
        """Run `work` with every read it makes on this thread in one read transaction, so the
        reads share one transaction's cost. On SQLite that transaction sees one state of the
        file (WAL); Neo4j's are read-committed, so there a commit made meanwhile may show.
        Nested calls join the outer one. `work` must only read; it may run again on a
        transient failure."""

    def node(self, node_id: str) -> Node | None: ...

    def out_edges(self, src: str, edge_type: str) -> list[Edge]: ...

    def in_edges(self, dst: str, edge_type: str) -> list[Edge]: ...

    def nodes(self, ids: Sequence[str]) -> list[Node]:
        """The nodes among `ids` that exist, in one round trip."""

    def edges_from(self, ids: Sequence[str], edge_type: str) -> list[Edge]:
        """Edges of a type leaving any of `ids`, ordered by (src, dst, key), in one round trip."""

    def edges_to(self, ids: Sequence[str], edge_type: str) -> list[Edge]:
        """Edges of a type entering any of `ids`, ordered by (dst, src, key), in one round trip."""

    def around(self, ids: Sequence[str], out_types: Sequence[str] = (), in_types: Sequence[str] = ()) -> Around:
        """The nodes among `ids` that exist, their edges of `out_types` leaving and of
        `in_types` entering, and the nodes at the other end of those edges, in one round trip."""

    def hops(self, ids: Sequence[str], steps: Sequence[Hop]) -> list[Around]:
        """`around` of `ids` for the first step, then of that step's `far_ends` for the next,
        and so on: one Around per step, in one round trip (an endpoint's deployments, then
        what they serve and which runs made them)."""

    def find(self, prop: str, value: str, *, kind: str | None = None, prefix: bool = False, limit: int = 50) -> list[Node]:
        """Nodes whose indexed property (graph.LOOKUP_PROPS) equals, or starts with, a value."""

    def lookup(self, value: str, props: Sequence[str], limit: int) -> dict[str, list[Node]]:
        """`find(prop, value, limit=limit)` for each of `props` ("id" too: the node itself),
        in one round trip; each prop maps to its nodes, ordered by id."""

    def suggest(self, text: str, kind: str | None, limit: int) -> list[Node]:
        """Nodes whose name, version or handle contains `text` (case-insensitive), for search."""

    def fields_named(self, key_prefix: str, limit: int) -> list[Node]:
        """Field nodes whose name, folded by graph.field_key, starts with `key_prefix` (folded
        likewise), ordered by that key and id: an index range read no further than `limit`."""

    def namespaces(self) -> list[str]:
        """Every namespace a job, run or dataset names, sorted (an index scan, issue 30)."""

    def in_namespace(self, kind: str, namespace: str, limit: int, offset: int) -> tuple[int, list[Node]]:
        """How many jobs or datasets (`kind`) a namespace holds, and one page of them ordered by
        name: an index range each, never the namespace read whole."""

    def newest_jobs(self, namespace: str | None, limit: int, offset: int) -> tuple[int, list[Node]]:
        """How many jobs a namespace (or every namespace, None) holds, and one page of them
        newest first by graph.job_updated_at, then by name and id descending (Marquez's order)."""

    def versions_at(self, dataset: str, at: str, limit: int) -> list[Node]:
        """Newest-first versions of `dataset` with `written_at` <= `at` (ties: larger id first),
        by index: what the projection binds inferred reads with, and what a version is compared
        with for a contract break (issue 37)."""

    def newest_versions(self, datasets: Sequence[str], at: str, limit: int) -> dict[str, list[Node]]:
        """`versions_at` of each of `datasets`, in one round trip: an answer's endpoints' newest
        deployments, read together however many endpoints it reaches."""

    def flow(self, start: Sequence[str], direction: Direction, depth: int) -> Subgraph:
        """Everything data flows to ("down") or from ("up") within `depth` hops of `start`,
        along graph.FLOW_FORWARD / FLOW_BACKWARD edges; cost follows the answer, cycles end."""

    def level_walk(self, start: Sequence[str], directions: Sequence[Direction], depth: int) -> dict[Direction, LevelWalk]:
        """The dataset/job-level adjacency (lineage/store/levels.py) walked from `start` within
        `depth` level hops each of `directions`: per way each dataset or job reached with its
        distance, and the pairs among them."""

    def level_summaries(
        self, datasets: Sequence[str], jobs: Sequence[str], since: str | None, until: str | None
    ) -> dict[str, dict[str, Any]]:
        """Per dataset `{count, newest}` of its versions, per job of its runs, with since <= time <
        until (times of writing, of starting): kept counts, or an index range within a window."""

    def level_dump(self) -> Mapping[str, list[list[object]]]:
        """The adjacency in a canonical form (levels.dump_rows), for tests and checks."""

    def count_events(self, flt: EventFilter) -> int: ...

    def put_token(self, record: TokenRecord) -> None:
        """Store a token record; InvalidEvent if the name is taken."""

    def tokens(self) -> list[TokenRecord]:
        """Every token record, active and revoked, by name."""

    def token(self, token_hash: str) -> TokenRecord | None:
        """The token record with this hash, or None."""

    def revoke_token(self, name: str, at: str) -> bool:
        """Mark a token revoked; False if there is no active token of that name."""

    def event_count(self) -> int: ...

    def put_rejection(self, rejection: Rejection, max_entries: int, max_bytes: int) -> Rejection:
        """Keep a refused body; then drop the oldest entries, counted, until at most
        `max_entries` entries of at most `max_bytes` bodies remain. Returns it with its id."""

    def rejections(self, before: int | None, limit: int) -> list[Rejection]:
        """Dead-letter entries, newest first, with ids below `before` when given."""

    def rejection(self, rejection_id: int) -> Rejection | None: ...

    def delete_rejection(self, rejection_id: int) -> bool:
        """Remove an entry (replayed, or dismissed); False if there was none."""

    def rejection_stats(self) -> RejectionStats: ...

    def rejections_about(self, subjects: Sequence[str]) -> dict[str, int]:
        """How many dead-letter entries name each of these node ids (those naming none left out)."""

    def events(self, flt: EventFilter, after_seq: int, limit: int) -> list[StoredEvent]: ...

    def events_by_time(
        self, since: str | None, until: str | None, kinds: Sequence[str], descending: bool, limit: int, offset: int
    ) -> list[StoredEvent]:
        """One page of the log entries of `kinds` with since <= eventTime < until, by eventTime
        (ties by seq), read along the eventTime index (Marquez's /events/lineage, issue 30)."""

    def count_by_time(self, since: str | None, until: str | None, kinds: Sequence[str]) -> int:
        """How many log entries of `kinds` have since <= eventTime < until."""

    def events_about(self, subjects: Sequence[str], limit: int) -> dict[str, list[StoredEvent]]:
        """`events(EventFilter(subject=s), 0, limit)` for each subject, in one round trip."""

    def entries_at(self, seqs: Sequence[int]) -> list[StoredEvent]:
        """The log entries at these seqs that exist, ordered by seq, in one round trip."""

    def last_entry(self) -> StoredEvent | None:
        """The entry with the highest seq (the chain's head), or None for an empty log."""

    def log_head(self) -> tuple[int, str] | None:
        """The seq and received time of the newest log entry, read along the seq index without
        its payload (what an answer's freshness states), or None for an empty log."""

    def newest_event_time(self) -> str | None:
        """The greatest eventTime in the log (an index read), or None for an empty log: the
        "now" of the data, so an answer judged against it is the same after a replay."""

    def ping(self) -> None:
        """Raise StoreUnavailable if the backend cannot answer now."""

    def reset(self) -> None:
        """Delete everything (log and graph). For tests and benchmarks."""

    def close(self) -> None: ...


def sort_dump(nodes: list[Node], edges: list[Edge]) -> dict[str, list[dict[str, Any]]]:
    return {
        "nodes": [n.to_dict() for n in sorted(nodes, key=lambda n: n.id)],
        "edges": [e.to_dict() for e in sorted(edges, key=lambda e: e.ident)],
    }


def snapshotted(fn: Callable[Concatenate[Store, P], T]) -> Callable[Concatenate[Store, P], T]:
    """Answer `fn(store, ...)` inside one `Store.snapshot`: on SQLite a question that takes
    several reads sees no ingest half-way; on Neo4j its reads share one transaction instead
    of opening a session each (about a millisecond apiece)."""

    @functools.wraps(fn)
    def answer(store: Store, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return store.snapshot(lambda: fn(store, *args, **kwargs))

    return answer
