"""Fetch the pinned OpenLineage Spark listener jar from Maven Central into a local cache folder."""

from __future__ import annotations

import argparse
import fcntl
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
POM_PATH = REPO_ROOT / "ops" / "spark" / "pom.xml"
# Ignored by git, like .neo4j/: the repository carries the recipe, never the jar.
DEFAULT_CACHE_DIR = REPO_ROOT / ".spark"
MARKER_FILE = ".installed-version"
ARTIFACT = "openlineage-spark_2.12"


def _pinned_version(pom: Path = POM_PATH) -> str:
    """Read openlineage.version from the pom so the pin lives in exactly one place."""
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    node = ET.parse(pom).getroot().find("m:properties/m:openlineage.version", ns)
    if node is None or not (node.text or "").strip():
        raise RuntimeError(f"openlineage.version property missing from {pom}")
    return (node.text or "").strip()


OPENLINEAGE_VERSION = _pinned_version()


def jar_path(cache_dir: Path = DEFAULT_CACHE_DIR) -> Path:
    return cache_dir / "lib" / f"{ARTIFACT}-{OPENLINEAGE_VERSION}.jar"


def install(cache_dir: Path = DEFAULT_CACHE_DIR) -> Path:
    """Copy the pinned listener jar into cache_dir/lib via Maven (reusing ~/.m2); return its path.
    A no-op when that version is already there."""
    lib = cache_dir / "lib"
    marker = lib / MARKER_FILE
    if _installed_version(marker) == OPENLINEAGE_VERSION and jar_path(cache_dir).is_file():
        return jar_path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    # A file lock, because two test processes may fetch at once.
    with open(cache_dir / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed_version(marker) == OPENLINEAGE_VERSION and jar_path(cache_dir).is_file():
            return jar_path(cache_dir)
        mvn = shutil.which("mvn")
        if mvn is None:
            raise RuntimeError("mvn not found on PATH; it is needed once to fetch the OpenLineage Spark jar")
        # A scratch folder renamed into place: a half-finished download never looks installed.
        staging = cache_dir / f"lib.tmp-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        cmd = [
            mvn, "-B", "-q", "-Dstyle.color=never", "-f", str(POM_PATH),
            "dependency:copy-dependencies", f"-Dopenlineage.lib.dir={staging}",
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        fetched = staging / jar_path(cache_dir).name
        if proc.returncode != 0 or not fetched.is_file():
            shutil.rmtree(staging, ignore_errors=True)
            out = "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])
            raise RuntimeError(
                f"Maven failed to fetch {ARTIFACT} {OPENLINEAGE_VERSION} (exit {proc.returncode}):\n{out}"
            )
        (staging / MARKER_FILE).write_text(OPENLINEAGE_VERSION + "\n")
        shutil.rmtree(lib, ignore_errors=True)
        staging.rename(lib)
    return jar_path(cache_dir)


def _installed_version(marker: Path) -> str | None:
    try:
        return marker.read_text().strip()
    except OSError:
        return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("install", help="fetch the listener jar (once) and print its path")
    sub.add_parser("path", help="print where the jar is, or exit 1 when it is not there")
    args = parser.parse_args(argv)
    if args.command == "install":
        print(install())
        return 0
    jar = jar_path()
    print(jar)
    return 0 if jar.is_file() else 1


if __name__ == "__main__":
    sys.exit(main())
