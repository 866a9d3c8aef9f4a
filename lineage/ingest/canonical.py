"""Canonical JSON and the event hash that is each event's identity."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no insignificant white space, UTF-8: equal JSON values give equal bytes."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def event_hash(canonical: bytes) -> str:
    return hashlib.sha256(canonical).hexdigest()
