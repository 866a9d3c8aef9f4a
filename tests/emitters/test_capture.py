"""Automatic capture: git state, content hashes, the machine; the SDK's settings and `__all__`."""

from __future__ import annotations

import hashlib
import importlib.metadata
import inspect
import os
import platform
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

import emitters
from emitters import capture
from emitters.config import EmitterSettings
from emitters.facets import ApprovalRunFacet, ArtifactDatasetFacet, EndpointDatasetFacet, TrainingRunFacet
from emitters.steps import ParentRef
from tests.emitters.conftest import Capture, Repo, git


def test_git_state_of_a_clean_then_dirty_work_tree(repo: Repo) -> None:
    state = capture.git_state(repo.path)
    assert state is not None
    assert (state.sha, state.branch, state.dirty, state.tag) == (repo.sha, "main", False, None)
    assert state.repo_url == "https://git.example.com/ml/churn.git"  # the token is not sent anywhere
    (repo.path / "train.py").write_text("print('changed')\n")
    assert capture.git_state(repo.path / "train.py").dirty is True  # type: ignore[union-attr]


def test_git_state_names_a_tag_and_a_repository_without_remote(repo: Repo) -> None:
    git(repo.path, "tag", "v1.0")
    git(repo.path, "remote", "remove", "origin")
    state = capture.git_state(repo.path)
    assert state is not None
    assert state.tag == "v1.0"
    assert state.repo_url == repo.path.resolve().as_uri()


