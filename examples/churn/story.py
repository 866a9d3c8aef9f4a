"""The release story, step by step through the emitters SDK (DESIGN.md section 1).

Day 1: snapshot data-v1.7.1 and check it, features fv-1, train churn 2.2.0, promote it to
Production, deploy it to churn-prod, churn-us and churn-batch. Day 2: snapshot data-v1.8.2 (biased
label mapping, and the `region` column dropped under a minor version bump); its checks fail but
only warn, so features fv-2 and churn 2.3.1 (its metrics look better, its seed was not recorded)
follow; promote it, deploy it to churn-prod, to churn-eu (from an image built with other pins
than training used; the first attempt fails its health check) and as a 20% canary on churn-us.
Day 3: the incident: redeploy 2.2.0 to churn-prod after checking its artifact, and refuse a
request to make 2.3.1 the champion. Production is moved back by the rollback playbook
(record.py). Every step is an `emitters` step; the data, features and models are real files
written here.

The story is dated: day 1 is three days ago (UTC), and each step runs at its scripted time
through the SDK's `clock`, the way a backfill would; its real work runs now.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from openlineage.client.facet_v2 import ownership_job

from emitters import Data, FeatureView, Lineage, ModelVersion
from emitters.capture import environment
from emitters.facets import EnvironmentRunFacet
from examples.churn import columns, data, model, quality

LAKE = "lake://demo"
STORE = "demo"  # feature store
REGISTRY = "demo"  # model registry
SEED = 7
OWNERS = ("team:churn-ml", "user:alice")
HERE = Path(__file__).resolve().parent
# The endpoint whose serving image was built from other pins than training used (issue 37).
DRIFTING = "churn-eu"


@dataclass(frozen=True)
class Release:
    """What one nightly run is made of: the data snapshot, the feature view version, the params."""

    data: str
    features: str
    params: dict[str, Any]
    seed: int | None = SEED


RELEASES = {
    "2.2.0": Release("data-v1.7.1", "fv-1", {"lr": 0.5, "epochs": 300, "l2": 0.01}),
    # A refactor of the training script lost the seed argument: 2.3.1's checklist says so.
    "2.3.1": Release("data-v1.8.2", "fv-2", {"lr": 0.3, "epochs": 400, "l2": 0.01}, seed=None),
}


class StoryClock:
    """Event times of the story: `at(day, hour)` sets the scene, each event a second later."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.now = start

    def at(self, day: int, hour: int, minute: int = 0) -> datetime:
        self.now = self.start + timedelta(days=day - 1, hours=hour, minutes=minute)
        return self.now

    def __call__(self) -> datetime:
        moment, self.now = self.now, self.now + timedelta(seconds=1)
        return moment


def default_start() -> datetime:
    """Midnight (UTC) three days ago, so the whole story lies in the past."""
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=3)


@dataclass
class Outcome:
    """What the story did, for the questions and the tests."""

    clock_start: datetime
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    runs: dict[str, str] = field(default_factory=dict)  # step label -> runId
    times: dict[str, datetime] = field(default_factory=dict)
    reference_auc: dict[str, float] = field(default_factory=dict)  # on the good labels
    models: dict[str, Path] = field(default_factory=dict)  # version -> its model file


def _snapshot(lineage: Lineage, out: Path, version: str, outcome: Outcome) -> Data:
    folder = out / "lake" / "customers" / version
    rows = data.SNAPSHOTS[version][0]
    snapshot = Data(LAKE, "customers", version, path=folder, fields=data.columns(version), rows=rows)
    with lineage.data_step("snapshot-customers", outputs=[snapshot], description="Nightly CRM export") as run:
        data.write_snapshot(folder, version)
    outcome.runs[f"snapshot {version}"] = run.run_id
    return snapshot


