"""Projection of one event into graph mutations: a pure function shared by both stores.

`project(event, view)` reads only the event and the graph view it is handed and returns the
mutations to apply; no I/O, clock or randomness. Every derived value is a commutative merge
(min, max, union, or "newest by (eventTime, event hash)"), or is recomputed from the facts
it depends on (an endpoint's timeline from the earliest deployment a change moves on), so the
final graph is a function of the set of events, never of their arrival order (DESIGN.md
section 3).

Why one module of this size: every rule (runs, versions and their inference, deployments,
aliases and their gates, annotations, symlinks, declared lineage, problems) writes through the
one `_Projector` and its overlay, and several re-trigger each other within one event (a new
version rebinds inferred reads, which refreshes deployments, which moves endpoint timelines).
Order independence is a property of them together, and the property tests treat them so; the
pieces with no such coupling already live apart (overlay, ids, events, facets).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from lineage import ids
from lineage.columns import COLUMN_FACETS, ColumnRules, has_columns
from lineage.events import TERMINAL_STATES, DatasetRef, Event, Facets, Problem, commit_of, declared_version
from lineage.graph import (
    ALIAS,
    ANNOTATES,
    ANNOTATION,
    AT_COMMIT,
    CHILD_OF,
    COMMIT,
    DATASET,
    DECLARED_READ,
    DECLARED_WRITE,
    DEPLOYMENT,
    ENDPOINT,
    FEATURE_VIEW,
    FEATURE_VIEW_VERSION,
    HAS_FIELD,
    JOB,
    MODEL,
    MODEL_VERSION,
    POINTS_TO,
    READ,
    RUN,
    RUN_OF,
    SERVES,
    SYMLINK,
    VERSION,
    VERSION_OF,
    WROTE,
    Edge,
    GraphView,
    Mutation,
    Node,
    run_key,
)
from lineage.overlay import Overlay

FAILED_STATES = frozenset({"FAIL", "ABORT"})
# Why an alias move is held rather than made: its approval's decision, or its run failed.
HELD_DECISIONS = frozenset({"pending", "rejected", "failed"})
_STATE_RANK = {"OTHER": 0, "START": 1, "RUNNING": 1, "COMPLETE": 2, "FAIL": 2, "ABORT": 2}
INFERRED_KEY = "inferred"
# Later than any event time (times are normalised to this fixed-width form).
END_OF_TIME = "9999-12-31T23:59:59.999999Z"


def written_rank(event: Event) -> list[Any] | None:
    """How strongly an event says a version exists: COMPLETE (0) beats START/RUNNING (1).

    The smallest (rank, eventTime) over the observations that count is the version's
    `written_at`, so a version counts from its completion when that is known. FAIL/ABORT write
    nothing, and neither does the START of a run whose terminal state is FAIL or ABORT: each
    observation is kept per writing run (`_written_by`) and counts only while that run has not
    failed (docs/releases.md, "Outputs of failed runs").
    """
    if event.kind == "dataset" or event.event_type == "COMPLETE":
        return [0, event.event_time]
    if event.event_type in FAILED_STATES:
        return None
    return [1, event.event_time]


def output_label(ref: DatasetRef, event: Event) -> str | None:
    """The version an event writes of `ref` (a run's output, or a dataset event's dataset): the
    one it declares, else, for a run, one derived from the run (DESIGN.md section 3). The one
    statement of this rule: the projection, `subjects` and the stores' prefetch all ask here."""
    return declared_version(ref) or event.run_uuid


def _merge_facets(props: dict[str, Any], facets: Facets, order: list[Any]) -> bool:
    """Per facet key, the value from the greatest `order` wins whole: newest event, ties broken
    by event hash; for datasets, what the writer said outranks what a reader said (a deploy
    run naming a model as input must not erase the metrics its training run recorded)."""
    if not facets:
        return False
    merged = dict(props.get("facets") or {})
    src = dict(props.get("_facet_src") or {})
    changed = False
    for key, value in facets.items():
        if key not in src or src[key] < order:
            merged[key], src[key] = value, order
            changed = True
    props["facets"], props["_facet_src"] = merged, src
    return changed


def _timeline_key(node: Node) -> tuple[str, str]:
    return (node.props["written_at"], node.id)


ON_TIMELINE = ("live", "ended")  # deployment statuses that hold a place in the timeline


def preload_deployments(view: GraphView, deployments: Sequence[str]) -> None:
    """Hint `view` with what a timeline reads of these deployments: the models they serve, the
    runs that wrote them, then those runs; two round trips however many there are."""
    view.preload(deployments, out_types=(SERVES,), in_types=(WROTE,))
    view.preload([w.src for d in deployments for w in view.in_edges(d, WROTE)])


def _written_by(props: dict[str, Any]) -> dict[str, list[Any]]:
    """A version's write observations by writing run uuid ("" for dataset events); a version
    stored before they were kept per run has its one merged observation under ""."""
    if props.get("_written_by") is not None:
        return dict(props["_written_by"])
    return {"": props["_written"]} if props.get("_written") else {}


def _min_pair(current: list[Any] | None, new: list[Any] | None) -> list[Any] | None:
    if new is None:
        return current
    return new if current is None or new < current else current


