"""Bearer tokens with scopes: created, listed and revoked by operators, stored only as hashes."""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
import threading
import time

from lineage.errors import InvalidEvent
from lineage.store.base import Store, TokenRecord

SCOPES = ("ingest", "read", "admin")  # admin implies the others
PREFIX = "lgt_"
CACHE_SECONDS = 5.0  # a revoked token stops working within this long on every API process


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token(name: str, scopes: list[str], created_at: str) -> tuple[str, TokenRecord]:
    """A fresh secret (shown once) and the record to store (its hash only)."""
    if not name or len(name) > 128:
        raise InvalidEvent("name", "1-128 characters")
    bad = sorted(set(scopes) - set(SCOPES))
    if bad or not scopes:
        raise InvalidEvent("scope", f"choose from {', '.join(SCOPES)}")
    token = PREFIX + secrets.token_urlsafe(32)
    return token, TokenRecord(name, hash_token(token), tuple(sorted(set(scopes))), created_at)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Authenticator:
    """Checks bearer tokens against the store, with a short cache so each request does not
    cost a store round trip. Mode `auto` enforces auth as soon as one active token exists."""

    def __init__(self, store: Store, mode: str) -> None:
        self.store = store
        self.mode = mode
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, TokenRecord | None]] = {}
        self._active: tuple[float, bool] = (0.0, False)

    def enforced_cached(self) -> bool | None:
        """The answer of `enforced` when it needs no store read, else None (so an async caller
        hops to a thread only when the cache is stale)."""
        if self.mode != "auto":
            return self.mode == "on"
        with self._lock:
            if time.monotonic() - self._active[0] < CACHE_SECONDS:
                return self._active[1]
        return None

    def enforced(self) -> bool:
        cached = self.enforced_cached()
        if cached is not None:
            return cached
        now = time.monotonic()
        active = any(t.revoked_at is None for t in self.store.tokens())
        with self._lock:
            self._active = (now, active)
        return active

    def lookup_cached(self, token: str) -> tuple[bool, TokenRecord | None]:
        """(True, record) when the cache answers for `token`, else (False, None)."""
        with self._lock:
            cached = self._cache.get(hash_token(token))
            if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
                return True, cached[1]
        return False, None

    def lookup(self, token: str) -> TokenRecord | None:
        hit, record = self.lookup_cached(token)
        if hit:
            return record
        digest = hash_token(token)
        now = time.monotonic()
        record = self.store.token(digest)
        with self._lock:
            if len(self._cache) > 10_000:  # bounded: random bad tokens must not grow memory
                self._cache.clear()
            self._cache[digest] = (now, record)
        return record
