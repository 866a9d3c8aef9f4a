"""How fresh an answer is on the Kafka path (issue 34): where accepted events sit in Kafka, the
read-after token made of those places, and whether the consumers have stored them yet.

An event that HTTP ingest wrote to the topic (LINEAGE_KAFKA_HTTP_TO_TOPIC) is acknowledged 202
before the store holds it. Its answer carries its partition and offset, and a token that names,
per partition, the highest offset of the request. A read that passes the token back
(`X-Lineage-After`) is answered once the consumer group has committed past every one of those
offsets: a consumer commits a batch's offsets only after its store transaction committed (or
after it kept a refused or poison message aside), so committed past the offset means the store
holds the event, or never will. docs/kafka.md tells the whole contract.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lineage.errors import InvalidEvent
from lineage.store.base import IngestOutcome

if TYPE_CHECKING:
    from lineage.settings import Settings

# The request header a read passes the token in, and the name the ingest answer gives it.
AFTER_HEADER = "x-lineage-after"
# Kafka topic names are [a-zA-Z0-9._-]: neither ':' nor ',' can appear in one.
_PLACE = re.compile(r"^([A-Za-z0-9._-]{1,249}):(\d{1,9}):(\d{1,19})$")
MAX_PLACES = 1024  # a token names at most this many partitions


@dataclass(frozen=True, slots=True)
class Position:
    """Where Kafka put one message."""

    topic: str
    partition: int
    offset: int

    def to_dict(self) -> dict[str, Any]:
        return {"topic": self.topic, "partition": self.partition, "offset": self.offset}


@dataclass(frozen=True, slots=True)
class Accepted(IngestOutcome):
    """An event Kafka acknowledged and the store does not hold yet, with where Kafka put it."""

    position: Position | None = None


def token(positions: Iterable[Position]) -> str | None:
    """The read-after token of these positions: per partition its highest offset, as
    `topic:partition:offset` joined by commas (None when there is none)."""
    highest: dict[tuple[str, int], int] = {}
    for place in positions:
        key = (place.topic, place.partition)
        highest[key] = max(highest.get(key, -1), place.offset)
    if not highest:
        return None
    return ",".join(f"{t}:{p}:{o}" for (t, p), o in sorted(highest.items()))


def positions_of(outcomes: Sequence[IngestOutcome]) -> list[Position]:
    return [o.position for o in outcomes if isinstance(o, Accepted) and o.position is not None]


def parse_token(text: str) -> list[Position]:
    """The positions a token names; InvalidEvent (a 400) naming the header when it is not one."""
    places = [p.strip() for p in text.split(",") if p.strip()]
    if not places or len(places) > MAX_PLACES:
        raise InvalidEvent(AFTER_HEADER, f"a token names 1 to {MAX_PLACES} topic:partition:offset places")
    out = []
    for place in places:
        match = _PLACE.match(place)
        if match is None:
            raise InvalidEvent(AFTER_HEADER, f"{place[:80]!r} is not topic:partition:offset (pass back the token as given)")
        out.append(Position(match[1], int(match[2]), int(match[3])))
    return out


class CommittedOffsets:
    """The consumer group's committed offsets, read from Kafka (whichever process committed
    them), with the highest seen kept: a position seen committed is not asked about again."""

    def __init__(self, settings: Settings) -> None:
        from confluent_kafka import Consumer

        from lineage.kafka_ingest import client_config

        # A client of the group's id that never subscribes: it reads the group's offsets
        # without joining it, so the consumers' partitions are never shared out because of it.
        self._client = Consumer(client_config(settings) | {"group.id": settings.kafka_group, "enable.auto.commit": False})
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, int], int] = {}

    def pending(self, positions: Sequence[Position], timeout: float = 5.0) -> list[Position]:
        """The positions the group has not committed past yet (a Kafka error: all not yet known)."""
        from confluent_kafka import KafkaException, TopicPartition

        waiting = [p for p in positions if self._seen.get((p.topic, p.partition), -1) <= p.offset]
        if not waiting:
            return []
        asked = sorted({(p.topic, p.partition) for p in waiting})
        try:
            with self._lock:
                answer = self._client.committed([TopicPartition(t, n) for t, n in asked], timeout=timeout)
        except KafkaException:
            return waiting
        with self._lock:
            for part in answer:
                if part.error is None and part.offset >= 0:
                    key = (part.topic, part.partition)
                    self._seen[key] = max(self._seen.get(key, -1), part.offset)
        return [p for p in waiting if self._seen.get((p.topic, p.partition), -1) <= p.offset]

    def close(self) -> None:
        try:
            self._client.close()
        except RuntimeError:
            pass  # closed already
