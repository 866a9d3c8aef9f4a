"""Dataset versions as Marquez counts them: one of ours as one run wrote it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from lineage.graph import READ, VERSION_OF, WROTE, Node
from lineage.marquez.common import _versioned_uuid
from lineage.store.base import Store


@dataclass(frozen=True, slots=True)
class MarquezVersion:
    """A dataset version as Marquez counts them: one of ours as one run wrote it. Marquez gives
    each writing run a version of its own, even where two runs declared the same one."""

    node: Node
    run: Node | None
    facets: dict[str, Any] = field(default_factory=dict)  # the run's input or output facets

    @property
    def uuid(self) -> str:
        if self.run is None:
            return _versioned_uuid(self.node.id)
        return _versioned_uuid(self.node.id, str(self.run.props.get("run_id")))

    @property
    def at(self) -> str:
        if self.run is None:
            return str(self.node.props.get("written_at") or self.node.props.get("first_read_at") or "")
        return str(self.run.props.get("first_event_time") or "")


def _written(store: Store, versions: Sequence[Node]) -> list[MarquezVersion]:
    """Each (version, writing run) of these versions, one per run and dataset: where a run
    wrote a dataset twice (a START without the version facet, a COMPLETE with it), the newer."""
    edges = store.edges_to([v.id for v in versions], WROTE)
    runs = {r.id: r for r in store.nodes(list(dict.fromkeys(e.src for e in edges)))}
    by_id = {v.id: v for v in versions}
    chosen: dict[tuple[str, str], MarquezVersion] = {}
    for e in edges:
        v, r = by_id[e.dst], runs.get(e.src)
        if r is None:
            continue
        key = (str(v.props.get("dataset")), r.id)
        old = chosen.get(key)
        if old is None or (v.props.get("written_at") or "") > (old.node.props.get("written_at") or ""):
            chosen[key] = MarquezVersion(v, r, e.props.get("facets") or {})
    written = {m.node.id for m in chosen.values()} | {e.dst for e in edges}
    # Versions nobody wrote (declared by a dataset event) still count, without a run.
    chosen |= {(v.id, ""): MarquezVersion(v, None) for v in versions if v.id not in written}
    return list(chosen.values())


def _current_at(store: Store, dataset: str, at: str) -> MarquezVersion | None:
    """The dataset's current version at `at` as Marquez keeps it: the newest version whose
    writing run had completed by then (a failed or aborted run's output never becomes current)."""
    ids = [e.src for e in store.in_edges(dataset, VERSION_OF)]
    done = [m for m in _written(store, store.nodes(ids))
            if m.run is not None and m.run.props.get("state") == "COMPLETE" and (m.run.props.get("ended_at") or "") <= at]
    return max(done, key=lambda m: (m.run.props.get("ended_at") or "", m.uuid)) if done else None  # type: ignore[union-attr]


def _version_ref(version: MarquezVersion) -> dict[str, Any]:
    return {
        "datasetVersionId": {"namespace": version.node.props.get("namespace"), "name": version.node.props.get("name"), "version": version.uuid},
        "facets": version.facets,
    }


def _io(store: Store, run: Node) -> tuple[list[MarquezVersion], list[MarquezVersion]]:
    """The dataset versions a run read and wrote, as Marquez counts them (MarquezVersion): a
    read names the version as its latest writer before the read wrote it."""
    reads = store.edges_from([run.id], READ)
    writes = [m for m in _written(store, store.nodes([e.dst for e in store.edges_from([run.id], WROTE)])) if m.run and m.run.id == run.id]
    read_versions = {v.id: v for v in store.nodes([e.dst for e in reads])}
    inputs = []
    for e in reads:
        v = read_versions.get(e.dst)
        if v is None:
            continue
        at = str(e.props.get("read_at") or run.props.get("first_event_time") or "")
        chosen = _current_at(store, str(v.props.get("dataset")), at) or MarquezVersion(v, None)
        inputs.append(MarquezVersion(chosen.node, chosen.run, e.props.get("facets") or {}))
    outputs = [MarquezVersion(m.node, m.run, m.facets) for m in writes]
    return inputs, outputs
