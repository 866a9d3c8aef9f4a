"""SQLite ingest in a process of its own, so projecting and committing run on a second core.

One API process holds the GIL for both its HTTP handling and its group commit; on SQLite the
commit (projection, the batch's reads and writes) is about 60% of it. With the writer in a
child process the API process parses and answers requests while the child projects and commits
the batch before, and only the events (pickled, about 15 µs each) and their outcomes cross.

The child opens the same SQLite file and takes the same writer lock as any other writer; the
API process keeps its own connections for reads. An acknowledgement still means committed: the
child answers only after `COMMIT`. If the child dies, the batch in flight fails with 503 (its
transaction either committed or rolled back; a retry is idempotent) and the next batch starts a
new child. The child dies with its API process (see `_die_with`).
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import pickle
import signal
import threading
from collections.abc import Sequence
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from lineage.errors import LineageError, StoreError, StoreUnavailable
from lineage.events import Event
from lineage.settings import Settings
from lineage.store.base import IngestOutcome, Store

START_TIMEOUT_S = 60.0
PR_SET_PDEATHSIG = 1  # prctl(2)


def _die_with(parent: int) -> None:
    """Have the kernel SIGKILL this process when its parent dies (Linux), as a thread of the
    parent would die: a transaction the writer holds then rolls back instead of committing after
    the API process is gone. Elsewhere the closed pipe still ends the child, after that batch.
    Strictly the kernel watches the thread that started the child: the API's main thread, or the
    group-commit thread after a restart; both last until shutdown."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took hold
        os._exit(0)


def _serve(conn: Connection, path: str, log_level: str, log_format: str, parent: int) -> None:
    """The child: open the store, then answer (events, received_at) with outcomes or an error."""
    _die_with(parent)
    # Ctrl-C reaches the whole process group; the child stops when its parent closes the pipe,
    # after the transaction in hand, not in the middle of it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from lineage import logs
    from lineage.runtime import tuned_gc
    from lineage.store.sqlite import SqliteStore

    logs.configure(log_level, log_format)
    log = logging.getLogger("lineage.writer")

    try:
        store = SqliteStore(path)
    except Exception as exc:
        conn.send(("error", _portable(exc)))
        return
    try:
        with tuned_gc():
            conn.send(("ready", None))
            while True:
                try:
                    request = conn.recv()
                except EOFError:
                    return
                if request is None:
                    return
                events, received_at = request
                try:
                    conn.send(("ok", store.ingest(events, received_at)))
                except Exception as exc:
                    if not isinstance(exc, LineageError):  # a fault of ours: keep its traceback
                        log.exception("ingest failed in the writer process", extra={"events": len(events)})
                    conn.send(("error", _portable(exc)))
    finally:
        store.close()


def _portable(exc: Exception) -> Exception:
    """The exception itself when it survives pickling, else a StoreError that names it."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return StoreError(f"{type(exc).__name__}: {exc}")
    return exc


class WriterProcess:
    """`ingest` of a SqliteStore on `path`, run by a child process (started here, restarted
    after it dies). Calls are serialised; the group committer makes one at a time anyway."""

    def __init__(self, path: str, log_level: str = "info", log_format: str = "json") -> None:
        self.path = path
        self._logging = (log_level, log_format)
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        try:
            self._start()
        except StoreUnavailable:
            pass  # the first ingest tries again; until then /readyz tells the store's state

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def _start(self) -> None:
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_serve, args=(child, self.path, *self._logging, os.getpid()), name="lineage-writer", daemon=True)
        process.start()
        child.close()
        try:
            ready = parent.poll(START_TIMEOUT_S)
            status, error = parent.recv() if ready else ("error", None)
        except (EOFError, OSError):
            status, error = "error", None
        if status != "ready":
            parent.close()
            process.join(5)
            if process.is_alive():
                process.kill()
            raise StoreUnavailable(f"the SQLite writer process did not start: {error or 'no answer'}")
        self._process, self._conn = process, parent

    def _stop_child(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._process is not None:
            self._process.join(10)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(5)
        self._process = self._conn = None

    def ingest(self, events: Sequence[Event], received_at: str) -> list[IngestOutcome]:
        with self._lock:
            if self._conn is None or self._process is None or not self._process.is_alive():
                self._stop_child()
                self._start()
            assert self._conn is not None
            try:
                self._conn.send((list(events), received_at))
                status, value = self._conn.recv()
            except (EOFError, OSError) as exc:
                self._stop_child()
                raise StoreUnavailable(f"the SQLite writer process exited during a commit ({exc or 'pipe closed'})") from None
        if status == "error":
            raise value
        return value

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.send(None)
                except OSError:
                    pass
            self._stop_child()


def writer_process(settings: Settings, store: Store) -> WriterProcess | None:
    """A writer process for ingest into `store` when it is a SQLite file and settings do not
    say inline; None where the store's own ingest is the one to run."""
    path = getattr(store, "path", None)
    if settings.sqlite_writer != "process" or store.backend != "sqlite" or not path or path == ":memory:":
        return None
    return WriterProcess(path, settings.log_level, settings.log_format)
