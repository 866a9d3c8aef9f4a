"""`lineage consume` as a process for the Kafka tests, and what they check a store and a topic with."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
from confluent_kafka import Consumer, Message, Producer, TopicPartition

from lineage.store.base import Store
from tests.reliability.harness import ROOT, check_chain, check_graph_is_rebuild, check_unique, gone, process_tree, read_log


class Consume:
    """One `lineage consume` process; `kill()` is a crash (SIGKILL), `stop()` is SIGTERM."""

    def __init__(self, store_url: str, bootstrap: str, topics: str, group: str, log_dir: Path, name: str = "consume",
                 **env: str) -> None:
        self.env = os.environ | {
            "LINEAGE_STORE": store_url, "LINEAGE_KAFKA_BOOTSTRAP": bootstrap, "LINEAGE_KAFKA_TOPICS": topics,
            "LINEAGE_KAFKA_GROUP": group, "LINEAGE_LOG_LEVEL": "info", "LINEAGE_LOG_FORMAT": "text",
        } | env
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Consume:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "lineage.cli.main", "consume"], env=self.env, cwd=ROOT,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            )
        return self

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM; the exit code (0 is a clean stop)."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        assert self.proc is not None
        children = process_tree(self.proc.pid)[1:]
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        for child in children:  # a SQLite writer process is orphaned by SIGKILL: it ends on EOF
            deadline = time.monotonic() + 30
            while not gone(child) and time.monotonic() < deadline:
                time.sleep(0.05)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> Consume:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.stop(30)
            except subprocess.TimeoutExpired:
                self.kill()


def produce(bootstrap: str, topic: str, bodies: list[dict[str, Any]] | list[bytes], key: str | None = None) -> None:
    """Send each body as one message and wait until Kafka acknowledged every one."""
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all"})
    for i, body in enumerate(bodies):
        value = body if isinstance(body, bytes) else orjson.dumps(body)
        producer.produce(topic, value=value, key=(key or str(i)).encode())
        producer.poll(0)
    assert producer.flush(60) == 0, "Kafka did not acknowledge every message"


def wait_for_events(store: Store, count: int, timeout: float, consumers: list[Consume] = ()) -> None:  # type: ignore[assignment]
    deadline = time.monotonic() + timeout
    while store.event_count() < count:
        for consumer in consumers:
            assert consumer.proc is None or consumer.proc.poll() is None, (
                f"lineage consume exited with {consumer.proc.returncode}:\n{consumer.log_tail()}"
            )
        if time.monotonic() > deadline:
            tails = "\n".join(c.log_tail() for c in consumers)
            raise AssertionError(f"{store.event_count()} of {count} events after {timeout:.0f} s\n{tails}")
        time.sleep(0.2)


def check_exactly(store: Store, expected: set[str]) -> None:
    """The log holds every expected event once and nothing else; the chain and graph are sound."""
    log = read_log(store)
    ids = Counter(entry.id for entry in log)
    assert not [i for i, n in ids.items() if n > 1], "an event is in the log twice"
    assert set(ids) == expected, f"missing {len(expected - set(ids))}, unexpected {len(set(ids) - expected)}"
    check_chain(log)
    check_unique(check_graph_is_rebuild(store, len(log)))


def committed(bootstrap: str, group: str, topic: str, partitions: int) -> list[int]:
    """The group's committed offset of each partition, 0 where it committed none."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        offsets = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=30)
        return [max(tp.offset, 0) for tp in offsets]
    finally:
        consumer.close()


def ends(bootstrap: str, topic: str, partitions: int) -> list[int]:
    """The offset after the last message of each partition (its high watermark)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "watermarks"})
    try:
        return [consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1] for p in range(partitions)]
    finally:
        consumer.close()


def wait_for_commits(bootstrap: str, group: str, topic: str, partitions: int, timeout: float = 60) -> None:
    """Until the group committed every partition to its end."""
    want = ends(bootstrap, topic, partitions)
    deadline = time.monotonic() + timeout
    while (got := committed(bootstrap, group, topic, partitions)) != want:
        assert time.monotonic() < deadline, f"committed {got}, the partitions end at {want}"
        time.sleep(0.2)


def read_topic(bootstrap: str, topic: str, count: int, timeout: float = 30) -> list[Message]:
    """The first `count` messages of a topic (fewer if they are not there within timeout)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"reader-{time.monotonic_ns()}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    out: list[Message] = []
    deadline = time.monotonic() + timeout
    try:
        while len(out) < count and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                out.append(message)
    finally:
        consumer.close()
    return out
