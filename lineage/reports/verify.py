"""Checking the event log's hash chain: find and name the first entry that was tampered with."""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from lineage.chain import GENESIS, entry_hash
from lineage.store.base import EventFilter, Store, StoredEvent, snapshotted

# Each entry stores `id` (sha256 of its canonical payload), `prev_hash` and `hash` =
# `entry_hash(prev_hash, seq, id, received_at)` (lineage/chain.py). Walking the log in seq order,
# an untouched entry hashes to its id, hashes to its own `hash`, links to the previous entry's
# `hash` and has the next seq. When one of these fails, the stored hashes tell what happened
# (issue 5): the seq an entry was written at can be recovered from its own hash, and the entry an
# out-of-place link points to can be found among the recent ones.
#
# Limits, as for any hash chain kept beside the data: a forger who rewrites every entry from the
# tampered one to the end leaves a consistent chain, and so does one who cuts off the tail. An
# `Anchor` (the head and entry count a report was made from, kept elsewhere) catches both: the
# log must still hold that entry with that hash. Well-formed entries appended at the end look
# like any new event; only an anchor taken later covers them.

Problem = Literal["modified", "deleted", "inserted", "reordered"]
PAGE = 1000
WINDOW = 1000  # how far back an out-of-place link or renumbered seq is looked for
_FIRST = -(2**62)  # entries renumbered to 0 or below are in the log too, and must be seen


@dataclass(frozen=True, slots=True)
class Anchor:
    """A chain head recorded elsewhere (in a report): entry `entries` must still have `head`."""

    entries: int
    head: str


# An entry hash as reports print it: sha256 in lowercase hex.
HEAD_PATTERN = re.compile(r"^[0-9a-f]{64}$")


def well_formed_head(head: str) -> bool:
    """Whether `head` can be an entry hash at all: a malformed one is the caller's mistake, not
    a sign of tampering (issue 31)."""
    return bool(HEAD_PATTERN.match(head))


def _entries(store: Store) -> Iterator[StoredEvent]:
    after = _FIRST
    while True:
        page = store.events(EventFilter(), after, PAGE)
        yield from page
        if len(page) < PAGE:
            return
        after = page[-1].seq


def _bad(seq: int, event_id: str | None, problem: Problem, detail: str) -> dict[str, Any]:
    return {"seq": seq, "id": event_id, "problem": problem, "detail": detail}


class _Window:
    """The hashes of the last WINDOW good entries, by position, to find where a link points."""

    def __init__(self) -> None:
        # The chain's start counts as entry 0, so a forgery slipped in first is found too.
        self.by_hash: OrderedDict[str, int] = OrderedDict({GENESIS: 0})

    def add(self, entry_hash_: str, seq: int) -> None:
        self.by_hash[entry_hash_] = seq
        if len(self.by_hash) > WINDOW:
            self.by_hash.popitem(last=False)

    def seq_of(self, entry_hash_: str) -> int | None:
        return self.by_hash.get(entry_hash_)


def written_seq(e: StoredEvent) -> int | None:
    """The seq this entry's hash was computed with, if it is within WINDOW of where it sits."""
    for offset in range(WINDOW + 1):
        for seq in {e.seq + offset, e.seq - offset}:
            if entry_hash(e.prev_hash, seq, e.id, e.received_at) == e.hash:
                return seq
    return None


def _diagnose(
    e: StoredEvent, prev: StoredEvent | None, nxt: StoredEvent | None, window: _Window, expected: int
) -> dict[str, Any] | None:
    """None if `e` is a sound successor of `prev`; else what is wrong, at which entry."""
    if hashlib.sha256(e.payload).hexdigest() != e.id:
        return _bad(e.seq, e.id, "modified", f"the payload of entry {e.seq} no longer hashes to its event id")
    if e.seq < expected:
        return _bad(e.seq, e.id, "inserted", f"entry {e.seq} lies outside the log's numbering (expected {expected})")
    if e.seq > expected:
        missing = f"{expected}" if e.seq == expected + 1 else f"{expected}-{e.seq - 1}"
        return _bad(expected, None, "deleted", f"entry {missing} is missing: entry {prev.seq if prev else 0} is followed by {e.seq}")
    prev_hash = prev.hash if prev else GENESIS
    was = written_seq(e)
    if was == e.seq and e.prev_hash == prev_hash:
        return None
    linked = window.seq_of(e.prev_hash)
    if linked is not None and prev is not None and linked < prev.seq and was in (e.seq, linked + 1):
        # It links further back, over entries slipped in before it (it kept its place, or was
        # renumbered to make room for them): those are the forgeries.
        return _bad(linked + 1, None, "inserted", f"entry {e.seq} links to entry {linked}: entries {linked + 1}-{prev.seq} were inserted")
    if was is None or was == e.seq:
        if nxt is not None and nxt.prev_hash == prev_hash:
            return _bad(e.seq, e.id, "inserted", f"entry {e.seq} does not belong to the chain: entry {nxt.seq} links past it")
        if was is None:
            return _bad(e.seq, e.id, "modified", f"the id, received time or hashes of entry {e.seq} were changed")
        if prev is None:
            return _bad(e.seq, e.id, "modified", f"entry {e.seq} does not link to the start of the chain")
        # Sound in itself and at its place, but linked to another predecessor: the entry before
        # it was rewritten (with a recomputed id and hash).
        return _bad(prev.seq, prev.id, "modified", f"entry {prev.seq} was rewritten: entry {e.seq} links to another hash")
    # A genuine entry at the wrong place. Moved up with its successor moved as far: the entries
    # before it were deleted and the rest renumbered. Otherwise it changed places with another.
    if was > e.seq and (nxt is None or written_seq(nxt) == was + 1):
        gone = f"entry {e.seq} was" if was == e.seq + 1 else f"entries {e.seq}-{was - 1} were"
        return _bad(e.seq, None, "deleted", f"{gone} deleted and the entries after renumbered")
    return _bad(e.seq, e.id, "reordered", f"entry {e.seq} was written as entry {was}")


