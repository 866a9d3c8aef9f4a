"""Settings, read once at start-up from `LINEAGE_*` environment variables."""

from __future__ import annotations

import os
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything configurable, in one place; built once and passed explicitly."""

    model_config = SettingsConfigDict(env_prefix="LINEAGE_", extra="ignore")

    store: str = Field(
        default="sqlite:///data/lineage.db",
        description="sqlite:///relative/path, sqlite:////absolute/path, or neo4j://host:7687",
    )
    neo4j_user: str = "neo4j"
    neo4j_password: str = ""
    neo4j_database: str = "neo4j"
    # How long the Neo4j driver retries a transaction (and waits for a connection) before the
    # request fails with 503: a Neo4j that is down answers within a few seconds, not 30.
    neo4j_retry_seconds: float = Field(default=2.0, ge=0)

    # auto: bearer tokens are required as soon as one exists (`lineage token create`).
    auth: Literal["auto", "on", "off"] = "auto"
    # Listening beyond loopback with auth off or no token is refused unless this is set.
    allow_insecure: bool = False

    host: str = "127.0.0.1"
    port: int = 5000
    # API processes: each parses requests and group-commits on its own, so on a machine with
    # more than one core they overlap one another's parsing with their commits.
    workers: int = Field(default=1, ge=1, le=64)

    # SQLite file stores: `process` projects and commits ingest in a child process of each API
    # process (lineage/store/writer_process.py), so it runs on another core than the HTTP
    # handling; `inline` does it in a thread of the API process.
    sqlite_writer: Literal["process", "inline"] = "process"

    # Answers warn of runs still START/RUNNING whose last event is older than this, measured
    # against the newest eventTime in the store (issue 29).
    stale_run_hours: float = Field(default=24.0, gt=0)

    # Where `rollback` posts what it recorded, for the model's owners (issue 37); unset: no call.
    owner_webhook_url: str | None = None

    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["json", "text"] = "json"

    max_body_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    # The dead-letter store of refused events (issue 29): the oldest entries go first, counted.
    rejections_max_entries: int = Field(default=10_000, ge=1)
    rejections_max_bytes: int = Field(default=100 * 1024 * 1024, ge=1024)
    # What a body refused for its size keeps of itself (with its size and sha256).
    rejection_sample_bytes: int = Field(default=64 * 1024, ge=0)
    max_batch_events: int = Field(default=1000, ge=1)
    # Group commit: gather concurrent requests into one transaction (DESIGN.md section 2).
    group_commit_max_events: int = Field(default=500, ge=1)
    group_commit_max_wait_ms: float = Field(default=0.0, ge=0)

    # The HTTP edge (issue 31; docs/reliability.md, "The HTTP edge: limits and deadlines").
    # Ingest and /readyz answer within this: a stuck writer, store or lock gives 503 with
    # Retry-After, below the 5 s that OpenLineage clients wait by default.
    request_deadline_seconds: float = Field(default=3.0, gt=0)
    # Every other request (queries, audit reports) answers within this, or 503.
    query_deadline_seconds: float = Field(default=30.0, gt=0)
    # Load shedding: while the oldest unanswered ingest request has waited this long for its
    # commit, new ones are refused at once with 503 + Retry-After instead of queuing.
    ingest_queue_max_wait_seconds: float = Field(default=1.0, gt=0)
    # uvicorn, as `lineage serve` runs it: idle keep-alive connections close after this.
    keep_alive_seconds: float = Field(default=5.0, gt=0)
    # Connections (and so requests) one API process holds at once; past it uvicorn answers 503.
    # Well above what idle clients may hold for the keep-alive timeout, well below the fd limit.
    max_connections: int = Field(default=4096, ge=1)
    # A request's head (request line and headers) larger than this is refused with 431, and
    # one that has not arrived whole within header_read_seconds is closed.
    max_header_bytes: int = Field(default=64 * 1024, ge=1024)
    header_read_seconds: float = Field(default=10.0, gt=0)
    # A body that has not arrived whole within this is refused (408) and its bytes freed.
    body_read_seconds: float = Field(default=10.0, gt=0)
    # The bytes one API process holds for bodies still arriving, all requests together; a body
    # that would pass it is refused with 503 + Retry-After.
    max_pending_body_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    # The Ed25519 key that signs the log's checkpoints (issue 33): a file outside the store, so
    # whoever can rewrite the database cannot sign for it; made there (0600) at first start if
    # missing. Unset: signing-key.pem beside a SQLite database file, else data/signing-key.pem.
    signing_key: str | None = Field(default=None, description="path of the checkpoint signing key (PEM)")

    # Kafka as a way in (issue 35; docs/kafka.md). Unset bootstrap: no Kafka anywhere.
    kafka_bootstrap: str | None = Field(default=None, description="host:port[,host:port] of the Kafka brokers")
    # Topics `lineage consume` reads, comma-separated; the first is the one HTTP ingest writes to
    # when kafka_http_to_topic is on.
    kafka_topics: str = "openlineage"
    kafka_group: str = "lineage"
    # Where refused events go besides the dead-letter store; empty: the store only.
    kafka_dead_letter_topic: str = "openlineage.dead-letter"
    # A consumer batch: at most this many messages, gathered for at most this long, one store commit.
    kafka_batch_max_events: int = Field(default=500, ge=1)
    kafka_batch_max_wait_ms: float = Field(default=100.0, ge=0)
    # `lineage serve` also runs a consumer beside the API (in each worker process).
    kafka_consume: bool = False
    # HTTP ingest (`/api/v1/lineage`, `/lineage/batch`) writes to the topic instead of the store,
    # answering 202 once Kafka acknowledged; the consumers put the events in the store.
    kafka_http_to_topic: bool = False
    # A read that passes a read-after token (X-Lineage-After, from a 202 ingest answer) waits
    # this long at most for the consumers to store its events, then answers 503 (issue 34).
    kafka_read_after_max_wait_seconds: float = Field(default=10.0, ge=0, le=300)
    # Extra librdkafka settings for every client (security.protocol, sasl.*, ...), as JSON.
    kafka_config: dict[str, str] = Field(default_factory=dict)

    def kafka_topic_list(self) -> list[str]:
        return [t.strip() for t in self.kafka_topics.split(",") if t.strip()]

    def signing_key_path(self) -> str:
        if self.signing_key:
            return self.signing_key
        if self.store.startswith("sqlite://"):
            db = self.store.removeprefix("sqlite://").removeprefix("/")
            if db and db != ":memory:":
                return os.path.join(os.path.dirname(db), "signing-key.pem")
        return os.path.join("data", "signing-key.pem")