def _check(lineage: Lineage, snapshot: Data, outcome: Outcome) -> None:
    """The snapshot's data checks, reported as quality facets of the input they read. They only
    warn: the pipeline goes on whatever they find (which is how data-v1.8.2 got through)."""
    assert snapshot.path is not None
    checked = replace(snapshot, input_facets=quality.check(Path(snapshot.path)))
    with lineage.data_step("check-customers", inputs=[checked], description="Data checks of the CRM export (warn only)") as run:
        pass
    outcome.runs[f"check {snapshot.version}"] = run.run_id


def _features(lineage: Lineage, out: Path, snapshot: Data, version: str, outcome: Outcome) -> FeatureView:
    folder = out / "features" / "churn_features" / version
    assert snapshot.version is not None and snapshot.path is not None
    features = columns.features(snapshot, data.FEATURES)  # each names the columns it comes from
    view = FeatureView("churn_features", version, features, data.ENTITIES, store=STORE, path=folder, rows=snapshot.rows)
    with lineage.feature_step(view, inputs=[snapshot]) as run:
        data.build_features(Path(snapshot.path), folder)
    outcome.runs[f"features {version}"] = run.run_id
    return view


def _split(folder: Path, holdout: bool) -> tuple[list[list[float]], list[int]]:
    ids, rows, labels = data.read_features(folder)
    keep = [i for i, customer in enumerate(ids) if model.holdout(customer) == holdout]
    return [rows[i] for i in keep], [labels[i] for i in keep]


def _train(lineage: Lineage, out: Path, view: FeatureView, version: str, outcome: Outcome) -> ModelVersion:
    params = RELEASES[version].params
    folder = out / "registry" / "churn" / version
    registry_uri = folder.resolve().as_uri()
    # The artifact is the model file, so its recorded sha256 is the one `sha256sum` gives.
    target = ModelVersion(
        "churn", version, registry=REGISTRY, registry_uri=registry_uri, framework="python-logreg", path=folder / "model.json",
        inputs=view.inputs(),  # the features it is fed, each a column of the view (issue 36)
    )
    assert view.path is not None
    with lineage.training_step(target, inputs=[view], params=params, seed=RELEASES[version].seed) as run:
        run.job_facets["ownership"] = ownership_job.OwnershipJobFacet(owners=[ownership_job.Owner(name=o) for o in OWNERS])
        train_rows, train_labels = _split(Path(view.path), holdout=False)
        test_rows, test_labels = _split(Path(view.path), holdout=True)
        fitted = model.fit(train_rows, train_labels, lr=params["lr"], epochs=params["epochs"], l2=params["l2"])
        metrics = model.evaluate(fitted, test_rows, test_labels)
        run.log_metrics(**metrics)
        run.log_params(train_rows=len(train_rows), holdout_rows=len(test_rows))
        model.save(fitted, folder, {"model": "churn", "version": version, "features": data.FEATURES, "trained_on": view.version})
    outcome.metrics[version] = metrics
    outcome.models[version] = folder / "model.json"
    outcome.runs[f"train {version}"] = run.run_id
    # What responders check on day 3: the model against the good labels (fv-1's holdout).
    good_rows, good_labels = _split(out / "features" / "churn_features" / "fv-1", holdout=True)
    outcome.reference_auc[version] = model.evaluate(fitted, good_rows, good_labels)["auc"]
    return target


def _promote(
    lineage: Lineage, ref: str, alias: str, reviewer: str, checks: dict[str, bool], outcome: Outcome, notes: str | None = None
) -> str:
    with lineage.promotion(ref, alias, reviewer=reviewer, checks=checks, notes=notes, registry=REGISTRY) as run:
        pass  # the gates were evaluated above; a real pipeline would also call its registry here
    outcome.runs[f"promote {ref} {alias}"] = run.run_id
    return run.decision


