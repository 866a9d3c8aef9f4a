"""Evidence bundles on both stores: verified by their own script alone in a clean venv, and by
`lineage verify-bundle`; each kind of tampering with a bundle fails the check."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from lineage.checkpoints import Signer
from lineage.cli.main import app as cli
from lineage.reports import bundle_verify
from lineage.settings import Settings
from lineage.store.base import Store


@pytest.fixture
def client(graph: Store, settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"signing_key": str(tmp_path / "key.pem")}), graph)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def clean_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv's python, without pip or this project: what an auditor's machine has."""
    where = tmp_path_factory.mktemp("venv")
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(where)], check=True, capture_output=True)
    return where / "bin" / "python"


def fetch(client: TestClient, ref: str = "churn@2.3.1") -> bytes:
    answer = client.get("/api/v1/audit", params={"ref": ref, "format": "bundle"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    return answer.content


def unpack(data: bytes, where: Path) -> Path:
    where.mkdir(parents=True)
    zipfile.ZipFile(io.BytesIO(data)).extractall(where)
    return where


def run_script(python: Path, where: Path) -> subprocess.CompletedProcess[str]:
    # Run from the bundle's own directory, with no environment that could point at this project.
    env = {"PATH": "/usr/bin:/bin"}
    return subprocess.run([str(python), "-I", "verify.py"], cwd=where, env=env, capture_output=True, text=True, timeout=120)


def test_a_bundle_holds_the_evidence_and_verifies_by_its_script_alone(client: TestClient, clean_python: Path, tmp_path: Path) -> None:
    data = fetch(client)
    where = unpack(data, tmp_path / "bundle")
    names = {p.name for p in where.iterdir()}
    assert {"report.json", "report.md", "report.html", "report.pdf", "report.csv", "events.jsonl", "entries.jsonl", "HASH_RULE.md",
            "checkpoint.json", "proofs.json", "public-key.pem", "verify.py"} <= names
    report = json.loads((where / "report.json").read_text())
    cited = sorted({e["seq"] for f in report["evidence"] for e in f["events"]})
    entries = [json.loads(line) for line in (where / "entries.jsonl").read_text().splitlines()]
    assert [e["seq"] for e in entries] == cited and cited
    assert json.loads((where / "checkpoint.json").read_text())["size"] == report["log"]["entries"]
    done = run_script(clean_python, where)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK" in done.stdout


def _edit_event(where: Path) -> str:
    lines = (where / "events.jsonl").read_bytes().split(b"\n")
    lines[0] = lines[0].replace(b'"eventTime":"2026', b'"eventTime":"2025', 1)
    assert lines[0] != (where / "events.jsonl").read_bytes().split(b"\n")[0]
    (where / "events.jsonl").write_bytes(b"\n".join(lines))
    return "SHA-256"


def _edit_proof(where: Path) -> str:
    proofs = json.loads((where / "proofs.json").read_text())
    first = next(p for p in proofs["inclusion"] if p["path"])
    first["path"][0] = "0" * 64
    (where / "proofs.json").write_text(json.dumps(proofs))
    return f"seq {first['seq']}: not included"


def _resign(where: Path) -> str:
    """A checkpoint for another root signed with another key; the bundle's own key kept."""
    cp = json.loads((where / "checkpoint.json").read_text())
    forged = Signer(where.parent / "forger.pem").sign(cp["size"], b"\x11" * 32, cp["time"])
    (where / "checkpoint.json").write_text(json.dumps(forged.as_dict()))
    return "signature"


def _drop_event(where: Path) -> str:
    for name in ("events.jsonl", "entries.jsonl"):
        lines = (where / name).read_bytes().split(b"\n")
        (where / name).write_bytes(b"\n".join(lines[1:]))
    return "cites entries not in the bundle"


def _swap_entries(where: Path) -> str:
    """Two events exchanged with their entries: each is then at another place in the tree."""
    for name in ("events.jsonl", "entries.jsonl"):
        lines = (where / name).read_bytes().split(b"\n")
        lines[0], lines[1] = lines[1], lines[0]
        (where / name).write_bytes(b"\n".join(lines))
    entries = [json.loads(line) for line in (where / "entries.jsonl").read_text().splitlines() if line]
    a, b = entries[0], entries[1]
    a["seq"], b["seq"] = b["seq"], a["seq"]
    (where / "entries.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries))
    return "not included"


TAMPERS = {"event-edited": _edit_event, "proof-edited": _edit_proof, "re-signed": _resign, "event-dropped": _drop_event, "entries-swapped": _swap_entries}


@pytest.mark.parametrize("kind", list(TAMPERS))
def test_a_tampered_bundle_fails_its_script_and_verify_bundle(client: TestClient, clean_python: Path, tmp_path: Path, kind: str) -> None:
    where = unpack(fetch(client), tmp_path / "bundle")
    said = TAMPERS[kind](where)
    done = run_script(clean_python, where)
    assert done.returncode == 1, done.stdout
    assert said in done.stdout, done.stdout
    result = CliRunner().invoke(cli, ["verify-bundle", str(where)])
    assert result.exit_code == 1 and said in result.output


def test_verify_bundle_checks_a_zip_as_the_service_sent_it(client: TestClient, tmp_path: Path) -> None:
    path = tmp_path / "evidence.zip"
    path.write_bytes(fetch(client, "churn-prod"))
    result = CliRunner().invoke(cli, ["verify-bundle", str(path)])
    assert result.exit_code == 0, result.output
    assert bundle_verify.verify(path) == []


def test_the_bundled_ed25519_verifier_agrees_with_the_cryptography_package(tmp_path: Path) -> None:
    signer = Signer(tmp_path / "k.pem")
    public = bundle_verify.raw_public_key(signer.public_pem())
    for n in range(8):
        message = os.urandom(n * 7)
        signature = signer.key().sign(message)
        assert bundle_verify.ed25519_verify(public, signature, message)
        assert not bundle_verify.ed25519_verify(public, signature, message + b"x")
        flipped = bytes([signature[n] ^ 1]) + signature[1:] if n == 0 else signature[:n] + bytes([signature[n] ^ 1]) + signature[n + 1:]
        assert not bundle_verify.ed25519_verify(public, flipped, message)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_openssl_verifies_the_checkpoint_as_hash_rule_says(client: TestClient, tmp_path: Path) -> None:
    where = unpack(fetch(client), tmp_path / "bundle")
    cp = json.loads((where / "checkpoint.json").read_text())
    (where / "body").write_bytes(bundle_verify.checkpoint_body(cp))
    import base64

    (where / "sig").write_bytes(base64.b64decode(cp["signature"]))
    done = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "public-key.pem", "-rawin", "-in", "body", "-sigfile", "sig"],
        cwd=where, capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
