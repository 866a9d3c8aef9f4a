"""SQLite ingest in a writer process (lineage/store/writer_process.py): the same log and graph as
ingest in the API process, errors that name the problem, and a child that dies costs one batch."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import orjson
import pytest

from bench.workload import Workload
from lineage.errors import StoreUnavailable
from lineage.events import Event
from lineage.ingest.parse import parse_event
from lineage.store.sqlite import SqliteStore
from lineage.store.writer_lock import WriterLock
from lineage.store.writer_process import WriterProcess
from tests import scenario as s
from tests.reliability.harness import read_log, waits_for_a_lock

AT = "2026-03-01T00:00:00Z"


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[tuple[SqliteStore, WriterProcess]]:
    path = str(tmp_path / "w.db")
    store = SqliteStore(path)
    child = WriterProcess(path)
    try:
        yield store, child
    finally:
        child.close()
        store.close()


def one(name: str, hour: int = 1) -> Event:
    return parse_event(s.event(name, "COMPLETE", s.ts(hour)))


def test_a_workload_ingested_by_the_writer_process_is_the_log_and_graph_of_ingest_in_process(tmp_path: Path, writer) -> None:
    store, child = writer
    events = [parse_event(e) for e in Workload(600).events()]
    inline = SqliteStore(str(tmp_path / "inline.db"))
    try:
        expected = [inline.ingest(events[i : i + 50], AT) for i in range(0, len(events), 50)]
        got = [child.ingest(events[i : i + 50], AT) for i in range(0, len(events), 50)]
        assert got == expected
        assert store.dump() == inline.dump()
        assert [(e.seq, e.id, e.hash) for e in read_log(store)] == [(e.seq, e.id, e.hash) for e in read_log(inline)]
    finally:
        inline.close()


def test_the_same_events_again_change_nothing(writer) -> None:
    store, child = writer
    first = child.ingest([one("etl#1"), one("etl#2")], AT)
    before = store.dump()
    again = child.ingest([one("etl#2"), one("etl#1")], AT)
    assert [o.created for o in first] == [True, True]
    assert [(o.created, o.seq) for o in again] == [(False, first[1].seq), (False, first[0].seq)]
    assert store.dump() == before


def test_a_failing_batch_raises_its_own_error_stores_nothing_and_logs_its_traceback(tmp_path: Path) -> None:
    path = str(tmp_path / "w.db")
    store = SqliteStore(path)
    log_file = tmp_path / "writer.log"
    with open(log_file, "w") as log:  # the child's standard error, from its start
        saved = os.dup(2)
        os.dup2(log.fileno(), 2)
        try:
            child = WriterProcess(path)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    try:
        child.ingest([one("etl#1")], AT)
        before = store.dump()
        broken = replace(one("etl#2", hour=2), inputs=("not a dataset",))  # type: ignore[arg-type]
        with pytest.raises(AttributeError):
            child.ingest([one("etl#3", hour=3), broken], AT)
        assert store.dump() == before
        assert [o.created for o in child.ingest([one("etl#3", hour=3)], AT)] == [True]
    finally:
        child.close()
        store.close()
    # The API process sees only the error; the writer logs the traceback of a fault of ours.
    logged = [orjson.loads(line) for line in log_file.read_text().splitlines() if line.startswith("{")]
    [fault] = [r for r in logged if r["logger"] == "lineage.writer"]
    assert fault["level"] == "error" and "AttributeError" in fault["exc"] and fault["events"] == 2


def test_a_writer_killed_while_idle_is_replaced_by_the_next_batch(writer) -> None:
    store, child = writer
    child.ingest([one("etl#1")], AT)
    first = child.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: exited(first), "the writer to die")
    assert [o.created for o in child.ingest([one("etl#2")], AT)] == [True]
    assert child.pid not in (None, first)


def test_a_writer_killed_during_a_commit_fails_that_batch_with_503_and_the_retry_stores_it(tmp_path: Path, writer) -> None:
    store, child = writer
    child.ingest([one("etl#1")], AT)
    event = one("etl#2")
    errors: list[BaseException] = []

    def ingest() -> None:
        try:
            child.ingest([event], AT)
        except BaseException as exc:
            errors.append(exc)

    held = WriterLock(str(tmp_path / "w.db") + "-writer.lock")
    with held:  # the child gets the batch and waits for the writer lock in its transaction
        sender = threading.Thread(target=ingest)
        sender.start()
        pid = child.pid
        assert pid is not None
        wait_for(lambda: waits_for_a_lock(pid), "the writer to wait for the lock")
        os.kill(pid, signal.SIGKILL)
        sender.join(10)
    assert len(errors) == 1 and isinstance(errors[0], StoreUnavailable)
    assert "writer process exited" in str(errors[0])
    assert event.id not in {e.id for e in read_log(store)}
    assert [o.created for o in child.ingest([event], AT)] == [True]


def test_a_writer_whose_parent_is_gone_exits(writer) -> None:
    _, child = writer
    pid = child.pid
    assert pid is not None and child._conn is not None
    child._conn.close()  # what the parent's death does to the pipe
    wait_for(lambda: exited(pid), "the writer to exit")


def exited(pid: int) -> bool:
    """The child has exited, all its threads included (left unreaped: the writer reaps it)."""
    return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


def wait_for(condition, what: str, timeout: float = 20) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