class _Projector:
    def __init__(self, event: Event, view: GraphView) -> None:
        self.e = event
        self.g = Overlay(view)
        self.order = [event.event_time, event.id]
        self.writer_order = [1, event.event_time, event.id]  # outputs and dataset events
        self.reader_order = [0, event.event_time, event.id]  # inputs
        self.runs_to_refresh: set[str] = set()
        self.aliases_to_refresh: set[str] = set()
        self.rebinds: dict[str, str] = {}  # dataset -> earliest read time that may bind elsewhere
        self.annotated: set[str] = set()  # nodes whose annotation summary must be recomputed
        self.deployments: dict[str, set[str]] = {}  # endpoint -> its deployments written here
        self.run_keys: set[str] = set()  # run labels whose runs must be told apart anew
        self.columns = ColumnRules(self)
        self.columns_to_refresh: set[str] = set()  # versions whose fields are recomputed (issue 36)

    # --- generic upserts -----------------------------------------------------------------
    def _upsert(self, node_id: str, kind: str, base_props: dict[str, Any]) -> tuple[Node | None, dict[str, Any], set[str]]:
        current = self.g.node(node_id)
        props = dict(current.props) if current else {}
        for key, value in base_props.items():
            props.setdefault(key, value)
        labels = set(current.labels) if current else set()
        return current, props, labels

    def _put(self, node_id: str, kind: str, labels: set[str], props: dict[str, Any]) -> Node:
        is_new = self.g.node(node_id) is None
        node = Node(node_id, kind, frozenset(labels), props)
        self.g.put_node(node)
        if is_new and kind != ANNOTATION:
            # Annotations projected before their target existed attach now (order independence).
            for annotation in self.g.nodes_with(ANNOTATION, "target", node_id):
                self._edge(annotation.id, ANNOTATES, node_id)
                self.annotated.add(node_id)
        return node

    def _edge(self, src: str, edge_type: str, dst: str, key: str = "", props: dict[str, Any] | None = None) -> None:
        self.g.put_edge(Edge(src, edge_type, dst, key, props or {}))

    def job(self, namespace: str, name: str, facets: Facets, ran_at: str | None = None) -> str:
        """Upsert a job; `ran_at` is the eventTime of an event of one of its own runs."""
        node_id = ids.job_id(namespace, name)
        _, props, labels = self._upsert(node_id, JOB, {"namespace": namespace, "name": name})
        if ran_at is not None:
            props["last_run_at"] = max(props.get("last_run_at") or ran_at, ran_at)
        _merge_facets(props, facets, self.order)
        merged = props.get("facets") or {}
        props["job_type"] = (merged.get("jobType") or {}).get("jobType")
        props["owners"] = sorted({o.get("name", "") for o in (merged.get("ownership") or {}).get("owners", [])})
        self._put(node_id, JOB, labels, props)
        self._twins(node_id, ids.dataset_id(namespace, name))
        if ran_at is not None and props.get("_declared"):
            self.refresh_declared(node_id)
        return node_id

    def _twins(self, node_id: str, twin_id: str) -> None:
        """A job and a dataset of one namespace and name both answer to `namespace:name`: each
        is marked, so that its label names its kind (`job:ns:name`, `dataset:ns:name`)."""
        twin = self.g.node(twin_id)
        if twin is None:
            return
        for node in (self.g.node(node_id), twin):
            if node is not None and not node.props.get("twin"):
                self._put(node.id, node.kind, set(node.labels), dict(node.props) | {"twin": True})

    def run_stub(self, run_uuid: str, job: str, namespace: str, name: str) -> str:
        """A run known only as another run's parent, until its own events arrive."""
        node_id = ids.run_id(run_uuid)
        _, props, labels = self._upsert(
            node_id, RUN, {"run_id": run_uuid, "state": None, "job_namespace": namespace, "job_name": name}
        )
        props["job"] = min(props.get("job") or job, job)
        self._put(node_id, RUN, labels, props)
        self._edge(node_id, RUN_OF, job)
        return node_id

    def dataset(self, ref: DatasetRef, writer: bool) -> str:
        node_id = ids.dataset_id(ref.namespace, ref.name)
        _, props, labels = self._upsert(node_id, DATASET, {"namespace": ref.namespace, "name": ref.name})
        _merge_facets(props, ref.facets, self.writer_order if writer else self.reader_order)
        merged = props.get("facets") or {}
        for facet, label, prop in (
            ("ml_featureView", FEATURE_VIEW, "feature_view"),
            ("ml_modelVersion", MODEL, "model_name"),
            ("ml_endpoint", ENDPOINT, "endpoint"),
        ):
            if facet in merged:
                labels.add(label)
                props[prop] = merged[facet].get("name")
        self._put(node_id, DATASET, labels, props)
        self._twins(node_id, ids.job_id(ref.namespace, ref.name))
        for namespace, name in symlinks(ref):
            self._symlink(node_id, self.dataset(DatasetRef(namespace=namespace, name=name), writer=False))
        return node_id

    def _symlink(self, src: str, dst: str) -> None:
        """Join two names of one dataset (the `symlinks` facet): each is marked, so that reading
        either one looks at the versions of both; reads already bound look again."""
        if src == dst or any(e.dst == dst for e in self.g.out_edges(src, SYMLINK)):
            return
        self._edge(src, SYMLINK, dst)
        for dataset in (src, dst):
            node = self.g.node(dataset)
            if node is not None and not node.props.get("symlinked"):
                self._put(dataset, DATASET, set(node.labels), dict(node.props) | {"symlinked": True})
            self.rebinds[dataset] = ""  # every inferred read of either name

    def names_of(self, dataset: str) -> list[str]:
        """The dataset and every name symlinks join it to (transitively, a bounded few)."""
        found = [dataset]
        for current in found:
            node = self.g.node(current)
            if node is None or not node.props.get("symlinked") or len(found) >= MAX_NAMES:
                continue
            linked = [e.dst for e in self.g.out_edges(current, SYMLINK)] + [e.src for e in self.g.in_edges(current, SYMLINK)]
            found += [d for d in sorted(linked) if d not in found]
        return found[:MAX_NAMES]

    def version(
        self,
        dataset: str,
        ref: DatasetRef,
        label: str | None,
        written: list[Any] | None,
        declared: bool = True,
        writer: bool = False,
        by: str | None = None,
    ) -> str:
        """Upsert a version of `dataset`; `label` None is the unversioned placeholder.

        `declared` says the event named the version (a facet), rather than it being derived;
        `by` is the uuid of the run whose output it is (None: a dataset event or an input)."""
        node_id = ids.version_id(dataset, label or "")
        _, props, labels = self._upsert(
            node_id,
            VERSION,
            {"dataset": dataset, "namespace": ref.namespace, "name": ref.name, "version": label, "declared": False},
        )
        props["placeholder"] = label is None
        props["declared"] = bool(props.get("declared")) or (declared and label is not None)
        old_written = props.get("written_at")
        if label is not None:
            _merge_facets(props, ref.facets, self.writer_order if writer else self.reader_order)
            if written is not None or by is not None:  # an input changes no write observation
                observed = _written_by(props)
                if written is not None:
                    observed[by or ""] = _min_pair(observed.get(by or ""), written)
                props["_written_by"] = observed
                self._settle_written(props, by is not None)
            self._artifact(props, ref.facets.get("ml_artifact"))
        merged = props.get("facets") or {}
        newly_model = False
        if "ml_featureView" in merged:
            labels.add(FEATURE_VIEW_VERSION)
            props["feature_view"] = merged["ml_featureView"].get("name")
        if "ml_modelVersion" in merged:
            model = merged["ml_modelVersion"].get("name")
            newly_model = MODEL_VERSION not in labels or props.get("model_name") != model
            labels.add(MODEL_VERSION)
            props["model_name"], props["model_ref"] = model, f"{model}@{label}"
        if "ml_featureView" in merged:
            props["feature_view_ref"] = f"{merged['ml_featureView'].get('name')}@{label}"
        props.pop("alt_ref", None)
        for key in ("ml_featureView", "ml_modelVersion"):  # the model's name wins where both are
            named = (merged.get(key) or {}).get("version")
            if label is not None and isinstance(named, str) and named != label:
                # A disagreeing ml_* version (issue 29): the version facet's label is the
                # version, and the other resolves to the same node.
                props["alt_ref"] = f"{merged[key].get('name')}@{named}"
        if "ml_endpoint" in merged:
            labels.add(DEPLOYMENT)
            props["endpoint"] = merged["ml_endpoint"].get("name")
            self.deployments.setdefault(dataset, set()).add(node_id)
        self._put(node_id, VERSION, labels, props)
        self._edge(node_id, VERSION_OF, dataset)
        if label is not None and any(key in merged for key in COLUMN_FACETS):
            self.columns_to_refresh.add(node_id)
        if newly_model:
            self._model_version_appeared(node_id, props["model_name"])
        self._written_moved(dataset, old_written, props.get("written_at"))
        return node_id

    def _written_moved(self, dataset: str, old: str | None, new: str | None) -> None:
        if new != old:
            # Rebinding waits until the event's WROTE edges exist (see `resolve`).
            since = min(x for x in (old, new) if x is not None)
            self.rebinds[dataset] = min(self.rebinds.get(dataset, since), since)

    def _run_failed(self, run_uuid: str) -> bool:
        run = self.g.node(ids.run_id(run_uuid))
        return run is not None and run.props.get("state") in FAILED_STATES

    def _settle_written(self, props: dict[str, Any], run_wrote: bool) -> None:
        """`written_at` from the observations of writers that have not failed; `write_failed`
        when every run that wrote the version failed and no dataset event declared it (it stays
        in the graph, visible, but nothing binds to it). `run_wrote`: a run is known to have
        written it (a run whose only events are FAIL or ABORT leaves no observation)."""
        observed = props.get("_written_by") or {}
        runs = [k for k in observed if k]
        if len(runs) > 1:
            self.g.preload([ids.run_id(k) for k in runs])
        failed = {k for k in runs if self._run_failed(k)}
        counted = [w for key, w in observed.items() if key not in failed]
        props["_written"] = min(counted) if counted else None
        props["written_at"] = props["_written"][1] if props["_written"] else None
        props["write_failed"] = (run_wrote or bool(observed)) and not counted

    def settle_outputs(self, run: str) -> None:
        """The run turned failed or back: each version it wrote counts (or not) again."""
        wrote = self.g.out_edges(run, WROTE)
        self.g.preload([e.dst for e in wrote])
        for edge in wrote:
            node = self.g.node(edge.dst)
            if node is None or node.props.get("placeholder"):
                continue
            props = dict(node.props)
            props["_written_by"] = _written_by(props)
            old = props.get("written_at")
            self._settle_written(props, True)
            if props != node.props:
                self._put(node.id, VERSION, set(node.labels), props)
                self._written_moved(props["dataset"], old, props.get("written_at"))

    def _artifact(self, props: dict[str, Any], facet: dict[str, Any] | None) -> None:
        """First content hash (by eventTime, hash) is the version's; any other is a violation."""
        if not facet:
            return
        seen = dict(props.get("_artifacts") or {})
        sha = str(facet["sha256"]).lower()
        seen[sha] = min(seen[sha], self.order) if sha in seen else self.order
        ranked = sorted(seen.items(), key=lambda kv: kv[1])
        props["_artifacts"] = seen
        props["sha256"] = ranked[0][0]
        props["immutability_violations"] = [
            {"sha256": s, "first_seen": o[0], "event": o[1], "expected": ranked[0][0]} for s, o in ranked[1:]
        ]

    # --- version inference ---------------------------------------------------------------
    def resolve(self, dataset: str, at: str, reader: str) -> Node | None:
        """The newest version written at or before `at`, not counting the reader's own output
        (a run that updates a dataset in place reads the version before its own), of the
        dataset under any of its names (symlinks)."""
        names = self.names_of(dataset)
        found = [v for name in names for v in self.g.versions_at(name, at, 4)]
        found.sort(key=_timeline_key, reverse=True)
        for candidate in found:
            if not any(e.src == reader for e in self.g.in_edges(candidate.id, WROTE)):
                return candidate
        return None

    def bind_target(self, dataset: str, ref: DatasetRef, at: str, reader: str) -> str:
        found = self.resolve(dataset, at, reader)
        return found.id if found else self.version(dataset, ref, None, None)

    def inferred_read(self, run: str, dataset: str, ref: DatasetRef) -> None:
        existing = [e for e in self.g.out_edges(run, READ) if e.key == INFERRED_KEY and e.props.get("dataset") == dataset]
        props: dict[str, Any] = dict(existing[0].props) if existing else {"inferred": True, "dataset": dataset}
        props["read_at"] = min(props.get("read_at", self.e.event_time), self.e.event_time)
        _merge_facets(props, ref.io_facets, self.order)
        target = self.bind_target(dataset, ref, props["read_at"], run)
        for old in existing:
            if old.dst != target:
                self._drop_read(old)
        self._edge(run, READ, target, INFERRED_KEY, props)

    def _drop_read(self, edge: Edge) -> None:
        self.g.delete_edge(edge)
        target = self.g.node(edge.dst)
        if target is not None and target.props.get("placeholder") and not self.g.in_edges(edge.dst, READ):
            if not self.g.out_edges(edge.dst, HAS_FIELD):  # its fields are what a column names (issue 36)
                self.g.delete_node(edge.dst)

    def rebind_inferred(self, dataset: str, since: str) -> None:
        """A version appeared or moved in time: inferred reads from `since` on may bind elsewhere."""
        for edge in self.g.inferred_reads(dataset, since):
            target = self.g.node(edge.dst)
            found = self.resolve(dataset, edge.props["read_at"], edge.src)
            want = found.id if found else None
            if want == edge.dst or (want is None and target is not None and target.props.get("placeholder")):
                continue
            if want is None:
                # The placeholder of the dataset read (the version it left may be another name's).
                read = self.g.node(dataset)
                assert read is not None
                want = self.version(dataset, DatasetRef(namespace=read.props["namespace"], name=read.props["name"]), None, None)
            self._drop_read(edge)
            self._edge(edge.src, READ, want, INFERRED_KEY, edge.props)
            self.runs_to_refresh.add(edge.src)

    # --- event kinds ---------------------------------------------------------------------
    def run_event(self) -> None:
        e = self.e
        assert e.run_uuid and e.job_namespace and e.job_name
        job = self.job(e.job_namespace, e.job_name, e.job_facets, ran_at=e.event_time)
        failed_before = self._run_failed(e.run_uuid)
        run = self.run_node(job)
        if self._run_failed(e.run_uuid) != failed_before:
            self.settle_outputs(run)
        self.commit(run, e.job_facets.get("sourceCodeLocation"))
        parent = e.run_facets.get("parent")
        if parent:
            parent_uuid = parent["run"]["runId"].lower()
            if parent_uuid != e.run_uuid:
                parent_ns, parent_name = parent["job"]["namespace"], parent["job"]["name"]
                parent_job = self.job(parent_ns, parent_name, {})
                parent_run = self.run_stub(parent_uuid, parent_job, parent_ns, parent_name)
                self._edge(run, CHILD_OF, parent_run)
        for ref in e.inputs:
            dataset = self.dataset(ref, writer=False)
            label = declared_version(ref)
            if label is None:
                self.inferred_read(run, dataset, ref)
                continue
            version = self.version(dataset, ref, label, None)
            self._io_edge(run, READ, version, ref)
        written = written_rank(e)
        for ref in e.outputs:
            dataset = self.dataset(ref, writer=True)
            version = self.version(
                dataset, ref, output_label(ref, e), written, declared=declared_version(ref) is not None, writer=True,
                by=e.run_uuid,
            )
            self._io_edge(run, WROTE, version, ref)
        alias = e.run_facets.get("ml_alias")
        if alias:
            self.record_alias_move(alias)
        self.runs_to_refresh.add(run)
        run_node = self.g.node(run)
        merged_alias = ((run_node.props.get("facets") or {}) if run_node else {}).get("ml_alias")
        if merged_alias:  # the run's state decides whether its alias move counts
            self.aliases_to_refresh.add(ids.alias_id(merged_alias["model"], merged_alias["alias"]))

    def run_node(self, job: str) -> str:
        e = self.e
        assert e.run_uuid and e.event_type
        node_id = ids.run_id(e.run_uuid)
        _, props, labels = self._upsert(node_id, RUN, {"run_id": e.run_uuid})
        props["job"] = min(props.get("job") or job, job)
        props["job_namespace"], props["job_name"] = e.job_namespace, e.job_name
        state = [_STATE_RANK[e.event_type], e.event_time, e.id, e.event_type]
        if props.get("_state") is None or props["_state"] < state:
            props["_state"] = state
        props["state"] = props["_state"][3]
        props["ended_at"] = props["_state"][1] if props["state"] in TERMINAL_STATES else None
        if e.event_type == "START":
            props["started_at"] = min(props.get("started_at") or e.event_time, e.event_time)
        else:
            props.setdefault("started_at", None)
        props["first_event_time"] = min(props.get("first_event_time") or e.event_time, e.event_time)
        props["last_event_time"] = max(props.get("last_event_time") or e.event_time, e.event_time)
        _merge_facets(props, e.run_facets, self.order)
        merged = props.get("facets") or {}
        props["error_message"] = (merged.get("errorMessage") or {}).get("message")
        props["nominal_time"] = (merged.get("nominalTime") or {}).get("nominalStartTime")
        old_key = props.get("run_key")
        props["run_key"] = run_key(props.get("job_name"), props.get("started_at") or props.get("first_event_time"))
        if props["run_key"] != old_key or not props.get("run_label"):
            self.run_keys.update(k for k in (old_key, props["run_key"]) if k)
        self._put(node_id, RUN, labels, props)
        self._edge(node_id, RUN_OF, job)
        return node_id

    def commit(self, run: str, facet: dict[str, Any] | None) -> None:
        if not facet:
            return
        key = commit_of(facet)
        if key is None:
            return
        repo, sha = key
        node_id = ids.commit_id(repo, sha)
        _, props, labels = self._upsert(node_id, COMMIT, {"repo": repo, "sha": sha.lower()})
        _merge_facets(props, {"sourceCodeLocation": facet}, self.order)
        latest = props["facets"]["sourceCodeLocation"]
        props["branch"], props["tag"] = latest.get("branch"), latest.get("tag")
        self._put(node_id, COMMIT, labels, props)
        self._edge(run, AT_COMMIT, node_id)

    def _io_edge(self, run: str, edge_type: str, version: str, ref: DatasetRef) -> None:
        existing = [e for e in self.g.out_edges(run, edge_type) if e.dst == version and e.key == ""]
        props = dict(existing[0].props) if existing else {}
        _merge_facets(props, ref.io_facets, self.order)
        self._edge(run, edge_type, version, "", props)

    def dataset_event(self) -> None:
        ref = self.e.dataset
        assert ref is not None
        dataset = self.dataset(ref, writer=True)
        label = output_label(ref, self.e)  # a dataset event has no run: only a declared version
        if label is not None:
            self.version(dataset, ref, label, written_rank(self.e), writer=True)

    def job_event(self) -> None:
        """Static lineage: the job's newest JobEvent (by eventTime, then hash) declares its
        inputs and outputs whole; drawn as declared edges until a later run supersedes them."""
        e = self.e
        assert e.job_namespace and e.job_name
        job = self.job(e.job_namespace, e.job_name, e.job_facets)
        inputs = sorted({self.dataset(ref, writer=False) for ref in e.inputs})
        outputs = sorted({self.dataset(ref, writer=True) for ref in e.outputs})
        node = self.g.node(job)
        assert node is not None
        declared = node.props.get("_declared")
        if declared is None or declared["order"] < self.order:
            props = dict(node.props) | {"_declared": {"order": self.order, "inputs": inputs, "outputs": outputs}}
            self._put(job, JOB, set(node.labels), props)
        self.refresh_declared(job)

    def refresh_declared(self, job: str) -> None:
        """The job's declared edges: those of its newest JobEvent, unless a run of the job has
        a later eventTime (then what runs observed stands instead, and the declaration is kept on
        the job, marked superseded)."""
        node = self.g.node(job)
        if node is None or not node.props.get("_declared"):
            return
        declared = node.props["_declared"]
        at = declared["order"][0]
        superseded = (node.props.get("last_run_at") or "") > at
        want = {} if superseded else {
            **{(DECLARED_READ, d): {"declared": True, "declared_at": at} for d in declared["inputs"]},
            **{(DECLARED_WRITE, d): {"declared": True, "declared_at": at} for d in declared["outputs"]},
        }
        for edge_type in (DECLARED_READ, DECLARED_WRITE):
            for edge in self.g.out_edges(job, edge_type):
                if (edge_type, edge.dst) not in want:
                    self.g.delete_edge(edge)
        for (edge_type, dataset), props in sorted(want.items()):
            self._edge(job, edge_type, dataset, "", props)
        facts = {"declared_at": at, "declared_superseded": superseded}
        if any(node.props.get(k) != v for k, v in facts.items()):
            self._put(job, JOB, set(node.labels), dict(node.props) | facts)

    # --- deployments (ml_endpoint) -------------------------------------------------------
    def _model_version_appeared(self, version: str, model: str) -> None:
        for edge in self.g.in_edges(version, READ):
            self.runs_to_refresh.add(edge.src)
        for alias in self.g.nodes_with(ALIAS, "model", model):
            self.aliases_to_refresh.add(alias.id)

    def refresh_deployments(self, run: str) -> dict[str, set[str]]:
        """SERVES edges of the deployments a deploy run wrote: to the model versions it read.
        Returns those deployments by endpoint: their place in its timeline may have changed."""
        run_node = self.g.node(run)
        wrote = self.g.out_edges(run, WROTE)
        self.g.preload([e.dst for e in wrote])
        deployments = [n for e in wrote if (n := self.g.node(e.dst)) and DEPLOYMENT in n.labels]
        if not deployments or run_node is None:
            return {}
        self.g.preload([d.id for d in deployments], out_types=(SERVES,))
        failed = run_node.props.get("state") in FAILED_STATES
        read = [] if failed else self.g.out_edges(run, READ)
        self.g.preload([e.dst for e in read])
        models = {n.id for e in read if (n := self.g.node(e.dst)) and MODEL_VERSION in n.labels}
        endpoints: dict[str, set[str]] = {}
        for deployment in deployments:
            for edge in self.g.out_edges(deployment.id, SERVES):
                if edge.dst not in models:
                    self.g.delete_edge(edge)
            have = {e.dst for e in self.g.out_edges(deployment.id, SERVES)}
            for model in sorted(models - have):
                self._edge(deployment.id, SERVES, model)
            endpoints.setdefault(deployment.props["dataset"], set()).add(deployment.id)
        return endpoints

    # An endpoint's timeline is a fold over its live-able deployments in (written_at, id) order;
    # each keeps the fold's state after it (`_after`: the live full deployment and the live
    # canary), so a change recomputes only the deployments from the earliest one it moves on.
    def _failed(self, deployment: str) -> bool:
        writers = [self.g.node(w.src) for w in self.g.in_edges(deployment, WROTE)]
        return bool(writers) and all(w is not None and w.props.get("state") in FAILED_STATES for w in writers)

    def _fold(
        self, live_full: str | None, live_canary: str | None, active: list[Node], served_before: set[str]
    ) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
        """From the state before `active[0]`: each deployment's place in the timeline, and when
        the deployments live at the start end (those still live are absent)."""
        timeline: dict[str, dict[str, Any]] = {}
        ended_at: dict[str, str] = {}
        for node in active:
            since = node.props["written_at"]
            traffic = ((node.props.get("facets") or {}).get("ml_endpoint") or {}).get("trafficPercent")
            canary = traffic is not None and traffic < 100
            # A full deployment ends every earlier live one; a canary ends only the live canary.
            for prior in (live_canary,) if canary else (live_canary, live_full):
                if prior is None:
                    continue
                if prior in timeline:
                    timeline[prior]["until"] = since
                else:
                    ended_at[prior] = since
            live_canary = node.id if canary else None
            if not canary:
                live_full = node.id
            models = sorted(e.dst for e in self.g.out_edges(node.id, SERVES))
            timeline[node.id] = {
                "since": since,
                "until": None,
                "traffic_percent": 100.0 if traffic is None else float(traffic),
                "canary": canary,
                "rollback": bool(models) and set(models) <= served_before,
                "_after": [live_full, live_canary],
            }
            served_before.update(models)
        return timeline, ended_at

    def _stamp(self, node: Node, info: dict[str, Any] | None, failed: bool) -> None:
        """Write a deployment's place in the timeline (None: not on it) to it and its SERVES edges."""
        props = dict(node.props)
        if info is None:
            props.pop("_after", None)
            info = {"since": None, "until": None, "traffic_percent": None, "canary": False, "rollback": False}
        status = "failed" if failed else ("pending" if info["since"] is None else ("live" if info["until"] is None else "ended"))
        props |= info | {"status": status}
        self._put(node.id, VERSION, set(node.labels), props)
        for edge in self.g.out_edges(node.id, SERVES):
            self._edge(edge.src, SERVES, edge.dst, edge.key, {"since": info["since"], "until": info["until"], "traffic_percent": info["traffic_percent"]})

    def refresh_endpoint(self, endpoint: str, changed: set[str]) -> None:
        """Recompute the deployment timeline of one endpoint after `changed` deployments moved.

        A full deployment (traffic 100% or unset) ends every earlier live deployment; a canary
        (traffic below 100%) ends only earlier canaries. Deployments by failed runs never go live.
        """
        if not self._refresh_endpoint_tail(endpoint, changed):
            self._refresh_endpoint_whole(endpoint)

    def _refresh_endpoint_whole(self, endpoint: str) -> None:
        history = self.g.in_edges(endpoint, VERSION_OF)
        preload_deployments(self.g, [e.src for e in history])  # the whole history, in a few round trips
        entries = [(n, self._failed(n.id)) for e in history if (n := self.g.node(e.src)) is not None and DEPLOYMENT in n.labels]
        active = sorted((n for n, failed in entries if not failed and n.props.get("written_at")), key=_timeline_key)
        timeline, _ = self._fold(None, None, active, set())
        for node, failed in entries:
            self._stamp(node, timeline.get(node.id), failed)

    def _refresh_endpoint_tail(self, endpoint: str, changed: set[str]) -> bool:
        """The timeline from the earliest place a changed deployment held or now holds on; False
        when the deployment before that place does not know the state after it (written before
        deployments kept it), so that the whole timeline must be recomputed."""
        nodes = [n for d in sorted(changed) if (n := self.g.node(d)) is not None and DEPLOYMENT in n.labels]
        places = [(n.props["since"], n.id) for n in nodes if n.props.get("status") in ON_TIMELINE]
        places += [_timeline_key(n) for n in nodes if n.props.get("written_at")]
        if not places:  # neither was nor can be on the timeline: only their own status changes
            for node in nodes:
                self._stamp(node, None, self._failed(node.id))
            return True
        start = min(places)
        # The endpoint's versions newest first, until the live-able one before `start`: what the
        # fold must redo, and the state it starts from. An append reads the newest few.
        limit = 4
        while True:
            newest = self.g.versions_at(endpoint, END_OF_TIME, limit)
            deployments = [n for n in newest if DEPLOYMENT in n.labels]
            tail = [n for n in deployments if _timeline_key(n) >= start]
            before = next(
                (n for n in deployments if _timeline_key(n) < start and n.props.get("status") in ON_TIMELINE), None
            )
            if before is not None or len(newest) < limit:
                break
            limit *= 4
        if before is not None and "_after" not in before.props:
            return False
        live_full, live_canary = before.props["_after"] if before is not None else (None, None)
        preload_deployments(self.g, [n.id for n in tail])
        failed = {n.id: self._failed(n.id) for n in tail}
        active = sorted((n for n in tail if not failed[n.id]), key=_timeline_key)
        timeline, ended_at = self._fold(live_full, live_canary, active, self._served_before(endpoint, active, start))
        for node in tail:
            self._stamp(node, timeline.get(node.id), failed[node.id])
        for node in nodes:
            if node.id not in failed:  # not among the versions with a time: pending or failed
                self._stamp(node, None, self._failed(node.id))
        for prior in {live_full, live_canary} - {None}:
            assert prior is not None
            node = self.g.node(prior)
            if node is not None and node.id not in timeline:
                # Only its end can have moved (its own `_after` stays as it is).
                info = {k: node.props.get(k) for k in ("since", "traffic_percent", "canary", "rollback")}
                self._stamp(node, info | {"until": ended_at.get(prior)}, False)
        return True

    def _served_before(self, endpoint: str, active: list[Node], start: tuple[str, str]) -> set[str]:
        """Of the models the `active` deployments serve, those a deployment of the endpoint
        placed before `start` served (a deployment serving only such models is a rollback)."""
        models = sorted({e.dst for n in active for e in self.g.out_edges(n.id, SERVES)})
        self.g.preload(models, in_types=(SERVES,))
        out = set()
        for model in models:
            for edge in self.g.in_edges(model, SERVES):
                other = self.g.node(edge.src)
                if (
                    other is not None and other.props.get("dataset") == endpoint
                    and other.props.get("status") in ON_TIMELINE and (other.props["since"], other.id) < start
                ):
                    out.add(model)
                    break
        return out

    # --- aliases (ml_alias) ----------------------------------------------------------------
    def record_alias_move(self, facet: dict[str, Any]) -> None:
        e = self.e
        assert e.run_uuid
        node_id = ids.alias_id(facet["model"], facet["alias"])
        _, props, labels = self._upsert(
            node_id, ALIAS, {"model": facet["model"], "alias": facet["alias"], "alias_ref": f"{facet['model']}@{facet['alias']}"}
        )
        moves = dict(props.get("moves") or {})
        move = dict(moves.get(e.run_uuid) or {})
        move["at"] = _min_pair(move.get("at"), [0 if e.event_type == "COMPLETE" else 1, e.event_time])
        if move.get("_src") is None or move["_src"] < self.order:
            move["version"], move["_src"] = facet["version"], self.order
        moves[e.run_uuid] = move
        props["moves"] = moves
        self._put(node_id, ALIAS, labels, props)
        self.aliases_to_refresh.add(node_id)

    def refresh_alias(self, alias: str) -> None:
        """Recompute POINTS_TO history: each effective move holds until the next one.

        A move counts once its run has not failed and its approval, when it carries one, says
        `approved`; a move whose approval is `pending` or `rejected`, or whose run failed, is
        kept in `held_moves` with the reason and moves nothing (docs/releases.md). An approved
        move takes effect at the later of its own time and its approval's time."""
        node = self.g.node(alias)
        if node is None:
            return
        model = node.props["model"]
        moves = node.props.get("moves") or {}
        # The whole history in two round trips however long it is: the moving runs, the versions.
        self.g.preload([ids.run_id(u) for u in moves])
        self.g.preload_matching(VERSION, "model_ref", [f"{model}@{m['version']}" for m in moves.values()])
        effective = []
        held = []
        for run_uuid, move in moves.items():
            run = self.g.node(ids.run_id(run_uuid))
            facets = (run.props.get("facets") or {}) if run else {}
            decision = (facets.get("ml_approval") or {}).get("decision")
            reason = "failed" if run is not None and run.props.get("state") in FAILED_STATES else decision
            if reason in HELD_DECISIONS:
                held.append({"version": move["version"], "at": move["at"][1], "run": run_uuid, "reason": reason})
                continue
            since = move["at"][1]
            if decision is not None and run is not None:
                # Approved after the move was asked for: it takes effect from the approval.
                since = max(since, run.props["_facet_src"]["ml_approval"][0])
            effective.append((since, run_uuid, move["version"]))
        effective.sort()
        held.sort(key=lambda m: (m["at"], m["run"]))
        desired: dict[tuple[str, str], dict[str, Any]] = {}
        pending = []
        history = []
        for i, (since, run_uuid, version) in enumerate(effective):
            until = effective[i + 1][0] if i + 1 < len(effective) else None
            history.append({"version": version, "since": since, "until": until, "run": run_uuid})
            targets = self.g.nodes_with(VERSION, "model_ref", f"{model}@{version}")
            if not targets:
                pending.append(version)
                continue
            desired[(targets[0].id, run_uuid)] = {"since": since, "until": until, "run": run_uuid, "version": version}
        for edge in self.g.out_edges(alias, POINTS_TO):
            if (edge.dst, edge.key) not in desired:
                self.g.delete_edge(edge)
        for (target, run_uuid), props in sorted(desired.items()):
            self._edge(alias, POINTS_TO, target, run_uuid, props)
        props = dict(node.props)
        props["history"] = history
        props["current_version"] = history[-1]["version"] if history and history[-1]["until"] is None else None
        props["unresolved_versions"] = sorted(set(pending))
        props["held_moves"] = held
        self._put(alias, ALIAS, set(node.labels), props)

    # --- run labels (issue 30) -----------------------------------------------------------
    def refresh_run_labels(self, key: str) -> None:
        """The labels of the runs sharing `key`: the key alone for a run that has it to itself,
        else the key and the shortest tail of each run's UUID that tells them apart (a UUIDv7's
        head is its time, alike for every run of a second)."""
        group = self.g.nodes_with(RUN, "run_key", key)
        tails = {n.id: str(n.props.get("run_id", n.id)).replace("-", "") for n in group}
        size = 4
        while size < 32 and len({t[-size:] for t in tails.values()}) < len(tails):
            size += 2
        for node in group:
            label = key if len(group) == 1 else f"{key} ~{tails[node.id][-size:]}"
            if node.props.get("run_label") != label:
                self._put(node.id, RUN, set(node.labels), dict(node.props) | {"run_label": label})

    # --- annotations ---------------------------------------------------------------------
    def annotation_event(self) -> None:
        """An annotation is a node of its own, ANNOTATES its target once that exists."""
        e = self.e
        assert e.annotation is not None
        node_id = ids.annotation_id(e.id)
        target = e.annotation["target"]
        props = dict(e.annotation) | {"created_at": e.event_time, "event": e.id}
        self._put(node_id, ANNOTATION, set(), props)
        if self.g.node(target) is not None:
            self._edge(node_id, ANNOTATES, target)
            self.annotated.add(target)

    def refresh_annotations(self, target: str) -> None:
        """The target's `annotations` summary, recomputed whole from its ANNOTATES edges."""
        node = self.g.node(target)
        if node is None:
            return
        found = [a for e in self.g.in_edges(target, ANNOTATES) if (a := self.g.node(e.src)) is not None]
        summary = sorted(
            ({k: a.props.get(k) for k in ("tag", "reason", "author", "created_at")} | {"id": a.id} for a in found),
            key=lambda x: (x["created_at"], x["id"]),
        )
        self._put(target, node.kind, set(node.labels), dict(node.props) | {"annotations": summary})

    # --- problems (issue 29) -------------------------------------------------------------
    def flag_problems(self) -> None:
        """Attach the event's problems to the nodes they touch, so people see them there."""
        for node_id, problems in sorted(problem_targets(self.e).items()):
            node = self.g.node(node_id)
            if node is None:
                continue
            entries = {(p["event"], p["field"], p["problem"]): p for p in node.props.get("problems") or []}
            for problem in problems:
                entry = {"event": self.e.id, "event_time": self.e.event_time} | problem.to_dict()
                entries[(self.e.id, problem.field, problem.problem)] = entry
            # The smallest MAX_NODE_PROBLEMS by time: a commutative merge, like every other.
            ranked = sorted(entries.values(), key=lambda p: (p["event_time"], p["event"], p["field"], p["problem"]))
            props = dict(node.props)
            props["problems"] = ranked[:MAX_NODE_PROBLEMS]
            if len(ranked) > MAX_NODE_PROBLEMS or props.get("problems_truncated"):
                props["problems_truncated"] = True
            self._put(node_id, node.kind, set(node.labels), props)

    # --- driver --------------------------------------------------------------------------
    def project(self) -> list[Mutation]:
        if self.e.kind == "run":
            self.run_event()
        elif self.e.kind == "dataset":
            self.dataset_event()
        elif self.e.kind == "annotation":
            self.annotation_event()
        else:
            self.job_event()
        # A version of one name of a dataset may be what reads of its other names bind to.
        rebinds: dict[str, str] = {}
        for dataset, since in sorted(self.rebinds.items()):
            for name in self.names_of(dataset):
                rebinds[name] = min(rebinds.get(name, since), since)
        for dataset, since in sorted(rebinds.items()):
            self.rebind_inferred(dataset, since)
        # Column lineage follows the reads: a run whose reads changed recomputes its outputs'.
        for run in sorted(self.runs_to_refresh):
            wrote = self.g.out_edges(run, WROTE)
            self.g.preload([e.dst for e in wrote])  # read again by refresh_deployments below
            for edge in wrote:
                if (node := self.g.node(edge.dst)) is not None and has_columns(node):
                    self.columns_to_refresh.add(edge.dst)
        for version in sorted(self.columns_to_refresh):
            self.columns.refresh(version)
        endpoints = self.deployments  # a dataset event may write a deployment too
        for run in sorted(self.runs_to_refresh):
            for endpoint, deployments in self.refresh_deployments(run).items():
                endpoints.setdefault(endpoint, set()).update(deployments)
        for endpoint in sorted(endpoints):
            self.refresh_endpoint(endpoint, endpoints[endpoint])
        for alias in sorted(self.aliases_to_refresh):
            self.refresh_alias(alias)
        for key in sorted(self.run_keys):
            self.refresh_run_labels(key)
        for target in sorted(self.annotated):
            self.refresh_annotations(target)
        if self.e.warnings:
            self.flag_problems()
        return self.g.mutations()


