"""The benchmark's load generator and corpus replay: their figures are only as true as they are."""

from __future__ import annotations

import asyncio

import orjson

from bench import corpus
from bench.load import Connection
from bench.run import corpus_replay
from lineage.store.sqlite import SqliteStore
from tests import scenario as s
from tests.server import running


def test_connection_posts_events_and_reads_each_answer(tmp_path) -> None:
    body = orjson.dumps(s.event("etl#1", "COMPLETE", s.ts(1)))

    async def session(base: str) -> list[tuple[int, bytes]]:
        async with Connection(base) as http:  # one keep-alive connection for all three
            return [
                await http.post("/api/v1/lineage", body),
                await http.post("/api/v1/lineage", body),
                await http.post("/api/v1/lineage", b'{"eventTime": '),
            ]

    with running(f"sqlite:///{tmp_path}/load.db") as base:
        (created, first), (duplicate, again), (rejected, error) = asyncio.run(session(base))
    assert (created, duplicate, rejected) == (201, 200, 400)
    assert orjson.loads(first)["status"] == "created"
    assert orjson.loads(again) == orjson.loads(first) | {"status": "duplicate"}
    assert orjson.loads(error)["error"] == "invalid_input" and "malformed JSON" in orjson.loads(error)["detail"]


def test_corpus_replay_ingests_every_valid_event_once(tmp_path) -> None:
    store = SqliteStore(str(tmp_path / "corpus.db"))
    try:
        accepted, rejected, rate = corpus_replay(store)
        total = sum(1 for _ in corpus.bodies())
        assert accepted + rejected == total and rejected > 0 and rate > 0
        # Events that appear in several files are one event: the log holds each once.
        stored = store.event_count()
        assert 0 < stored <= accepted
        assert corpus_replay(store)[:2] == (accepted, rejected)
        assert store.event_count() == stored  # a second replay adds nothing
    finally:
        store.close()
