"""`python -m examples.churn [--url URL] [--out DIR]`: the story, then the incident answers."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from emitters import Lineage
from emitters.client import http_transport
from examples.churn.questions import ask, report
from examples.churn.story import Outcome, StoryClock, default_start, run_story

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parent / "out"


def lineage_for(url: str, clock: StoryClock) -> Lineage:
    """The SDK pointed at `url` (strict: the answers need every event), dated by the story."""
    token = os.environ.get("OPENLINEAGE_API_KEY") or os.environ.get("LINEAGE_TOKEN")
    return Lineage(config={"transport": http_transport(url, token)}, clock=clock, strict=True, source_dir=HERE)


def run(url: str, out: Path, start: datetime | None = None) -> tuple[Outcome, dict[str, Any]]:
    """Tell the story into the service at `url`, writing its files under `out/churn-story`."""
    work = out / "churn-story"
    shutil.rmtree(work, ignore_errors=True)  # folder hashes must not see files of an earlier run
    work.mkdir(parents=True)
    clock = StoryClock(start or default_start())
    with lineage_for(url, clock) as lineage:
        outcome = run_story(lineage, clock, work)
    return outcome, ask(url, outcome)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m examples.churn", description=__doc__)
    parser.add_argument("--url", default=os.environ.get("LINEAGE_URL", "http://127.0.0.1:5000"), help="the lineage service")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where data, features and models are written")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    outcome, answers = run(args.url, args.out)
    took = time.perf_counter() - started
    print(f"Sent the churn release story to {args.url} through the emitters SDK ({len(outcome.runs)} runs, {took:.1f} s).")
    print(f"Files: {args.out / 'churn-story'}")
    print(report(answers, outcome))
    return 0


if __name__ == "__main__":
    sys.exit(main())
