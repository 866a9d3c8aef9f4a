"""Fetch a pinned set of jars from Maven Central into a local folder, once: the one recipe
behind ops/neo4j_local.py, ops/kafka_local.py and ops/spark_listener.py."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

MARKER_FILE = ".installed-version"


def pinned_version(pom: Path, prop: str) -> str:
    """Read the `prop` property from the pom, so each pin lives in exactly one place."""
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    node = ET.parse(pom).getroot().find(f"m:properties/m:{prop}", ns)
    if node is None or not (node.text or "").strip():
        raise RuntimeError(f"{prop} property missing from {pom}")
    return (node.text or "").strip()


def installed_version(lib: Path) -> str | None:
    try:
        return (lib / MARKER_FILE).read_text().strip()
    except OSError:
        return None


def fetch(pom: Path, lib_dir_prop: str, cache_dir: Path, version: str, main_jar: str, what: str) -> Path:
    """Copy the pom's dependencies into cache_dir/lib via Maven (~/.m2 caches them) and return
    that folder; a no-op when `version` is there with its `main_jar`. `lib_dir_prop` is the pom
    property naming the folder Maven copies into."""
    lib = cache_dir / "lib"
    if installed_version(lib) == version and (lib / main_jar).is_file():
        return lib
    cache_dir.mkdir(parents=True, exist_ok=True)
    # A file lock, because parallel test processes may all call this at once.
    with open(cache_dir / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if installed_version(lib) == version and (lib / main_jar).is_file():
            return lib
        mvn = shutil.which("mvn")
        if mvn is None:
            raise RuntimeError(f"mvn not found on PATH; it is needed once to fetch the {what} jars")
        # A scratch folder renamed into place: a half-finished download never looks installed,
        # and jars of two versions never mix on a classpath.
        staging = cache_dir / f"lib.tmp-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        cmd = [
            mvn, "-B", "-q", "-Dstyle.color=never", "-f", str(pom),
            "dependency:copy-dependencies", f"-D{lib_dir_prop}={staging}",
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if proc.returncode != 0 or not (staging / main_jar).is_file():
            shutil.rmtree(staging, ignore_errors=True)
            out = "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])
            raise RuntimeError(f"Maven failed to fetch {what} {version} (exit {proc.returncode}):\n{out}")
        (staging / MARKER_FILE).write_text(version + "\n")
        shutil.rmtree(lib, ignore_errors=True)
        staging.rename(lib)
    return lib
