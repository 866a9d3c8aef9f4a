"""Column lineage (issue 36) on both stores: projection rules, transformations kept, order
independence, and the incident question from a column to the endpoints that serve it."""

from __future__ import annotations

import random

import pytest

from lineage import fieldlineage, ids, queries
from lineage.errors import InvalidEvent, NotFound
from lineage.graph import FEEDS, HAS_FIELD
from lineage.refs import resolve_ref
from lineage.store.base import Store
from tests import column_story as c
from tests import scenario as s
from tests.conformance.test_projection_rules import ingest


def field_of(store: Store, ref: str) -> str:
    return resolve_ref(store, ref).id


def feeds(store: Store, dst_ref: str) -> dict[str, list[dict]]:
    """The input fields of a field, by ref, each with its transformations."""
    edges = store.in_edges(field_of(store, dst_ref), FEEDS)
    return {queries.item(n)["ref"]: e.props["transformations"] for e in edges if (n := store.node(e.src))}


@pytest.fixture
def story(store: Store) -> Store:
    ingest(store, *c.COLUMN_STORY)
    return store


def clean_ref(store: Store) -> str:
    """The clean dataset's version (derived from its run, so named by the run's uuid)."""
    return f"s3://lake/clean@{s.run_uuid('col-clean#1')}"


def test_schema_gives_a_version_its_fields_with_their_types(story: Store) -> None:
    answer = fieldlineage.version_fields(story, "s3://lake/customers@data-v1.8.2")
    assert {f["field"]: f["type"] for f in answer["fields"]} == {
        "customer_id": "bigint", "income": "double", "tenure": "int", "churned": "boolean",
    }
    income = next(f for f in answer["fields"] if f["field"] == "income")
    assert income["outputs"] == 1 and income["inputs"] == 0


def test_input_fields_bind_to_the_version_the_run_read_with_their_transformations(story: Store) -> None:
    clean = clean_ref(story)
    assert feeds(story, f"{clean}[income_scaled]") == {
        "s3://lake/customers@data-v1.8.2[income]": [
            {"type": "DIRECT", "subtype": "TRANSFORMATION", "description": "income / 1000", "masking": False}
        ],
        # the dataset-wide list feeds every field, marked as such
        "s3://lake/customers@data-v1.8.2[churned]": [
            {"type": "INDIRECT", "subtype": "FILTER", "description": None, "masking": False, "dataset_wide": True}
        ],
    }
    # The older per-field form: its type is the subtype of a DIRECT transformation.
    legacy = feeds(story, f"{clean}[customer_id]")["s3://lake/customers@data-v1.8.2[customer_id]"]
    assert legacy == [{"type": "DIRECT", "subtype": "IDENTITY", "description": "copied", "masking": False}]
    # The version before (data-v1.7.1) was not read: none of its fields feeds anything.
    older = resolve_ref(story, "s3://lake/customers@data-v1.7.1")
    assert not story.edges_from([e.dst for e in story.out_edges(older.id, HAS_FIELD)], FEEDS)


def test_a_column_of_a_dataset_the_run_did_not_read_hangs_off_a_flagged_placeholder(story: Store) -> None:
    inputs = feeds(story, f"{clean_ref(story)}[region]")
    assert sorted(inputs) == ["s3://lake/customers@data-v1.8.2[churned]", "s3://lake/regions@(unversioned)[region]"]
    placeholder = resolve_ref(story, "s3://lake/regions@(unversioned)[region]")
    assert placeholder.props["placeholder"] is True
    answer = fieldlineage.column_lineage(story, clean_ref(story), "region", direction="up")
    assert [w["kind"] for w in answer["warnings"]] == ["placeholder_input"]
    flagged = {f["ref"]: f.get("placeholder", False) for f in answer["fields"]}
    assert flagged == {"s3://lake/regions@(unversioned)[region]": True, "s3://lake/customers@data-v1.8.2[churned]": False}


def test_features_and_model_inputs_name_their_columns(story: Store) -> None:
    assert list(feeds(story, "churn@fv-2[income_scaled]")) == [f"{clean_ref(story)}[income_scaled]"]
    # a feature naming no transformation: computed from its column, DIRECT
    assert feeds(story, "churn@fv-2[income_scaled]")[f"{clean_ref(story)}[income_scaled]"][0]["type"] == "DIRECT"
    assert list(feeds(story, "churn@2.3.1[income_scaled]")) == ["churn@fv-2[income_scaled]"]
    # a bare feature name still makes a field, with nothing feeding it
    assert feeds(story, "churn@fv-2[plan]") == {}


