"""Where an ingest spends its time, stage by stage, for the benchmark's bounds.

A store with a `StageClock` in its `stages` attribute adds the wall time of each `ingest` call's
stages to it: `project` (reading the graph the events touch and projecting them), `write` (the
statements or the query that write the log entries and the net graph changes) and `commit`.
`write` and `commit` are what the backend itself needs to store a projection that has already
been made, so `events / (write + commit)` is the most an ingest of this graph could reach on
this machine even if projecting cost nothing (`storage_bound`). The clock is read per chunk,
not per event, so leaving it off (None, the default) costs nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import ContextManager

STAGES = ("project", "write", "commit")


class StageClock:
    """Seconds per stage and events stored, summed over every ingest call while it is set."""

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(STAGES, 0.0)
        self.events = 0

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - started

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] += seconds

    def per_event_us(self) -> dict[str, float]:
        return {name: spent / self.events * 1e6 if self.events else 0.0 for name, spent in self.seconds.items()}

    def storage_bound(self) -> float:
        """Events per second if projecting took no time: the backend's writes and commits alone."""
        storing = self.seconds["write"] + self.seconds["commit"]
        return self.events / storing if storing > 0 else 0.0

    def overlapped_bound(self) -> float:
        """Events per second if each batch's projection ran on cores of its own while the one
        before was stored (a pipelined import on a machine with more cores than this one): the
        slower of the two stages sets the pace. Transactions still run one at a time, since each
        extends the log's one hash chain, so more cores do not raise it past the storage bound."""
        slowest = max(self.seconds["project"], self.seconds["write"] + self.seconds["commit"])
        return self.events / slowest if slowest > 0 else 0.0


def timed(clock: StageClock | None, name: str) -> ContextManager[None]:
    return clock.stage(name) if clock is not None else nullcontext()
