"""Search reads fields from an index in its order and stops at the limit, on both stores: the
plan of `fields_named` holds no scan and no sort, so its cost does not grow with the fields of
history (and what it reads is the limit, shown on Neo4j by the rows the profile counts)."""

from __future__ import annotations

from typing import Any

import pytest

from lineage.store.base import Store
from tests import column_story as c
from tests.conformance.test_projection_rules import ingest


def neo4j_plan(store: Store, prefix: str, limit: int) -> list[dict[str, Any]]:
    """The operators of a PROFILE of the fields_named query, each with the rows it produced."""
    from lineage.store.neo4j import FIELDS_NAMED

    with store._driver.session(database=store.database) as session:  # type: ignore[attr-defined]
        profile = session.run("PROFILE " + FIELDS_NAMED, p={"prefix": prefix, "limit": limit}).consume().profile
    out, todo = [], [profile]
    while todo:
        op = todo.pop()
        out.append({"op": op["operatorType"].split("@")[0], "rows": op.get("rows", 0), "details": op["args"].get("Details", "")})
        todo += op.get("children", [])
    return out


def test_fields_by_name_are_an_ordered_index_range_read_up_to_the_limit(store: Store, backend: str) -> None:
    ingest(store, *c.COLUMN_STORY)
    assert len(store.fields_named("", 100)) == 18  # every field of the story, when nothing bounds the name
    if backend == "sqlite":
        from lineage.store.sqlite import _FIELDS_NAMED

        rows = store._reader.execute("EXPLAIN QUERY PLAN " + _FIELDS_NAMED, ("inc", "inc\U0010ffff", 2)).fetchall()  # type: ignore[attr-defined]
        plan = " | ".join(str(r[3]) for r in rows)
        assert "USING INDEX nodes_field_key" in plan and "SCAN" not in plan and "TEMP B-TREE" not in plan, plan
        return
    ops = neo4j_plan(store, "", 2)
    names = [o["op"] for o in ops]
    assert any(n.startswith("NodeIndexSeek") and "field_key" in o["details"] for n, o in zip(names, ops)), ops
    assert not any("Scan" in n or "Sort" in n or n == "Top" for n in names), names
    seek = next(o for o in ops if o["op"].startswith("NodeIndexSeek"))
    assert seek["rows"] <= 2, seek  # of the story's 18 fields, the index gave the limit
