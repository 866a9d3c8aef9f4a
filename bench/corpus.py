"""The OpenLineage corpus in tests/corpus/ (events written by other projects) as replayable bodies.

The benchmarks replay it and the tests check every file of it; both read it from here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# A copy kept in the repository (see tests/corpus/README.md), so that a fresh clone in any folder
# replays the same files: the tests name some of them and count what the whole set gives.
CORPUS = Path(__file__).resolve().parents[1] / "tests" / "corpus"


def is_event_file(rel: str) -> bool:
    # Facet fragments, dbt inputs and templated expectations are not replayable events.
    return (
        rel.endswith(".json")
        and "/spec/tests/" not in f"/{rel}"
        and "/integration/common/tests/" not in f"/{rel}"
        and not rel.endswith(("config.json", "nominal_time_without_end.json"))
    )


def substitute(text: str) -> str:
    """Marquez's seed data has time placeholders; fill them with fixed times."""
    text = text.replace("{{RUN_START_TIME}}", "2024-01-01T00:00:00Z")
    return re.sub(
        r"\{\{RUN_END_TIME_AFTER_(\d+)_MINUTES\}\}", lambda m: f"2024-01-01T00:{int(m.group(1)):02d}:00Z", text
    )


def bodies(root: Path = CORPUS) -> Iterator[tuple[str, int, Any]]:
    """(path relative to the corpus, position in the file, event body) for every event file."""
    if not (root / "SOURCES.md").is_file():
        raise FileNotFoundError(f"OpenLineage corpus not found at {root} (no SOURCES.md there)")
    for path in sorted(root.rglob("*.json")):
        rel = path.relative_to(root).as_posix()
        if not is_event_file(rel):
            continue
        data = json.loads(substitute(path.read_text(encoding="utf-8")))
        for index, body in enumerate(data if isinstance(data, list) else [data]):
            yield rel, index, body
