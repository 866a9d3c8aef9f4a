"""`make demo` (examples/demo.py): its own service on its own store, on LINEAGE_PORT or a free port;
never the story sent into a service that is already running."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from examples import demo
from lineage.settings import Settings
from lineage.store import open_store
from lineage.store.base import EventFilter
from tests import incident
from tests.server import free_port, running


def events_in(db: Path) -> int:
    store = open_store(Settings(store=f"sqlite:///{db}"))
    try:
        return store.count_events(EventFilter())
    finally:
        store.close()


def test_demo_refuses_a_port_a_service_holds_and_sends_it_nothing(
    tmp_path: Path, clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with running(f"sqlite:///{tmp_path / 'mine.db'}") as url:
        httpx.post(f"{url}/api/v1/lineage", json=incident.EVENTS[0]).raise_for_status()
        monkeypatch.setenv("LINEAGE_PORT", url.rsplit(":", 1)[1])
        assert demo.main(["--db", str(tmp_path / "demo.db"), "--out", str(tmp_path / "out")]) == 1
        assert "is in use" in capsys.readouterr().err
        assert httpx.get(f"{url}/api/v1/events").json()["total"] == 1  # the person's store is as it was
    assert not (tmp_path / "demo.db").exists() and not (tmp_path / "out").exists()


def test_demo_runs_its_own_service_on_lineage_port_and_stops_it(
    tmp_path: Path, clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    monkeypatch.setenv("LINEAGE_PORT", str(port))
    monkeypatch.setenv("LINEAGE_STORE", f"sqlite:///{tmp_path / 'mine.db'}")  # a person's setting: not the demo's store
    db = tmp_path / "demo.db"
    assert demo.main(["--db", str(db), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert f"on {db} at http://127.0.0.1:{port}" in out and "STILL SERVING" in out
    assert events_in(db) > 0 and not (tmp_path / "mine.db").exists()
    with pytest.raises(httpx.TransportError):  # stopped
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)


def test_the_port_without_lineage_port_is_a_free_one_and_a_taken_one_is_refused() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        with pytest.raises(demo.Refused, match=f"port {busy} .* is in use"):
            demo.choose_port({"LINEAGE_PORT": str(busy)})
        chosen = demo.choose_port({})
        assert chosen != busy
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", chosen))  # free
    with pytest.raises(demo.Refused, match="not a port number"):
        demo.choose_port({"LINEAGE_PORT": "five"})