def _deploy(
    lineage: Lineage,
    ref: str,
    endpoint: str,
    outcome: Outcome,
    environment: str = "prod",
    traffic: float | None = None,
    fail: str | None = None,
    serving: EnvironmentRunFacet | None = None,
    verify: Path | None = None,
) -> None:
    """`serving`: the environment of the endpoint's image when it is not this process's;
    `verify`: the model file to check against the recorded sha256 before deploying it."""
    url = f"https://{environment}.serving.example/{endpoint}"
    step = lineage.deploy_step(ref, endpoint, environment=environment, url=url, traffic_percent=traffic, registry=REGISTRY)
    with step as run:
        if verify is not None:
            run.verify_artifact(verify, ref)  # a mismatch raises: the deploy run ends FAIL
        if serving is not None:
            run.add_facet(serving.KEY, serving)
        if fail:
            raise RuntimeError(fail)
    outcome.runs[f"deploy {ref} {endpoint}"] = run.run_id


def serving_environment(out: Path) -> EnvironmentRunFacet:
    """churn-eu's image: built from a lockfile that pins another openlineage-python than the
    pipeline's (written here, so its sha256 is a real file's)."""
    pins = (HERE / "requirements.lock").read_text(encoding="utf-8").splitlines()
    older = [("openlineage-python==1.30.0" if line.startswith("openlineage-python==") else line) for line in pins]
    lock = out / "serving" / DRIFTING / "requirements.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text("\n".join(older) + "\n", encoding="utf-8")
    return EnvironmentRunFacet(**environment(HERE, lockfile=str(lock)))  # type: ignore[arg-type]


def run_story(lineage: Lineage, clock: StoryClock, out: Path) -> Outcome:
    """All three days; `lineage` must use `clock` as its clock."""
    outcome = Outcome(clock_start=clock.start)
    versions: dict[str, ModelVersion] = {}
    for day, version in ((1, "2.2.0"), (2, "2.3.1")):
        release = RELEASES[version]
        clock.at(day, 6)
        with lineage.step("churn-nightly", description="Snapshot, features and training, every night"):
            snapshot = _snapshot(lineage, out, release.data, outcome)
            clock.at(day, 6, 30)
            _check(lineage, snapshot, outcome)
            clock.at(day, 7)
            view = _features(lineage, out, snapshot, release.features, outcome)
            clock.at(day, 9)
            versions[version] = _train(lineage, out, view, version, outcome)
        auc = outcome.metrics[version]["auc"]
        clock.at(day, 9, 30)
        checks = {"auc_at_least_0.80": auc >= 0.80, "beats_production": day == 1 or auc > outcome.metrics["2.2.0"]["auc"]}
        _promote(lineage, f"churn@{version}", "Production", "alice", checks, outcome)
        if day == 1:
            clock.at(1, 10)
            for endpoint, environment in (("churn-prod", "prod"), ("churn-us", "prod"), ("churn-batch", "batch")):
                _deploy(lineage, "churn@2.2.0", endpoint, outcome, environment)
    outcome.times["2.3.1 to churn-prod"] = clock.at(2, 10)
    _deploy(lineage, "churn@2.3.1", "churn-prod", outcome)
    clock.at(2, 11)
    eu = serving_environment(out)
    # The deploy job retries an hour later; the failed attempt is on record as failed.
    with contextlib.suppress(RuntimeError):
        _deploy(lineage, "churn@2.3.1", DRIFTING, outcome, fail="health check failed: 503 from /ready", serving=eu)
    clock.at(2, 12)
    _deploy(lineage, "churn@2.3.1", DRIFTING, outcome, serving=eu)
    clock.at(2, 13)
    _deploy(lineage, "churn@2.3.1", "churn-us", outcome, traffic=20)
    # Day 3: the incident.
    outcome.times["rollback"] = clock.at(3, 11)
    _deploy(lineage, "churn@2.2.0", "churn-prod", outcome, verify=outcome.models["2.2.0"])
    clock.at(3, 11, 10)
    checks = {"no_quarantined_training_data": False}
    _promote(lineage, "churn@2.3.1", "champion", "carol", checks, outcome, notes="trained on data-v1.8.2")
    return outcome
