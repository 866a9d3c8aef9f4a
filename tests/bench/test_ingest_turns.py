"""The side-by-side ingest benchmark: its log-only loads write the log and no graph (and leave the
projection as it was), each turn measures the build it names, and the builds take turns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench import ingest_turns
from bench.workload import Workload
from lineage.ingest.parse import parse_event
from lineage.store import batch
from lineage.store.base import EventFilter
from lineage.store.sqlite import SqliteStore


def test_log_only_writes_every_entry_and_no_graph_then_projects_again(tmp_path: Path) -> None:
    events = [parse_event(e) for e in Workload(200).events()]
    project = batch.project
    store = SqliteStore(str(tmp_path / "bench.db"))
    try:
        with ingest_turns.log_only():
            store.ingest(events[:100], ingest_turns.NOW)
        logged = store.events(EventFilter(), 0, 1000)
        assert [e.id for e in logged] == list(dict.fromkeys(e.id for e in events[:100]))
        assert store.dump()["nodes"] == [] and store.dump()["edges"] == []
        assert batch.project is project
        store.ingest(events[100:], ingest_turns.NOW)  # projected again once the block is left
        assert store.dump()["nodes"]
    finally:
        store.close()


def test_one_turn_gives_every_figure_of_the_build_it_ran(tmp_path: Path) -> None:
    result = ingest_turns._turn(ingest_turns.HERE, "sqlite", 300)
    assert Path(result["code"]).resolve() == ingest_turns.HERE.resolve()
    assert set(result) == {"code", *ingest_turns.FIGURES}
    assert all(result[f]["rate"] > 0 and result[f]["bound"] > 0 for f in ingest_turns.FIGURES)


def test_the_builds_take_turns(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    order: list[Path] = []

    def fake(checkout: Path, kind: str, size: int) -> dict[str, Any]:
        order.append(checkout)
        rate = 100.0 if checkout == Path("/base") else 150.0
        figure = {"rate": rate, "project": 1.0, "write": 1.0, "commit": 1.0, "bound": 2 * rate}
        return {"code": str(checkout), **dict.fromkeys(ingest_turns.FIGURES, figure)}

    monkeypatch.setattr(ingest_turns, "_turn", fake)
    ingest_turns.compare(Path("/base"), ["sqlite"], turns=3, size=10)
    here = ingest_turns.HERE
    assert order == [Path("/base"), here, here, Path("/base"), Path("/base"), here]
    assert "sqlite fresh     ratio this/base: 1.50" in capsys.readouterr().out
