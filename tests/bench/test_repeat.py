"""`bench.run --repeat N`: each timed HTTP run N times on one server, interleaved across the
client counts, each on days of its own, and the table shows their median and range."""

from __future__ import annotations

import subprocess
import sys

from bench.run import WARM_UP_MAX_WINDOWS, http_runs, spread


def test_repeated_runs_interleave_the_client_counts_on_days_of_their_own() -> None:
    runs = http_runs(3)
    assert [clients for _, clients in runs] == [1, 8, 32] * 3
    offsets = [offset for offset, _ in runs]
    # After every warm-up window's days, and no two runs on the same days (a replay of days the
    # store holds would be a backfill, not what pipelines send).
    assert min(offsets) >= WARM_UP_MAX_WINDOWS
    assert len(set(offsets)) == len(offsets)
    assert http_runs(1) == [(WARM_UP_MAX_WINDOWS, 1), (WARM_UP_MAX_WINDOWS + 1, 8), (WARM_UP_MAX_WINDOWS + 2, 32)]


def test_a_figure_of_several_runs_is_their_median_and_range() -> None:
    assert spread([1_893.2, 1_018.7, 2_210.0]) == "1,893 (1,019-2,210)"
    assert spread([30.25, 53.71], "{:.1f}") == "42.0 (30.2-53.7)"
    assert spread([1_513.4]) == "1,513"  # one run: the figure alone, as without --repeat


def test_repeat_must_be_at_least_one() -> None:
    done = subprocess.run([sys.executable, "-m", "bench.run", "--repeat", "0"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "--repeat must be at least 1" in done.stderr