# How many names symlinks may join into one dataset, as far as reads are concerned.
MAX_NAMES = 16


def symlinks(ref: DatasetRef) -> list[tuple[str, str]]:
    """(namespace, name) of each other name the ref's `symlinks` facet gives its dataset."""
    identifiers = (ref.facets.get("symlinks") or {}).get("identifiers")
    if not isinstance(identifiers, list):
        return []
    out = []
    for entry in identifiers:
        if isinstance(entry, dict) and isinstance(entry.get("namespace"), str) and isinstance(entry.get("name"), str):
            if entry["namespace"] and entry["name"] and (entry["namespace"], entry["name"]) != (ref.namespace, ref.name):
                out.append((entry["namespace"], entry["name"]))
    return sorted(set(out))


# A node keeps the earliest problems of the events that touch it, this many at most; the log
# keeps every event's own (`problems_truncated` says there are more).
MAX_NODE_PROBLEMS = 20
_POSITION = re.compile(r"^(inputs|outputs)\[(\d+)\]")


def problem_targets(event: Event) -> dict[str, list[Problem]]:
    """Node id -> the event's problems shown on it: the run (or the job of a job event, the
    dataset of a dataset event) gets them all; a dataset named in a problem's field, and its
    version, get theirs; the job gets those of its own facets."""
    out: dict[str, list[Problem]] = {}
    if event.kind == "annotation":
        return out
    if event.run_uuid:
        home = ids.run_id(event.run_uuid)
    elif event.dataset is not None:
        home = ids.dataset_id(event.dataset.namespace, event.dataset.name)
    else:
        assert event.job_namespace and event.job_name
        home = ids.job_id(event.job_namespace, event.job_name)
    for problem in event.warnings:
        targets = [home]
        match = _POSITION.match(problem.field)
        if problem.field.startswith("job.") and event.job_namespace and event.job_name:
            targets.append(ids.job_id(event.job_namespace, event.job_name))
        elif match:
            refs = event.inputs if match.group(1) == "inputs" else event.outputs
            for ref in refs:
                if ref.position == int(match.group(2)):
                    dataset = ids.dataset_id(ref.namespace, ref.name)
                    targets.append(dataset)
                    label = declared_version(ref) or (event.run_uuid if match.group(1) == "outputs" else None)
                    if label:
                        targets.append(ids.version_id(dataset, label))
        elif problem.field.startswith("dataset.") and event.dataset is not None:
            label = declared_version(event.dataset)
            if label:
                targets.append(ids.version_id(home, label))
        for target in dict.fromkeys(targets):
            out.setdefault(target, []).append(problem)
    return out


