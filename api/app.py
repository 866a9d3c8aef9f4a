"""The FastAPI application, built by `create_app(settings)`; nothing is created at import."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from api import errors, freshness, observe
from api.deadline import Deadline
from api.deps import BodyBudget
from api.routes import audit, checkpoints, columns, lineage, marquez, ops, queries, rejections, releases, web
from lineage import __version__, logs
from lineage.auth import Authenticator, is_loopback
from lineage.checkpoints import Signer
from lineage.deadletter import DeadLetters
from lineage.errors import StoreUnavailable
from lineage.metrics import Metrics
from lineage.runtime import tuned_gc
from lineage.service import GroupCommitter, IngestService
from lineage.settings import Settings
from lineage.store import open_store
from lineage.store.base import Store
from lineage.store.writer_process import writer_process


log = logging.getLogger("lineage.api")


def check_exposure(settings: Settings, auth: Authenticator) -> None:
    """Refuse to listen beyond loopback with nobody keeping strangers out (issue 6)."""
    if is_loopback(settings.host) or settings.allow_insecure:
        return
    try:
        if auth.enforced():
            return
    except StoreUnavailable:
        if settings.auth == "auto":
            # Whether tokens exist cannot be told now: fail closed, every request needs one.
            log.warning("store unavailable at start-up: requiring tokens until it is back")
            auth.mode = "on"
            return
    raise RuntimeError(
        f"refusing to listen on {settings.host} without auth: create a token (`lineage token create NAME"
        " --scope ingest`), set LINEAGE_AUTH=on, or set LINEAGE_ALLOW_INSECURE=true"
    )


def open_checked(settings: Settings, store: Store | None = None) -> tuple[Store, Authenticator]:
    """The start-up every API process makes, and `lineage serve --workers` once before them:
    the store opened from settings (unless given) and set up, and the exposure check. A store
    that is down does not stop it (/readyz and ingest answer 503 until it is back); a refused
    exposure raises RuntimeError, after closing a store opened here."""
    own = store is None
    opened = open_store(settings) if store is None else store
    try:
        try:
            opened.setup()
        except StoreUnavailable as exc:
            log.warning("store unavailable at start-up", extra={"error": str(exc)})
        auth = Authenticator(opened, settings.auth)
        check_exposure(settings, auth)
    except BaseException:
        if own:
            opened.close()
        raise
    return opened, auth


def start_kafka(app: FastAPI, settings: Settings, committer: GroupCommitter) -> KafkaSide:
    """What the settings ask of Kafka beside the API (issue 35; docs/kafka.md): a consumer in a
    thread of this process, and HTTP ingest into the topic instead of the store."""
    side = KafkaSide()
    app.state.kafka_consumer = None
    if settings.kafka_http_to_topic:
        from lineage.kafka_writer import TopicWriter

        side.writer = app.state.ingest.topic = TopicWriter(settings)
    if settings.kafka_consume:
        from lineage.kafka_ingest import TopicConsumer, committed_ingest

        consumer = TopicConsumer(
            settings, committed_ingest(committer.submit), app.state.dead_letters, app.state.metrics
        )
        side.consumer = app.state.kafka_consumer = consumer
        side.thread = threading.Thread(target=consumer.run, name="kafka-consumer", daemon=True)
        side.thread.start()
    return side


class KafkaSide:
    """The Kafka clients an API process runs, closed with it."""

    def __init__(self) -> None:
        self.writer: Any = None
        self.consumer: Any = None
        self.thread: threading.Thread | None = None

    def close(self) -> None:
        if self.consumer is not None and self.thread is not None:
            self.consumer.stop()  # the batch in hand is committed first
            self.thread.join(timeout=60)
        if self.writer is not None:
            self.writer.close()


def create_app(settings: Settings, store: Store | None = None) -> FastAPI:
    """An app over `store` (opened from settings when not given; closed on shutdown if opened here)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = store is None
        app.state.store, app.state.auth = open_checked(settings, store)
        # A store handed to create_app is the caller's: its own ingest runs.
        writer = writer_process(settings, app.state.store) if own else None
        committer = GroupCommitter(
            app.state.store,
            settings.group_commit_max_events,
            settings.group_commit_max_wait_ms,
            app.state.metrics,
            ingest=writer.ingest if writer else None,
            deadline_s=settings.request_deadline_seconds,
            max_queue_wait_s=settings.ingest_queue_max_wait_seconds,
        )
        app.state.ingest = IngestService(app.state.store, committer, settings.max_batch_events)
        app.state.dead_letters = DeadLetters(app.state.store, settings)
        kafka = start_kafka(app, settings, committer)
        if own:  # a served store: the signing key is read, or made, at start rather than at first use
            app.state.signer.key()
        try:
            with tuned_gc():  # the start-up heap stays out of the collections (lineage/runtime.py)
                yield
        finally:
            kafka.close()
            freshness.close(app)
            committer.close()
            if writer:
                writer.close()
            if own:
                app.state.store.close()

    app = FastAPI(
        title="Lineage graph service",
        version=__version__,
        description="OpenLineage ingestion into a versioned lineage graph for ML releases.",
        lifespan=lifespan,
        # /docs is served from assets shipped in the package (api/routes/web.py), not FastAPI's
        # CDN-loaded pages; ReDoc has no packaged copy here, so it is not offered.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.settings = settings
    app.state.signer = Signer(settings.signing_key_path())
    app.state.metrics = Metrics()
    app.state.body_budget = BodyBudget(settings.max_pending_body_bytes)
    errors.install(app)
    app.include_router(lineage.router)
    lineage.install_single_event_path(app)
    # Inside the metrics and request log, so that they see a deadline's 503.
    app.add_middleware(Deadline, short_s=settings.request_deadline_seconds, long_s=settings.query_deadline_seconds)
    freshness.install(app, settings)
    observe.install(app)
    app.include_router(queries.router)
    app.include_router(columns.router)
    marquez.install(app)
    app.include_router(releases.router)
    app.include_router(audit.router)
    app.include_router(checkpoints.router)
    app.include_router(ops.router)
    app.include_router(rejections.router)
    web.install(app)
    return app


def app_from_environment() -> FastAPI:
    """The app of one worker of `lineage serve --workers N`, its settings from the environment."""
    settings = Settings()
    logs.configure(settings.log_level, settings.log_format)
    return create_app(settings)
