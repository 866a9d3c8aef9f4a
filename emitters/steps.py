"""Steps as context managers and decorators: START, then COMPLETE, or FAIL with the error.

A `Step` describes a job (what it reads and writes); every time it is entered (`with`) or its
decorated function is called, a new `StepRun` starts with a new runId. Runs nest: a step
started inside another gets the standard `parent` run facet pointing at it (a contextvar, so
threads and asyncio tasks each see their own). The pipeline's own exception always propagates
unchanged; only strict mode adds `EmitError`, and never in place of the pipeline's exception.
"""

from __future__ import annotations

import functools
import inspect
import logging
import time
import traceback
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar

from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    JobFacet,
    RunFacet,
    documentation_job,
    error_message_run,
    job_type_job,
    parent_run,
)
from openlineage.client.uuid import generate_new_uuid

from emitters.capture import content_hash
from emitters.datasets import Artifact, DatasetSpec, ModelVersion, as_input, as_output
from emitters.facets import AliasRunFacet, ApprovalRunFacet, TrainingRunFacet

if TYPE_CHECKING:
    from emitters.lineage import Lineage

log = logging.getLogger("emitters")

P = ParamSpec("P")
T = TypeVar("T")
R = TypeVar("R", bound="StepRun")

_CURRENT: ContextVar[tuple[StepRun, ...]] = ContextVar("emitters_current_steps", default=())


def current_step() -> StepRun | None:
    """The innermost step running in this thread or task, for code inside a decorated function."""
    stack = _CURRENT.get()
    return stack[-1] if stack else None


@dataclass(frozen=True, slots=True)
class ParentRef:
    """A parent run known only by name, e.g. the CI job or DAG run that started this process."""

    namespace: str
    job: str
    run_id: str

    @classmethod
    def parse(cls, text: str) -> ParentRef:
        """`namespace/job/runId`, the `OPENLINEAGE_PARENT_ID` format other integrations use."""
        namespace, sep, rest = text.partition("/")
        job, sep2, run_id = rest.rpartition("/")
        if not (sep and sep2 and namespace and job and run_id):
            raise ValueError(f"{text!r} is not NAMESPACE/JOB/RUN_ID")
        return cls(namespace, job, str(uuid.UUID(run_id)))


