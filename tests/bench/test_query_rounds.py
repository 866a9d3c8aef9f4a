"""The benchmark times the queries of every graph size taking turns, in rounds, so that a slow
minute of the machine falls on each size alike (the 1M/100k latency ratio is a target)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.run import WARM_UP_CALLS, interleaved_latencies


def test_sizes_take_turns_in_rounds_after_every_query_is_warmed() -> None:
    order: list[tuple[int, str]] = []

    def call(size: int, name: str) -> Callable[[], Any]:
        return lambda: order.append((size, name))

    calls = {size: {name: call(size, name) for name in ("impact", "audit")} for size in (10, 20)}
    found = interleaved_latencies(calls, per_query=6, rounds=3)
    warmed, timed = order[: 4 * WARM_UP_CALLS], order[4 * WARM_UP_CALLS :]
    assert sorted(set(warmed)) == [(10, "audit"), (10, "impact"), (20, "audit"), (20, "impact")]
    # Three rounds, each: size 10's queries twice each, then size 20's.
    one_round = [(10, "impact")] * 2 + [(10, "audit")] * 2 + [(20, "impact")] * 2 + [(20, "audit")] * 2
    assert timed == one_round * 3
    assert set(found) == {10, 20} and set(found[10]) == {"impact", "audit"}
    assert all(0 <= p50 <= p95 for by_name in found.values() for p50, p95 in by_name.values())


def test_every_query_is_timed_per_query_times_when_the_rounds_do_not_divide_it() -> None:
    order: list[int] = []
    calls = {size: {"impact": (lambda size=size: order.append(size))} for size in (10, 20)}
    interleaved_latencies(calls, per_query=5, rounds=3)
    timed = order[2 * WARM_UP_CALLS :]
    # 5 calls in 3 rounds: 2, 2 and 1, the sizes taking turns in each.
    assert timed == [10, 10, 20, 20, 10, 10, 20, 20, 10, 20]
