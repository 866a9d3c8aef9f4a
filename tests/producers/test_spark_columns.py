"""A real Spark job's OpenLineage events: all accepted, and its output's column lineage answered
as the job made it, on both stores (issue 36, point 5)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from lineage.settings import Settings
from lineage.store.base import Store
from tests.producers.columns import answered_fields, neighbours, written_version
from tests.producers.conftest import SparkRun

# The first test to ask for the Spark run waits for it (a JVM and Spark on a loaded machine), which
# may take more than the suite's 300 s per test; the job itself is stopped after 600 s.
pytestmark = pytest.mark.timeout(900)

# What the job (tests/producers/spark_job.py) makes each output column from, written from its
# code: output field -> {(input dataset, input field, transformation type, subtype)}.
DIRECT = {
    "customer_id": {("customers", "customer_id", "DIRECT", "IDENTITY")},
    "region": {("customers", "region", "DIRECT", "IDENTITY")},
    "income_k": {("customers", "income", "DIRECT", "TRANSFORMATION")},
    "total_spent": {("orders", "amount", "DIRECT", "AGGREGATION")},
}
# What decides which rows the output has: the join key on both sides, the filter, the grouping.
# Spark may name more (the null checks it adds to a join key), never a column the job did not
# join, filter or group on.
INDIRECT_AT_LEAST = {
    ("customers", "customer_id", "INDIRECT", "JOIN"),
    ("orders", "customer_id", "INDIRECT", "JOIN"),
    ("orders", "customer_id", "INDIRECT", "GROUP_BY"),
    ("orders", "status", "INDIRECT", "FILTER"),
}
# The output's schema as Spark types it: the CSV input's columns are inferred (inferSchema).
TYPES = {"customer_id": "integer", "region": "string", "income_k": "double", "total_spent": "double"}
INDIRECT_COLUMNS = {("customers", "customer_id"), ("orders", "customer_id"), ("orders", "status")}
INPUTS = ("customers", "orders")


def _output_event(run: SparkRun) -> dict[str, Any]:
    """The last event that carries the output's column lineage (the COMPLETE of its write)."""
    found = [
        event for event in run.events()
        for output in event.get("outputs") or []
        if output["name"] == run.path("features") and "columnLineage" in (output.get("facets") or {})
    ]
    assert found, "the listener sent no columnLineage for the output"
    return found[-1]


def _short(run: SparkRun, name: str) -> str:
    """An input dataset's OpenLineage name back to the short name the tables above use."""
    for short in INPUTS:
        if name == run.path(short):
            return short
    return name


def test_the_listener_s_events_are_all_accepted(spark_run: SparkRun) -> None:
    refused = [(x.status, x.answer) for x in spark_run.exchanges if x.status not in (200, 201)]
    assert not refused, f"the service refused events of the Spark listener: {refused}"
    statuses = {x.answer["status"] for x in spark_run.exchanges}
    assert statuses <= {"created", "duplicate"}
    # The job's Spark actions (two input writes, the CSV schema inference, the output write) each
    # send a START and a COMPLETE, and the application its own START and COMPLETE.
    assert len(spark_run.exchanges) >= 10
    # Warnings are allowed (a producer's facet may break its schema): the run's summary lists
    # them (tests/producers/conftest.py), so a change in what Spark sends shows there.
    for exchange in spark_run.exchanges:
        assert isinstance(exchange.answer["warnings"], list)


def test_the_listener_s_facet_says_what_the_job_did(spark_run: SparkRun) -> None:
    """The facet as Spark sent it, read directly: if this fails, Spark changed, not our service."""
    output = next(o for o in _output_event(spark_run)["outputs"] if o["name"] == spark_run.path("features"))
    facet = output["facets"]["columnLineage"]
    direct = {
        name: {
            (_short(spark_run, i["name"]), i["field"], t["type"], t["subtype"])
            for i in entry["inputFields"] for t in i["transformations"]
        }
        for name, entry in facet["fields"].items()
    }
    assert direct == DIRECT
    indirect = {
        (_short(spark_run, i["name"]), i["field"], t["type"], t["subtype"])
        for i in facet["dataset"] for t in i["transformations"]
    }
    assert INDIRECT_AT_LEAST <= indirect
    assert {(d, f) for d, f, _, _ in indirect} == INDIRECT_COLUMNS


@pytest.fixture(params=["as-sent", "reversed"])
def client(store: Store, settings: Settings, spark_run: SparkRun, request: pytest.FixtureRequest) -> Iterator[TestClient]:
    """A service on a fresh store of each backend, sent what the listener sent, in its order and
    in the reverse one: the answer is a function of the events, not of their arrival."""
    sent = spark_run.exchanges if request.param == "as-sent" else spark_run.exchanges[::-1]
    with TestClient(create_app(settings, store=store)) as test_client:
        for exchange in sent:
            answer = test_client.post(exchange.path, content=exchange.body, headers={"Content-Type": "application/json"})
            assert answer.status_code in (200, 201), answer.text
        yield test_client


def _writer(run: SparkRun, short: str) -> str:
    """The runId of the Spark action that wrote one of the job's datasets."""
    runs = {
        event["run"]["runId"] for event in run.events()
        if event["eventType"] == "COMPLETE" and any(o["name"] == run.path(short) for o in event.get("outputs") or [])
    }
    assert len(runs) == 1, f"{short} written by {len(runs)} runs"
    return runs.pop()


def check_answers(client: httpx.Client, run: SparkRun) -> None:
    """The output version's fields, what each is made from and how, from which input versions;
    and the other way, what the input column `income` feeds."""
    version = written_version(client, _writer(run, "features"), "file", run.path("features"))
    inputs = {short: written_version(client, _writer(run, short), "file", run.path(short)) for short in INPUTS}
    assert answered_fields(client, version) == TYPES
    for field, direct in DIRECT.items():
        answer = neighbours(client, version, field, "up")
        columns = {(_short(run, name), column) for _, name, column in answer}
        assert columns == {(d, f) for d, f, _, _ in direct} | INDIRECT_COLUMNS, field
        given = {
            (_short(run, name), column, kind, subtype)
            for (_, name, column), found in answer.items() for kind, subtype in found.transformations
        }
        assert {g for g in given if g[2] == "DIRECT"} == direct, field
        indirect = {g for g in given if g[2] == "INDIRECT"}
        # The dataset-wide list reaches every field of the output.
        assert INDIRECT_AT_LEAST <= indirect and {(d, f) for d, f, _, _ in indirect} == INDIRECT_COLUMNS, field
        # Version-exact: each input column is one of the versions the job wrote before reading it.
        for (_, name, column), found in answer.items():
            assert not found.placeholder and found.version_id == inputs[_short(run, name)], (field, name, column)
    income = neighbours(client, inputs["customers"], "income", "down")
    assert {(n, f): x.transformations for (_, n, f), x in income.items()} == {
        (run.path("features"), "income_k"): frozenset({("DIRECT", "TRANSFORMATION")})
    }
    assert next(iter(income.values())).version_id == version


def test_the_service_the_listener_sent_to_answers_the_output_s_columns(spark_run: SparkRun) -> None:
    with httpx.Client(base_url=spark_run.url, timeout=60) as live:
        check_answers(live, spark_run)


def test_the_output_s_columns_are_answered_as_the_job_made_them(client: TestClient, spark_run: SparkRun) -> None:
    check_answers(client, spark_run)
