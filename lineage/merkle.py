"""The event log's Merkle tree in RFC 9162's form: the frontier kept at ingest, proofs, checks.

Leaf i (0-based) is log entry seq i+1; its data is `leaf_data` (seq, event id, received time),
and the event id is the sha256 of the event's canonical JSON, so a leaf covers the content too.
RFC 9162 section 2.1.1: leaf hash = SHA-256(0x00 || data), node = SHA-256(0x01 || left || right).

A store keeps the frontier (the roots of the perfect subtrees that make up the current size:
at most one per bit of the size) and the hash of every perfect subtree of 2**STORED_FROM leaves
or more, so any proof reads O(log n) stored hashes plus at most a few blocks of 16 entries.
This module is standard library only: the verification functions are also shipped to auditors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

# Perfect subtrees below 16 leaves are recomputed from the log rather than stored: storing
# them would write about two rows per entry instead of one per eight.
STORED_FROM = 4
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeKey = tuple[int, int]  # (level, index): leaves [index * 2**level, (index + 1) * 2**level)


class TreeBehind(Exception):
    """The store's tree does not cover its log (a store written before the tree was kept)."""


def leaf_data(seq: int, event_id: str, received_at: str) -> bytes:
    return f"{seq}\n{event_id}\n{received_at}".encode("ascii")


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def entry_leaf(seq: int, event_id: str, received_at: str) -> bytes:
    return leaf_hash(leaf_data(seq, event_id, received_at))


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1): where RFC 9162 splits a tree of n leaves."""
    return 1 << ((n - 1).bit_length() - 1)


@dataclass
class Frontier:
    """The perfect subtrees a tree of `size` leaves is made of, largest (leftmost) first."""

    size: int = 0
    hashes: list[bytes] = field(default_factory=list)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf; returns the perfect subtrees it completed, as (level, index, hash),
        of level STORED_FROM or more (those a store keeps)."""
        made: list[tuple[int, int, bytes]] = []
        index, level, current = self.size, 0, leaf
        # Each trailing 1 bit of the old size is a subtree that the new leaf's completes.
        while index & 1:
            current = node_hash(self.hashes.pop(), current)
            index >>= 1
            level += 1
            if level >= STORED_FROM:
                made.append((level, index, current))
        self.hashes.append(current)
        self.size += 1
        return made

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        result = self.hashes[-1]
        for h in reversed(self.hashes[:-1]):
            result = node_hash(h, result)
        return result

    def encode(self) -> bytes:
        return b"".join(self.hashes)

    @classmethod
    def decode(cls, size: int, blob: bytes) -> Frontier:
        hashes = [blob[i : i + 32] for i in range(0, len(blob), 32)]
        if len(hashes) != bin(size).count("1"):
            raise ValueError(f"a frontier of {len(hashes)} hashes cannot hold a tree of {size} leaves")
        return cls(size, hashes)


def _pieces(a: int, b: int) -> list[NodeKey]:
    """[a, b) as perfect aligned subtrees, largest first (a is aligned as RFC 9162's splits leave it)."""
    out: list[NodeKey] = []
    while a < b:
        level = (b - a).bit_length() - 1
        while a % (1 << level):
            level -= 1
        out.append((level, a >> level))
        a += 1 << level
    return out


def _inclusion_ranges(m: int, a: int, b: int) -> list[tuple[int, int]]:
    """RFC 9162 2.1.3.1 PATH(m, D[a:b]) as the ranges whose hashes it lists, m absolute."""
    if b - a <= 1:
        return []
    k = _split(b - a)
    if m < a + k:
        return _inclusion_ranges(m, a, a + k) + [(a + k, b)]
    return _inclusion_ranges(m, a + k, b) + [(a, a + k)]


def _consistency_ranges(m: int, a: int, b: int, whole: bool) -> list[tuple[int, int]]:
    """RFC 9162 2.1.4.1 SUBPROOF(m, D[a:b], b) as ranges; m counts leaves from a."""
    n = b - a
    if m == n:
        return [] if whole else [(a, b)]
    k = _split(n)
    if m <= k:
        return _consistency_ranges(m, a, a + k, whole) + [(a + k, b)]
    return _consistency_ranges(m - k, a + k, b, False) + [(a, a + k)]


class TreeReader:
    """Hashes of ranges of the log's tree, read from a store in two round trips per question."""

    def __init__(
        self,
        size: int,
        nodes: Callable[[Sequence[NodeKey]], dict[NodeKey, bytes]],
        leaves: Callable[[Sequence[int]], dict[int, bytes]],
    ) -> None:
        self.size = size
        self._nodes = nodes
        self._leaves = leaves

    def _hashes(self, ranges: Iterable[tuple[int, int]]) -> list[bytes]:
        ranges = list(ranges)
        wanted = {p for a, b in ranges for p in _pieces(a, b)}
        stored = [p for p in wanted if p[0] >= STORED_FROM]
        small = [p for p in wanted if p[0] < STORED_FROM]
        got = self._nodes(stored) if stored else {}
        indices = sorted({i for level, idx in small for i in range(idx << level, (idx + 1) << level)})
        leaves = self._leaves(indices) if indices else {}
        missing = [p for p in stored if p not in got] + [i for i in indices if i not in leaves]
        if missing:
            raise TreeBehind(f"the log's tree lacks {len(missing)} hash(es) below size {self.size}")
        for level, idx in small:
            row = [leaves[i] for i in range(idx << level, (idx + 1) << level)]
            while len(row) > 1:
                row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row), 2)]
            got[(level, idx)] = row[0]
        out = []
        for a, b in ranges:
            parts = [got[p] for p in _pieces(a, b)]
            result = parts[-1]
            for h in reversed(parts[:-1]):
                result = node_hash(h, result)
            out.append(result)
        return out

    def _check(self, *sizes: int) -> None:
        for n in sizes:
            if n < 0 or n > self.size:
                raise ValueError(f"size {n} is outside the log (0..{self.size})")

    def root(self, n: int) -> bytes:
        """MTH(D[0:n])."""
        self._check(n)
        return EMPTY_ROOT if n == 0 else self._hashes([(0, n)])[0]

    def inclusion(self, index: int, n: int) -> list[bytes]:
        """The audit path of leaf `index` (0-based) in the tree of the first n leaves."""
        self._check(n)
        if not 0 <= index < n:
            raise ValueError(f"leaf {index} is not in a tree of {n} leaves")
        return self._hashes(_inclusion_ranges(index, 0, n))

    def consistency(self, m: int, n: int) -> list[bytes]:
        """The proof that the tree of m leaves is a prefix of the tree of n leaves."""
        self._check(m, n)
        if m > n:
            raise ValueError(f"size {m} is larger than size {n}")
        if m == 0 or m == n:
            return []
        return self._hashes(_consistency_ranges(m, 0, n, True))


def verify_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 2.1.3.2: does `path` tie `leaf` at `index` to `root` of a tree of `size` leaves?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(m: int, n: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 2.1.4.2: is the tree of m leaves with `old_root` a prefix of the one of n with `new_root`?"""
    if m > n or m < 0:
        return False
    if m == n:
        return not proof and old_root == new_root
    if m == 0:
        return not proof and old_root == EMPTY_ROOT
    path = list(proof)
    if m & (m - 1) == 0:  # the old tree is a perfect subtree of the new: its root is the start
        path.insert(0, old_root)
    if not path:
        return False
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0