def subjects(event: Event) -> list[str]:
    """Ids of the nodes an event speaks of directly: what it is evidence for."""
    out: set[str] = set()
    if event.annotation is not None:
        out.update((event.annotation["target"], ids.annotation_id(event.id)))
    if event.dataset is not None:
        dataset = ids.dataset_id(event.dataset.namespace, event.dataset.name)
        out.add(dataset)
        label = output_label(event.dataset, event)
        if label:
            out.add(ids.version_id(dataset, label))
    if event.job_namespace and event.job_name:
        out.add(ids.job_id(event.job_namespace, event.job_name))
    if event.run_uuid:
        out.add(ids.run_id(event.run_uuid))
        parent = event.run_facets.get("parent")
        if parent:
            out.add(ids.run_id(parent["run"]["runId"].lower()))
        alias = event.run_facets.get("ml_alias")
        if alias:
            out.add(ids.alias_id(alias["model"], alias["alias"]))
        commit = commit_of(event.job_facets.get("sourceCodeLocation"))
        if commit:
            out.add(ids.commit_id(*commit))
    for ref in (*event.inputs, *event.outputs, *([event.dataset] if event.dataset else [])):
        out.update(ids.dataset_id(ns, name) for ns, name in symlinks(ref))  # its other names
    for ref in event.inputs:
        dataset = ids.dataset_id(ref.namespace, ref.name)
        out.add(dataset)
        label = declared_version(ref)
        if label:
            out.add(ids.version_id(dataset, label))
    for ref in event.outputs:
        dataset = ids.dataset_id(ref.namespace, ref.name)
        out.add(dataset)
        label = output_label(ref, event)
        if event.run_uuid and label:  # a job event's outputs are datasets, not versions
            out.add(ids.version_id(dataset, label))
    return sorted(out)


