"""What a step captures by itself: git state, content hashes of files and folders, the machine,
and the software environment."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import os
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from openlineage.client import git as ol_git

CHUNK = 1 << 20  # 1 MiB: hashing streams, so a file of any size needs this much memory


@dataclass(frozen=True, slots=True)
class GitState:
    """Where the running code comes from; `dirty` is None when it cannot be told."""

    repo_url: str
    sha: str
    branch: str | None
    tag: str | None
    dirty: bool | None


def _git(cwd: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def redact_url(url: str) -> str:
    """A remote URL without credentials (`https://user:token@host/...` -> `https://host/...`)."""
    if "://" not in url:
        return url  # scp-like `git@host:org/repo.git`: the user part is not a secret
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def git_state(path: str | Path | None = None) -> GitState | None:
    """Git repository, HEAD sha, branch, tag and dirty flag of the work tree holding `path`.

    Asks the `git` command (it knows worktrees, packed refs and the index); without it, reads
    `.git` the way openlineage-python does, and the dirty flag is then unknown. A repository
    without an `origin` remote is named by its location (`file://...`)."""
    start = Path(path or os.getcwd()).resolve()
    if start.is_file():
        start = start.parent
    top = _git(start, "rev-parse", "--show-toplevel")
    if top is not None:
        sha = _git(start, "rev-parse", "HEAD")
        if not sha:
            return None  # a repository without commits has no version to point at
        remote = _git(start, "config", "--get", "remote.origin.url")
        branch = _git(start, "symbolic-ref", "--quiet", "--short", "HEAD")
        tag = _git(start, "describe", "--tags", "--exact-match", "HEAD")
        status = _git(start, "status", "--porcelain", "--untracked-files=normal")
        return GitState(
            repo_url=redact_url(remote) if remote else Path(top).as_uri(),
            sha=sha,
            branch=branch or None,
            tag=tag or None,
            dirty=None if status is None else bool(status),
        )
    git_dir = ol_git._find_git_dir(str(start))
    if git_dir is None:
        return None
    sha = ol_git.get_git_version(git_dir)
    if not sha:
        return None
    remote = ol_git.get_git_repo_url(git_dir=git_dir)
    return GitState(
        repo_url=redact_url(remote) if remote else git_dir.parent.as_uri(),
        sha=sha,
        branch=ol_git.get_git_branch(git_dir),
        tag=ol_git.get_git_tag(git_dir),
        dirty=None,
    )


def file_sha256(path: Path) -> tuple[str, int]:
    """sha256 and size of one file, read in chunks."""
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def content_hash(path: str | Path) -> tuple[str, int]:
    """sha256 and total size of a file, or of a folder's files.

    A folder hashes like a `sha256sum` manifest: one line `<sha256>  <relative/path>` per file,
    sorted by path, and the sha256 of those lines. So it is reproducible from a shell:
    `(cd DIR && find . -type f -printf '%P\\n' | LC_ALL=C sort | xargs -d '\\n' sha256sum) | sha256sum`.
    """
    root = Path(path)
    if root.is_file():
        return file_sha256(root)
    if not root.is_dir():
        raise FileNotFoundError(f"no file or folder at {root}")
    # Like `find -type f`: symlinks are neither followed nor hashed.
    files = sorted(
        (p.relative_to(root).as_posix(), p)
        for folder, _, names in os.walk(root)
        for p in (Path(folder) / n for n in names)
        if p.is_file() and not p.is_symlink()
    )
    manifest, total = hashlib.sha256(), 0
    for relative, file in files:
        sha, size = file_sha256(file)
        manifest.update(f"{sha}  {relative}\n".encode())
        total += size
    return manifest.hexdigest(), total


def hardware() -> dict[str, object]:
    """The machine a step ran on, as recorded in `ml_training.hardware`."""
    info: dict[str, object] = {
        "machine": platform.machine(),
        "system": f"{platform.system()} {platform.release()}",
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    with contextlib.suppress(ValueError, OSError, AttributeError):  # not every platform tells
        info["memoryBytes"] = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return info


def python_env() -> tuple[str, str]:
    """(implementation, version) of this interpreter, for the processingEngine run facet."""
    return platform.python_implementation(), platform.python_version()


# ML frameworks, in the order one is taken as "the" framework when several are installed (the
# more specialised first: an XGBoost model is served by xgboost, though scikit-learn is there).
FRAMEWORKS = ("xgboost", "lightgbm", "catboost", "torch", "tensorflow", "keras", "jax", "scikit-learn")
# Packages whose versions change what a model computes, recorded when installed.
PACKAGES = (*FRAMEWORKS, "numpy", "scipy", "pandas", "pyarrow", "onnxruntime")
# Lockfiles looked for in the source folder, in this order.
LOCKFILES = ("uv.lock", "poetry.lock", "pdm.lock", "Pipfile.lock", "requirements.lock", "conda-lock.yml", "requirements.txt")


def installed_versions(names: tuple[str, ...]) -> dict[str, str]:
    """Installed version of each of `names` that is installed (distribution names)."""
    found = {}
    for name in dict.fromkeys(names):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found[name] = importlib.metadata.version(name)
    return found


def find_lockfile(source_dir: Path, configured: str | None = None) -> Path | None:
    """The lockfile to hash: the configured one (relative to `source_dir`), else the first of
    `LOCKFILES` there. A configured path that does not exist is an error, not a silent miss."""
    if configured:
        path = Path(configured)
        path = path if path.is_absolute() else source_dir / path
        if not path.is_file():
            raise FileNotFoundError(f"LINEAGE_EMIT_LOCKFILE={configured}: no file at {path}")
        return path
    return next((source_dir / n for n in LOCKFILES if (source_dir / n).is_file()), None)


def environment(
    source_dir: Path, *, lockfile: str | None = None, image_digest: str | None = None, packages: tuple[str, ...] = ()
) -> dict[str, object]:
    """The software environment of this process, as recorded in `ml_environment`."""
    versions = installed_versions((*PACKAGES, *packages))
    framework = next((f for f in FRAMEWORKS if f in versions), None)
    found = find_lockfile(source_dir, lockfile)
    info: dict[str, object] = {
        "language": "python",
        "languageVersion": platform.python_version(),
        "framework": framework,
        "frameworkVersion": versions.get(framework) if framework else None,
        "packages": versions,
        "imageDigest": image_digest,
        "hardware": hardware(),
    }
    if found is not None:
        info["lockfile"] = found.name
        info["lockfileSha256"] = file_sha256(found)[0]
    return info
