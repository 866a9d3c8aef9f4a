"""`lineage consume`: ingest OpenLineage events from Kafka topics as a member of a consumer group."""

from __future__ import annotations

import logging
import signal
from types import FrameType
from typing import Annotated

import typer

from lineage import logs
from lineage.settings import Settings


def register(app: typer.Typer) -> None:
    @app.command()
    def consume(
        bootstrap: Annotated[
            str | None, typer.Option(help="Kafka brokers, host:port[,...] [default: LINEAGE_KAFKA_BOOTSTRAP]")
        ] = None,
        topics: Annotated[
            str | None, typer.Option(help="Topics, comma-separated [default: LINEAGE_KAFKA_TOPICS or openlineage]")
        ] = None,
        group: Annotated[str | None, typer.Option(help="Consumer group [default: LINEAGE_KAFKA_GROUP or lineage]")] = None,
    ) -> None:
        """Read events from Kafka into the store of LINEAGE_STORE until SIGTERM or Ctrl-C (docs/kafka.md)."""
        from lineage.deadletter import DeadLetters
        from lineage.errors import StoreUnavailable
        from lineage.kafka_ingest import TopicConsumer, committed_ingest
        from lineage.service import GroupCommitter
        from lineage.store import open_store
        from lineage.store.writer_process import writer_process

        settings = Settings()
        for name, value in (("kafka_bootstrap", bootstrap), ("kafka_topics", topics), ("kafka_group", group)):
            if value is not None:
                setattr(settings, name, value)
        logs.configure(settings.log_level, settings.log_format)
        if not settings.kafka_bootstrap:
            typer.echo("error: no Kafka brokers: set LINEAGE_KAFKA_BOOTSTRAP or --bootstrap", err=True)
            raise typer.Exit(2)
        store = open_store(settings)
        try:
            store.setup()
        except StoreUnavailable as exc:
            # Like the API: a store that is down does not stop the start; batches wait for it.
            logging.getLogger("lineage.kafka").warning("store unavailable at start-up", extra={"error": str(exc)})
        writer = writer_process(settings, store)
        # No shedding and no request deadline here: the consumer waits for its commit, however long.
        committer = GroupCommitter(
            store, settings.kafka_batch_max_events, 0.0, ingest=writer.ingest if writer else None,
            deadline_s=3600, max_queue_wait_s=None,
        )
        consumer = TopicConsumer(settings, committed_ingest(committer.submit), DeadLetters(store, settings))

        def stop(signum: int, frame: FrameType | None) -> None:
            # The batch in hand is finished (stored and committed) before the consumer leaves its group.
            consumer.stop()

        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, stop)
        try:
            consumer.run()
        finally:
            committer.close()
            if writer:
                writer.close()
            store.close()
        logging.getLogger("lineage.kafka").info("stopped", extra={"ingested": consumer.status.ingested})
