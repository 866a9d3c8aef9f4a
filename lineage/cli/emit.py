"""`lineage emit`: deploy and promotion steps from shell pipelines and CI jobs, through the SDK."""

from __future__ import annotations

import os
import subprocess
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer

if TYPE_CHECKING:
    # Imported where used: the SDK and openlineage-python cost a quarter of a second, which
    # every other `lineage` command would pay at start.
    from emitters import Lineage, ModelVersion, ParentRef, StepRun

NamespaceOpt = Annotated[
    str | None, typer.Option("--namespace", envvar="OPENLINEAGE_NAMESPACE", help="Job namespace (default: ml-pipelines)")
]
RegistryOpt = Annotated[str, typer.Option("--registry", help="Model registry name (dataset namespace models://REGISTRY)")]
ParentOpt = Annotated[
    str | None,
    typer.Option("--parent", envvar="OPENLINEAGE_PARENT_ID", help="Parent run as NAMESPACE/JOB/RUN_ID (e.g. the CI pipeline run)"),
]
StrictOpt = Annotated[
    bool, typer.Option("--strict", envvar="LINEAGE_EMIT_STRICT", help="Fail (exit 1) when the events cannot be delivered")
]
ServiceOpt = Annotated[
    str | None,
    typer.Option("--to", help="Send to this service (http://host:port) instead of the OpenLineage configuration"),
]
JobOpt = Annotated[str | None, typer.Option("--job", help="Job name (default: deploy-ENDPOINT or promote-MODEL)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the run id and outcome as JSON, for scripts")]
CommandArg = Annotated[
    list[str] | None,
    typer.Argument(help="After `--`: the command doing the work; its failure is recorded as FAIL and its exit code kept"),
]


class CommandFailed(Exception):
    """The wrapped command exited with a non-zero status; recorded as the step's error."""

    def __init__(self, command: list[str], code: int) -> None:
        super().__init__(f"command {' '.join(command)!r} exited with status {code}")
        self.code = code


def _lineage(namespace: str | None, strict: bool, to: str | None) -> Lineage:
    from emitters import Lineage
    from emitters.client import http_transport

    config: dict[str, Any] | None = None
    if to:
        # The OpenLineage variable first, then the one the query commands use.
        token = os.environ.get("OPENLINEAGE_API_KEY") or os.environ.get("LINEAGE_TOKEN")
        config = {"transport": http_transport(to, token)}
    return Lineage(namespace=namespace, config=config, strict=strict)


def _parent(raw: str | None) -> ParentRef | None:
    from emitters import ParentRef

    if not raw:
        return None
    try:
        return ParentRef.parse(raw)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--parent") from None


def _model(ref: str, registry: str) -> ModelVersion:
    from emitters import ModelVersion

    try:
        return ModelVersion.parse(ref, registry=registry)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="MODEL@VERSION") from None


def _checks(raw: list[str]) -> dict[str, bool]:
    checks: dict[str, bool] = {}
    for item in raw:
        name, sep, value = item.partition("=")
        if not sep or not name or value.lower() not in {"true", "false", "pass", "fail", "1", "0"}:
            raise typer.BadParameter(f"{item!r}: use NAME=true or NAME=false", param_hint="--check")
        checks[name] = value.lower() in {"true", "pass", "1"}
    return checks


def _finish(lineage: Lineage, run: StepRun | None, summary: str, as_json: bool, code: int) -> None:
    """Deliver what is pending, tell the person or the script, exit with the step's code."""
    delivered = lineage.close()
    if as_json:
        typer.echo(orjson.dumps({"run_id": run.run_id if run else None, "delivered": delivered, "exit_code": code}).decode())
    else:
        note = "" if delivered else " (events not delivered: see the warning above)"
        typer.echo(f"{summary}: run {run.run_id if run else '-'}{note}", err=code != 0)
    raise typer.Exit(code)