def _time(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _hash(spec: DatasetSpec) -> Artifact | None:
    """Content hash of a spec's local path; a path that cannot be read costs the facet, not the run."""
    if spec.path is None:
        return None
    try:
        return content_hash(Path(spec.path))
    except OSError as exc:
        log.warning("lineage: no content hash for %s/%s: %s", spec.namespace, spec.name, exc)
        return None


# Steps whose environment the service compares: what a model was trained with against what
# serves it (issue 37).
ENVIRONMENT_STEPS = frozenset({"TRAINING", "DEPLOY"})


class StepRun:
    """One run of a step: its ids, and what the body adds while it runs."""

    def __init__(self, step: Step[Any], parent: StepRun | ParentRef | None) -> None:
        self.step = step
        self.run_id = str(generate_new_uuid())
        self.parent = parent
        self.inputs: list[DatasetSpec] = list(step.inputs)
        self.outputs: list[DatasetSpec] = list(step.outputs)
        self.run_facets: dict[str, RunFacet] = {}
        self.job_facets: dict[str, JobFacet] = {}
        self.started = time.perf_counter()
        self._input_artifacts: dict[int, Artifact | None] = {}
        self._token: Token[tuple[StepRun, ...]] | None = None

    @property
    def namespace(self) -> str:
        return self.step.namespace

    @property
    def job(self) -> str:
        return self.step.job

    @property
    def duration(self) -> float:
        return time.perf_counter() - self.started

    @property
    def root(self) -> StepRun | ParentRef:
        """The outermost run above this one (itself when it has no parent)."""
        node: StepRun | ParentRef = self
        while isinstance(node, StepRun) and node.parent is not None:
            node = node.parent
        return node

    def read(self, *specs: DatasetSpec) -> None:
        """Datasets the body found it reads (sent with COMPLETE or FAIL)."""
        self.inputs.extend(specs)

    def write(self, *specs: DatasetSpec) -> None:
        """Datasets the body found it writes; a `path` is hashed when the step completes."""
        self.outputs.extend(specs)

    def add_facet(self, key: str, facet: RunFacet) -> None:
        """Any other run facet (standard or your own)."""
        self.run_facets[key] = facet

    def verify_artifact(self, path: str | Path, ref: str) -> dict[str, Any]:
        """Check `path` against the sha256 the service recorded for `ref` (e.g. before training
        on it or deploying it); raises `emitters.verify.ArtifactMismatch` on a mismatch, which
        fails this step like any other exception."""
        from emitters.verify import verify_artifact

        return verify_artifact(self.step.lineage.emitter.schema_base_url, path, ref)

    # --- events -------------------------------------------------------------------------
    def _ml_facets(self, state: RunState) -> dict[str, RunFacet]:
        """Facets of the kind of step; subclasses add theirs."""
        return {}

    def _output_specs(self, state: RunState) -> list[DatasetSpec]:
        return self.outputs

    def _parent_facet(self) -> parent_run.ParentRunFacet | None:
        parent, root = self.parent, self.root
        if parent is None:
            return None
        return parent_run.ParentRunFacet(
            run=parent_run.Run(runId=parent.run_id),
            job=parent_run.Job(namespace=parent.namespace, name=parent.job),
            root=parent_run.Root(
                run=parent_run.RootRun(runId=root.run_id),
                job=parent_run.RootJob(namespace=root.namespace, name=root.job),
            ),
        )

    def event(self, state: RunState, error: BaseException | None = None) -> RunEvent:
        """The event for `state`. Inputs are hashed once (at START); outputs when the step
        completed, since before that their files may not exist or still be the old ones."""
        lineage = self.step.lineage
        run_facets: dict[str, RunFacet] = dict(lineage.run_facets())
        if (parent := self._parent_facet()) is not None:
            run_facets["parent"] = parent
        if self.step.job_type in ENVIRONMENT_STEPS:
            run_facets["ml_environment"] = lineage.environment
        run_facets |= self._ml_facets(state)
        run_facets |= self.run_facets  # a facet added by the body wins, ml_environment too
        if error is not None:
            run_facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
                message=f"{type(error).__name__}: {error}",
                programmingLanguage="python",
                stackTrace="".join(traceback.format_exception(error)),
            )
        inputs = []
        for spec in self.inputs:
            if id(spec) not in self._input_artifacts:
                self._input_artifacts[id(spec)] = _hash(spec)
            inputs.append(as_input(spec, self._input_artifacts[id(spec)]))
        # Outputs are said when the step is over: a version exists once its run completed (a
        # START naming it would make the service count it as written even if the run then
        # fails), and a FAIL names them so a failed deployment is on record as failed.
        outputs = []
        if state != RunState.START:
            completed = state == RunState.COMPLETE
            outputs = [as_output(spec, _hash(spec) if completed else None) for spec in self._output_specs(state)]
        return RunEvent(
            eventType=state,
            eventTime=_time(lineage.clock()),
            run=Run(runId=self.run_id, facets=run_facets),
            job=Job(namespace=self.namespace, name=self.job, facets=self.step.job_facets() | self.job_facets),
            inputs=inputs,
            outputs=outputs,
            producer=lineage.producer,
        )


class TrainingRun(StepRun):
    """A training run: params, metrics and seed become `ml_training`, and the model version it
    writes carries the metrics in its `ml_modelVersion`."""

    def __init__(
        self,
        step: Step[Any],
        parent: StepRun | ParentRef | None,
        *,
        model: ModelVersion | None,
        params: Mapping[str, Any],
        seed: int | None,
        hardware: str | dict[str, Any] | None,
    ) -> None:
        super().__init__(step, parent)
        self.model = model
        self.params: dict[str, Any] = dict(params)
        self.metrics: dict[str, float] = {}
        self.seed = seed
        self.hardware = hardware

    def log_params(self, **params: Any) -> None:
        self.params.update(params)

    def log_metrics(self, **metrics: float) -> None:
        self.metrics.update({k: float(v) for k, v in metrics.items()})

    def _ml_facets(self, state: RunState) -> dict[str, RunFacet]:
        terminal = state in (RunState.COMPLETE, RunState.FAIL, RunState.ABORT)
        facet = TrainingRunFacet(
            params=dict(self.params),
            metrics=dict(self.metrics),
            seed=self.seed,
            hardware=self.hardware,
            durationSeconds=round(self.duration, 6) if terminal else None,
        )
        return {facet.KEY: facet}

    def _output_specs(self, state: RunState) -> list[DatasetSpec]:
        if self.model is None:
            return self.outputs
        model = self.model.with_results(self.metrics, self.params) if state == RunState.COMPLETE else self.model
        return [model, *self.outputs]


