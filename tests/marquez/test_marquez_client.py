"""The real marquez-python 0.50.0 client against a running `lineage serve`: each read method
answers what Marquez 0.50.0 answered for the same events (tests/marquez/responses), on both stores."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from marquez_client import MarquezClient  # type: ignore[import-untyped]
from marquez_client.errors import APIError  # type: ignore[import-untyped]

from lineage.store.base import Store
from tests.marquez import reference
from tests.server import running

# Each read method of the client, the recorded request it sends (the same path and query),
# and how the client is called for it.
Call = Callable[[MarquezClient], Any]
READS: dict[str, Call] = {
    "namespace_shop_eu": lambda c: c.get_namespace("shop_eu"),
    "namespace_postgres_url": lambda c: c.get_namespace("postgres://warehouse-db:5432"),
    "source_shop_eu": lambda c: c.get_source("shop_eu"),
    "source_s3_url": lambda c: c.get_source("s3://datalake"),
    "sources_list_limit1_offset1": lambda c: c.list_sources(limit=1, offset=1),
    "dataset_shop_eu_orders": lambda c: c.get_dataset("shop_eu", "orders"),
    "dataset_shop_us_customers": lambda c: c.get_dataset("shop_us", "customers"),
    "dataset_s3_orders_enriched": lambda c: c.get_dataset("s3://datalake", "/warehouse/orders_enriched"),
    "datasets_shop_eu_limit1_offset1": lambda c: c.list_datasets("shop_eu", limit=1, offset=1),
    "datasets_postgres_url": lambda c: c.list_datasets("postgres://warehouse-db:5432"),
    "dataset_versions_shop_eu_orders": lambda c: c.list_dataset_versions("shop_eu", "orders"),
    "dataset_versions_shop_eu_orders_limit2_offset1": lambda c: c.list_dataset_versions("shop_eu", "orders", limit=2, offset=1),
    "job_shop_eu_load": lambda c: c.get_job("shop_eu", "load"),
    "job_dbt_child_stg_orders_fullname": lambda c: c.get_job("dbt_prod", "dbt-run-jaffle_shop.jaffle_shop.stg_orders"),
    "job_reporting_static_jobevent": lambda c: c.get_job("reporting", "weekly_revenue_report"),
    "jobs_shop_us": lambda c: c.list_jobs("shop_us"),
    "jobs_shop_eu_limit1_offset1": lambda c: c.list_jobs("shop_eu", limit=1, offset=1),
    "job_runs_shop_eu_load": lambda c: c.list_job_runs("shop_eu", "load"),
    "job_runs_shop_eu_load_limit3_offset2": lambda c: c.list_job_runs("shop_eu", "load", limit=3, offset=2),
    "run_eu_load_d2_failed": lambda c: c.get_job_run("01900000-0000-7000-8000-000000000010"),
    "run_spark_action_1": lambda c: c.get_job_run("01900000-0000-7000-8000-000000000009"),
    "tags_list": lambda c: c.list_tags(),
    # Column lineage (issue 36): by field, by dataset and by job, with depth and withDownstream.
    "column_lineage_eu_orders_amount_eur": lambda c: c.get_column_lineage_by_dataset_field("shop_eu", "orders", "amount_eur"),
    "column_lineage_eu_orders_amount_eur_withDownstream": lambda c: c.get_column_lineage_by_dataset_field(
        "shop_eu", "orders", "amount_eur", with_downstream=True
    ),
    "column_lineage_eu_raw_orders_amount_withDownstream": lambda c: c.get_column_lineage_by_dataset_field(
        "shop_eu", "raw_orders", "amount", with_downstream=True
    ),
    "column_lineage_pg_fct_customer_name_depth1": lambda c: c.get_column_lineage_by_dataset_field(
        "postgres://warehouse-db:5432", "analytics.marts.fct_orders", "customer_name", depth=1
    ),
    "column_lineage_s3_orders_enriched_segment": lambda c: c.get_column_lineage_by_dataset_field(
        "s3://datalake", "/warehouse/orders_enriched", "segment"
    ),
    "column_lineage_dataset_eu_orders": lambda c: c.get_column_lineage_by_dataset("shop_eu", "orders"),
    "column_lineage_dataset_eu_orders_withDownstream_depth1": lambda c: c.get_column_lineage_by_dataset(
        "shop_eu", "orders", depth=1, with_downstream=True
    ),
    "column_lineage_us_orders_withDownstream": lambda c: c.get_column_lineage_by_dataset("shop_us", "orders", with_downstream=True),
    "column_lineage_job_nodeId": lambda c: c.get_column_lineage_by_job("shop_eu", "load"),
}
@pytest.fixture(scope="module", params=["sqlite", "neo4j"])
def client(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MarquezClient]:
    """A `lineage serve` holding the reference events and the recorded tag writes, which the
    client itself makes (create_tag, tag_dataset, tag_dataset_field)."""
    if request.param == "sqlite":
        store_url = f"sqlite:///{tmp_path_factory.mktemp('marquez-client') / 'lineage.db'}"
    else:
        store: Store = request.getfixturevalue("neo4j_store")
        store.reset()
        store_url = request.getfixturevalue("neo4j_uri")
    with running(store_url, LINEAGE_NEO4J_PASSWORD=os.environ.get("LINEAGE_TEST_NEO4J_PASSWORD", "")) as url:
        sent = httpx.post(f"{url}/api/v1/lineage/batch", json=reference.EVENTS, timeout=60)
        assert sent.status_code == 200 and sent.json()["rejected"] == 0
        marquez = MarquezClient(url)
        # Each write answers what Marquez answered to it.
        assert reference.compare("setup_tag_put_gold", 200, marquez.create_tag("GOLD", "Curated, production-grade asset")) == []
        assert reference.compare("setup_tag_dataset_pii", 200, marquez.tag_dataset("shop_us", "customers", "PII")) == []
        tagged = marquez.tag_dataset_field("shop_us", "customers", "email", "PII")
        assert reference.compare("setup_tag_field_pii", 200, tagged) == []
        # marquez-python has no untag nor job tag: these go as Marquez's API has them.
        assert httpx.post(f"{url}/api/v1/namespaces/shop_us/datasets/customers/tags/SENSITIVE").status_code == 200
        assert httpx.delete(f"{url}/api/v1/namespaces/shop_us/datasets/customers/tags/SENSITIVE").status_code == 200
        assert httpx.post(f"{url}/api/v1/namespaces/reporting/jobs/weekly_revenue_report/tags/GOLD").status_code == 200
        yield marquez


@pytest.mark.parametrize("name", sorted(READS))
def test_read_method_answers_as_marquez(client: MarquezClient, name: str) -> None:
    assert reference.compare(name, 200, READS[name](client)) == []


def test_list_namespaces(client: MarquezClient) -> None:
    """As Marquez listed them, the symlink target's namespace too (issue 30 point 3)."""
    recorded = reference.response("namespaces_list")["body"]
    expected = {"namespaces": recorded["namespaces"]}
    got = client.list_namespaces()
    assert reference.differences(reference.normalise(expected, recorded=True), reference.normalise(got, recorded=False)) == []


