"""Signed checkpoints on both stores: every kind of rewrite after a checkpoint is caught against it."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from lineage.checkpoints import Checkpoint, Signer, verify_signature
from lineage.ingest.canonical import event_hash
from lineage.merkle import entry_leaf
from lineage.reports.logcheck import check_log
from lineage.reports.verify import verify
from lineage.store.base import Store
from tests.conformance.test_projection_rules import NOW, ingest
from tests.reports.conftest import Forger, log, seq_of
from tests.reports.test_verify import rewrite_training

LATER = "2026-03-05T00:00:00.000000Z"


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    return Signer(tmp_path / "keys" / "signing.pem")


def leaves(store: Store) -> dict[int, bytes]:
    """Each entry's leaf as the log holds it now: what a bundle or a copy keeps of it."""
    return {e.seq: entry_leaf(e.seq, event_hash(e.payload), e.received_at) for e in log(store)}


def test_the_key_is_made_once_outside_the_store_readable_by_its_owner_only(signer: Signer, graph: Store) -> None:
    first = signer.checkpoint(graph)
    assert stat.S_IMODE(os.stat(signer.path).st_mode) == 0o600
    again = Signer(signer.path)  # a restart reads the same key
    assert again.public_pem() == signer.public_pem()
    assert verify_signature(again.public_pem(), first)
    assert first.size == len(log(graph)) and len(first.root) == 64


def test_a_checkpoint_signature_covers_size_root_and_time(signer: Signer, graph: Store) -> None:
    cp = signer.checkpoint(graph)
    pem = signer.public_pem()
    for forged in (
        Checkpoint(cp.size - 1, cp.root, cp.time, cp.signature),
        Checkpoint(cp.size, "0" * 64, cp.time, cp.signature),
        Checkpoint(cp.size, cp.root, "2030-01-01T00:00:00Z", cp.signature),
    ):
        assert not verify_signature(pem, forged)
    other = Signer(signer.path.parent / "other.pem")
    assert not verify_signature(other.public_pem(), cp)


def test_an_untouched_log_that_grew_still_holds_its_checkpoints(signer: Signer, graph: Store) -> None:
    early = signer.checkpoint(graph)
    known = leaves(graph)
    from lineage.ingest.parse import parse_event
    from tests.conformance.test_projection_rules import ML_STORY

    graph.ingest([parse_event(b) for b in ML_STORY], LATER)
    answer = check_log(graph, early, signer.public_pem(), known)
    assert answer["ok"] is True and answer["entries"] > early.size


def _change_entry(graph: Store, forger: Forger) -> int:
    seq = seq_of(graph, "dep-prod#3")
    forger.update(seq, received_at="2026-03-03T11:00:00.000000Z")
    return seq


def _rehash_chain(graph: Store, forger: Forger) -> int:
    """A rewritten entry, its id and the whole chain after it re-hashed, the store's tree rebuilt:
    the hash chain verifies, and the store's own proofs agree with the forgery."""
    seq = rewrite_training(graph, forger)
    size = len(log(graph))
    for n in range(seq + 1, size + 1):
        forger.update(n, prev_hash=forger.entry(n - 1)["hash"])
        forger.rehash(n)
    graph.rebuild()
    assert verify(graph)["ok"] is True
    return seq


def _truncate(graph: Store, forger: Forger) -> int:
    size = len(log(graph))
    for n in (size, size - 1):
        forger.delete(n)
    return size - 1


def _reorder(graph: Store, forger: Forger) -> int:
    a = seq_of(graph, "train#231")
    forger.swap(a, a + 3)
    return a


def _delete(graph: Store, forger: Forger) -> int:
    seq = seq_of(graph, "dep-prod#3")
    forger.delete(seq)
    forger.shift(seq, -1)  # the gap closed, as a careful forger would
    return seq


TAMPERS: dict[str, Callable[[Store, Forger], int]] = {
    "entry-changed": _change_entry,
    "chain-rehashed": _rehash_chain,
    "truncated": _truncate,
    "reordered": _reorder,
    "deleted": _delete,
}


@pytest.mark.parametrize("kind", list(TAMPERS))
def test_every_tamper_is_caught_against_an_older_checkpoint(signer: Signer, graph: Store, forger: Forger, kind: str) -> None:
    before = [e.seq for e in log(graph)]
    early = signer.sign(3, graph.log_tree(lambda t: t.root(3)))  # a checkpoint from when the log was young
    cp = signer.checkpoint(graph)
    known = leaves(graph)
    first = TAMPERS[kind](graph, forger)
    assert first > 3, "the tamper must come after the early checkpoint for this test to mean anything"
    pem = signer.public_pem()

    # With the entries as they were at hand (a bundle, a copy): the first changed one is named.
    answer = check_log(graph, cp, pem, known, kept=[early])
    assert answer["ok"] is False and answer["signature_ok"] is True
    assert answer["first_changed"] == first
    assert ("truncated" in answer["problem"]) == (kind == "truncated")

    # With checkpoints only: caught, and bounded by the newest checkpoint that still holds.
    answer = check_log(graph, cp, pem, kept=[early])
    assert answer["ok"] is False and "first_changed" not in answer
    assert answer["rewritten_after"] == 3
    assert len(before) == cp.size


