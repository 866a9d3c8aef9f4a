"""Neo4j: each query the store sends keeps one cached plan, whatever the sizes of its lists and
strings and whichever optional values are null. Neo4j 5 keys a plan by every parameter's type
and size bucket, so a store that sent them as separate parameters compiled its batch write again
for a batch of another size: an ingest stall of a few hundred ms on two cores each time."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from neo4j import ManagedTransaction

from bench.workload import Workload
from lineage.ingest.parse import parse_event
from lineage.store.base import EventFilter, Store

pytestmark = pytest.mark.neo4j

AT = "2026-06-01T00:00:00.000000Z"


def cached_plans(store: Store) -> int:
    """The plans in the server's query caches, which this call also empties."""
    with store._driver.session(database=store.database) as session:  # type: ignore[attr-defined]
        message = session.run("CALL db.clearQueryCaches()").single(strict=True)[0]
    # The count is read from the procedure's message ("Query caches successfully cleared of 57
    # queries." in 5.26): other words must fail the test, not read as an empty cache, which
    # would pass any upper bound.
    found = re.search(r"\bcleared of (\d+) quer(?:y|ies)\b", message)
    assert found, f"db.clearQueryCaches() answered in words this test does not know: {message!r}"
    return int(found.group(1))


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """The texts of the queries the store runs in transactions, with how often each ran."""
    texts: Counter[str] = Counter()
    real = ManagedTransaction.run

    def run(self: ManagedTransaction, query: Any, parameters: Any = None, **kwargs: Any) -> Any:
        texts[str(query)] += 1
        return real(self, query, parameters, **kwargs)

    monkeypatch.setattr(ManagedTransaction, "run", run)
    yield texts


# Sizes in each bucket Neo4j tells apart (1, up to 10, up to 100, up to 1,000), so that every
# list of the batch write and of the reads before it changes bucket along the way.
SIZES = (1, 7, 2, 60, 1, 300, 9, 150)


def load(store: Store, events: list[Any]) -> None:
    start = 0
    for size in SIZES:
        store.ingest(events[start : start + size], AT)
        start += size
    # Reads too: lists of ids of every bucket, optional filters null and set.
    some = [n["id"] for n in store.dump()["nodes"]]
    for size in (1, 8, 80, 400):
        assert len(store.nodes(some[:size])) == min(size, len(some))
    store.count_events(EventFilter(since="2026-01-01T00:00:00Z"))
    store.count_events(EventFilter(since="2026-01-01T00:00:00Z", until="2026-12-31T00:00:00Z"))


# Neo4j 5.26 (its default `internal.cypher.expression_recompilation_limit`) plans a query with
# interpreted expressions and, on its 11th run, compiles it again with its expressions as
# bytecode: a second plan of the same text, with the same parameters, that
# db.clearQueryCaches() counts too (measured: 10 runs leave 1 plan, 11 and 30 runs leave 2).
HOT_AFTER = 10


def hot_recompiles_once(store: Store) -> None:
    """The server does what HOT_AFTER says, or the bound below would count the wrong plans."""
    probe = "RETURN $p.x AS x"
    for runs, plans in ((HOT_AFTER, 1), (HOT_AFTER + 1, 2), (3 * HOT_AFTER, 2)):
        with store._driver.session(database=store.database) as session:  # type: ignore[attr-defined]
            for _ in range(runs):
                session.run(probe, {"p": {"x": 1}}).consume()
        assert cached_plans(store) == plans, f"{runs} runs of one query left other than {plans} plan(s)"


def test_batches_of_every_size_share_one_plan_per_query(neo4j_store: Store, sent: Counter[str]) -> None:
    store = neo4j_store
    cached_plans(store)  # empty, for the probe's counts
    hot_recompiles_once(store)
    store.reset()
    n = sum(SIZES)
    events = [parse_event(e) for e in Workload(5 * n, seed=5).events()]
    # The first passes compile every query; the last, over new events, must find every plan it
    # needs cached.
    for first in range(0, 4 * n, n):
        load(store, events[first : first + n])
    assert cached_plans(store) >= 1, "the first passes left no plan: the count cannot be trusted"
    sent.clear()
    load(store, events[4 * n :])
    assert sent, "the spy saw no query"
    # One plan per query text, and a second for each text that ran more than HOT_AFTER times in
    # this pass: its bytecode plan (in this workload the one-node read, 130 runs, and the
    # versions-at read, 32; a size bucket's plan of one of these two would pass unseen). Any
    # other text with a second plan fails the bound: with each list and string a parameter of
    # its own this pass left 41 plans for 18 texts, and with only WRITE_BATCH's or NODES_BY_ID's
    # parameters unpacked, 5 and 1 plan(s) over it. Each text sent leaves a plan, so fewer plans
    # than texts would mean the count misses some.
    hot = sum(1 for runs in sent.values() if runs > HOT_AFTER)
    assert len(sent) <= cached_plans(store) <= len(sent) + hot, f"{len(sent)} texts, {hot} of them hot"
