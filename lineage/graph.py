"""Graph records, the mutations a projection returns, and the read view it is handed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

# Primary node kinds (DESIGN.md section 3); every node has exactly one.
JOB, RUN, DATASET, VERSION, COMMIT, ALIAS = "Job", "Run", "Dataset", "DatasetVersion", "Commit", "Alias"
ANNOTATION = "Annotation"  # a tag put on a node by a person (issue 3), itself an event in the log
FIELD = "Field"  # a column of one dataset version (issue 36, lineage/columns.py)
KINDS = (JOB, RUN, DATASET, VERSION, COMMIT, ALIAS, ANNOTATION, FIELD)
# Extra labels given by our ml_* facets.
FEATURE_VIEW, MODEL, ENDPOINT = "FeatureView", "Model", "Endpoint"
FEATURE_VIEW_VERSION, MODEL_VERSION, DEPLOYMENT = "FeatureViewVersion", "ModelVersion", "Deployment"
EXTRA_LABELS = (FEATURE_VIEW, MODEL, ENDPOINT, FEATURE_VIEW_VERSION, MODEL_VERSION, DEPLOYMENT)

RUN_OF, READ, WROTE, VERSION_OF = "RUN_OF", "READ", "WROTE", "VERSION_OF"
AT_COMMIT, CHILD_OF, SERVES, POINTS_TO = "AT_COMMIT", "CHILD_OF", "SERVES", "POINTS_TO"
ANNOTATES = "ANNOTATES"
# Static lineage (issue 30): the inputs and outputs a JobEvent declares, (Job)->(Dataset), until a
# later run of the job supersedes them; and the names of one dataset joined by its `symlinks`
# facet, (Dataset)-[:SYMLINK]->(Dataset) from the name the facet was on to each one it lists.
DECLARED_READ, DECLARED_WRITE, SYMLINK = "DECLARED_READ", "DECLARED_WRITE", "SYMLINK"
# Column lineage (issue 36): (DatasetVersion)-[:HAS_FIELD]->(Field), and (Field)-[:FEEDS]->(Field)
# from an input column to the output column made from it, with the transformations. Column
# edges are walked by lineage/fieldlineage.py only, never by the dataset-level flow.
HAS_FIELD, FEEDS = "HAS_FIELD", "FEEDS"
EDGE_TYPES = (
    RUN_OF, READ, WROTE, VERSION_OF, AT_COMMIT, CHILD_OF, SERVES, POINTS_TO, ANNOTATES, DECLARED_READ, DECLARED_WRITE, SYMLINK,
    HAS_FIELD, FEEDS,
)

# Edges along which data flows, and which way: downstream of a version are the runs that read
# it, downstream of a run the versions it wrote, downstream of a model version the deployments
# serving it, downstream of a commit the runs built from it, downstream of a run its child runs;
# at job level, downstream of a dataset the jobs declaring it an input, downstream of such a job
# the datasets it declares as outputs. A symlink joins two names of one dataset both ways.
FLOW_FORWARD = (WROTE, DECLARED_WRITE)  # flows src -> dst
FLOW_BACKWARD = (READ, SERVES, AT_COMMIT, CHILD_OF, DECLARED_READ)  # flows dst -> src
FLOW_BOTH = (SYMLINK,)  # flows either way

# Scalar node properties the stores index, for resolving human refs (DESIGN.md section 5).
LOOKUP_PROPS = (
    "name",  # Job, Dataset
    "version",  # DatasetVersion label
    "model_ref",  # ModelVersion: model@version
    "feature_view_ref",  # FeatureViewVersion: view@version
    "alias_ref",  # Alias: model@alias
    "model",  # Alias: the model it belongs to
    "endpoint",  # Endpoint datasets and their deployments
    "model_name",  # Model datasets and their versions
    "feature_view",  # FeatureView datasets and their versions
    "run_id",  # Run
    "sha",  # Commit
    "target",  # Annotation: the node it is about
    "alt_ref",  # ModelVersion / FeatureViewVersion: model@version as a disagreeing ml_* facet named it
    "run_key",  # Run: `job @ start second`, shared by the runs of one name and second
    "run_label",  # Run: run_key, with a suffix where runs share it (issue 30)
    "namespace",  # Job, Dataset, DatasetVersion: Marquez's API lists by namespace (issue 30)
)


def run_key(job_name: str | None, when: str | None) -> str | None:
    """A run's label before any suffix: `job @ 2026-09-02T08:30:12Z`, its start (or first
    eventTime) to the second. Runs of one job name within one second share it."""
    if not job_name or not when:
        return None
    return f"{job_name} @ {when[:19]}Z"


# What a search matches (substring, case-insensitive): the human-facing ones.
SUGGEST_PROPS = tuple(p for p in LOOKUP_PROPS if p not in {"target", "model", "alt_ref", "namespace", "run_key", "run_label"})

def job_updated_at(props: dict[str, Any]) -> str:
    """When a job was last spoken of: the newest eventTime of its runs' events (`last_run_at`)
    and of its own job events (the newest is kept in `_declared`), '' for neither. Marquez lists
    jobs by it, newest first; both stores index it (SQLite by the same expression over props)."""
    declared = ((props.get("_declared") or {}).get("order") or [""])[0]
    return max(str(props.get("last_run_at") or ""), str(declared or ""))


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def field_key(name: str) -> str:
    """What search compares a field's name by: ASCII letters lowered, nothing else changed.
    Fields are too many for search's substring scan; both stores index this key instead, and
    SQLite's index may use only its built-in lower(), which folds ASCII alone."""
    return name.translate(_ASCII_LOWER)


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    kind: str
    labels: frozenset[str] = frozenset()
    props: dict[str, Any] = field(default_factory=dict, compare=True, hash=False)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "labels": sorted(self.labels), "props": self.props}