def test_the_incident_question_from_a_column_to_the_endpoints_serving_it(story: Store) -> None:
    answer = fieldlineage.column_lineage(story, "data-v1.8.2", "income")
    assert answer["field"]["ref"] == "s3://lake/customers@data-v1.8.2[income]"
    assert [f["ref"] for f in answer["fields"]] == [
        f"{clean_ref(story)}[income_scaled]", "churn@fv-2[income_scaled]", "churn@2.3.1[income_scaled]",
    ]
    assert [(f["feature"], f["feature_view"]) for f in answer["features"]] == [("income_scaled", "churn@fv-2")]
    assert [m["label"] for m in answer["model_versions"]] == ["churn@2.3.1"]
    assert answer["model_versions"][0]["fields"] == ["income_scaled"]
    [endpoint] = answer["endpoints"]
    assert (endpoint["name"], endpoint["currently_serving"], endpoint["via_model_versions"]) == ("churn-prod", True, ["churn@2.3.1"])
    first = next(e for e in answer["edges"] if e["src_ref"] == answer["field"]["ref"])
    assert first["transformations"][0]["description"] == "income / 1000"
    # tenure reaches the model too, through another feature; churned only INDIRECTly
    tenure = fieldlineage.column_lineage(story, "data-v1.8.2", "tenure")
    assert "churn@2.3.1[tenure_months]" in [f["ref"] for f in tenure["fields"]]
    assert fieldlineage.column_lineage(story, "data-v1.8.2", "churned", transformations="direct")["fields"] == []
    indirect = fieldlineage.column_lineage(story, "data-v1.8.2", "churned")
    assert [e["name"] for e in indirect["endpoints"]] == ["churn-prod"]


def test_upstream_of_a_model_input_and_direct_only(story: Store) -> None:
    up = fieldlineage.column_lineage(story, "churn@2.3.1", "income_scaled", direction="up")
    refs = {f["ref"] for f in up["fields"]}
    assert {"s3://lake/customers@data-v1.8.2[income]", "s3://lake/customers@data-v1.8.2[churned]"} <= refs
    assert up["endpoints"] == []
    direct = fieldlineage.column_lineage(story, "churn@2.3.1", "income_scaled", direction="up", transformations="direct")
    assert "s3://lake/customers@data-v1.8.2[churned]" not in {f["ref"] for f in direct["fields"]}
    assert "s3://lake/customers@data-v1.8.2[income]" in {f["ref"] for f in direct["fields"]}
    assert fieldlineage.column_lineage(story, "churn@2.3.1", "income_scaled", direction="up", depth=1)["counts"]["fields"] == 1


def test_every_field_label_resolves_to_its_field(story: Store) -> None:
    answer = fieldlineage.column_lineage(story, "churn@2.3.1", "income_scaled", direction="up")
    labels = [answer["field"], *answer["fields"]]
    assert len(labels) >= 5
    for entry in labels:
        assert resolve_ref(story, entry["label"]).id == entry["id"]
        assert resolve_ref(story, entry["ref"]).id == entry["id"]
    for edge in answer["edges"]:
        assert resolve_ref(story, edge["src_ref"]).id == edge["src"]


def test_late_data_version_moves_the_columns_it_feeds(store: Store) -> None:
    """The read binds to data-v1.7.1 until data-v1.8.2, written earlier, arrives late."""
    late = c.COLUMN_STORY[1]
    ingest(store, *[e for e in c.COLUMN_STORY if e is not late])
    before = fieldlineage.column_lineage(store, "data-v1.7.1", "income")
    assert "churn@2.3.1[income_scaled]" in [f["ref"] for f in before["fields"]]
    ingest(store, late)
    assert fieldlineage.column_lineage(store, "data-v1.7.1", "income")["fields"] == []
    after = fieldlineage.column_lineage(store, "data-v1.8.2", "income")
    assert "churn@2.3.1[income_scaled]" in [f["ref"] for f in after["fields"]]


def test_any_arrival_order_gives_the_same_column_graph(store: Store) -> None:
    ingest(store, *c.COLUMN_STORY)
    expected = store.dump()
    assert any(n["kind"] == "Field" for n in expected["nodes"])
    for seed in range(3):
        store.reset()
        shuffled = c.COLUMN_STORY + c.COLUMN_STORY[:3]
        random.Random(seed).shuffle(shuffled)
        for body in shuffled:
            ingest(store, body)
        assert store.dump() == expected, f"order seed {seed}"


def test_where_column_lineage_stops_the_answer_says_so(story: Store) -> None:
    # A report built from clean, by a run that says nothing about its columns.
    ingest(story, s.event("report#1", "COMPLETE", s.ts(11), inputs=[s.dataset("clean")], outputs=[s.dataset("report")]))
    answer = fieldlineage.column_lineage(story, "data-v1.8.2", "income")
    gaps = [w for w in answer["warnings"] if w["kind"] == "column_lineage_missing"]
    assert len(gaps) == 1 and "no column lineage" in gaps[0]["detail"]
    assert story.node(gaps[0]["node"]).props["name"] == "report"


def test_refs_that_name_no_field(story: Store) -> None:
    with pytest.raises(NotFound) as missing:
        fieldlineage.column_lineage(story, "data-v1.8.2", "incom")
    assert "s3://lake/customers@data-v1.8.2[income]" in [x["ref"] for x in missing.value.suggestions]
    with pytest.raises(InvalidEvent):
        fieldlineage.column_lineage(story, s.run_uuid("col-clean#1"), "income")
    with pytest.raises(InvalidEvent):
        fieldlineage.column_lineage(story, "data-v1.8.2", "income", direction="sideways")
    # A dataset ref means its newest version that has the field.
    assert fieldlineage.resolve_field(story, "s3://lake/customers", "income").id == ids.field_id(
        resolve_ref(story, "data-v1.8.2").id, "income"
    )
