"""The HTTP benchmark's warm-up: it runs until the server's rate stops rising, within a cap."""

from __future__ import annotations

from bench.run import WARM_UP_MAX_WINDOWS, WARM_UP_MIN_WINDOWS, settled


def test_it_goes_on_while_the_rate_still_rises() -> None:
    # A fresh Neo4j on two cores, windows of 4,000 events: JIT compilation lifts the rate.
    rising = [277, 406, 630, 737]
    assert not any(settled(rising[:n]) for n in range(len(rising) + 1))


def test_it_stops_at_the_first_window_not_clearly_faster_than_the_one_before() -> None:
    assert settled([277, 406, 630, 737, 765])  # +3.8%
    assert settled([2_100, 1_950])  # slower counts as settled too


def test_it_needs_its_minimum_of_windows_and_stops_at_the_cap() -> None:
    assert not settled([])
    assert not settled([1_000] * (WARM_UP_MIN_WINDOWS - 1))
    always_rising = [100 * 1.2**n for n in range(WARM_UP_MAX_WINDOWS)]
    assert not settled(always_rising[:-1])
    assert settled(always_rising)
