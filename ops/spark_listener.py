"""Fetch the pinned OpenLineage Spark listener jar from Maven Central into a local cache folder."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from maven_jars import fetch, pinned_version  # ops/, beside this file

REPO_ROOT = Path(__file__).resolve().parent.parent
POM_PATH = REPO_ROOT / "ops" / "spark" / "pom.xml"
# Ignored by git, like .neo4j/: the repository carries the recipe, never the jar.
DEFAULT_CACHE_DIR = REPO_ROOT / ".spark"
ARTIFACT = "openlineage-spark_2.12"
OPENLINEAGE_VERSION = pinned_version(POM_PATH, "openlineage.version")


def jar_path(cache_dir: Path = DEFAULT_CACHE_DIR) -> Path:
    return cache_dir / "lib" / f"{ARTIFACT}-{OPENLINEAGE_VERSION}.jar"


def install(cache_dir: Path = DEFAULT_CACHE_DIR) -> Path:
    """Copy the pinned listener jar into cache_dir/lib via Maven (reusing ~/.m2); return its path.
    A no-op when that version is already there."""
    fetch(POM_PATH, "openlineage.lib.dir", cache_dir, OPENLINEAGE_VERSION, jar_path(cache_dir).name, ARTIFACT)
    return jar_path(cache_dir)


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
