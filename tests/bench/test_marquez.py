"""The comparison with Marquez (bench/marquez.py) at a small size, on both stores: the other side is
a second real `lineage serve`, which answers Marquez's ingest and lineage API (docs/marquez.md)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson

import pytest
from rich.console import Console

from bench.marquez import Comparison, compare, notes, table
from bench.run import post_bodies
from bench.workload import Workload
from lineage.store.sqlite import SqliteStore
from tests.server import running

SIZE = 400
FIGURES = (
    "ingest, 8 clients", "ingest p99, 8 clients", "ingest, 32 clients", "ingest p99, 32 clients",
    "dataset lineage p50 (ours /graph)", "dataset lineage p95 (ours /graph)", "dataset impact p95 (ours /impact)",
    "CPU per ingested event", "memory after load (PSS)",
)


@pytest.fixture
def our_store(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty store of each backend for our side."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'ours.db'}"
    store = request.getfixturevalue("neo4j_store")
    store.reset()
    return str(request.getfixturevalue("neo4j_uri"))


def test_both_sides_get_the_same_events_and_every_figure_has_its_ratio(backend: str, our_store: str, tmp_path: Path) -> None:
    other_db = tmp_path / "other.db"
    with running(f"sqlite:///{other_db}") as other:
        found: Comparison = compare(backend, other, SIZE, repeat=2, store=our_store)
        other_pids = found.marquez_pids
        # The other side's processes were found by the port it listens on: the server we started.
        cmdline = Path(f"/proc/{other_pids[0]}/cmdline").read_bytes().split(b"\0")
        assert b"serve" in cmdline and other.rsplit(":", 1)[1].encode() in cmdline
    events = list(Workload(SIZE).events())
    datasets = {(d["namespace"], d["name"]) for e in events for d in (*e["inputs"], *e["outputs"])}
    assert found.workload.events == SIZE and found.workload.datasets == len(datasets) > 0
    # Both read back what the workload holds, through Marquez's API.
    assert found.ours_loaded == found.workload == found.marquez_loaded
    assert found.marquez_before == 0 and found.datasets_asked == len(datasets)
    # And the other side's store, opened after it stopped, logged each event once.
    other_store = SqliteStore(str(other_db))
    try:
        assert other_store.event_count() == SIZE
    finally:
        other_store.close()

    assert [f.name for f in found.figures] == list(FIGURES)
    console = Console(width=240, record=True)
    console.print(table(found))
    for line in notes(found):
        console.print(line)
    text = console.export_text()
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]] for line in text.splitlines() if line.count("│") == 6}
    for f in found.figures:
        # Every figure was measured on both sides (CPU and memory too: both sides' processes are ours to see).
        assert f.ours is not None and f.marquez is not None and f.ours > 0 and f.marquez > 0, f.name
        assert f.ratio == f.ours / f.marquez
        assert rows[f.name][-1] == f"{f.ratio:.3g}x", f.name
    graph = found.figure("dataset lineage p95 (ours /graph)").ratio
    assert graph is not None and f"{graph:.3f}x, {'met' if graph <= 0.1 else 'not met'}" in text
    assert f"workload {SIZE} events, {len(datasets)} datasets" in text


def test_a_marquez_that_held_events_before_is_said_so(tmp_path: Path) -> None:
    earlier = [orjson.dumps(e) for e in Workload(30, seed=99, first_day=500).events()]
    with running(f"sqlite:///{tmp_path / 'other.db'}") as other:
        asyncio.run(post_bodies(other, earlier, 4))
        found = compare("sqlite", other, 120, repeat=1, sample=3, store=f"sqlite:///{tmp_path / 'ours.db'}")
    assert found.marquez_before == 30 and found.marquez_loaded.events == 150
    assert found.ours_loaded == found.workload
    assert found.datasets_asked == 3  # the fixed sample, not every dataset
    assert any("held 30 events before" in line for line in notes(found))