class PromotionRun(StepRun):
    """A promotion: moves `alias` of a model to a version, gated by checks and a decision.

    The decision is the one given, else `approved` when every check passed and `rejected` when
    one failed (`pending` with no check). A rejected or pending promotion still records its
    facts; the service holds its alias move (listed as held, not made) until an approval
    (docs/releases.md)."""

    def __init__(
        self,
        step: Step[Any],
        parent: StepRun | ParentRef | None,
        *,
        model: ModelVersion,
        alias: str,
        reviewer: str,
        decision: str | None,
        checks: Mapping[str, bool],
        notes: str | None,
    ) -> None:
        super().__init__(step, parent)
        self.model = model
        self.alias = alias
        self.reviewer = reviewer
        self.checks: dict[str, bool] = dict(checks)
        self.notes = notes
        self._decision = decision

    def check(self, name: str, passed: bool) -> bool:
        """Record one gate; returns `passed` so it reads well in an `if`."""
        self.checks[name] = bool(passed)
        return bool(passed)

    def approve(self, notes: str | None = None) -> None:
        self._decision, self.notes = "approved", notes or self.notes

    def reject(self, notes: str | None = None) -> None:
        self._decision, self.notes = "rejected", notes or self.notes

    @property
    def decision(self) -> str:
        if self._decision is not None:
            return self._decision
        if not self.checks:
            return "pending"
        return "approved" if all(self.checks.values()) else "rejected"

    def _ml_facets(self, state: RunState) -> dict[str, RunFacet]:
        # The alias moves with the outcome, so it is said when the outcome is known.
        if state == RunState.START:
            return {}
        alias = AliasRunFacet(model=self.model.model, alias=self.alias, version=self.model.version)
        approval = ApprovalRunFacet(reviewer=self.reviewer, decision=self.decision, checks=dict(self.checks), notes=self.notes)
        return {alias.KEY: alias, approval.KEY: approval}


class Step(Generic[R]):
    """A job that reads `inputs` and writes `outputs`; use it with `with` or as a decorator."""

    def __init__(
        self,
        lineage: Lineage,
        job: str,
        *,
        job_type: str,
        inputs: Sequence[DatasetSpec] = (),
        outputs: Sequence[DatasetSpec] = (),
        description: str | None = None,
        parent: ParentRef | None = None,
        run_class: type[R],
        run_args: Mapping[str, Any] | None = None,
        namespace: str | None = None,
    ) -> None:
        if not job:
            raise ValueError("a step needs a job name")
        self.lineage = lineage
        self.job = job
        self.namespace = namespace or lineage.namespace
        self.job_type = job_type
        self.inputs = tuple(inputs)
        self.outputs = tuple(outputs)
        self.description = description
        self.parent = parent
        self.run_class = run_class
        self.run_args = dict(run_args or {})

    def job_facets(self) -> dict[str, JobFacet]:
        facets: dict[str, JobFacet] = dict(self.lineage.job_facets())
        facets["jobType"] = job_type_job.JobTypeJobFacet(processingType="BATCH", integration="PYTHON", jobType=self.job_type)
        if self.description:
            facets["documentation"] = documentation_job.DocumentationJobFacet(description=self.description)
        return facets

    def __enter__(self) -> R:
        stack = _CURRENT.get()
        parent: StepRun | ParentRef | None = stack[-1] if stack else (self.parent or self.lineage.parent)
        run = self.run_class(self, parent, **self.run_args)
        self.lineage.send(run.event(RunState.START))  # strict: raises before the body runs
        run._token = _CURRENT.set((*stack, run))
        return run

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        run = _CURRENT.get()[-1]
        if run._token is not None:
            _CURRENT.reset(run._token)
        if exc is None:
            self.lineage.send(run.event(RunState.COMPLETE))
            return
        # KeyboardInterrupt, SystemExit...: the run was stopped rather than failed.
        state = RunState.FAIL if isinstance(exc, Exception) else RunState.ABORT
        try:
            self.lineage.send(run.event(state, error=exc))
        except Exception as emit_error:
            log.warning("lineage: could not record the %s of %s: %s", state.value, self.job, emit_error)
        # Returning nothing re-raises the pipeline's exception, unchanged.

    def __call__(self, func: Callable[P, T]) -> Callable[P, T]:
        """As a decorator: each call is a new run; the function's docstring documents the job."""
        if self.description is None and func.__doc__:
            self.description = inspect.cleandoc(func.__doc__)
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def run_async(*args: P.args, **kwargs: P.kwargs) -> Any:
                with self:
                    return await func(*args, **kwargs)

            return run_async  # type: ignore[return-value]

        @functools.wraps(func)
        def run_sync(*args: P.args, **kwargs: P.kwargs) -> T:
            with self:
                return func(*args, **kwargs)

        return run_sync


__all__ = ["ParentRef", "PromotionRun", "Step", "StepRun", "TrainingRun", "current_step"]