def touched(event: Event, its_subjects: Sequence[str] | None = None) -> list[str]:
    """Ids of the nodes projecting an event may read or create first: its subjects (pass them
    when already known), the placeholders of the datasets it reads or writes without a version,
    its parent's job. A store fetches these for a whole batch at once; anything else is read
    when asked."""
    out = set(subjects(event) if its_subjects is None else its_subjects)
    for ref in (*event.inputs, *event.outputs, *([event.dataset] if event.dataset else [])):
        out.add(ids.version_id(ids.dataset_id(ref.namespace, ref.name), ""))
        # Twins (see _Projector._twins): the job of each dataset's namespace and name, also of
        # the names its symlinks give it, and the dataset of each job's.
        out.update(ids.job_id(ns, name) for ns, name in [(ref.namespace, ref.name), *symlinks(ref)])
    if event.job_namespace and event.job_name:
        out.add(ids.dataset_id(event.job_namespace, event.job_name))
    parent = event.run_facets.get("parent")
    if parent:
        out.add(ids.job_id(parent["job"]["namespace"], parent["job"]["name"]))
        out.add(ids.dataset_id(parent["job"]["namespace"], parent["job"]["name"]))
    return sorted(out)


def preload_histories(events: Sequence[Event], view: GraphView) -> None:
    """Hint `view` (see GraphView.preload) with the histories projecting `events` recomputes:
    the newest deployments of every endpoint they deploy to, with what each serves and the runs
    that wrote them, and the moves and targets of every alias they move. A few round trips for
    a whole batch, instead of a few per endpoint and alias."""
    deploys = [e for e in events if any("ml_endpoint" in r.facets for r in e.outputs)]
    endpoints = sorted({ids.dataset_id(r.namespace, r.name) for e in deploys for r in e.outputs if "ml_endpoint" in r.facets})
    # An endpoint's newest deployments (an append redoes the timeline from the last of them),
    # what they serve, who wrote them, and who else served the models deploys read.
    newest = [n.id for endpoint in endpoints for n in view.versions_at(endpoint, END_OF_TIME, 4)]
    preload_deployments(view, newest)
    served = {edge.dst for d in newest for edge in view.out_edges(d, SERVES)}
    for e in deploys:
        for ref in e.inputs:
            label = declared_version(ref)
            if label:
                served.add(ids.version_id(ids.dataset_id(ref.namespace, ref.name), label))
    view.preload(sorted(served), in_types=(SERVES,))
    moving = [a for e in events if (a := e.run_facets.get("ml_alias"))]
    # A run's later events move its alias too (its state decides whether the move counts).
    runs = [run for e in events if e.run_uuid and (run := view.node(ids.run_id(e.run_uuid))) is not None]
    stored_moves = [a for run in runs if (a := (run.props.get("facets") or {}).get("ml_alias"))]
    # Run labels: the runs sharing the label a run event may give its run, or take from it.
    keys = [run_key(e.job_name, e.event_time) for e in events if e.run_uuid]
    keys += [run.props.get("run_key") for run in runs]
    view.preload_matching(RUN, "run_key", sorted({k for k in keys if k}))
    aliases = sorted({ids.alias_id(a["model"], a["alias"]) for a in (*moving, *stored_moves)})
    view.preload(aliases, out_types=(POINTS_TO,))
    found = [node for a in aliases if (node := view.node(a)) is not None]
    view.preload([ids.run_id(run_uuid) for node in found for run_uuid in node.props.get("moves") or {}])
    versions = [f"{a['model']}@{a['version']}" for a in moving]
    versions += [f"{n.props['model']}@{m['version']}" for n in found for m in (n.props.get("moves") or {}).values()]
    view.preload_matching(VERSION, "model_ref", versions)
    # A new model version makes its model's aliases look again for versions they wait for.
    models = [m["name"] for e in events for r in e.outputs if (m := r.facets.get("ml_modelVersion"))]
    view.preload_matching(ALIAS, "model", models)
    view.preload([a.id for m in dict.fromkeys(models) for a in view.nodes_with(ALIAS, "model", m)], out_types=(POINTS_TO,))


def project(event: Event, view: GraphView) -> list[Mutation]:
    """The graph changes one new event causes, given the graph as it stands."""
    return _Projector(event, view).project()
