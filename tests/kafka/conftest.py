"""Fixtures: a real Kafka 4.x broker (KRaft mode) for the Kafka ingest tests.

The broker comes from, in order: LINEAGE_TEST_KAFKA_BOOTSTRAP (an existing cluster),
testcontainers where a Docker engine answers, or the project's own launcher
(`ops/kafka_local.py`, jars from Maven Central). A Kafka that cannot be had is a test failure,
never a skip, unless a person running the tests locally opts out with LINEAGE_TEST_SKIP_KAFKA=1
(refused when CI is set). Tests that stop and start a broker start one of their own (`own_kafka`).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import _docker_answers


def _skip_requested() -> None:
    if os.environ.get("LINEAGE_TEST_SKIP_KAFKA") == "1":
        if os.environ.get("CI"):
            pytest.fail("LINEAGE_TEST_SKIP_KAFKA is not allowed in CI: the Kafka tests must run")
        pytest.skip("Kafka tests skipped on request (LINEAGE_TEST_SKIP_KAFKA=1)")


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _skip_requested()
    bootstrap = os.environ.get("LINEAGE_TEST_KAFKA_BOOTSTRAP")
    if bootstrap:
        yield bootstrap
        return
    if _docker_answers():
        from testcontainers.kafka import KafkaContainer  # type: ignore[import-untyped]

        with KafkaContainer("apache/kafka:4.1.1").with_kraft() as container:
            yield container.get_bootstrap_server()
        return
    import kafka_local  # ops/, on sys.path through tests/conftest.py

    server = kafka_local.start(tmp_path_factory.mktemp("kafka"), kafka_local.free_port())
    try:
        yield server.bootstrap
    finally:
        server.stop()


@pytest.fixture
def own_kafka(tmp_path: Path) -> Iterator[object]:
    """A broker of this test's own, which it may stop, kill and start again (same home and port)."""
    _skip_requested()
    import kafka_local

    server = kafka_local.start(tmp_path / "kafka", kafka_local.free_port())
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def topic(kafka_bootstrap: str) -> Callable[..., str]:
    """Make a fresh topic (a unique name, so tests on a shared cluster never see each other's)."""
    from confluent_kafka.admin import AdminClient, NewTopic

    def make(partitions: int = 1, bootstrap: str = kafka_bootstrap, prefix: str = "ol") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        admin = AdminClient({"bootstrap.servers": bootstrap})
        for future in admin.create_topics([NewTopic(name, partitions, 1)], operation_timeout=30).values():
            future.result(timeout=60)
        return name

    return make