@dataclass(frozen=True, slots=True)
class Edge:
    """A typed, directed edge; `key` tells apart several edges of one type between two nodes."""

    src: str
    type: str
    dst: str
    key: str = ""
    props: dict[str, Any] = field(default_factory=dict, compare=True, hash=False)

    @property
    def ident(self) -> tuple[str, str, str, str]:
        return (self.src, self.type, self.dst, self.key)

    def to_dict(self) -> dict[str, Any]:
        return {"src": self.src, "type": self.type, "dst": self.dst, "key": self.key, "props": self.props}


@dataclass(frozen=True, slots=True)
class PutNode:
    """Create or replace a node whole (the projection has already merged its props)."""

    node: Node


@dataclass(frozen=True, slots=True)
class PutEdge:
    """Create or replace an edge whole; both ends exist by the time it is applied."""

    edge: Edge


@dataclass(frozen=True, slots=True)
class DeleteEdge:
    src: str
    type: str
    dst: str
    key: str = ""


@dataclass(frozen=True, slots=True)
class DeleteNode:
    """Remove a node and its edges (an unversioned placeholder nobody reads any more)."""

    id: str


Mutation = PutNode | PutEdge | DeleteEdge | DeleteNode


class GraphView(Protocol):
    """What the projection may read: the store's state, including earlier writes of the batch."""

    def node(self, node_id: str) -> Node | None: ...

    def out_edges(self, src: str, edge_type: str) -> list[Edge]: ...

    def in_edges(self, dst: str, edge_type: str) -> list[Edge]: ...

    def versions_at(self, dataset: str, at: str, limit: int) -> list[Node]:
        """Newest-first versions of `dataset` with `written_at` <= `at` (ties: larger id first)."""
        ...

    def inferred_reads(self, dataset: str, since: str) -> list[Edge]:
        """READ edges with `inferred` true, for `dataset`, with `read_at` >= `since`."""
        ...

    def nodes_with(self, kind: str, prop: str, value: str) -> list[Node]:
        """Nodes of a kind whose scalar property equals a value (used for model-name lookups)."""
        ...

    def preload(self, node_ids: Sequence[str], out_types: Sequence[str] = (), in_types: Sequence[str] = ()) -> None:
        """A hint that these nodes, and their edges of these types, are about to be read one by
        one: a view over a remote store fetches them in a few round trips. Doing nothing is
        always correct."""
        ...

    def preload_matching(self, kind: str, prop: str, values: Sequence[str]) -> None:
        """A hint, like `preload`: `nodes_with(kind, prop, v)` is about to be asked for each of
        these values."""
        ...


class MemoryGraph:
    """An in-memory graph: the reference GraphView for tests, and a mutation applier."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.edges: dict[tuple[str, str, str, str], Edge] = {}

    def apply(self, mutations: list[Mutation]) -> None:
        for m in mutations:
            if isinstance(m, PutNode):
                self.nodes[m.node.id] = m.node
            elif isinstance(m, PutEdge):
                assert m.edge.src in self.nodes and m.edge.dst in self.nodes, m.edge
                self.edges[m.edge.ident] = m.edge
            elif isinstance(m, DeleteEdge):
                self.edges.pop((m.src, m.type, m.dst, m.key), None)
            else:
                self.nodes.pop(m.id, None)
                for ident in [k for k in self.edges if k[0] == m.id or k[2] == m.id]:
                    del self.edges[ident]

    def node(self, node_id: str) -> Node | None:
        return self.nodes.get(node_id)

    def out_edges(self, src: str, edge_type: str) -> list[Edge]:
        return sorted((e for e in self.edges.values() if e.src == src and e.type == edge_type), key=_edge_order)

    def in_edges(self, dst: str, edge_type: str) -> list[Edge]:
        return sorted((e for e in self.edges.values() if e.dst == dst and e.type == edge_type), key=_edge_order)

    def versions_at(self, dataset: str, at: str, limit: int) -> list[Node]:
        found = [
            n
            for n in self.nodes.values()
            if n.kind == VERSION and n.props.get("dataset") == dataset
            and n.props.get("written_at") is not None and n.props["written_at"] <= at
        ]
        found.sort(key=lambda n: (n.props["written_at"], n.id), reverse=True)
        return found[:limit]

    def inferred_reads(self, dataset: str, since: str) -> list[Edge]:
        return sorted(
            (
                e
                for e in self.edges.values()
                if e.type == READ and e.props.get("inferred") and e.props.get("dataset") == dataset
                and e.props.get("read_at", "") >= since
            ),
            key=_edge_order,
        )

    def nodes_with(self, kind: str, prop: str, value: str) -> list[Node]:
        return sorted(
            (n for n in self.nodes.values() if n.kind == kind and n.props.get(prop) == value), key=lambda n: n.id
        )

    def preload(self, node_ids: Sequence[str], out_types: Sequence[str] = (), in_types: Sequence[str] = ()) -> None:
        pass  # everything is in memory already

    def preload_matching(self, kind: str, prop: str, values: Sequence[str]) -> None:
        pass


def _edge_order(edge: Edge) -> tuple[str, str, str, str]:
    return edge.ident
