"""Signed checkpoints of the log (size, Merkle root, time) with an Ed25519 key kept in a file.

The key lives outside the store on purpose (issue 33): whoever can rewrite the database cannot
sign a checkpoint for the rewritten log, so a checkpoint handed out earlier keeps its meaning.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from lineage.merkle import TreeReader
from lineage.store.base import Store

ORIGIN = "lineage event log"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A log state a signer vouched for: the first `size` entries have Merkle root `root`."""

    size: int
    root: str  # hex
    time: str
    signature: str = ""  # base64 of the Ed25519 signature of `body()`

    def body(self) -> bytes:
        """The exact bytes signed: four lines, each ending in a newline."""
        return f"{ORIGIN}\n{self.size}\n{self.root}\n{self.time}\n".encode("ascii")

    def as_dict(self) -> dict[str, Any]:
        return {"origin": ORIGIN, "size": self.size, "root": self.root, "time": self.time, "signature": self.signature}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Checkpoint:
        if d.get("origin", ORIGIN) != ORIGIN:
            raise ValueError(f"not a checkpoint of the {ORIGIN}")
        return cls(int(d["size"]), str(d["root"]), str(d["time"]), str(d.get("signature", "")))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Signer:
    """The service's checkpoint key, read from `path` at first use, or made there if none."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._key: Ed25519PrivateKey | None = None
        self._lock = threading.Lock()

    def key(self) -> Ed25519PrivateKey:
        with self._lock:
            if self._key is None:
                self._key = _load_or_create(self.path)
            return self._key

    def public_pem(self) -> str:
        return public_pem(self.key().public_key())

    def fingerprint(self) -> str:
        return key_fingerprint(self.key().public_key())

    def sign(self, size: int, root: bytes, time: str | None = None) -> Checkpoint:
        unsigned = Checkpoint(size, root.hex(), time or _now())
        signature = base64.b64encode(self.key().sign(unsigned.body())).decode("ascii")
        return Checkpoint(unsigned.size, unsigned.root, unsigned.time, signature)

    def checkpoint(self, store: Store) -> Checkpoint:
        """A signed checkpoint of the whole log as it stands."""
        size, root = store.log_tree(lambda t: (t.size, t.root(t.size)))
        return self.sign(size, root)


def _load_or_create(path: Path) -> Ed25519PrivateKey:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL: two processes starting at once must not each write a key of their own.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return _load_or_create(path)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        return key
    loaded = serialization.load_pem_private_key(data, password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise ValueError(f"{path} holds no Ed25519 private key")
    return loaded


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def key_fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 (hex) of the public key's DER form: a short name to compare with /api/v1/log/key."""
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def verify_signature(public_key_pem: str, checkpoint: Checkpoint) -> bool:
    key = serialization.load_pem_public_key(public_key_pem.encode("ascii"))
    if not isinstance(key, Ed25519PublicKey):
        return False
    try:
        key.verify(base64.b64decode(checkpoint.signature), checkpoint.body())
    except (InvalidSignature, ValueError):
        return False
    return True


def inclusion_proof(tree: TreeReader, seq: int, size: int) -> dict[str, Any]:
    return {"seq": seq, "size": size, "root": tree.root(size).hex(), "path": [h.hex() for h in tree.inclusion(seq - 1, size)]}


def consistency_proof(tree: TreeReader, first: int, second: int) -> dict[str, Any]:
    return {
        "from": first, "to": second, "from_root": tree.root(first).hex(), "to_root": tree.root(second).hex(),
        "proof": [h.hex() for h in tree.consistency(first, second)],
    }
