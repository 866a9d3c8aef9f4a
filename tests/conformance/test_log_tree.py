"""The log's Merkle tree on both stores, checked against RFC 9162's definitions written out here."""

from __future__ import annotations

import hashlib

import pytest

from lineage import merkle
from lineage.ingest.parse import parse_event
from lineage.store.base import Store
from tests import scenario as s

NOW = "2026-03-02T00:00:00.000000Z"
SIZES = (1, 2, 13, 20, 1, 37, 66)  # uneven batches, 140 entries: stored levels 4..7 and the small ones


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


# RFC 9162 section 2.1, recursively and without any stored state: the reference.
def mth(d: list[bytes]) -> bytes:
    if not d:
        return sha(b"")
    if len(d) == 1:
        return sha(b"\x00" + d[0])
    k = 1 << ((len(d) - 1).bit_length() - 1)
    return sha(b"\x01" + mth(d[:k]) + mth(d[k:]))


def path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) <= 1:
        return []
    k = 1 << ((len(d) - 1).bit_length() - 1)
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m: int, d: list[bytes], whole: bool) -> list[bytes]:
    if m == len(d):
        return [] if whole else [mth(d)]
    k = 1 << ((len(d) - 1).bit_length() - 1)
    if m <= k:
        return subproof(m, d[:k], whole) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


def fill(store: Store) -> list[bytes]:
    """Ingest SIZES batches of distinct events; returns each entry's leaf data, in seq order."""
    n = 0
    for size in SIZES:
        bodies = [s.event(f"job{n + i}#1", "COMPLETE", s.ts(1, (n + i) % 60), outputs=[s.dataset(f"t{n + i}", "v1")]) for i in range(size)]
        store.ingest([parse_event(b) for b in bodies], NOW)
        n += size
    entries = store.entries_at(list(range(1, n + 1)))
    assert [e.seq for e in entries] == list(range(1, n + 1))
    return [f"{e.seq}\n{e.id}\n{e.received_at}".encode() for e in entries]


PAIRS = [(0, 1), (1, 1), (1, 2), (3, 7), (4, 8), (5, 16), (16, 17), (17, 32), (31, 33), (63, 140), (64, 140), (100, 139), (139, 140)]


def test_roots_and_proofs_match_the_rfc_definitions(store: Store) -> None:
    data = fill(store)
    total = len(data)

    def check(tree: merkle.TreeReader) -> None:
        assert tree.size == total
        for n in range(total + 1):
            assert tree.root(n) == mth(data[:n]), n
        for m, n in PAIRS:
            if m < n:
                proof = tree.inclusion(m, n)
                assert proof == path(m, data[:n]), (m, n)
                assert merkle.verify_inclusion(m, n, merkle.leaf_hash(data[m]), proof, mth(data[:n]))
            want = subproof(m, data[:n], True) if 0 < m < n else []
            proof = tree.consistency(m, n)
            assert proof == want, (m, n)
            assert merkle.verify_consistency(m, n, mth(data[:m]), mth(data[:n]), proof), (m, n)

    store.log_tree(check)
    assert store.rebuild() == total
    store.log_tree(check)  # rebuilt from the log alone: the same tree


def test_proof_checks_refuse_what_does_not_hold(store: Store) -> None:
    data = fill(store)
    n = len(data)
    root = mth(data)
    proof = store.log_tree(lambda t: t.inclusion(37, n))
    assert not merkle.verify_inclusion(38, n, merkle.leaf_hash(data[37]), proof, root)  # wrong place
    assert not merkle.verify_inclusion(37, n, merkle.leaf_hash(data[36]), proof, root)  # other entry
    other = data[:50] + [b"50\nforged\n" + NOW.encode()] + data[51:]
    consistency = store.log_tree(lambda t: t.consistency(60, n))
    assert not merkle.verify_consistency(60, n, mth(other[:60]), root, consistency)  # rewritten prefix
    assert not merkle.verify_consistency(60, n, mth(data[:60]), mth(data[:n - 1]), consistency)  # truncated


def test_questions_outside_the_log_are_refused(store: Store) -> None:
    fill(store)
    with pytest.raises(ValueError):
        store.log_tree(lambda t: t.root(141))
    with pytest.raises(ValueError):
        store.log_tree(lambda t: t.inclusion(10, 10))
    with pytest.raises(ValueError):
        store.log_tree(lambda t: t.consistency(20, 10))


def test_a_pipelined_import_keeps_the_tree_as_ingest_does(store: Store) -> None:
    bodies = [s.event(f"imp{i}#1", "COMPLETE", s.ts(2, i % 60), outputs=[s.dataset(f"i{i}", "v1")]) for i in range(90)]
    events = [parse_event(b) for b in bodies]
    for _ in store.ingest_chunks((events[at : at + 20], NOW) for at in range(0, len(events), 20)):
        pass
    entries = store.entries_at(list(range(1, 91)))
    data = [f"{e.seq}\n{e.id}\n{e.received_at}".encode() for e in entries]
    assert store.log_tree(lambda t: (t.size, t.root(90), t.inclusion(77, 90))) == (90, mth(data), path(77, data))
