"""Checkpoints of the SQLite write-ahead log, off the writer's path.

By default the connection that commits copies the WAL back into the database file itself, every
1000 pages: a commit then also waits for a few thousand random writes and an fsync of the
database. Here a thread of its own does that copy after each commit, on its own connection, while
the writer goes on with the next batch. A PASSIVE checkpoint never blocks the writer or readers;
once it has copied every frame the writer starts the log again from its beginning, so the WAL
stays about one commit long. The writer keeps a high automatic threshold of its own as a backstop
for when this thread falls behind.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger(__name__)

# Pages the writer lets the WAL grow to before it checkpoints by itself (4 KiB pages: 40 MB).
WRITER_BACKSTOP_PAGES = 10_000


class WalCheckpointer:
    def __init__(self, path: str) -> None:
        self.path = path
        self._cond = threading.Condition()
        self._poked = 0  # commits announced
        self._done = 0  # of those, how many a finished checkpoint has covered
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        """A commit happened: copy what it wrote when this thread is next free."""
        with self._cond:
            self._poked += 1
            self._cond.notify_all()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until a checkpoint has run after every commit announced so far."""
        with self._cond:
            target = self._poked
            return self._cond.wait_for(lambda: self._done >= target or self._stopping, timeout)

    def close(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        try:
            conn.execute("PRAGMA synchronous = FULL")
            failing = ""  # the last failure, logged once until a checkpoint succeeds again (issue 31)
            while True:
                with self._cond:
                    self._cond.wait_for(lambda: self._poked > self._done or self._stopping)
                    if self._stopping:
                        return
                    covering = self._poked
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    failing = ""
                except sqlite3.Error as exc:  # the writer's backstop still bounds the WAL
                    # A full disk fails every checkpoint until space returns: one line, not one per commit.
                    if str(exc) != failing:
                        log.warning("sqlite checkpoint failed (logged again only once it has worked): %s", exc)
                    failing = str(exc)
                with self._cond:
                    self._done = covering
                    self._cond.notify_all()
        finally:
            conn.close()
