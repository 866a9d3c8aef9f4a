"""Every report format states the log checkpoint it was made at: size, Merkle root, and with a
key at hand the signature and the key's fingerprint (issue 33)."""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient
from pypdf import PdfReader

from api.app import create_app
from lineage.checkpoints import Checkpoint, Signer, verify_signature
from lineage.reports.audit import build_report
from lineage.reports.render import renderer
from lineage.settings import Settings
from lineage.store.base import Store
from tests.conformance.test_projection_rules import ingest
from tests.reports.conftest import log, s

AT = "2026-03-05T00:00:00Z"
FORMATS = ("json", "md", "html", "pdf", "csv")


def squeezed(report: dict[str, Any], fmt: str) -> str:
    """The rendered report's text with all white space removed, since the PDF wraps long hashes."""
    body = renderer(fmt).render(report)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages) if fmt == "pdf" else body.decode()
    return "".join(text.split())


def tree_root(store: Store, size: int) -> str:
    return store.log_tree(lambda tree: tree.root(size).hex())


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    return Signer(tmp_path / "keys" / "checkpoint.pem")


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_carries_the_size_and_the_root_the_tree_answers(graph: Store, fmt: str) -> None:
    report = build_report(graph, "churn@2.3.1", generated_at=AT)
    cp = report["checkpoint"]
    assert cp["size"] == len(log(graph)) == report["log"]["entries"]
    assert cp["root"] == tree_root(graph, cp["size"])
    body = squeezed(report, fmt)
    assert cp["root"] in body
    if fmt == "json":
        assert f'"size":{cp["size"]}' in body and '"signature":null' in body
    else:
        assert "Checkpointsize" in body
        assert "nosigningkey" in body  # unsigned, and it says so
    assert "/api/v1/log/checkpoint" in body and "check-log" in body


def test_the_root_is_of_the_size_made_from_not_the_log_as_it_grew(graph: Store) -> None:
    report = build_report(graph, "churn@2.3.1", generated_at=AT)
    size = report["checkpoint"]["size"]
    ingest(graph, s.event("late#1", "COMPLETE", s.ts(10, 0, day=3), job="late-job"))
    assert len(log(graph)) > size
    assert tree_root(graph, size) == report["checkpoint"]["root"] != tree_root(graph, len(log(graph)))
    again = build_report(graph, "churn@2.3.1", generated_at=AT)["checkpoint"]
    assert (again["size"], again["root"]) == (len(log(graph)), tree_root(graph, len(log(graph))))


@pytest.mark.parametrize("fmt", FORMATS)
def test_with_a_signer_each_format_carries_a_signature_that_verifies(graph: Store, signer: Signer, fmt: str) -> None:
    report = build_report(graph, "churn@2.3.1", generated_at=AT, signer=signer)
    cp = report["checkpoint"]
    assert cp["root"] == tree_root(graph, cp["size"])
    assert verify_signature(signer.public_pem(), Checkpoint(cp["size"], cp["root"], cp["time"], cp["signature"]))
    der = serialization.load_pem_public_key(signer.public_pem().encode()).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert cp["key_fingerprint"] == hashlib.sha256(der).hexdigest()
    body = squeezed(report, fmt)
    for value in (cp["root"], cp["signature"], cp["key_fingerprint"]):
        assert value in body
    assert "/api/v1/log/checkpoint" in body and "check-log" in body


def test_a_signature_for_another_root_does_not_verify(graph: Store, signer: Signer) -> None:
    cp = build_report(graph, "churn@2.3.1", generated_at=AT, signer=signer)["checkpoint"]
    other = bytes(b ^ 1 for b in bytes.fromhex(cp["root"])).hex()
    assert not verify_signature(signer.public_pem(), Checkpoint(cp["size"], other, cp["time"], cp["signature"]))
    assert len(base64.b64decode(cp["signature"])) == 64  # Ed25519


@pytest.fixture
def client(graph: Store, settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"signing_key": str(tmp_path / "api-key.pem")}), graph)
    with TestClient(app) as test_client:
        yield test_client


def test_the_api_signs_the_report_checkpoint_with_the_key_it_publishes(client: TestClient, graph: Store) -> None:
    pem = client.get("/api/v1/log/key").text
    cp = client.get("/api/v1/audit", params={"ref": "churn@2.3.1"}).json()["checkpoint"]
    assert (cp["size"], cp["root"]) == (len(log(graph)), tree_root(graph, len(log(graph))))
    assert verify_signature(pem, Checkpoint(cp["size"], cp["root"], cp["time"], cp["signature"]))
    served = Checkpoint.from_dict(client.get("/api/v1/log/checkpoint").json())
    assert (served.size, served.root) == (cp["size"], cp["root"])  # the same log state, signed by the same key
    md = client.get("/api/v1/audit", params={"ref": "churn@2.3.1", "format": "md"}).text
    assert cp["root"] in md and cp["key_fingerprint"] in md
