"""`lineage serve` and `make run` stop with exit code 0 on Ctrl-C (SIGINT) and SIGTERM."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.server import free_port

ROOT = Path(__file__).resolve().parents[2]


def wait_ready(proc: subprocess.Popen[bytes], port: int) -> None:
    for _ in range(300):
        assert proc.poll() is None, f"exited early with {proc.returncode}"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("not ready in 30 s")


def stop(proc: subprocess.Popen[bytes], sig: int, pid: int | None = None) -> int:
    os.kill(pid or proc.pid, sig)
    try:
        return proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.parametrize(
    ("sig", "workers"),
    [(signal.SIGINT, 1), (signal.SIGTERM, 1), (signal.SIGTERM, 2)],
    ids=["SIGINT", "SIGTERM", "SIGTERM-two-workers"],
)
def test_serve_exits_0_when_stopped_by_a_signal(tmp_path: Path, sig: int, workers: int) -> None:
    port = free_port()
    env = os.environ | {"LINEAGE_STORE": f"sqlite:///{tmp_path / 'lineage.db'}", "LINEAGE_LOG_LEVEL": "warning"}
    cmd = [sys.executable, "-m", "lineage.cli.main", "serve", "--port", str(port), "--workers", str(workers)]
    # a process of its own, as a terminal or a supervisor would start it (SIGINT not ignored)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    wait_ready(proc, port)
    code = stop(proc, sig)
    assert code == 0, proc.stderr.read().decode()[-2000:] if proc.stderr else code
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)


def child_of(pid: int) -> int:
    """The one process `pid` started (make's recipe: the shell execs `lineage serve`, or runs it)."""
    for _ in range(100):
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.05)
    raise AssertionError(f"{pid} started nothing")


@pytest.mark.skipif(shutil.which("make") is None or not Path("/proc").is_dir(), reason="needs make and /proc")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_make_run_exits_0_when_the_service_is_stopped(tmp_path: Path, sig: int) -> None:
    """A supervisor or `kill` stopping the service that `make run` started: make ends with 0.
    (Ctrl-C typed at a terminal: the next test.)"""
    port = free_port()
    env = os.environ | {"LINEAGE_STORE": f"sqlite:///{tmp_path / 'lineage.db'}", "LINEAGE_PORT": str(port), "LINEAGE_LOG_LEVEL": "warning"}
    make = subprocess.Popen(["make", "-s", "run"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        wait_ready(make, port)
        service = child_of(make.pid)
        if Path(f"/proc/{service}/cmdline").read_bytes().split(b"\0")[0].endswith(b"sh"):
            service = child_of(service)  # a shell that did not exec the command
        assert b"serve" in Path(f"/proc/{service}/cmdline").read_bytes()
        code = stop(make, sig, pid=service)
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGTERM)
            make.wait(30)
    assert code == 0, make.stderr.read().decode()[-2000:] if make.stderr else code


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_run_at_a_terminal_exits_0_on_ctrl_c(tmp_path: Path) -> None:
    """Ctrl-C typed at the terminal `make run` runs in: the service alone receives it, stops
    cleanly, and make ends with 0 (lineage/cli/terminal.py). The terminal is a real
    pseudo-terminal whose session make leads, as a login shell's job would."""
    import fcntl
    import pty
    import termios

    port = free_port()
    env = os.environ | {"LINEAGE_STORE": f"sqlite:///{tmp_path / 'lineage.db'}", "LINEAGE_PORT": str(port), "LINEAGE_LOG_LEVEL": "warning"}
    master, slave = pty.openpty()

    def controlling_terminal() -> None:
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)

    make = subprocess.Popen(
        ["make", "-s", "run"], cwd=ROOT, env=env, stdin=slave, stdout=slave, stderr=slave, preexec_fn=controlling_terminal
    )
    os.close(slave)
    output = bytearray()
    try:
        wait_ready(make, port)
        os.write(master, b"\x03")  # Ctrl-C, as typed: the line discipline sends SIGINT to the foreground group
        code = make.wait(30)
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait(30)
        try:
            while chunk := os.read(master, 65536):
                output += chunk
        except OSError:
            pass
        os.close(master)
    assert code == 0, output.decode(errors="replace")[-2000:]
    assert b"Interrupt" not in output
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
