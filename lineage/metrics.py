"""Prometheus metrics, one registry per app so that tests and processes stay independent.

With several API processes (`lineage serve --workers N`) each process writes its samples to
files in PROMETHEUS_MULTIPROC_DIR, which the serve command sets before the workers start, and
`/metrics` on any of them renders the sum over all.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class Metrics:
    """What operators watch: ingest counts, warnings and latency, batch sizes, rejects, query errors, store errors."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events = Counter(
            "lineage_ingest_events", "Events received, by outcome", ["outcome"], registry=self.registry
        )
        self.rejects = Counter(
            "lineage_ingest_rejects", "Rejected requests or events, by reason", ["reason"], registry=self.registry
        )
        self.warnings = Counter(
            "lineage_ingest_warnings", "Problems noted in events that were stored, by kind", ["kind"],
            registry=self.registry,
        )
        self.query_errors = Counter(
            "lineage_query_errors", "Client errors of the query, report and admin routes, by error code", ["error"],
            registry=self.registry,
        )
        self.ack_latency = Histogram(
            "lineage_ingest_ack_seconds", "Time from request to acknowledgement (after commit)",
            buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.commit_batch = Histogram(
            "lineage_commit_batch_events", "Events per group-committed transaction",
            buckets=BATCH_BUCKETS, registry=self.registry,
        )
        self.commit_latency = Histogram(
            "lineage_commit_seconds", "Store transaction time per group commit",
            buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.store_errors = Counter(
            "lineage_store_errors", "Store failures, by kind", ["kind"], registry=self.registry
        )
        self.requests = Counter(
            "lineage_http_requests", "HTTP requests, by route and status", ["method", "route", "status"],
            registry=self.registry,
        )
        self.request_latency = Histogram(
            "lineage_http_request_seconds", "HTTP request latency, by route", ["route"],
            buckets=LATENCY_BUCKETS, registry=self.registry,
        )

        # Kafka as a way in (issue 35; docs/kafka.md).
        self.kafka_messages = Counter(
            "lineage_kafka_messages", "Messages consumed, by outcome (ingested, rejected, poisoned)", ["outcome"],
            registry=self.registry,
        )
        self.kafka_retries = Counter(
            "lineage_kafka_batch_retries", "Consumer batches put back for a retry, by reason", ["reason"],
            registry=self.registry,
        )
        # Summed over the consumers of every process: the messages the group has yet to ingest.
        self.kafka_lag = Gauge(
            "lineage_kafka_consumer_lag", "Messages in the assigned partitions not yet ingested",
            registry=self.registry, multiprocess_mode="livesum",
        )

    def render(self) -> bytes:
        if os.environ.get(MULTIPROC_DIR):
            every_process = CollectorRegistry()
            MultiProcessCollector(every_process)
            return generate_latest(every_process)
        return generate_latest(self.registry)
