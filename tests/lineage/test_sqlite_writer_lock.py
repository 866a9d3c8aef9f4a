"""Writers on one SQLite file take turns on a lock beside it (`lineage/store/writer_lock.py`),
so a second API process waits for the lock's release instead of polling SQLite's busy lock."""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

import pytest

from lineage.ingest.parse import parse_event
from lineage.store.sqlite import SqliteStore
from tests import scenario as s
from tests.reliability.harness import check_chain, read_log, wait_until


def events(prefix: str, n: int) -> list:
    return [parse_event(s.event(f"{prefix}#{i}", "COMPLETE", s.ts(1, i), job=prefix)) for i in range(n)]


def blocked_on(path: str) -> bool:
    """/proc/locks lists a request blocked on a lock with `->`, naming the file as
    major:minor:inode (the major and minor in hex)."""
    st = os.stat(path)
    file = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    return any("->" in line and file in line.split() for line in Path("/proc/locks").read_text().splitlines())


def test_a_write_holds_the_lock_file_and_a_second_store_waits_for_it(tmp_path: Path) -> None:
    path = str(tmp_path / "lineage.db")
    first, second = SqliteStore(path), SqliteStore(path)
    try:
        with first._write_lock:
            # Another open file description (another process, to flock) cannot take it now.
            probe = os.open(path + "-writer.lock", os.O_RDWR)
            try:
                with pytest.raises(BlockingIOError):
                    fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            finally:
                os.close(probe)
            done = threading.Event()
            writer = threading.Thread(target=lambda: (second.ingest(events("b", 3), s.ts(9, 0)), done.set()))
            writer.start()
            # The kernel lists the second store as blocked on the lock file, whatever the speed of
            # the machine; SQLite itself is not locked here, so without the lock file it would commit.
            wait_until(lambda: blocked_on(path + "-writer.lock"), 30, "the second store to wait for the lock")
            assert not done.is_set() and first.event_count() == 0
        writer.join(30)
        assert done.is_set()
        first.ingest(events("a", 2), s.ts(9, 1))
        assert first.event_count() == second.event_count() == 5
    finally:
        first.close()
        second.close()


def test_writers_on_one_file_interleave_without_errors(tmp_path: Path) -> None:
    path = str(tmp_path / "lineage.db")
    stores = [SqliteStore(path) for _ in range(3)]
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for k in range(10):
                stores[n].ingest(events(f"w{n}-{k}", 4), s.ts(9, k))
        except BaseException as exc:  # noqa: BLE001 - reported by the assert below
            errors.append(exc)

    workers = [threading.Thread(target=write, args=(n,)) for n in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    try:
        assert not errors, errors
        assert stores[0].event_count() == 3 * 10 * 4
        check_chain(read_log(stores[0]))  # one linear chain: no two writers took the same head
    finally:
        for store in stores:
            store.close()
