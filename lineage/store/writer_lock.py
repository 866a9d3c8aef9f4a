"""One SQLite writer at a time, across the threads of a process and across processes."""

from __future__ import annotations

import fcntl
import os
import threading
from types import TracebackType


class WriterLock:
    """Held around every write transaction of a SqliteStore.

    SQLite already serializes writers, but a writer that finds the database locked sleeps and
    polls (1, 2, 5 ... 100 ms apart): with several API processes on one file each commit would
    wait out a sleep after the other's commit ended. A `flock` on a file beside the database
    wakes the next writer as the lock is released. The lock file is separate because opening
    and closing the database file itself would drop the POSIX locks SQLite holds on it.
    """

    def __init__(self, path: str | None) -> None:
        self._threads = threading.Lock()
        self._fd = None if path is None else os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def __enter__(self) -> None:
        self._threads.acquire()
        if self._fd is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX)  # blocks without the GIL
            except BaseException:
                self._threads.release()
                raise

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._threads.release()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
