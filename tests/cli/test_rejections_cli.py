"""`lineage rejections`: refused events listed, shown, replayed and dismissed, on both stores."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
from typer.testing import CliRunner

from lineage.cli.main import app
from lineage.deadletter import rejection_of
from lineage.errors import InvalidEvent
from lineage.store.base import Store
from tests import scenario as s

runner = CliRunner()
GOOD = s.event("a#1", "COMPLETE", s.ts(1), outputs=[s.dataset("t", "v1")])
BAD = {**s.event("a#2", "COMPLETE", s.ts(2)), "eventTime": "tomorrow"}


def listed() -> list[dict]:
    result = runner.invoke(app, ["rejections", "list", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["entries"]


def test_import_keeps_what_it_refuses_and_replay_says_it_is_still_refused(store_env: Store, tmp_path: Path) -> None:
    (tmp_path / "events.json").write_text(json.dumps([GOOD, BAD]))
    summary = json.loads(runner.invoke(app, ["import", str(tmp_path / "events.json"), "--json"]).stdout)
    assert (summary["created"], summary["rejected"]) == (1, 1)
    (entry,) = listed()
    assert entry["field"] == "eventTime"
    shown = json.loads(runner.invoke(app, ["rejections", "show", str(entry["id"])]).stdout)
    assert json.loads(shown["body"]) == BAD
    replayed = runner.invoke(app, ["rejections", "replay", str(entry["id"])])
    assert replayed.exit_code == 1 and "still_refused" in replayed.stdout and "eventTime" in replayed.stdout
    assert len(listed()) == 1
    human = runner.invoke(app, ["rejections", "list"])
    assert "eventTime" in human.stdout and "1 kept" in human.stdout


def test_replay_of_every_entry_loads_what_is_accepted_now(store_env: Store) -> None:
    store_env.put_rejection(rejection_of(orjson.dumps(GOOD), InvalidEvent("x", "an older rule"), s.ts(3)), 10, 10**6)
    result = runner.invoke(app, ["rejections", "replay", "--json"])
    assert result.exit_code == 0, result.output
    (done,) = json.loads(result.stdout)["results"]
    assert (done["status"], done["created"]) == ("replayed", 1)
    assert listed() == [] and store_env.event_count() == 1


def test_dismiss_removes_an_entry_and_unknown_ids_fail(store_env: Store) -> None:
    kept = store_env.put_rejection(rejection_of(b"{no", InvalidEvent("", "malformed JSON"), s.ts(3)), 10, 10**6)
    assert runner.invoke(app, ["rejections", "dismiss", str(kept.id)]).exit_code == 0
    assert listed() == []
    assert runner.invoke(app, ["rejections", "dismiss", str(kept.id)]).exit_code == 1
    assert runner.invoke(app, ["rejections", "show", str(kept.id)]).exit_code == 1
    assert "No refused events" in runner.invoke(app, ["rejections", "list"]).stdout
