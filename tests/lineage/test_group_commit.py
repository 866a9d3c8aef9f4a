"""Group commit: concurrent requests share one transaction; acknowledgement follows commit."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from lineage.errors import StoreError, StoreUnavailable
from lineage.events import Event
from lineage.ingest.parse import parse_event
from lineage.service import GroupCommitter
from lineage.store.base import IngestOutcome
from lineage.store.sqlite import SqliteStore
from tests import scenario as s


class GatedStore(SqliteStore):
    """A real SQLite store whose ingest can be held, to line requests up behind a commit."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.calls: list[int] = []
        self.fail_with: Exception | None = None

    def ingest(self, events: Sequence[Event], received_at: str) -> list[IngestOutcome]:
        self.entered.set()
        self.gate.wait(10)
        self.calls.append(len(events))
        if self.fail_with is not None and any(e.job_name == "poison" for e in events):
            raise self.fail_with
        return super().ingest(events, received_at)


def events(n: int, job: str = "etl") -> list[Event]:
    return [parse_event(s.event(f"r{i}", "COMPLETE", s.ts(1, i % 60), job=job)) for i in range(n)]


@pytest.fixture
def gated(tmp_path: Path) -> GatedStore:
    store = GatedStore(str(tmp_path / "g.db"))
    yield store
    store.close()


def test_requests_waiting_behind_a_commit_share_the_next_transaction(gated: GatedStore) -> None:
    committer = GroupCommitter(gated, max_events=100)
    first = committer.submit(events(1, "first"))
    assert gated.entered.wait(5)  # the first transaction is under way and held
    waiting = [committer.submit([e]) for e in events(5)]
    assert not any(f.done() for f in waiting)  # nothing acknowledged before its commit
    gated.gate.set()
    assert first.result(5)[0].created
    assert all(f.result(5)[0].created for f in waiting)
    committer.close()
    assert gated.calls == [1, 5]
    assert gated.event_count() == 6


def test_batch_size_is_bounded(gated: GatedStore) -> None:
    committer = GroupCommitter(gated, max_events=2)
    first = committer.submit(events(1, "first"))
    assert gated.entered.wait(5)
    waiting = [committer.submit([e]) for e in events(5)]
    gated.gate.set()
    first.result(5)
    for f in waiting:
        f.result(5)
    committer.close()
    assert max(gated.calls) <= 2 and sum(gated.calls) == 6


def test_one_failing_request_does_not_fail_the_others(gated: GatedStore) -> None:
    gated.fail_with = StoreError("boom")
    committer = GroupCommitter(gated, max_events=100)
    first = committer.submit(events(1, "first"))
    assert gated.entered.wait(5)
    good = committer.submit(events(2))
    bad = committer.submit(events(1, "poison"))
    gated.gate.set()
    first.result(5)
    assert all(o.created for o in good.result(5))
    with pytest.raises(StoreError):
        bad.result(5)
    committer.close()
    assert gated.event_count() == 3


def test_store_outage_fails_every_waiting_request_for_retry(gated: GatedStore) -> None:
    gated.fail_with = StoreUnavailable("down")
    gated.gate.set()
    committer = GroupCommitter(gated)
    with pytest.raises(StoreUnavailable):
        committer.submit(events(1, "poison")).result(5)
    committer.close()
    assert gated.event_count() == 0


def test_requests_queued_behind_an_outage_fail_at_once(gated: GatedStore) -> None:
    gated.fail_with = StoreUnavailable("down")
    committer = GroupCommitter(gated, max_events=1)
    first = committer.submit(events(1, "poison"))
    assert gated.entered.wait(5)
    queued = [committer.submit([e]) for e in events(3)]
    gated.gate.set()
    with pytest.raises(StoreUnavailable):
        first.result(5)
    for future in queued:
        with pytest.raises(StoreUnavailable):
            future.result(5)
    committer.close()
    assert gated.calls == [1]  # one failing commit, not one per queued request
