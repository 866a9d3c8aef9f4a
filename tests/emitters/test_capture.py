"""Automatic capture: git state, content hashes, the machine; the SDK's settings and `__all__`."""

from __future__ import annotations

import hashlib
import inspect
import os
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
