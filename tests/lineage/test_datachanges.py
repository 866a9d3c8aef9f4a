"""Pure rules of data changes (issue 37): which labels look like SemVer, and their major part."""

from __future__ import annotations

import pytest

from lineage.datachanges import column_changes, major


@pytest.mark.parametrize(
    ("label", "expected"),
    [("1.4.0", 1), ("v2.0.1", 2), ("data-v1.8.2", 1), ("1.5.0-rc.1", 1), ("10.0.0+build.7", 10),
     ("2026-03-01", None), ("1.2", None), ("", None), (None, None), ("3f9a1c2e-0b1d-4c1e-9a7f-1d2e3f4a5b6c", None)],
    ids=lambda v: repr(v),
)
def test_major_part_of_semver_looking_labels(label: str | None, expected: int | None) -> None:
    assert major(label) == expected


def test_column_changes_name_added_removed_and_retyped_columns() -> None:
    changes = column_changes({"id": "int", "plan": "string", "old": "bool"}, {"id": "int", "plan": "int", "new": "date"})
    assert changes == {
        "added": [{"name": "new", "type": "date"}],
        "removed": [{"name": "old", "type": "bool"}],
        "retyped": [{"name": "plan", "from": "string", "to": "int"}],
    }
