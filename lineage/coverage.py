"""What an answer could not see: warnings about the nodes it traversed (issue 29, point 5).

Every answer (impact, upstream, diff, model versions, endpoint, audit) hands the nodes it
already holds to `answer_warnings`, which returns `[{kind, node, detail}]`. Each kind is one
small check in `CHECKS`; a check reads only those nodes, plus at most one store call shared
through `Facts`, so warnings cost what the answer's size is, never what the history is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from lineage import datachanges, environment
from lineage.graph import DEPLOYMENT, MODEL_VERSION, RUN, SERVES, VERSION, WROTE, Node
from lineage.refs import display
from lineage.store.base import Hop, Store

STALE_RUN_HOURS = 24.0  # the default of Settings.stale_run_hours
OPEN_STATES = frozenset({"START", "RUNNING"})
FAILED_STATES = frozenset({"FAIL", "ABORT"})


@dataclass
class Facts:
    """The nodes an answer holds, and the few store reads a check may need, each made at most
    once however many checks ask (lazily: an answer with no open run never asks for a time)."""

    store: Store
    nodes: dict[str, Node]
    stale_run_hours: float = STALE_RUN_HOURS
    _cache: dict[Any, Any] = field(default_factory=dict)

    def of(self, predicate: Callable[[Node], bool]) -> list[Node]:
        return sorted((n for n in self.nodes.values() if predicate(n)), key=lambda n: n.id)

    def newest_event_time(self) -> str | None:
        if "newest" not in self._cache:
            self._cache["newest"] = self.store.newest_event_time()
        return self._cache["newest"]  # type: ignore[no-any-return]

    def rejected(self) -> dict[str, int]:
        """Dead-letter entries naming a node of the answer, its dataset or its job, by id (one
        round trip for all of them)."""
        if "rejected" not in self._cache:
            named = set(self.nodes)
            for node in self.nodes.values():
                named.update(v for k in ("dataset", "job") if isinstance(v := node.props.get(k), str))
            self._cache["rejected"] = self.store.rejections_about(sorted(named)) if named else {}
        return self._cache["rejected"]  # type: ignore[no-any-return]

    def written(self, ids: list[str]) -> set[str]:
        """Which of `ids` some run WROTE (one round trip for all of them)."""
        key = ("written", *ids)
        if key not in self._cache:
            self._cache[key] = {e.dst for e in self.store.edges_to(ids, WROTE)} if ids else set()
        return self._cache[key]  # type: ignore[no-any-return]

    def provenance(self, deployments: list[str]) -> dict[str, tuple[Node | None, list[tuple[Node, Node | None]]]]:
        """Per deployment: the run that made it, and each model version it serves with the run
        that trained it (one round trip for all of them)."""
        key = ("provenance", *deployments)
        if key not in self._cache:
            made, trained = self.store.hops(deployments, [Hop(out_types=(SERVES,), in_types=(WROTE,)), Hop(in_types=(WROTE,))])
            writer = {e.dst: trained.nodes.get(e.src) for e in trained.edges if e.type == WROTE}
            out: dict[str, tuple[Node | None, list[tuple[Node, Node | None]]]] = {d: (None, []) for d in deployments}
            for edge in made.edges:
                if edge.type == WROTE and edge.dst in out:
                    out[edge.dst] = (made.nodes.get(edge.src), out[edge.dst][1])
            for edge in made.edges:
                if edge.type == SERVES and edge.src in out and (model := made.nodes.get(edge.dst)) is not None:
                    out[edge.src][1].append((model, writer.get(model.id)))
            self._cache[key] = out
        return self._cache[key]  # type: ignore[no-any-return]

    def contract_break(self, version: Node) -> str | None:
        """`datachanges.own_break` of a version, read at most once per answer."""
        key = ("contract_break", version.id)
        if key not in self._cache:
            self._cache[key] = datachanges.own_break(self.store, version)
        return self._cache[key]  # type: ignore[no-any-return]


Warning = dict[str, str]
Check = Callable[[Facts], Iterator[Warning]]


def warning(kind: str, node: Node, detail: str) -> Warning:
    return {"kind": kind, "node": node.id, "detail": detail}


def _run_name(run: Node) -> str:
    return f"run {run.props.get('run_id')} of {run.props.get('job_name')}"


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def stale_runs(facts: Facts) -> Iterator[Warning]:
    """Runs still open whose last event is older than the limit, measured against the newest
    eventTime in the store (not the wall clock, so a replay of the log warns alike)."""
    open_runs = facts.of(lambda n: n.kind == RUN and n.props.get("state") in OPEN_STATES)
    newest = facts.newest_event_time() if open_runs else None
    if newest is None:
        return
    limit = _time(newest) - timedelta(hours=facts.stale_run_hours)
    for run in open_runs:
        last = run.props.get("last_event_time")
        if last and _time(last) < limit:
            yield warning(
                "stale_run", run,
                f"{_run_name(run)} is still {run.props['state']} with no event since {last} "
                f"(over {facts.stale_run_hours:g} h before the newest event, {newest}): its outputs may be missing or partial",
            )


def failed_runs(facts: Facts) -> Iterator[Warning]:
    for run in facts.of(lambda n: n.kind == RUN and n.props.get("state") in FAILED_STATES):
        why = run.props.get("error_message")
        yield warning("failed_run", run, f"{_run_name(run)} ended {run.props['state']}" + (f": {why}" if why else ""))


def placeholder_inputs(facts: Facts) -> Iterator[Warning]:
    """Inputs read with no version while none was known: the projection binds them to the
    dataset's unversioned placeholder (`placeholder` true), so what was read is unknown."""
    for node in facts.of(lambda n: n.kind == VERSION and bool(n.props.get("placeholder"))):
        yield warning(
            "placeholder_input", node,
            f"{node.props.get('name')} was read without a version and no version of it was known then: what was read is unknown",
        )


