"""The log checked against signed checkpoints handed out earlier: rewritten, reordered, truncated?

The Merkle root of the first `size` entries is recomputed from the entries themselves (each
event's id from its stored bytes), never read from the store's own tree, which a forger with
database access can rebuild. A root that differs means the log changed after the checkpoint;
entries known from before (a bundle, a copy) name the first changed one, and the other kept
checkpoints bound where the rewrite starts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from lineage.checkpoints import Checkpoint, verify_signature
from lineage.ingest.canonical import event_hash
from lineage.merkle import Frontier, entry_leaf
from lineage.store.base import EventFilter, Store, StoredEvent

PAGE = 5000


def _entries(store: Store) -> Iterator[StoredEvent]:
    after = -(2**62)
    while page := store.events(EventFilter(), after, PAGE):
        yield from page
        after = page[-1].seq


def check_log(
    store: Store,
    checkpoint: Checkpoint,
    public_key_pem: str,
    known: Mapping[int, bytes] | None = None,
    kept: Sequence[Checkpoint] = (),
) -> dict[str, Any]:
    """Does the log still hold what `checkpoint` vouched for? `known` maps seqs to the leaf hashes
    of entries as they were (lineage/merkle.py entry_leaf), `kept` are other checkpoints of the log."""
    out: dict[str, Any] = {"ok": False, "checkpoint": checkpoint.as_dict(), "signature_ok": False}
    if not verify_signature(public_key_pem, checkpoint):
        out["problem"] = "the checkpoint's signature does not verify with this key"
        return out
    out["signature_ok"] = True
    trusted = [c for c in kept if verify_signature(public_key_pem, c)]
    sizes = {checkpoint.size} | {c.size for c in trusted}
    roots: dict[int, bytes] = {}
    known = dict(known or {})
    differing: list[int] = []
    tree = Frontier()
    if 0 in sizes:
        roots[0] = tree.root()
    for position, e in enumerate(_entries(store), start=1):
        leaf = entry_leaf(e.seq, event_hash(e.payload), e.received_at)
        # Compare by place in the log: a forger who renumbers entries moves them, too.
        if position in known and known[position] != leaf:
            differing.append(position)
        tree.append(leaf)
        if tree.size in sizes:
            roots[tree.size] = tree.root()
    out["entries"] = tree.size
    missing = sorted(p for p in known if p > tree.size)
    holding = [c.size for c in trusted if roots.get(c.size) == bytes.fromhex(c.root)]
    out["holds_up_to"] = max([0, *holding])  # the largest kept checkpoint the log still matches
    if tree.size < checkpoint.size and not differing:
        out["problem"] = f"truncated: the log holds {tree.size} entries, the checkpoint vouched for {checkpoint.size}"
    elif tree.size < checkpoint.size:
        out["problem"] = f"rewritten and shortened: the log holds {tree.size} entries, the checkpoint vouched for {checkpoint.size}"
    elif roots.get(checkpoint.size) != bytes.fromhex(checkpoint.root):
        out["problem"] = f"rewritten: the first {checkpoint.size} entries no longer have the checkpoint's root"
    else:
        out["ok"] = True
        return out
    first = min(differing + missing, default=None)
    if first is not None:
        out["first_changed"] = first
    out["rewritten_after"] = out["holds_up_to"]
    return out
