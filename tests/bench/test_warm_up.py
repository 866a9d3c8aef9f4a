"""The HTTP benchmark's warm-up: it runs until the server's rate stops rising, within a cap."""

from __future__ import annotations

from bench.run import WARM_UP_MAX_WINDOWS, settled

# A fresh Neo4j on two cores, 4,000-event windows of 32 clients: its JIT lifts the rate by
# fits and starts (a plateau at 765 -> 777 before it settles).
NEO4J = [277, 406, 630, 737, 765, 777, 692, 706]


def test_it_goes_on_while_the_rate_still_rises_and_past_a_one_window_plateau() -> None:
    assert not any(settled(NEO4J[:n]) for n in range(7))


def test_it_stops_once_two_windows_are_not_clearly_faster_than_the_best_before() -> None:
    assert settled(NEO4J[:7])
    assert settled([2_400, 2_100, 2_000])  # slower counts as settled too
    assert not settled([2_400, 2_100, 2_600])  # +8% over the best before


def test_it_needs_three_windows_and_stops_at_the_cap() -> None:
    assert not settled([])
    assert not settled([1_000, 1_000])
    always_rising = [100 * 1.2**n for n in range(WARM_UP_MAX_WINDOWS)]
    assert not settled(always_rising[:-1])
    assert settled(always_rising)
