"""The corpus's `columnLineage` facets (the compatibility tests' CLL scenario among them) answered
as column lineage on both stores: each output's fields, and what each field is made from with
its transformations, against a direct reading of the facets (tests/corpus.py, issue 36)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from lineage.ingest.parse import parse_event
from lineage.settings import Settings
from lineage.store.base import Store
from tests import corpus
from tests.producers.columns import answered_fields, made_from, written_version

NOW = "2026-03-02T00:00:00.000000Z"
CLL = "OpenLineage-compatibility-tests/consumer/scenarios/CLL/"


@pytest.fixture
def client(store: Store, settings: Settings) -> Iterator[TestClient]:
    events = [parse_event(item.body) for item in corpus.load() if item.path not in corpus.REFUSED]
    for start in range(0, len(events), 64):
        store.ingest(events[start : start + 64], NOW)
    with TestClient(create_app(settings, store=store)) as test_client:
        yield test_client


def test_the_corpus_has_column_lineage_to_check() -> None:
    outputs = corpus.column_outputs()
    # The CLL scenario, several Spark runs, Airflow, dbt-ol and Marquez's seed data: a reading
    # that found none of these would make the test below pass on nothing.
    assert any(e.startswith(CLL) for o in outputs for e in o.events)
    assert len(outputs) >= 10
    kinds = {t for o in outputs for found in o.sources.values() for s in found for t, _ in s.transformations}
    assert kinds == {"DIRECT", "INDIRECT"}


def test_corpus_column_lineage_is_answered_as_the_facets_say(client: TestClient) -> None:
    wrong = []
    for output in corpus.column_outputs():
        version = written_version(client, output.run, output.namespace, output.name)
        where = f"{output.namespace}:{output.name} ({output.events[0]})"
        fields = answered_fields(client, version)
        if not output.fields <= set(fields):
            wrong.append(f"{where}: fields {sorted(output.fields - set(fields))} missing")
        types = {name: fields.get(name) for name in output.types}
        if types != output.types:
            wrong.append(f"{where}: field types {types}, the schema facet says {output.types}")
        for field in sorted(output.fields):
            answer = made_from(client, version, field)
            expected = {(s.namespace, s.name, s.field): s for s in output.sources.get(field, ())}
            if set(answer) != set(expected):
                wrong.append(f"{where}[{field}]: made from {sorted(answer)}, the facet says {sorted(expected)}")
                continue
            for column, source in expected.items():
                # An entry that lists no transformation leaves how to read it to the service.
                if source.transformations and answer[column] != source.transformations:
                    wrong.append(f"{where}[{field}] from {column}: {answer[column]} != {source.transformations}")
    assert not wrong, "\n".join(wrong)
