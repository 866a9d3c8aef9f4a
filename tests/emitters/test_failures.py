"""Failure paths: a step raising, the service down, the service answering 5xx then recovering,
the service refusing an event; strict mode."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter

from emitters import Data, EmitError, EmitterSettings, Lineage, current_step
from tests.emitters.conftest import Capture, FlakyServer, TickClock, http_transport
from tests.server import free_port


def _lineage(url: str, *, retries: int = 1, offline: float = 60.0, strict: bool = False) -> Lineage:
    settings = EmitterSettings(strict=strict, offline_seconds=offline)
    return Lineage(config={"transport": http_transport(url, retries)}, settings=settings, clock=TickClock())


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "emitters" and r.levelno >= logging.WARNING]


def test_a_failing_step_records_fail_and_reraises_the_same_exception(capture: Capture, tmp_path: Path) -> None:
    error = ValueError("bad rows in part-3")
    target = Data("lake://test", "clean", "v2", path=tmp_path / "clean.csv")

    @capture.lineage.data_step("load-clean", outputs=[target])
    def load() -> None:
        (tmp_path / "clean.csv").write_text("half written")
        raise error

    with pytest.raises(ValueError) as raised:
        load()
    assert raised.value is error
    assert raised.value.__cause__ is None and raised.value.__context__ is None  # nothing chained onto it
    assert current_step() is None  # the step is no longer current
    start, fail = capture.events()
    assert (start["eventType"], fail["eventType"]) == ("START", "FAIL")
    assert start["run"]["runId"] == fail["run"]["runId"]
    facet = fail["run"]["facets"]["errorMessage"]
    assert facet["message"] == "ValueError: bad rows in part-3"
    assert facet["programmingLanguage"] == "python"
    assert "in load" in facet["stackTrace"] and "raise error" in facet["stackTrace"]
    # The output is named, so the failed attempt is on record, but not hashed: a failed write
    # says nothing about the content of that version.
    assert [o["name"] for o in fail["outputs"]] == ["clean"]
    assert "ml_artifact" not in fail["outputs"][0]["facets"]
    assert start["outputs"] == []


def test_a_failure_inside_nested_steps_fails_each_with_its_parent(capture: Capture) -> None:
    with pytest.raises(KeyError), capture.lineage.step("nightly"), capture.lineage.data_step("extract"):
        raise KeyError("customers")
    outer_start, _, inner_fail, outer_fail = capture.events()
    assert [e["eventType"] for e in (inner_fail, outer_fail)] == ["FAIL", "FAIL"]
    parent = inner_fail["run"]["facets"]["parent"]
    assert parent["run"]["runId"] == outer_start["run"]["runId"]
    assert (parent["job"]["namespace"], parent["job"]["name"]) == ("ml-pipelines", "nightly")
    assert parent["root"]["run"]["runId"] == outer_start["run"]["runId"]
    assert "parent" not in outer_fail["run"]["facets"]


def test_an_interrupt_is_recorded_as_abort(capture: Capture) -> None:
    with pytest.raises(KeyboardInterrupt), capture.lineage.data_step("long-export"):
        raise KeyboardInterrupt
    assert [e["eventType"] for e in capture.events()] == ["START", "ABORT"]


def test_service_down_the_pipeline_goes_on_with_one_warning(
    clean_env: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.WARNING, logger="emitters")
    # Each request the client's transport makes (its connection retries happen inside one).
    sends: list[str] = []
    real_send = HTTPAdapter.send

    def send(self: HTTPAdapter, request: PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        sends.append(str(request.url))
        return real_send(self, request, *args, **kwargs)

    monkeypatch.setattr(HTTPAdapter, "send", send)
    lineage = _lineage(f"http://127.0.0.1:{free_port()}")
    results = []
    for name in ("extract", "load"):
        with lineage.data_step(name, outputs=[Data("lake://test", name, "v1")]):
            results.append(name)
    assert results == ["extract", "load"]
    assert len(sends) == 1  # one bounded retry cycle for the first event, then none per event
    assert lineage.emitter.pending == 4
    warnings = _warnings(caplog)
    assert len(warnings) == 1 and "cannot deliver" in warnings[0] and "pipeline goes on" in warnings[0]
    assert lineage.close() is False
    assert "4 event(s) could not be delivered" in _warnings(caplog)[-1]


def test_strict_mode_raises_before_the_body_runs(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINEAGE_EMIT_STRICT", "true")
    lineage = Lineage(config={"transport": http_transport(f"http://127.0.0.1:{free_port()}")})
    ran = False
    with pytest.raises(EmitError, match="START of ml-pipelines/deploy-churn-prod"), lineage.deploy_step("churn@2.3.1", "churn-prod"):
        ran = True
    assert not ran
    assert current_step() is None


def test_strict_mode_never_hides_the_pipelines_exception(
    clean_env: Path, flaky: Callable[[list[int]], FlakyServer], caplog: pytest.LogCaptureFixture
) -> None:
    server = flaky([201] + [503] * 10)  # START gets through, then the service breaks
    lineage = _lineage(server.url, strict=True)
    with pytest.raises(ZeroDivisionError), lineage.deploy_step("churn@2.3.1", "churn-prod"):
        _ = 1 / 0
    assert any("could not record the FAIL" in w for w in _warnings(caplog))


def test_5xx_then_recovery_is_retried_by_the_transport(
    clean_env: Path, flaky: Callable[[list[int]], FlakyServer], caplog: pytest.LogCaptureFixture
) -> None:
    server = flaky([503, 502])
    lineage = _lineage(server.url, retries=3)
    with lineage.deploy_step("churn@2.3.1", "churn-prod") as run:
        pass
    assert [status for status, _ in server.requests] == [503, 502, 201, 201]
    assert [(e["eventType"], e["run"]["runId"]) for e in server.accepted()] == [("START", run.run_id), ("COMPLETE", run.run_id)]
    assert lineage.emitter.pending == 0 and lineage.emitter.delivered == 2
    assert _warnings(caplog) == []
    assert lineage.close() is True


def test_an_outage_longer_than_the_retries_keeps_events_until_the_service_is_back(
    clean_env: Path, flaky: Callable[[list[int]], FlakyServer], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="emitters")
    server = flaky([503, 503])  # both attempts of the first event (1 retry) fail
    lineage = _lineage(server.url, retries=1, offline=60)
    with lineage.training_step(None, job="train-churn") as run:
        run.log_metrics(auc=0.84)
    # During the cool-down the COMPLETE was kept without a request.
    assert len(server.requests) == 2 and lineage.emitter.pending == 2
    assert lineage.close() is True
    assert [e["eventType"] for e in server.accepted()] == ["START", "COMPLETE"]
    assert server.accepted()[1]["run"]["facets"]["ml_training"]["metrics"] == {"auc": 0.84}
    warnings = _warnings(caplog)
    assert "cannot deliver" in warnings[0] and "delivered 2 kept event(s)" in warnings[-1]


def test_after_the_cool_down_kept_events_go_first(clean_env: Path, flaky: Callable[[list[int]], FlakyServer]) -> None:
    server = flaky([503, 503])
    lineage = _lineage(server.url, retries=1, offline=0)
    with lineage.data_step("extract"):
        pass
    # No cool-down: the COMPLETE's emit delivered the kept START first, in order.
    assert [e["eventType"] for e in server.accepted()] == ["START", "COMPLETE"]
    assert lineage.emitter.pending == 0


def test_a_refused_event_is_reported_and_not_retried(
    clean_env: Path, flaky: Callable[[list[int]], FlakyServer], caplog: pytest.LogCaptureFixture
) -> None:
    server = flaky([400])
    lineage = _lineage(server.url, retries=3)
    with lineage.data_step("extract"):
        pass
    assert [status for status, _ in server.requests] == [400, 201]  # 4xx is final: no retry
    assert lineage.emitter.refused == 1 and lineage.emitter.pending == 0
    assert any("refused" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)
    strict = _lineage(flaky([400]).url, strict=True)
    with pytest.raises(EmitError, match="400"), strict.data_step("extract"):
        pass
