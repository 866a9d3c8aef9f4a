"""The long-history benchmark (bench/history.py) in a small configuration, on both stores: it
runs and reports its figures (the full-size figures are in docs/performance.md)."""

from __future__ import annotations

from rich.console import Console

from bench.history import measure, table
from lineage.store.base import Store


def test_the_long_history_bench_runs_and_reports_both_answers_and_their_ratio(store: Store) -> None:
    found = measure(store, versions=30, short=3, per_query=4, rounds=2)
    long_ref, short_ref = found["versions_seen"]
    assert found["versions_seen"] == {long_ref: 30, short_ref: 3}
    # The same chain shape: the same entries at dataset level, whatever the history.
    assert found["entries"][long_ref] == found["entries"][short_ref] > 0
    for name in ("impact", "graph"):
        q = found["queries"][name]
        assert 0 < q["long"][0] <= q["long"][1] and 0 < q["short"][0] <= q["short"][1]
        assert q["ratio"] == q["long"][1] / q["short"][1]
    console = Console(width=240, record=True)
    console.print(table([(store.backend, found)]))
    text = console.export_text()
    assert "p95 ratio" in text and f"{found['queries']['impact']['ratio']:.2f}" in text
