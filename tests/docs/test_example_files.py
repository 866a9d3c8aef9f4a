"""The event files the README's tour loads are the stories the tests tell (tests/incident.py,
tests/release_record.py), so the tour and the tests cannot drift apart."""

from __future__ import annotations

import json
from pathlib import Path

from tests import release_record

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_release_record_file_is_the_release_record_story() -> None:
    lines = (EXAMPLES / "release-record.ndjson").read_text().splitlines()
    assert [json.loads(line) for line in lines] == release_record.EVENTS

