"""`lineage import` and `lineage rebuild` against both stores."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import orjson
from typer.testing import CliRunner

from lineage.cli.main import app
from lineage.store.base import Store
from tests import scenario as s

runner = CliRunner()


def write_events(folder: Path) -> None:
    folder.mkdir()
    (folder / "one.json").write_text(json.dumps(s.event("a#1", "COMPLETE", s.ts(1), outputs=[s.dataset("t", "v1")])))
    (folder / "many.json").write_text(json.dumps([s.event(f"b#{i}", "COMPLETE", s.ts(2, i)) for i in range(3)]))
    lines = [orjson.dumps(s.event(f"c#{i}", "COMPLETE", s.ts(3, i))) for i in range(2)]
    (folder / "stream.ndjson.gz").write_bytes(gzip.compress(b"\n".join([*lines, b'{"eventTime": "bad"}'])))
    (folder / "notes.txt").write_text("not an event file")


def test_import_loads_every_event_file_and_lists_rejections(store_env: Store, tmp_path: Path) -> None:
    write_events(tmp_path / "events")
    result = runner.invoke(app, ["import", str(tmp_path / "events"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["files"], summary["created"], summary["rejected"]) == (3, 6, 1)
    assert "stream.ndjson.gz" in summary["errors"][0]["file"]
    assert store_env.event_count() == 6
    again = json.loads(runner.invoke(app, ["import", str(tmp_path / "events"), "--json"]).stdout)
    assert (again["created"], again["duplicate"]) == (0, 6)


def test_import_commits_chunk_by_chunk_in_the_order_of_the_files(store_env: Store, tmp_path: Path) -> None:
    from itertools import groupby

    from tests.reliability.harness import read_log

    folder = tmp_path / "events"
    folder.mkdir()
    first = [s.event(f"a#{i}", "COMPLETE", s.ts(1, i)) for i in range(7)]
    second = [s.event(f"b#{i}", "COMPLETE", s.ts(2, i)) for i in range(3)]
    (folder / "1.ndjson").write_bytes(b"\n".join(orjson.dumps(e) for e in first))
    (folder / "2.json").write_bytes(orjson.dumps(second))
    result = runner.invoke(app, ["import", str(folder), "--chunk", "3", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["created"] == 10
    log = read_log(store_env)
    assert [orjson.loads(e.payload)["run"]["runId"] for e in log] == [e["run"]["runId"] for e in first + second]
    # One transaction per chunk of 3, across files: the entries of one share their received_at.
    assert [len(list(group)) for _, group in groupby(log, key=lambda e: e.received_at)] == [3, 3, 3, 1]


def test_rebuild_replays_the_log(store_env: Store, tmp_path: Path) -> None:
    write_events(tmp_path / "events")
    runner.invoke(app, ["import", str(tmp_path / "events")])
    before = store_env.dump()
    result = runner.invoke(app, ["rebuild"])
    assert result.exit_code == 0, result.output
    assert "replayed 6 events" in result.output
    assert store_env.dump() == before