def test_a_forged_checkpoint_is_refused_before_the_log_is_read(signer: Signer, graph: Store) -> None:
    cp = signer.checkpoint(graph)
    forged = Checkpoint(cp.size, cp.root, cp.time, Signer(signer.path.parent / "forger.pem").sign(cp.size, bytes.fromhex(cp.root), cp.time).signature)
    answer = check_log(graph, forged, signer.public_pem())
    assert answer["ok"] is False and answer["signature_ok"] is False


# --- the API ---------------------------------------------------------------------------------
from collections.abc import Iterator  # noqa: E402

from fastapi.testclient import TestClient  # noqa: E402

from api.app import create_app  # noqa: E402
from lineage import merkle  # noqa: E402
from lineage.settings import Settings  # noqa: E402


@pytest.fixture
def client(graph: Store, settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"signing_key": str(tmp_path / "api-key.pem")}), graph)
    with TestClient(app) as test_client:
        yield test_client


def test_a_checkpoint_from_the_api_verifies_with_its_key_and_proofs_tie_entries_to_it(client: TestClient, graph: Store) -> None:
    pem = client.get("/api/v1/log/key").text
    cp = Checkpoint.from_dict(client.get("/api/v1/log/checkpoint").json())
    assert verify_signature(pem, cp) and cp.size == len(log(graph))
    root = bytes.fromhex(cp.root)
    for entry in log(graph):
        proof = client.get("/api/v1/log/proof/inclusion", params={"seq": entry.seq, "size": cp.size}).json()
        leaf = entry_leaf(entry.seq, event_hash(entry.payload), entry.received_at)
        path = [bytes.fromhex(h) for h in proof["path"]]
        assert merkle.verify_inclusion(entry.seq - 1, cp.size, leaf, path, root), entry.seq
    ingest(graph, *_more())
    later = Checkpoint.from_dict(client.get("/api/v1/log/checkpoint").json())
    assert later.size > cp.size
    proof = client.get("/api/v1/log/proof/consistency", params={"from": cp.size, "to": later.size}).json()
    assert merkle.verify_consistency(cp.size, later.size, root, bytes.fromhex(later.root), [bytes.fromhex(h) for h in proof["proof"]])


def test_proofs_outside_the_log_are_refused(client: TestClient, graph: Store) -> None:
    size = len(log(graph))
    assert client.get("/api/v1/log/proof/inclusion", params={"seq": size + 1}).status_code == 400
    assert client.get("/api/v1/log/proof/consistency", params={"from": size + 1}).status_code == 400
    assert client.get("/api/v1/log/proof/inclusion", params={"seq": 0}).status_code in (400, 422)


def _more() -> list[dict]:
    from tests.conformance.test_projection_rules import ML_STORY

    return list(ML_STORY)


# --- lineage check-log -----------------------------------------------------------------------
from typer.testing import CliRunner  # noqa: E402

from lineage.cli.main import app as cli  # noqa: E402
from lineage.reports.bundle import render_bundle  # noqa: E402
from lineage.reports.audit import build_report  # noqa: E402


@pytest.fixture
def local(graph: Store, backend: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest, signer: Signer) -> Store:
    uri = f"sqlite:///{graph.path}" if backend == "sqlite" else request.getfixturevalue("neo4j_uri")  # type: ignore[attr-defined]
    monkeypatch.setenv("LINEAGE_STORE", uri)
    monkeypatch.setenv("LINEAGE_SIGNING_KEY", str(signer.path))
    return graph


def test_check_log_names_the_first_changed_entry_from_a_bundle(local: Store, signer: Signer, forger: Forger, tmp_path: Path) -> None:
    bundle = tmp_path / "evidence.zip"
    bundle.write_bytes(render_bundle(local, signer, build_report(local, "churn@2.3.1")))
    saved = tmp_path / "checkpoint.json"
    import json

    saved.write_text(json.dumps(signer.checkpoint(local).as_dict()))
    assert CliRunner().invoke(cli, ["check-log", str(bundle)]).exit_code == 0
    seq = rewrite_training(local, forger)
    result = CliRunner().invoke(cli, ["check-log", str(bundle)])
    assert result.exit_code == 1 and f"first changed entry: seq {seq}" in result.output, result.output
    result = CliRunner().invoke(cli, ["check-log", str(saved), "--json"])
    assert result.exit_code == 1 and json.loads(result.output)["problem"].startswith("rewritten")
