"""`Lineage`: the one object a pipeline holds; it makes the steps and sends their events."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import Any, cast

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import RunEvent
from openlineage.client.facet_v2 import JobFacet, RunFacet, processing_engine_run, source_code_location_job

from emitters import capture, naming
from emitters.client import Emitter, build_client
from emitters.config import EmitterSettings
from emitters.facets import EnvironmentRunFacet
from emitters.datasets import DatasetSpec, Endpoint, FeatureView, ModelVersion
from emitters.steps import ParentRef, PromotionRun, Step, StepRun, TrainingRun

VERSION = "0.1.0"
PRODUCER = f"urn:lineage-graph:emitters:{VERSION}"

log = logging.getLogger("emitters")


def parent_from_env() -> ParentRef | None:
    """The parent run named by `OPENLINEAGE_PARENT_ID` (`namespace/job/runId`, as schedulers
    and other OpenLineage integrations pass it down), if any; a malformed one is ignored."""
    raw = os.environ.get("OPENLINEAGE_PARENT_ID")
    if not raw:
        return None
    try:
        return ParentRef.parse(raw)
    except ValueError as exc:
        log.warning("lineage: ignoring OPENLINEAGE_PARENT_ID: %s", exc)
        return None


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _model(model: ModelVersion | str, registry: str | None) -> ModelVersion:
    if isinstance(model, ModelVersion):
        return model
    return ModelVersion.parse(model, **({"registry": registry} if registry else {}))


class Lineage:
    """Makes steps and sends their events through an OpenLineage client.

    Where events go is OpenLineage configuration (`config`, `openlineage.yml`, `OPENLINEAGE__...`
    variables, `OPENLINEAGE_URL`), or pass a ready `client`. `strict`, `schema_base_url` and
    `namespace` default to `EmitterSettings.from_env()`. `source_dir` is where the git state is
    read (the current directory by default); `clock` gives event times (for backfills and tests);
    `parent` is the run that outermost steps belong to (default: `OPENLINEAGE_PARENT_ID`).
    """

    def __init__(
        self,
        *,
        namespace: str | None = None,
        client: OpenLineageClient | None = None,
        config: dict[str, Any] | None = None,
        strict: bool | None = None,
        schema_base_url: str | None = None,
        source_dir: str | Path | None = None,
        producer: str = PRODUCER,
        clock: Callable[[], datetime] = _utc_now,
        parent: ParentRef | None = None,
        settings: EmitterSettings | None = None,
    ) -> None:
        settings = settings or EmitterSettings.from_env()
        self.settings = settings
        self.parent = parent or parent_from_env()
        self.namespace = namespace or settings.namespace
        self.producer = producer
        self.clock = clock
        self.source_dir = Path(source_dir) if source_dir is not None else Path.cwd()
        self.emitter = Emitter(
            client or build_client(config),
            strict=settings.strict if strict is None else strict,
            schema_base_url=schema_base_url or settings.schema_base_url,
            offline_seconds=settings.offline_seconds,
            max_backlog=settings.max_backlog,
        )

    # --- sending ------------------------------------------------------------------------
    def send(self, event: RunEvent) -> bool:
        """Send one event; see `Emitter.emit` for what happens when it cannot go."""
        return self.emitter.emit(event)

    def close(self) -> bool:
        """Deliver what was kept while the service was away; True when nothing was lost."""
        return self.emitter.close()

    def __enter__(self) -> Lineage:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    # --- what every event carries ----------------------------------------------------------
    @cached_property
    def git(self) -> capture.GitState | None:
        return capture.git_state(self.source_dir)

    def job_facets(self) -> dict[str, JobFacet]:
        state = self.git
        if state is None:
            return {}
        facet: JobFacet = source_code_location_job.SourceCodeLocationJobFacet(
            type="git", url=state.repo_url, repoUrl=state.repo_url, version=state.sha, branch=state.branch, tag=state.tag
        )
        if state.dirty is not None:
            # The sha alone does not describe a work tree with uncommitted changes.
            facet = cast(JobFacet, facet.with_additional_properties(dirty=state.dirty))
        return {"sourceCodeLocation": facet}

    @cached_property
    def _engine(self) -> processing_engine_run.ProcessingEngineRunFacet:
        implementation, version = capture.python_env()
        return processing_engine_run.ProcessingEngineRunFacet(
            version=version, name=implementation, openlineageAdapterVersion=VERSION
        )

    def run_facets(self) -> dict[str, RunFacet]:
        return {"processingEngine": self._engine}

    @cached_property
    def environment(self) -> EnvironmentRunFacet:
        """The software environment, captured once per process (issue 37): training and deploy
        steps carry it, so the service can tell when serving differs from training."""
        settings = self.settings
        info = capture.environment(
            self.source_dir, lockfile=settings.lockfile, image_digest=settings.image_digest, packages=settings.packages
        )
        return EnvironmentRunFacet(**info)  # type: ignore[arg-type]

    # --- steps -------------------------------------------------------------------------
    def step(
        self,
        job: str,
        *,
        inputs: Sequence[DatasetSpec] = (),
        outputs: Sequence[DatasetSpec] = (),
        job_type: str = "JOB",
        description: str | None = None,
        parent: ParentRef | None = None,
    ) -> Step[StepRun]:
        """Any job: a pipeline or DAG run that other steps nest in, a script, a query."""
        return Step(self, job, job_type=job_type, inputs=inputs, outputs=outputs, description=description, parent=parent, run_class=StepRun)

    def data_step(
        self,
        job: str,
        *,
        inputs: Sequence[DatasetSpec] = (),
        outputs: Sequence[DatasetSpec] = (),
        description: str | None = None,
        parent: ParentRef | None = None,
    ) -> Step[StepRun]:
        """Extracts, snapshots, cleaning: reads and writes `Data`."""
        return self.step(job, inputs=inputs, outputs=outputs, job_type="DATA", description=description, parent=parent)

    def feature_step(
        self,
        feature_view: FeatureView,
        *,
        inputs: Sequence[DatasetSpec] = (),
        outputs: Sequence[DatasetSpec] = (),
        job: str | None = None,
        description: str | None = None,
        parent: ParentRef | None = None,
    ) -> Step[StepRun]:
        """Builds a feature view version from its inputs."""
        return self.step(
            job or naming.features_job(feature_view.view),
            inputs=inputs,
            outputs=[feature_view, *outputs],
            job_type="FEATURES",
            description=description,
            parent=parent,
        )

    def training_step(
        self,
        model: ModelVersion | None,
        *,
        inputs: Sequence[DatasetSpec] = (),
        outputs: Sequence[DatasetSpec] = (),
        params: Mapping[str, Any] | None = None,
        seed: int | None = None,
        hardware: str | dict[str, Any] | None = None,
        job: str | None = None,
        description: str | None = None,
        parent: ParentRef | None = None,
    ) -> Step[TrainingRun]:
        """Trains `model` (the model version it writes, registered with its metrics) from `inputs`.

        The run logs params and metrics (`log_params`, `log_metrics`); they become `ml_training`
        together with the seed, the hardware (captured when not given) and the duration."""
        if job is None:
            if model is None:
                raise ValueError("a training step without a model needs a job name")
            job = naming.train_job(model.model)
        return Step(
            self,
            job,
            job_type="TRAINING",
            inputs=inputs,
            outputs=outputs,
            description=description,
            parent=parent,
            run_class=TrainingRun,
            run_args={"model": model, "params": dict(params or {}), "seed": seed, "hardware": hardware or capture.hardware()},
        )

    def promotion(
        self,
        model: ModelVersion | str,
        alias: str,
        *,
        reviewer: str,
        decision: str | None = None,
        checks: Mapping[str, bool] | None = None,
        notes: str | None = None,
        registry: str | None = None,
        job: str | None = None,
        parent: ParentRef | None = None,
    ) -> Step[PromotionRun]:
        """Moves `alias` of the model to this version, with the reviewer's decision and checks.

        `model` is a `ModelVersion` or `model@version`. The run reads the model version."""
        version = _model(model, registry)
        if decision is not None and decision not in ("approved", "rejected", "pending"):
            raise ValueError(f"decision {decision!r}: use approved, rejected or pending")
        return Step(
            self,
            job or naming.promote_job(version.model),
            job_type="PROMOTION",
            inputs=[version],
            parent=parent,
            run_class=PromotionRun,
            run_args={
                "model": version,
                "alias": alias,
                "reviewer": reviewer,
                "decision": decision,
                "checks": dict(checks or {}),
                "notes": notes,
            },
        )

    def deploy_step(
        self,
        model: ModelVersion | str,
        endpoint: Endpoint | str,
        *,
        environment: str = naming.DEFAULT_ENVIRONMENT,
        url: str | None = None,
        traffic_percent: float | None = None,
        registry: str | None = None,
        job: str | None = None,
        description: str | None = None,
        parent: ParentRef | None = None,
    ) -> Step[StepRun]:
        """Deploys a model version to an endpoint: reads the model version, writes a deployment.

        `traffic_percent` below 100 makes a canary beside the full deployment. A rollback is a
        deploy of an older version: the service marks it so."""
        version = _model(model, registry)
        target = endpoint if isinstance(endpoint, Endpoint) else Endpoint(endpoint, environment, url, traffic_percent)
        return self.step(
            job or naming.deploy_job(target.endpoint),
            inputs=[version],
            outputs=[target],
            job_type="DEPLOY",
            description=description,
            parent=parent,
        )


