"""SQLite: resolving a ref reads indexes, never the whole graph (issue 30: the cost of a lookup
must not grow with the history). `EXPLAIN QUERY PLAN` of each property's lookup."""

from __future__ import annotations

from pathlib import Path

import pytest

from lineage.graph import LOOKUP_PROPS
from lineage.store.sqlite import _FIND, _LOOKUP, _NODES_BY_ID, SqliteStore


def plan(store: SqliteStore, sql: str, params: tuple[object, ...]) -> str:
    rows = store._reader.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    return " | ".join(str(r[3]) for r in rows)


@pytest.mark.parametrize("prop", LOOKUP_PROPS)
def test_each_lookup_property_is_read_from_its_index(tmp_path: Path, prop: str) -> None:
    store = SqliteStore(str(tmp_path / "plans.db"))
    try:
        found = plan(store, _FIND[prop], ("x", None, None, 20))
        assert f"USING INDEX nodes_by_{prop}" in found and "SCAN nodes" not in found, found
    finally:
        store.close()


def test_a_whole_ref_lookup_and_computed_ids_use_indexes_only(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "plans.db"))
    try:
        params: list[object] = [True, "x"]
        for _ in LOOKUP_PROPS:
            params += [True, "x", 20]
        found = plan(store, _LOOKUP, tuple(params))
        assert "SCAN nodes" not in found, found
        assert all(f"nodes_by_{p}" in found for p in ("run_key", "run_label", "name", "version")), found
        by_id = plan(store, _NODES_BY_ID, ('["ds-1", "ds-2"]',))
        assert "SCAN nodes" not in by_id, by_id
    finally:
        store.close()
