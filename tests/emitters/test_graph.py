"""The SDK's events build the graph DESIGN.md sections 3-4 describe, on both stores; and what
goes through the real HTTP transport into `lineage serve` is what was captured beside it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from emitters import Data, FeatureView, Lineage, ModelVersion
from emitters.capture import content_hash
from lineage import ids
from lineage.graph import (
    AT_COMMIT,
    CHILD_OF,
    DEPLOYMENT,
    FEATURE_VIEW_VERSION,
    MODEL_VERSION,
    POINTS_TO,
    READ,
    RUN_OF,
    SERVES,
    WROTE,
    Node,
)
from lineage.ingest.parse import parse_event
from lineage.store.base import Store
from lineage.store.sqlite import SqliteStore
from tests.emitters.conftest import Capture, TickClock, file_transport, git
from tests.server import running

NOW = "2026-03-05T00:00:00.000000Z"
REGISTRY = "test"


@dataclass
class Release:
    """The events of a small release story and what the test needs to find its nodes."""

    events: list[dict[str, Any]]
    runs: dict[str, str]  # label -> runId
    repo_url: str
    sha: str
    snapshot_sha: str


def _tell(lineage: Lineage, work: Path) -> dict[str, str]:
    """Two nightly trainings, promotions (one rejected), deployments with a canary, a failed
    deploy and a rollback; returns the runIds by label."""
    runs: dict[str, str] = {}
    for day, (data_v, fv, model_v, auc) in enumerate((("v1", "fv-1", "1.0.0", 0.81), ("v2", "fv-2", "1.1.0", 0.84)), start=1):
        snapshot = Data("lake://test", "customers", data_v, path=work / f"customers-{data_v}", rows=3)
        view = FeatureView("churn_features", fv, ["tenure"], ["customer_id"], path=work / fv)
        model = ModelVersion("churn", model_v, registry=REGISTRY, framework="python-logreg", path=work / f"model-{model_v}")
        with lineage.step("nightly") as nightly:
            with lineage.data_step("snapshot-customers", outputs=[snapshot]):
                Path(snapshot.path).mkdir()  # type: ignore[arg-type]
                (Path(snapshot.path) / "customers.csv").write_text(f"id,tenure\na,{day}\nb,2\nc,3\n")  # type: ignore[arg-type]
            with lineage.feature_step(view, inputs=[snapshot]):
                (work / fv).write_text(f"features {day}\n")
            with lineage.training_step(model, inputs=[view], params={"lr": 0.1 * day}, seed=7) as train:
                train.log_metrics(auc=auc)
                (work / f"model-{model_v}").write_text(f"weights {day}\n")
        runs[f"nightly {day}"], runs[f"train {model_v}"] = nightly.run_id, train.run_id
        ref = ModelVersion("churn", model_v, registry=REGISTRY)
        with lineage.promotion(ref, "Production", reviewer="alice", checks={"auc": True}) as promotion:
            pass
        runs[f"promote {model_v}"] = promotion.run_id
        endpoints = ["ep-a", "ep-b"] if day == 1 else ["ep-a"]
        for endpoint in endpoints:
            with lineage.deploy_step(ref, endpoint) as deploy:
                pass
            runs[f"deploy {model_v} {endpoint}"] = deploy.run_id
    latest = ModelVersion("churn", "1.1.0", registry=REGISTRY)
    with lineage.deploy_step(latest, "ep-b", traffic_percent=20) as canary:
        pass
    runs["canary 1.1.0 ep-b"] = canary.run_id
    try:
        with lineage.deploy_step(latest, "ep-c") as failed:
            raise RuntimeError("image pull failed")
    except RuntimeError:
        runs["deploy 1.1.0 ep-c"] = failed.run_id
    with lineage.promotion(latest, "champion", reviewer="carol", checks={"fairness": False}) as rejected:
        pass
    runs["promote 1.1.0 champion"] = rejected.run_id
    with lineage.deploy_step(ModelVersion("churn", "1.0.0", registry=REGISTRY), "ep-a") as rollback:
        pass
    runs["rollback ep-a"] = rollback.run_id
    return runs


def _repo(root: Path) -> tuple[Path, str]:
    path = root / "pipeline"
    path.mkdir()
    git(path, "init", "--quiet", "--initial-branch=main")
    (path / "pipeline.py").write_text("pass\n")
    git(path, "add", ".")
    git(path, "commit", "--quiet", "-m", "pipeline")
    git(path, "remote", "add", "origin", "https://git.example.com/ml/churn.git")
    return path, git(path, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Release:
    """Captured once, so both stores get exactly the same events."""
    tmp = tmp_path_factory.mktemp("release")
    repo, sha = _repo(tmp)
    with pytest.MonkeyPatch.context() as mp:
        for key in [k for k in os.environ if k.startswith(("OPENLINEAGE", "LINEAGE_EMIT_"))]:
            mp.delenv(key)
        capture = Capture(
            Lineage(config={"transport": file_transport(tmp / "events.ndjson")}, clock=TickClock(), source_dir=repo, strict=True), tmp / "events.ndjson"
        )
        (tmp / "work").mkdir()
        runs = _tell(capture.lineage, tmp / "work")
    return Release(capture.events(), runs, "https://git.example.com/ml/churn.git", sha, content_hash(tmp / "work" / "customers-v2")[0])


def _node(store: Store, node_id: str) -> Node:
    found = store.node(node_id)
    assert found is not None, node_id
    return found


def _out(store: Store, src: str, edge_type: str) -> set[str]:
    return {e.dst for e in store.out_edges(src, edge_type)}


def _version(namespace: str, name: str, version: str) -> str:
    return ids.version_id(ids.dataset_id(namespace, name), version)


def _model(version: str) -> str:
    return _version(f"models://{REGISTRY}", "churn", version)


def _deployment(endpoint: str, run: str) -> str:
    return _version("serving://prod", endpoint, run)


def test_release_builds_the_expected_graph(store: Store, release: Release) -> None:
    outcomes = store.ingest([parse_event(e) for e in release.events], NOW)
    assert all(o.created for o in outcomes)
    runs = {label: ids.run_id(uuid) for label, uuid in release.runs.items()}

    # git commit -> dataset version -> feature view version -> run -> model version
    train = _node(store, runs["train 1.1.0"])
    assert train.props["state"] == "COMPLETE"
    assert _out(store, train.id, RUN_OF) == {ids.job_id("ml-pipelines", "train-churn")}
    fv2 = _version("features://default", "churn_features", "fv-2")
    assert _out(store, train.id, READ) == {fv2}
    assert _out(store, train.id, WROTE) == {_model("1.1.0")}
    assert FEATURE_VIEW_VERSION in _node(store, fv2).labels
    commit = ids.commit_id(release.repo_url, release.sha)
    assert _out(store, train.id, AT_COMMIT) == {commit}
    assert _node(store, commit).props["branch"] == "main"
    assert _out(store, train.id, CHILD_OF) == {runs["nightly 2"]}
    snapshot = _node(store, _version("lake://test", "customers", "v2"))
    assert snapshot.props["sha256"] == release.snapshot_sha  # written and read with one hash
    assert snapshot.props["immutability_violations"] == []
    model = _node(store, _model("1.1.0"))
    assert MODEL_VERSION in model.labels and model.props["model_ref"] == "churn@1.1.0"
    # The training run's metrics survive the deploy runs naming the version as their input.
    assert model.props["facets"]["ml_modelVersion"]["metrics"] == {"auc": 0.84}
    assert model.props["facets"]["ml_modelVersion"]["params"] == {"lr": 0.2}

    # ep-a: 1.0.0, then 1.1.0, then the rollback to 1.0.0, which is live.
    rollback = _node(store, _deployment("ep-a", release.runs["rollback ep-a"]))
    assert DEPLOYMENT in rollback.labels
    assert (rollback.props["status"], rollback.props["rollback"]) == ("live", True)
    assert _out(store, rollback.id, SERVES) == {_model("1.0.0")}
    assert _node(store, _deployment("ep-a", release.runs["deploy 1.1.0 ep-a"])).props["status"] == "ended"
    # ep-b: the 20% canary of 1.1.0 runs beside the full 1.0.0 deployment.
    canary = _node(store, _deployment("ep-b", release.runs["canary 1.1.0 ep-b"]))
    assert (canary.props["status"], canary.props["canary"], canary.props["traffic_percent"]) == ("live", True, 20.0)
    assert _node(store, _deployment("ep-b", release.runs["deploy 1.0.0 ep-b"])).props["status"] == "live"
    # ep-c: the failed deploy never went live and serves nothing.
    failed = _node(store, _deployment("ep-c", release.runs["deploy 1.1.0 ep-c"]))
    assert failed.props["status"] == "failed" and _out(store, failed.id, SERVES) == set()
    assert _node(store, runs["deploy 1.1.0 ep-c"]).props["state"] == "FAIL"

    # Aliases: Production moved twice; the rejected champion request moved nothing.
    production = _node(store, ids.alias_id("churn", "Production"))
    assert production.props["current_version"] == "1.1.0"
    assert {e.dst for e in store.out_edges(production.id, POINTS_TO)} == {_model("1.0.0"), _model("1.1.0")}
    champion = _node(store, ids.alias_id("churn", "champion"))  # recorded: the request is evidence
    assert champion.props.get("current_version") is None
    assert store.out_edges(champion.id, POINTS_TO) == []


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    db = tmp_path / "served.db"
    with running(f"sqlite:///{db}") as url:
        yield url, db


def test_http_transport_delivers_what_a_direct_ingest_builds(served: tuple[str, Path], tmp_path: Path) -> None:
    """One story sent at once through openlineage-python's HTTP transport to `lineage serve` and
    its file transport (a composite): the served graph equals the file's events ingested."""
    url, db = served
    repo, _ = _repo(tmp_path)
    copy = tmp_path / "copy.ndjson"
    config = {"transport": {"type": "composite", "transports": {"service": {"type": "http", "url": url}, "copy": file_transport(copy)}}}
    (tmp_path / "work").mkdir()
    with Lineage(config=config, clock=TickClock(), source_dir=repo, strict=True) as lineage:
        _tell(lineage, tmp_path / "work")
        assert lineage.emitter.schema_base_url == url
    events = [json.loads(line) for line in copy.read_text().splitlines()]
    direct = SqliteStore(str(tmp_path / "direct.db"))
    served_store = SqliteStore(str(db))
    try:
        direct.ingest([parse_event(e) for e in events], NOW)
        assert served_store.event_count() == len(events) == 34
        assert served_store.dump() == direct.dump()
    finally:
        direct.close()
        served_store.close()
