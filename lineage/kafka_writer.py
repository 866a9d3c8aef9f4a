"""HTTP ingest into a Kafka topic instead of the store (LINEAGE_KAFKA_HTTP_TO_TOPIC, issue 35):
a request is acknowledged once Kafka acknowledged its events, each outcome saying where Kafka put
its event (the read-after token of lineage/freshness.py); the consumers of lineage/kafka_ingest.py
put them in the store."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future

from confluent_kafka import KafkaError, Message, Producer

from lineage.errors import StoreError
from lineage.events import Event
from lineage.freshness import Accepted, Position
from lineage.kafka_ingest import client_config
from lineage.settings import Settings
from lineage.store.base import IngestOutcome

# The seq of an event acknowledged by Kafka and not yet in the store: the HTTP answer says
# "accepted" (202) rather than created or duplicate, which only the store can tell.
ACCEPTED_SEQ = -1


class TopicWriter:
    """HTTP ingest into the topic instead of the store: a request is acknowledged once Kafka
    acknowledged its events (acks=all), and the consumers put them in the store."""

    def __init__(self, settings: Settings) -> None:
        self.topic = settings.kafka_topic_list()[0]
        self.producer = Producer(client_config(settings) | {"enable.idempotence": True, "acks": "all", "linger.ms": 2})
        self._stop = threading.Event()
        # Delivery reports are served by poll(); a thread of its own keeps them flowing.
        self._thread = threading.Thread(target=self._serve, name="kafka-delivery", daemon=True)
        self._thread.start()

    def submit(self, events: Sequence[Event]) -> Future[list[IngestOutcome]]:
        future: Future[list[IngestOutcome]] = Future()
        pending = [len(events)]
        failed: list[KafkaError] = []
        lock = threading.Lock()
        # Each outcome says where Kafka put its event: the answer's read-after token (lineage/freshness.py).
        outcomes: list[IngestOutcome] = [Accepted(e.id, True, ACCEPTED_SEQ) for e in events]
        if not events:
            future.set_result([])
            return future

        def on_delivery(index: int) -> Callable[[KafkaError | None, Message], None]:
            def delivered(error: KafkaError | None, message: Message) -> None:
                with lock:
                    if error is not None:
                        failed.append(error)
                    else:
                        place = Position(message.topic(), message.partition(), message.offset())
                        outcomes[index] = Accepted(events[index].id, True, ACCEPTED_SEQ, place)
                    pending[0] -= 1
                    if pending[0]:
                        return
                if failed:
                    future.set_exception(StoreError(f"Kafka did not take the events: {failed[0].str()}",
                                                    public="the event log is unavailable; retry later", retry_after=1))
                else:
                    future.set_result(outcomes)

            return delivered

        for index, event in enumerate(events):
            # Keyed by run (or job, or dataset), so that a run's events stay in one partition, in order.
            key = event.run_uuid or f"{event.job_namespace}/{event.job_name}"
            try:
                self.producer.produce(self.topic, value=event.canonical, key=key.encode(), on_delivery=on_delivery(index))
            except BufferError:
                self.producer.poll(0.5)
                self.producer.produce(self.topic, value=event.canonical, key=key.encode(), on_delivery=on_delivery(index))
        return future

    def _serve(self) -> None:
        while not self._stop.is_set():
            self.producer.poll(0.1)

    def close(self) -> None:
        self.producer.flush(10)
        self._stop.set()
        self._thread.join(timeout=5)
