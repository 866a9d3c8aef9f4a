"""The runnable example, end to end: real files, a real model, the SDK, `lineage serve`, the API."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from pathlib import Path

from examples.churn import data
from examples.churn.__main__ import main, run
from examples.churn.questions import report
from tests.server import running

START = datetime(2026, 3, 1, tzinfo=timezone.utc)


def test_the_churn_story_answers_the_incident_questions(tmp_path: Path, clean_env: Path) -> None:
    started = time.perf_counter()
    with running(f"sqlite:///{tmp_path / 'lineage.db'}") as url:
        outcome, answers = run(url, tmp_path / "out", start=START)
    assert time.perf_counter() - started < 60

    # The files are real: snapshots with manifests (the biased one says so), features, models.
    work = tmp_path / "out" / "churn-story"
    manifest = json.loads((work / "lake" / "customers" / "data-v1.8.2" / "manifest.json").read_text())
    assert manifest["label"]["mapping"] == data.BIASED_MAPPING and manifest["rows"] == 800
    assert (work / "registry" / "churn" / "2.2.0" / "model.json").exists()
    # 2.3.1 looked better on its own (biased) labels and is worse on the good ones.
    assert outcome.metrics["2.3.1"]["auc"] > outcome.metrics["2.2.0"]["auc"]
    assert outcome.reference_auc["2.3.1"] < outcome.reference_auc["2.2.0"]

    # 1. Every endpoint that served data-v1.8.2, and which still do.
    endpoints = {e["name"]: e for e in answers["impact"]["endpoints"]}
    assert set(endpoints) == {"churn-prod", "churn-eu", "churn-us"}  # churn-batch only ever had 2.2.0
    assert not endpoints["churn-prod"]["currently_serving"]
    assert endpoints["churn-eu"]["currently_serving"] and endpoints["churn-us"]["currently_serving"]
    assert any(d["canary"] for d in endpoints["churn-us"]["affected_deployments"])

    # 2. What changed between the releases.
    changed = {d["name"]: (d["from"], d["to"]) for d in answers["diff"]["datasets"] if d["change"] != "same"}
    assert changed["customers"] == (["data-v1.7.1"], ["data-v1.8.2"])
    assert changed["churn_features"] == (["fv-1"], ["fv-2"])
    assert {p["name"] for p in answers["diff"]["params"]} >= {"lr", "epochs"}
    assert {m["name"] for m in answers["diff"]["metrics"]} >= {"auc"}

    # 3. churn-prod: rolled back to 2.2.0; during the incident it served 2.3.1.
    prod = answers["endpoint"]
    assert prod["current_model_version"] == ["churn@2.2.0"]
    assert prod["at"]["model_versions"] == ["churn@2.3.1"]
    assert prod["history"][0]["rollback"] is True
    assert [d["model_versions"] for d in prod["history"]] == [["churn@2.2.0"], ["churn@2.3.1"], ["churn@2.2.0"]]

    # 4. The last known good version and what it was trained on.
    good = answers["versions"]["last_known_good"]
    assert good["version"] == "2.2.0"
    assert [v["label"] for v in good["training_data"]["dataset_versions"]] == ["lake://demo/customers@data-v1.7.1"]
    production = next(a for a in answers["versions"]["aliases"] if a["alias"] == "Production")
    assert production["current_version"] == "2.2.0"
    champion = next(a for a in answers["versions"]["aliases"] if a["alias"] == "champion")
    assert (champion["current_version"], champion["history"]) == (None, [])  # carol's request was rejected

    # 5. The mis-scaled column: from data-v1.8.2's income to the features, model and endpoints.
    columns = answers["columns"]
    assert columns["field"]["ref"] == "lake://demo/customers@data-v1.8.2[income]"
    assert [f["ref"] for f in columns["features"]] == ["churn_features@fv-2[income_k]"]
    assert [m["label"] for m in columns["model_versions"]] == ["churn@2.3.1"]
    by_name = {e["name"]: e["currently_serving"] for e in columns["endpoints"]}
    assert by_name == {"churn-prod": False, "churn-eu": True, "churn-us": True}

    text = report(answers, outcome)
    assert "churn-eu     served churn@2.3.1; STILL SERVING it" in text
    assert "Last known good before 2.3.1: 2.2.0, trained on lake://demo/customers@data-v1.7.1" in text


def test_the_example_runs_as_a_program(tmp_path: Path, clean_env: Path, capsys: object) -> None:
    with running(f"sqlite:///{tmp_path / 'lineage.db'}") as url:
        assert main(["--url", url, "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "1. Which endpoints used data-v1.8.2" in printed
    assert "4. Last known good before 2.3.1: 2.2.0" in printed
