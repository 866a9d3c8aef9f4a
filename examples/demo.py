"""`make demo`: the churn story against http://127.0.0.1:5000, starting the service if none runs.

A service started here runs on its own embedded store, `data/demo.db` (made fresh each time),
and is stopped at the end; a service already running is used as it is and left running.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from examples.churn.__main__ import main as story

ROOT = Path(__file__).resolve().parents[1]
URL = "http://127.0.0.1:5000"
DEMO_DB = ROOT / "data" / "demo.db"


def _ready() -> bool | None:
    """True: a lineage service answers; False: something else does; None: nothing listens."""
    try:
        response = httpx.get(f"{URL}/readyz", timeout=2)
    except httpx.TransportError:
        return None
    return response.status_code == 200 and "store" in response.text


def _start() -> subprocess.Popen[bytes]:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DEMO_DB}{suffix}").unlink(missing_ok=True)
    DEMO_DB.parent.mkdir(parents=True, exist_ok=True)
    env = os.environ | {"LINEAGE_STORE": f"sqlite:///{DEMO_DB}", "LINEAGE_LOG_LEVEL": "warning"}
    proc = subprocess.Popen([sys.executable, "-m", "lineage.cli.main", "serve", "--port", "5000"], env=env, cwd=ROOT)
    for _ in range(150):
        if _ready():
            return proc
        if proc.poll() is not None:
            raise SystemExit(f"lineage serve exited with {proc.returncode}")
        time.sleep(0.2)
    proc.terminate()
    raise SystemExit("lineage serve did not become ready in 30 s")


def main() -> int:
    state = _ready()
    if state is False:
        print(f"something at {URL} is not a ready lineage service; stop it or run `python -m examples.churn --url ...`", file=sys.stderr)
        return 1
    proc = None
    if state is None:
        print(f"starting the lineage service on {DEMO_DB.relative_to(ROOT)} at {URL}")
        proc = _start()
    else:
        print(f"using the lineage service already running at {URL}")
    try:
        return story(["--url", URL])
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
            print(f"stopped the service it started (data kept in {DEMO_DB.relative_to(ROOT)})")


if __name__ == "__main__":
    sys.exit(main())
