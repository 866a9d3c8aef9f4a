"""The event log's hash chain: each entry's hash covers the event and the previous entry."""

from __future__ import annotations

import hashlib

GENESIS = "0" * 64


def entry_hash(prev_hash: str, seq: int, event_id: str, received_at: str) -> str:
    # The event id is the sha256 of the event's canonical JSON, so this covers its content too.
    text = f"{prev_hash}\n{seq}\n{event_id}\n{received_at}"
    return hashlib.sha256(text.encode("ascii")).hexdigest()
