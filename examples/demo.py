"""`make demo`: the churn story told to a lineage service of its own, then the incident answers.

The demo always starts its own service, on its own embedded store `data/demo.db` (made fresh
each time), at http://127.0.0.1:$LINEAGE_PORT, or on a free port when LINEAGE_PORT is not set,
and stops it at the end. It never sends its story to a service that is already running: a
person's service on port 5000 holds their lineage, and a made-up incident has no place in it.
When LINEAGE_PORT names a port that is taken, it refuses and says so. To explore the result
afterwards: `LINEAGE_STORE=sqlite:///data/demo.db make run`.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from examples.churn.__main__ import DEFAULT_OUT
from examples.churn.__main__ import main as story

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
DEMO_DB = ROOT / "data" / "demo.db"


class Refused(Exception):
    """The demo cannot run its own service; the message says why and what to do."""


def _free(port: int) -> bool:
    """Nothing listens on HOST:port (a bind succeeds)."""
    with socket.socket() as sock:
        # as uvicorn binds: connections of a service that just stopped (TIME_WAIT) do not count
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def choose_port(environ: Mapping[str, str]) -> int:
    """LINEAGE_PORT when set (and free), else a port the system says is free."""
    wanted = environ.get("LINEAGE_PORT", "").strip()
    if not wanted:
        with socket.socket() as sock:
            sock.bind((HOST, 0))
            return int(sock.getsockname()[1])
    if not wanted.isdigit() or not 0 < int(wanted) < 65536:
        raise Refused(f"LINEAGE_PORT={wanted!r} is not a port number")
    if not _free(int(wanted)):
        raise Refused(
            f"port {wanted} (LINEAGE_PORT) is in use. The demo runs its own service on {DEMO_DB.name} and never "
            "sends its story to a service that is already running; set LINEAGE_PORT to a free port, or unset it "
            "to let the demo pick one"
        )
    return int(wanted)


def _ours(url: str) -> bool:
    """The service at `url` is one with an empty log: the one just started on a fresh store
    (a service of someone else's that took the port meanwhile holds events, or wants a token)."""
    response = httpx.get(f"{url}/api/v1/events", params={"limit": 1}, timeout=5)
    return response.status_code == 200 and response.json().get("total") == 0


def start(db: Path, port: int) -> subprocess.Popen[bytes]:
    """`lineage serve` on a fresh SQLite file at HOST:port, ready, and ours."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    db.parent.mkdir(parents=True, exist_ok=True)
    env = os.environ | {
        "LINEAGE_STORE": f"sqlite:///{db}",
        "LINEAGE_HOST": HOST,
        "LINEAGE_PORT": str(port),
        "LINEAGE_AUTH": "off",  # a fresh store on loopback, for this one run: no tokens to hold
        "LINEAGE_LOG_LEVEL": "warning",
    }
    proc = subprocess.Popen([sys.executable, "-m", "lineage.cli.main", "serve"], env=env, cwd=ROOT)
    url = f"http://{HOST}:{port}"
    for _ in range(300):
        if proc.poll() is not None:
            raise Refused(f"lineage serve exited with {proc.returncode} (is port {port} taken?)")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    else:
        stop(proc)
        raise Refused("lineage serve did not become ready in 30 s")
    if not _ours(url) or proc.poll() is not None:
        stop(proc)
        raise Refused(f"another service answered at {url} before the demo's own did; run the demo again")
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m examples.demo", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=DEMO_DB, help="the demo's SQLite store (made fresh)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where data, features and models are written")
    args = parser.parse_args(argv)
    shown = args.db.relative_to(ROOT) if args.db.is_relative_to(ROOT) else args.db
    try:
        port = choose_port(os.environ)
        print(f"starting the demo's own lineage service on {shown} at http://{HOST}:{port}")
        proc = start(args.db, port)
    except Refused as exc:
        print(f"make demo: {exc}", file=sys.stderr)
        return 1
    try:
        return story(["--url", f"http://{HOST}:{port}", "--out", str(args.out)])
    finally:
        stop(proc)
        print(f"stopped the demo's service; its store is kept: LINEAGE_STORE=sqlite:///{shown} make run")


if __name__ == "__main__":
    sys.exit(main())