@snapshotted
def verify(store: Store, anchor: Anchor | None = None) -> dict[str, Any]:
    """Walk the whole log; `ok`, the entry count, the head hash and the first bad entry."""
    window = _Window()
    first_bad: dict[str, Any] | None = None
    prev: StoredEvent | None = None
    count, expected = 0, 1
    anchored: StoredEvent | None = None
    stream = _entries(store)
    current = next(stream, None)
    while current is not None:
        nxt = next(stream, None)
        count += 1
        if anchor is not None and current.seq == anchor.entries:
            anchored = current
        if first_bad is None:
            first_bad = _diagnose(current, prev, nxt, window, expected)
            window.add(current.hash, current.seq)
        prev, current = current, nxt
        expected = prev.seq + 1
    out: dict[str, Any] = {
        "ok": first_bad is None,
        "entries": count,
        "head": prev.hash if prev else GENESIS,
        "first_bad": first_bad,
    }
    if anchor is not None:
        out["anchor"] = _check_anchor(anchor, anchored, count)
        if not out["anchor"]["ok"] and out["ok"]:
            out["ok"] = False
            out["first_bad"] = out["anchor"]["first_bad"]
    return out


def _sound_links(store: Store, seqs: Iterable[int], head: StoredEvent | None, known: Iterable[StoredEvent] = ()) -> bool:
    """Whether each entry at `seqs` and the head is sound where it stands: its payload hashes
    to its id, it hashes to its own hash at its seq, it links to the entry before it, and the
    entry after it links to it. Cost follows the number of entries; entries the caller read
    in the same snapshot (`known`) are not read again."""
    if head is None:
        return store.event_count() == 0
    if head.seq != store.event_count():
        return False  # entries were deleted or slipped in: the numbering has gaps or extras
    checked = {s for s in seqs if 1 <= s <= head.seq} | {head.seq}
    found = {e.seq: e for e in (*known, head)}
    wanted = {n for s in checked for n in (s - 1, s, s + 1) if n >= 1} - set(found)
    found.update((e.seq, e) for e in store.entries_at(sorted(wanted)))
    for seq in checked:
        e, before, after = found.get(seq), found.get(seq - 1), found.get(seq + 1)
        if e is None or hashlib.sha256(e.payload).hexdigest() != e.id:
            return False
        if entry_hash(e.prev_hash, seq, e.id, e.received_at) != e.hash:
            return False
        if e.prev_hash != (before.hash if before else GENESIS) or (seq > 1 and before is None):
            return False
        if seq < head.seq and (after is None or after.prev_hash != e.hash):
            return False
    return True


@snapshotted
def verify_entries(
    store: Store, seqs: Iterable[int], head: StoredEvent | None, known: Iterable[StoredEvent] = ()
) -> tuple[dict[str, Any], bool]:
    """`verify`'s answer from checking only the entries at `seqs` and `head` (the log's
    `last_entry()`, as the caller read it) where they stand (see `_sound_links`) when they are
    sound, else from walking the whole log, which names the first bad entry; and whether the
    whole log was walked. `known`: entries of these the caller read in the same snapshot.

    For the entries checked this catches what the walk catches: an entry changed in any way
    breaks its own hashes or its successor's link, unless every later entry was rewritten
    too, which no walk of the chain alone can see (an Anchor can)."""
    if not _sound_links(store, set(seqs), head, known):
        return verify(store), True
    answer = {"ok": True, "entries": head.seq if head else 0, "head": head.hash if head else GENESIS, "first_bad": None}
    return answer, False


def _check_anchor(anchor: Anchor, found: StoredEvent | None, count: int) -> dict[str, Any]:
    """Does the log still hold the head a report was made from?"""
    out: dict[str, Any] = {"entries": anchor.entries, "head": anchor.head, "ok": True, "first_bad": None}
    if anchor.entries == 0:
        out["ok"] = anchor.head == GENESIS
    elif found is None:
        out["ok"] = False
        problem = f"the log has {count} entries; entry {anchor.entries}, the head recorded elsewhere, is gone"
        out["first_bad"] = _bad(anchor.entries, None, "deleted", problem)
    elif found.hash != anchor.head:
        out["ok"] = False
        problem = f"entry {anchor.entries} does not have the recorded head hash: the chain up to it was rewritten"
        out["first_bad"] = _bad(anchor.entries, found.id, "modified", problem)
    return out
