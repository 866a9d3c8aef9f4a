"""Search finds a dataset version's fields (by their name's start, or by their ref
`version[field]`), and every field it prints is a ref that resolves to it, on both stores."""

from __future__ import annotations

import pytest

from lineage import queries
from lineage.errors import InvalidEvent
from lineage.graph import FIELD
from lineage.refs import resolve_ref
from lineage.store.base import Store
from tests import column_story as c
from tests import scenario as s
from tests.conformance.test_projection_rules import ingest

# A warehouse that shouts its column names, beside the story's lower-case ones.
SHOUTED = s.event(
    "col-wh#1", "COMPLETE", s.ts(11),
    outputs=[s.dataset("CUSTOMERS_WIDE", "w-1", namespace="snowflake://acct", facets={"schema": c.schema(("INCOME_USD", "NUMBER"), ("Income_Band", "TEXT"))})],
)


@pytest.fixture
def story(store: Store) -> Store:
    ingest(store, *c.COLUMN_STORY, SHOUTED)
    return store


def all_fields(store: Store) -> list[dict]:
    """Every field of the graph, as answers show it (read whole: only a test may)."""
    return [queries.item(store.node(n["id"])) for n in store.dump()["nodes"] if n["kind"] == FIELD]  # type: ignore[arg-type]


def refs(answer: dict) -> list[str]:
    return [r["ref"] for r in answer["results"]]


def test_a_field_is_found_by_the_start_of_its_name_in_any_case(story: Store) -> None:
    wanted = {f["id"] for f in all_fields(story) if f["field"].lower().startswith("income")}
    assert len(wanted) == 7  # two customers versions, clean, the feature view and model versions, the warehouse's two
    for q in ("income", "INCOME", "Inc"):
        answer = queries.search(story, q, limit=50)
        assert {r["id"] for r in answer["results"] if r["kind"] == FIELD} == wanted, q
    only = queries.search(story, "income_", kind=FIELD, limit=50)
    assert sorted(r["field"] for r in only["results"]) == ["INCOME_USD", "Income_Band", "income_scaled", "income_scaled", "income_scaled"]


def test_every_field_printed_resolves_to_that_field(story: Store) -> None:
    for q in ("income", "tenure", "customer", "region", "INCOME_USD"):
        for result in queries.search(story, q, kind=FIELD, limit=50)["results"]:
            assert result["label"] == result["ref"] and result["ref"].endswith(f"[{result['field']}]")
            assert resolve_ref(story, result["ref"]).id == result["id"], result["ref"]


def test_a_fields_printed_ref_finds_that_field_alone(story: Store) -> None:
    fields = all_fields(story)
    assert len(fields) == 20  # the story's versions' fields and the warehouse's two
    for f in fields:
        found = queries.search(story, f["ref"])["results"]
        assert [r["id"] for r in found] == [f["id"]], f["ref"]
        assert resolve_ref(story, found[0]["ref"]).id == f["id"]


def test_a_version_ref_and_the_start_of_a_field_name_list_that_versions_fields(story: Store) -> None:
    assert refs(queries.search(story, "data-v1.8.2[inc")) == ["s3://lake/customers@data-v1.8.2[income]"]
    assert refs(queries.search(story, "churn@2.3.1[")) == ["churn@2.3.1[income_scaled]", "churn@2.3.1[tenure_months]"]
    assert refs(queries.search(story, "snowflake://acct/CUSTOMERS_WIDE@w-1[income")) == [
        "snowflake://acct/CUSTOMERS_WIDE@w-1[Income_Band]", "snowflake://acct/CUSTOMERS_WIDE@w-1[INCOME_USD]",
    ]
    # A left part that names several versions (or none) lists nothing by it.
    assert refs(queries.search(story, "customers[inc")) == []


def test_fields_come_after_the_other_kinds_in_name_order_within_the_limit(story: Store) -> None:
    answer = queries.search(story, "cust", limit=50)
    kinds = [r["kind"] for r in answer["results"]]
    assert kinds[0] != FIELD and FIELD in kinds
    assert kinds == sorted(kinds, key=lambda k: k == FIELD), "no other kind after a field"
    fields = [r for r in answer["results"] if r["kind"] == FIELD]
    assert [r["field"].lower() for r in fields] == sorted(r["field"].lower() for r in fields)
    others = len(kinds) - len(fields)
    cut = queries.search(story, "cust", limit=others + 1)["results"]
    assert [r["id"] for r in cut] == [r["id"] for r in answer["results"][: others + 1]]
    first = queries.search(story, "income", kind=FIELD, limit=2)["results"]
    assert [r["id"] for r in first] == [r["id"] for r in queries.search(story, "income", kind=FIELD, limit=50)["results"][:2]]


def test_other_kinds_do_not_bring_fields(story: Store) -> None:
    assert all(r["kind"] == "DatasetVersion" for r in queries.search(story, "income", kind="DatasetVersion")["results"])
    with pytest.raises(InvalidEvent):
        queries.search(story, "income", kind="Column")


def test_a_database_from_before_the_promoted_keys_gets_them_at_setup(story: Store) -> None:
    # Fields found by name and jobs listed newest first read keys ingest promotes onto the node;
    # on Neo4j a database made before them gets them filled in once, when the store is set up.
    # (SQLite indexes expressions over the node's props, so it has nothing to fill in.)
    found = refs(queries.search(story, "income", kind=FIELD, limit=50))
    jobs = story.newest_jobs(None, 100, 0)
    assert found and jobs[0] > 0
    if story.backend == "neo4j":
        with story._driver.session() as session:  # type: ignore[attr-defined]
            session.run("MATCH (n:Node) WHERE n:Job OR n:Field REMOVE n.updated_at, n.field_key").consume()
            session.run("MATCH (h:LogHead {name: 'head'}) REMOVE h.promoted_keys_ready").consume()
        assert refs(queries.search(story, "income", kind=FIELD, limit=50)) == []  # as such a database answers
        story.setup()
    assert refs(queries.search(story, "income", kind=FIELD, limit=50)) == found
    assert story.newest_jobs(None, 100, 0) == jobs
