"""`docker-compose.yml` and the `Dockerfile`, checked without a Docker engine: the compose file
against the Compose Specification's schema, and the API started the way the image and the compose
file start it (the files the image copies, installed as its `pip install .` does, with the
image's command and the environment of the compose file's `api` service), on the test Neo4j."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
import time
import venv
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import jsonschema
import pytest
import yaml

from lineage import ids
from lineage.store.base import Store
from tests import scenario as s
from tests.server import free_port

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = Path(__file__).with_name("compose-spec.json")  # see compose-spec.SOURCE.md
# The Dockerfile instructions the start-up below knows how to follow (or may ignore).
KNOWN = {"FROM", "WORKDIR", "COPY", "RUN", "USER", "ENV", "EXPOSE", "HEALTHCHECK", "CMD"}


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def schema_errors(document: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document))


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) in order, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def image_environment(steps: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for word, rest in steps:
        if word == "ENV":
            env.update(dict(pair.split("=", 1) for pair in rest.split()))
    return env


def interpolate(value: str) -> str:
    """Compose's `${NAME:-default}` with nothing set in the environment: the default."""
    return re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*:-([^}]*)\}", r"\1", value)


def test_the_compose_file_follows_the_compose_specification() -> None:
    assert schema_errors(compose()) == []


def test_the_schema_check_catches_a_broken_compose_file() -> None:
    # The check can fail: a misspelt key and a port of the wrong type are refused.
    broken = copy.deepcopy(compose())
    broken["services"]["api"]["enviroment"] = broken["services"]["api"].pop("environment")
    broken["services"]["neo4j"]["ports"] = 7687
    errors = schema_errors(broken)
    assert any("enviroment" in e for e in errors), errors
    assert any(e.startswith("services/neo4j/ports") for e in errors), errors


def test_the_api_listens_where_the_compose_file_publishes_and_checks_it() -> None:
    api = compose()["services"]["api"]
    env = image_environment(dockerfile()) | {k: interpolate(str(v)) for k, v in api["environment"].items()}
    port = env["LINEAGE_PORT"]
    assert all(str(p).rsplit(":", 1)[-1] == port for p in api["ports"]), api["ports"]
    probe = " ".join(api["healthcheck"]["test"])
    assert f"http://127.0.0.1:{port}/readyz" in probe
    assert api["depends_on"]["neo4j"]["condition"] == "service_healthy"
    assert urlsplit(env["LINEAGE_STORE"]).hostname == "neo4j"  # the compose service's name
    if env.get("LINEAGE_ALLOW_INSECURE", "").lower() in {"1", "true", "yes"}:
        # Serving without tokens is safe only where nobody else reaches the port.
        assert all(str(p).startswith("127.0.0.1:") for p in api["ports"]), api["ports"]


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A virtual environment holding what the image holds: the files its COPY lines copy into
    its WORKDIR, installed by pip from there. Its dependencies come from the test environment
    (a .pth line), the only liberty taken: the image resolves the same pins from PyPI."""
    steps = dockerfile()
    assert {word for word, _ in steps} <= KNOWN, f"teach this test the new instruction(s) in {steps}"
    root = tmp_path_factory.mktemp("image")
    workdir = root / "app"
    workdir.mkdir()
    for word, rest in steps:
        if word == "COPY":
            *sources, target = rest.split()
            dest = workdir / target if target not in {".", "./"} else workdir
            for source in sources:
                origin = ROOT / source
                if origin.is_dir():
                    shutil.copytree(origin, dest, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    dest.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(origin, dest / origin.name)
    runs = [rest for word, rest in steps if word == "RUN"]
    assert any(re.search(r"\bpip install\b.* \.(\s|$)", r) for r in runs), runs
    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    site = next((env_dir / "lib").glob("python3*/site-packages"))
    deps = next(p for p in sys.path if p.endswith("site-packages") and Path(p, "fastapi").is_dir())
    (site / "test-dependencies.pth").write_text(deps + "\n")
    python = env_dir / "bin" / "python"
    subprocess.run(
        # As the image builds it: pip fetches the build backend the pyproject names into an isolated
        # build environment (from PyPI, as `make install` does).
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "."],
        cwd=workdir, check=True, capture_output=True, timeout=300,
    )
    yield workdir


def test_the_api_starts_as_the_compose_file_runs_it_and_takes_events(image: Path, neo4j_store: Store) -> None:
    neo4j_store.reset()
    steps = dockerfile()
    command = json.loads(next(rest for word, rest in steps if word == "CMD"))
    api = compose()["services"]["api"]
    env = image_environment(steps) | {k: interpolate(str(v)) for k, v in api["environment"].items()}
    # Two changes, both addresses: the test Neo4j instead of the `neo4j` service, and a free port
    # (another service may hold 5000 here).
    uri = urlsplit(neo4j_store.url)  # type: ignore[attr-defined]
    env["LINEAGE_STORE"] = urlsplit(env["LINEAGE_STORE"])._replace(netloc=uri.netloc).geturl()
    port = free_port()
    env["LINEAGE_PORT"] = str(port)
    bin_dir = image.parent / "venv" / "bin"
    # The image's environment, not this one's: no LINEAGE_* or PYTHONPATH leaks in from here.
    clean = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(image), "LANG": "C.UTF-8"}
    server = subprocess.Popen(
        command, cwd=image, env=clean | env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        ready = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                ready = httpx.get(f"{base}/readyz", timeout=2)
                if ready.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        assert server.poll() is None, f"the API exited ({server.returncode}):\n{server.communicate()[0][-3000:]}"
        assert ready is not None and ready.status_code == 200, ready.text if ready is not None else "no answer"
        assert ready.json()["store"] == "neo4j"
        event = s.event("etl#1", "COMPLETE", s.ts(10), inputs=[s.dataset("raw", "v1")], outputs=[s.dataset("clean", "c7")])
        posted = httpx.post(f"{base}/api/v1/lineage", json=event, timeout=10)
        assert posted.status_code == 201, posted.text
        raw = ids.version_id(ids.dataset_id("s3://lake", "raw"), "v1")
        clean = ids.version_id(ids.dataset_id("s3://lake", "clean"), "c7")
        found = httpx.get(f"{base}/api/v1/upstream", params={"ref": clean}, timeout=10)
        assert found.status_code == 200, found.text
        assert raw in found.text  # the provenance the event gave
        assert neo4j_store.event_count() == 1  # it went to the Neo4j the compose file names
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