def _execute(step: Any, command: list[str] | None) -> tuple[StepRun | None, int]:
    from emitters import EmitError

    """Run the step around the command (or around nothing); (run, exit code)."""
    holder: list[StepRun] = []
    try:
        with step as run:
            holder.append(run)
            if command:
                code = subprocess.run(command, check=False).returncode
                if code != 0:
                    raise CommandFailed(command, code)
    except CommandFailed as exc:
        return holder[0], exc.code
    except FileNotFoundError as exc:  # the command does not exist: like a shell, 127
        typer.echo(f"error: {exc}", err=True)
        return (holder[0] if holder else None), 127
    except EmitError as exc:
        typer.echo(f"error: {exc}", err=True)
        return (holder[0] if holder else None), 1
    return holder[0], 0


def build() -> typer.Typer:
    emit = typer.Typer(help="Send OpenLineage events for a deploy or a promotion (shell pipelines, CI).", no_args_is_help=True)

    @emit.command()
    def deploy(
        ref: Annotated[str, typer.Argument(help="The model version deployed, MODEL@VERSION (e.g. churn@2.3.1)")],
        endpoint: Annotated[str, typer.Option("--endpoint", help="Endpoint name (e.g. churn-prod)")],
        environment: Annotated[str, typer.Option("--environment", help="Serving environment")] = "prod",
        traffic: Annotated[
            float | None, typer.Option("--traffic", min=0, max=100, help="Traffic share in percent; below 100 is a canary")
        ] = None,
        endpoint_url: Annotated[str | None, typer.Option("--endpoint-url", help="Where the endpoint answers")] = None,
        command: CommandArg = None,
        registry: RegistryOpt = "default",
        job: JobOpt = None,
        namespace: NamespaceOpt = None,
        parent: ParentOpt = None,
        strict: StrictOpt = False,
        to: ServiceOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Record a deployment of MODEL@VERSION to an endpoint; a rollback is a deploy of an older version.

        After `--`, the command that deploys: START before it, COMPLETE after, or FAIL with its exit status."""
        model = _model(ref, registry)
        lineage = _lineage(namespace, strict, to)
        step = lineage.deploy_step(
            model, endpoint, environment=environment, url=endpoint_url, traffic_percent=traffic, job=job, parent=_parent(parent)
        )
        run, code = _execute(step, command)
        share = f", {traffic:g}%" if traffic is not None else ""
        outcome = "recorded" if code == 0 else f"FAILED ({code})"
        _finish(lineage, run, f"deploy {model.ref} -> {endpoint} ({environment}{share}) {outcome}", as_json, code)

    @emit.command()
    def promote(
        ref: Annotated[str, typer.Argument(help="The model version promoted, MODEL@VERSION")],
        alias: Annotated[str, typer.Option("--alias", help="Alias to move (Production, Staging, champion...)")],
        reviewer: Annotated[str, typer.Option("--reviewer", help="Who decided")],
        decision: Annotated[
            str | None, typer.Option("--decision", help="approved, rejected or pending (default: approved if every check passed, rejected if one failed)")
        ] = None,
        check: Annotated[list[str] | None, typer.Option("--check", help="A gate as NAME=true|false; repeatable")] = None,
        notes: Annotated[str | None, typer.Option("--notes", help="Why")] = None,
        registry: RegistryOpt = "default",
        job: JobOpt = None,
        namespace: NamespaceOpt = None,
        parent: ParentOpt = None,
        strict: StrictOpt = False,
        to: ServiceOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Record a promotion: move ALIAS of the model to this version, with the decision and checks.

        A rejected promotion is recorded too; the service does not move the alias for it."""
        if decision is not None and decision not in ("approved", "rejected", "pending"):
            raise typer.BadParameter("use approved, rejected or pending", param_hint="--decision")
        model = _model(ref, registry)
        lineage = _lineage(namespace, strict, to)
        step = lineage.promotion(
            model, alias, reviewer=reviewer, decision=decision, checks=_checks(check or []), notes=notes, job=job, parent=_parent(parent)
        )
        run, code = _execute(step, None)
        verdict = run.decision if run is not None and hasattr(run, "decision") else "?"
        _finish(lineage, run, f"promote {model.ref} to {alias}: {verdict}", as_json, code)

    return emit


def register(app: typer.Typer) -> None:
    app.add_typer(build(), name="emit")