def test_dataset_version_by_the_id_a_listing_gave(client: MarquezClient) -> None:
    listed = client.list_dataset_versions("shop_eu", "orders")["versions"]
    for name, index in [("dataset_version_shop_eu_orders_first_listed", 0), ("dataset_version_shop_eu_orders_last_listed", -1)]:
        got = client.get_dataset_version("shop_eu", "orders", listed[index]["version"])
        assert reference.compare(name, 200, got) == []


def test_unknown_names_are_api_errors(client: MarquezClient) -> None:
    for call in (
        lambda: client.get_namespace("no_such_namespace"),
        lambda: client.get_dataset("shop_eu", "no_such_dataset"),
        lambda: client.get_job("shop_eu", "no_such_job"),
        lambda: client.get_job_run("00000000-0000-4000-8000-00000000dead"),
        lambda: client.tag_dataset("shop_eu", "no_such_dataset", "PII"),
    ):
        with pytest.raises(APIError):
            call()


def test_tag_writes_are_annotations_in_the_log(client: MarquezClient) -> None:
    """The client's tag writes are kept as annotation events: evidence, like any other."""
    base = client._api_base.removesuffix("/api/v1")  # noqa: SLF001 (the client keeps its URL there)
    customers = client.get_dataset("shop_us", "customers")
    assert customers["tags"] == ["PII"]
    assert [f["tags"] for f in customers["fields"] if f["name"] == "email"] == [["PII"]]
    found = httpx.get(f"{base}/api/v1/nodes/search", params={"q": "customers", "kind": "Dataset"}).json()["results"]
    node = httpx.get(f"{base}/api/v1/nodes/{found[0]['id']}").json()
    tags = sorted(a["tag"] for a in node["props"]["annotations"])
    assert tags == ["PII", "PII", "SENSITIVE", "SENSITIVE"]  # dataset and field; tagged and untagged


def test_list_events_reads_our_event_log(client: MarquezClient) -> None:
    """marquez-python's list_events asks /api/v1/events, which Marquez 0.50.0 does not serve
    (it has /events/lineage); here it is our event log, so the client still gets the events."""
    events = client.list_events(limit=5)
    assert len(events["events"]) == 5