def test_git_state_without_the_git_command_reads_dot_git(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(capture, "_git", lambda cwd, *args: None)
    state = capture.git_state(repo.path)
    assert state is not None
    assert (state.sha, state.branch, state.dirty) == (repo.sha, "main", None)
    assert state.repo_url == "https://git.example.com/ml/churn.git"


def test_no_git_state_outside_a_repository(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    assert capture.git_state(tmp_path / "plain") is None


def test_the_job_facet_carries_sha_branch_and_dirty_flag(capture: Capture, repo: Repo) -> None:
    (repo.path / "train.py").write_text("print('uncommitted')\n")
    with capture.lineage.step("job"):
        pass
    location = capture.events()[0]["job"]["facets"]["sourceCodeLocation"]
    assert location["type"] == "git"
    assert location["version"] == repo.sha
    assert location["branch"] == "main"
    assert location["url"] == location["repoUrl"] == "https://git.example.com/ml/churn.git"
    assert location["dirty"] is True


def test_file_hash_is_streamed_sha256(tmp_path: Path) -> None:
    blob = os.urandom(3 * capture.CHUNK + 17)  # several chunks and a partial one
    (tmp_path / "big.bin").write_bytes(blob)
    assert capture.content_hash(tmp_path / "big.bin") == (hashlib.sha256(blob).hexdigest(), len(blob))


def test_folder_hash_matches_the_documented_sha256sum_recipe(tmp_path: Path) -> None:
    root = tmp_path / "snapshot"
    (root / "part" / "b").mkdir(parents=True)
    (root / "manifest.json").write_text('{"rows": 2}\n')
    (root / "part" / "a.csv").write_text("id\n1\n")
    (root / "part" / "b" / "c.csv").write_text("id\n2\n")
    (root / "link.csv").symlink_to(root / "part" / "a.csv")  # not followed, like `find -type f`
    recipe = "find . -type f -printf '%P\\n' | LC_ALL=C sort | xargs -d '\\n' sha256sum | sha256sum"
    expected = subprocess.run(recipe, shell=True, cwd=root, capture_output=True, text=True, check=True).stdout.split()[0]
    sha, size = capture.content_hash(root)
    assert sha == expected
    assert size == len('{"rows": 2}\n') + 2 * len("id\n1\n")


def test_a_changed_file_changes_the_folder_hash(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x").write_text("1")
    before = capture.content_hash(tmp_path / "d")
    (tmp_path / "d" / "x").write_text("2")
    assert capture.content_hash(tmp_path / "d") != before


def test_missing_path_is_an_error_for_hashing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        capture.content_hash(tmp_path / "nothing")


def test_hardware_names_the_machine() -> None:
    info = capture.hardware()
    assert info["cpus"] == os.cpu_count()
    assert isinstance(info["machine"], str) and info["machine"]


def test_settings_from_environment() -> None:
    settings = EmitterSettings.from_env(
        {"LINEAGE_EMIT_STRICT": "true", "OPENLINEAGE_NAMESPACE": "ci", "LINEAGE_EMIT_OFFLINE_SECONDS": "5", "LINEAGE_EMIT_SCHEMA_BASE_URL": "https://lineage.internal"}
    )
    assert (settings.strict, settings.namespace, settings.offline_seconds, settings.schema_base_url) == (True, "ci", 5.0, "https://lineage.internal")
    assert EmitterSettings.from_env({}) == EmitterSettings()
    with pytest.raises(ValueError, match="LINEAGE_EMIT_STRICT"):
        EmitterSettings.from_env({"LINEAGE_EMIT_STRICT": "maybe"})


@pytest.mark.parametrize(
    "make",
    [
        lambda: ArtifactDatasetFacet(sha256="abc"),
        lambda: EndpointDatasetFacet(name="churn-prod", trafficPercent=120),
        lambda: ApprovalRunFacet(reviewer="alice", decision="maybe"),
        lambda: TrainingRunFacet(metrics={"auc": "high"}),
    ],
    ids=["short-sha", "traffic", "decision", "metric-not-a-number"],
)
def test_facets_refuse_values_the_service_would_reject(make: object) -> None:
    with pytest.raises(ValueError):
        make()  # type: ignore[operator]


def test_parent_ref_parses_the_openlineage_parent_id_format() -> None:
    ref = ParentRef.parse("ci/deploy/pipeline/0190c8e4-7b1a-7c7e-9d5e-1a2b3c4d5e6f")
    assert (ref.namespace, ref.job, ref.run_id) == ("ci", "deploy/pipeline", "0190c8e4-7b1a-7c7e-9d5e-1a2b3c4d5e6f")
    with pytest.raises(ValueError):
        ParentRef.parse("ci/deploy/not-a-uuid")


def test_all_is_honest() -> None:
    """`__all__` lists exactly what the package offers, once each."""
    offered = {name for name, value in vars(emitters).items() if not name.startswith("_") and not inspect.ismodule(value)}
    assert len(emitters.__all__) == len(set(emitters.__all__))
    assert set(emitters.__all__) == offered


def test_outer_steps_belong_to_the_parent_named_by_the_environment(
    make_capture: Callable[..., Capture], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENLINEAGE_PARENT_ID", "airflow/nightly_dag/0190c8e4-7b1a-7c7e-9d5e-1a2b3c4d5e6f")
    capture = make_capture()
    with capture.lineage.step("task"), capture.lineage.data_step("extract"):
        pass
    outer, inner = capture.events()[:2]
    parent = outer["run"]["facets"]["parent"]
    assert (parent["job"]["namespace"], parent["job"]["name"], parent["run"]["runId"]) == (
        "airflow",
        "nightly_dag",
        "0190c8e4-7b1a-7c7e-9d5e-1a2b3c4d5e6f",
    )
    nested = inner["run"]["facets"]["parent"]
    assert nested["run"]["runId"] == outer["run"]["runId"]
    assert nested["root"]["run"]["runId"] == "0190c8e4-7b1a-7c7e-9d5e-1a2b3c4d5e6f"


def test_a_malformed_parent_in_the_environment_is_ignored(
    make_capture: Callable[..., Capture], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OPENLINEAGE_PARENT_ID", "not-a-parent")
    capture = make_capture()
    with capture.lineage.step("task"):
        pass
    assert "parent" not in capture.events()[0]["run"]["facets"]
    assert any("OPENLINEAGE_PARENT_ID" in r.getMessage() for r in caplog.records)


def _run_facets(c: Capture, job: str) -> dict[str, object]:
    return next(e["run"]["facets"] for e in c.events() if e["job"]["name"] == job and e["eventType"] == "COMPLETE")


def test_training_and_deploy_steps_record_their_environment_by_themselves(
    make_capture: Callable[..., Capture], repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock = repo.path / "uv.lock"
    lock.write_text("version = 1\n[[package]]\nname = \"pydantic\"\n")
    digest = "sha256:" + "c" * 64
    monkeypatch.setenv("LINEAGE_EMIT_IMAGE_DIGEST", digest)
    monkeypatch.setenv("LINEAGE_EMIT_PACKAGES", "pydantic, fastapi")
    c = make_capture(settings=EmitterSettings.from_env())
    model = emitters.ModelVersion("churn", "2.3.1")
    with c.lineage.training_step(model):
        pass
    with c.lineage.deploy_step(model, "churn-prod"):
        pass
    with c.lineage.data_step("clean"):
        pass
    trained, deployed = _run_facets(c, "train-churn"), _run_facets(c, "deploy-churn-prod")
    for facets in (trained, deployed):
        env = facets["ml_environment"]
        assert isinstance(env, dict)
        assert env["languageVersion"] == platform.python_version()
        assert env["packages"]["pydantic"] == importlib.metadata.version("pydantic")
        assert env["packages"]["fastapi"] == importlib.metadata.version("fastapi")
        assert (env["lockfile"], env["lockfileSha256"]) == ("uv.lock", hashlib.sha256(lock.read_bytes()).hexdigest())
        assert env["imageDigest"] == digest
    assert "ml_environment" not in _run_facets(c, "clean")  # only what training and serving compare


def test_a_configured_lockfile_that_is_missing_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="LINEAGE_EMIT_LOCKFILE"):
        capture.find_lockfile(tmp_path, "locks/missing.lock")
    (tmp_path / "requirements.txt").write_text("numpy==1.26.4\n")
    (tmp_path / "poetry.lock").write_text("")
    assert capture.find_lockfile(tmp_path) == tmp_path / "poetry.lock"  # the first of LOCKFILES found
    assert capture.find_lockfile(tmp_path, "requirements.txt") == tmp_path / "requirements.txt"


def test_the_framework_is_the_most_specific_one_installed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    installed = {"scikit-learn": "1.5.0", "xgboost": "2.0.3", "numpy": "1.26.4"}
    monkeypatch.setattr(capture, "installed_versions", lambda names: {n: installed[n] for n in names if n in installed})
    env = capture.environment(tmp_path)
    assert (env["framework"], env["frameworkVersion"]) == ("xgboost", "2.0.3")
    assert "lockfile" not in env