def untrained_model_versions(facts: Facts) -> Iterator[Warning]:
    models = facts.of(lambda n: n.kind == VERSION and MODEL_VERSION in n.labels and not n.props.get("placeholder"))
    written = facts.written([n.id for n in models])
    for model in models:
        if model.id not in written:
            yield warning(
                "untrained_model_version", model,
                f"no run is known to have written {display(model)}: its training data and code are unknown",
            )


def event_problems(facts: Facts) -> Iterator[Warning]:
    """Nodes that events with problems touched (issue 29): what those events said may be partial."""
    for node in facts.of(lambda n: bool(n.props.get("problems"))):
        problems = node.props["problems"]  # the earliest 20 at most (projection.MAX_NODE_PROBLEMS)
        more = " (the earliest; there are more)" if node.props.get("problems_truncated") else ""
        listed = "; ".join(f"{p['field']} ({p['problem']}): {p['detail']}" for p in problems)
        yield warning("event_problems", node, f"{len(problems)} problems in events about {display(node)}{more}: {listed}")


def _named(node: Node, subject: str) -> str:
    """What a refused event names, in words: the node, the dataset of a version, the job of a run."""
    p = node.props
    if subject == p.get("dataset"):
        return f"dataset {p.get('namespace')}/{p.get('name')} (of {display(node)})"
    if subject == p.get("job"):
        return f"job {p.get('job_namespace')}/{p.get('job_name')} (of {display(node)})"
    return display(node)


def rejected_events(facts: Facts) -> Iterator[Warning]:
    """Refused events, kept in the dead-letter store, that name a job or dataset of the answer:
    their lineage is not in the graph until they are replayed."""
    counts = facts.rejected()
    if not counts:
        return
    for node in facts.of(lambda n: True):
        named = [(i, counts[i]) for i in dict.fromkeys([node.id, node.props.get("dataset"), node.props.get("job")]) if i in counts]
        for subject, count in named:
            yield warning(
                "rejected_events", node,
                f"{count} refused events name {_named(node, subject)}; their lineage is missing until replayed "
                "(GET /api/v1/rejections, lineage rejections list)",
            )


def environment_drifts(facts: Facts) -> Iterator[Warning]:
    """Deployments whose serving environment differs from the training environment of the
    model version they serve, in framework version or lockfile (issue 37): the model may not
    behave as it did when it was evaluated."""
    deployments = facts.of(lambda n: n.kind == VERSION and DEPLOYMENT in n.labels)
    if not deployments:
        return
    provenance = facts.provenance([d.id for d in deployments])
    for deployment in deployments:
        deploy_run, served = provenance[deployment.id]
        serving = environment.environment_of(deploy_run)
        for model, training_run in sorted(served, key=lambda pair: pair[0].id):
            found = environment.drift(environment.environment_of(training_run), serving)
            if found:
                yield warning(
                    "environment_drift", deployment,
                    f"{display(deployment)} serves {display(model)} in another environment than it was trained in: " + "; ".join(found),
                )


def contract_breaks(facts: Facts) -> Iterator[Warning]:
    """Dataset versions that remove or retype a column of the version before them without a
    new major version label (issue 37; see `datachanges.contract_break`). Unlike the other
    checks this one reads the store once per version that has a `schema` facet (an indexed
    read of the version before it), so its cost follows the schemas the answer holds."""
    versions = facts.of(lambda n: n.kind == VERSION and not n.props.get("placeholder") and bool(datachanges.columns(n)))
    for version in versions:
        detail = facts.contract_break(version)
        if detail:
            yield warning("contract_break", version, detail)


# Kind -> check, in the order warnings are listed. A new kind is one generator here; one that
# needs a store read adds a cached accessor to `Facts` taking the answer's ids.
CHECKS: dict[str, Check] = {
    "stale_run": stale_runs,
    "failed_run": failed_runs,
    "placeholder_input": placeholder_inputs,
    "untrained_model_version": untrained_model_versions,
    "event_problems": event_problems,
    "rejected_events": rejected_events,
    "environment_drift": environment_drifts,
    "contract_break": contract_breaks,
}


def answer_warnings(store: Store, nodes: Iterable[Node], *, stale_run_hours: float = STALE_RUN_HOURS) -> list[Warning]:
    """What an answer made of `nodes` could not see, as `[{kind, node, detail}]` (empty when
    nothing): kinds in `CHECKS` order, nodes by id within a kind."""
    facts = Facts(store, {n.id: n for n in nodes}, stale_run_hours)
    return [w for check in CHECKS.values() for w in check(facts)]
