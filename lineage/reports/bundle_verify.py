"""Verify an audit evidence bundle offline: python3 verify.py [bundle.zip | directory].

Shipped inside every bundle as verify.py, so it needs Python's standard library alone: no
network, no lineage package. It checks, and says which check failed:
  1. each raw event's SHA-256 (its id) from its line in events.jsonl, exactly as stored;
  2. each entry's chain hash from its fields and the hash before it (HASH_RULE.md);
  3. each entry's Merkle inclusion proof (RFC 9162) against the checkpoint's root;
  4. the checkpoint's Ed25519 signature with public-key.pem (RFC 8032, in pure Python below;
     `openssl pkeyutl -verify` gives a second opinion, see HASH_RULE.md);
  5. that every event the report cites is in the bundle.
Exit status 0 when all hold, 1 otherwise.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
import zipfile
from pathlib import Path

# --- Ed25519 verification (RFC 8032 section 5.1.7), affine coordinates: slow, short, enough ---
_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _inv(x: int) -> int:
    return pow(x, _P - 2, _P)


def _add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    (x1, y1), (x2, y2) = a, b
    t = _D * x1 * x2 * y1 * y2 % _P
    return ((x1 * y2 + y1 * x2) * _inv(1 + t) % _P, (y1 * y2 + x1 * x2) * _inv(1 - t) % _P)


def _mul(k: int, point: tuple[int, int]) -> tuple[int, int]:
    result = (0, 1)  # the neutral element
    while k:
        if k & 1:
            result = _add(result, point)
        point = _add(point, point)
        k >>= 1
    return result


def _x_of(y: int, sign: int) -> int | None:
    x2 = (y * y - 1) * _inv(_D * y * y + 1) % _P
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P:
        return None
    if x == 0 and sign:
        return None
    return _P - x if x & 1 != sign else x


def _decode(data: bytes) -> tuple[int, int] | None:
    if len(data) != 32:
        return None
    y = int.from_bytes(data, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    if y >= _P:
        return None
    x = _x_of(y, sign)
    return None if x is None else (x, y)


def _encode(point: tuple[int, int]) -> bytes:
    x, y = point
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


_BASE = (_x_of(4 * _inv(5) % _P, 0) or 0, 4 * _inv(5) % _P)


def ed25519_verify(public: bytes, signature: bytes, message: bytes) -> bool:
    if len(signature) != 64:
        return False
    a, r = _decode(public), _decode(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= _L:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % _L
    return _encode(_mul(s, _BASE)) == _encode(_add(r, _mul(k, a)))


_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")  # DER of an Ed25519 SubjectPublicKeyInfo


def raw_public_key(pem: str) -> bytes:
    body = "".join(line for line in pem.strip().splitlines() if not line.startswith("-----"))
    der = base64.b64decode(body)
    if not der.startswith(_SPKI_PREFIX) or len(der) != len(_SPKI_PREFIX) + 32:
        raise ValueError("public-key.pem holds no Ed25519 public key")
    return der[len(_SPKI_PREFIX):]


# --- the log's hash rules (HASH_RULE.md) ---------------------------------------------------
def chain_hash(prev_hash: str, seq: int, event_id: str, received_at: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{seq}\n{event_id}\n{received_at}".encode("ascii")).hexdigest()


def leaf(seq: int, event_id: str, received_at: str) -> bytes:
    return hashlib.sha256(b"\x00" + f"{seq}\n{event_id}\n{received_at}".encode("ascii")).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_path(index: int, size: int, leaf_hash: bytes, path: list[bytes]) -> bytes | None:
    """RFC 9162 section 2.1.3.2: the root that `path` leads to from leaf `index`, or None."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = _node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def checkpoint_body(cp: dict) -> bytes:
    return f"{cp['origin']}\n{cp['size']}\n{cp['root']}\n{cp['time']}\n".encode("ascii")


# --- the bundle ----------------------------------------------------------------------------
def _reader(where: Path):  # -> Callable[[str], bytes]
    if where.is_dir():
        return lambda name: (where / name).read_bytes()
    archive = zipfile.ZipFile(io.BytesIO(where.read_bytes()))
    return archive.read


def verify(where: Path) -> list[str]:
    """The problems found in the bundle at `where` (a zip or an unpacked directory); [] if none."""
    read = _reader(where)
    problems: list[str] = []
    cp = json.loads(read("checkpoint.json"))
    try:
        public = raw_public_key(read("public-key.pem").decode("ascii"))
        signed = ed25519_verify(public, base64.b64decode(cp["signature"]), checkpoint_body(cp))
    except (ValueError, KeyError) as exc:
        problems.append(f"checkpoint: {exc}")
        signed = False
    if not signed:
        problems.append("checkpoint: the signature does not verify with public-key.pem")
    root = bytes.fromhex(cp["root"])
    size = int(cp["size"])
    lines = read("events.jsonl").split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    entries = [json.loads(line) for line in read("entries.jsonl").splitlines() if line.strip()]
    proofs = {int(p["seq"]): p for p in json.loads(read("proofs.json"))["inclusion"]}
    if len(lines) != len(entries):
        problems.append(f"events.jsonl has {len(lines)} lines, entries.jsonl {len(entries)}")
    for raw, entry in zip(lines, entries):
        seq = int(entry["seq"])
        event_id = hashlib.sha256(raw).hexdigest()
        if event_id != entry["id"]:
            problems.append(f"seq {seq}: the event's SHA-256 is {event_id}, the log recorded {entry['id']}")
        if chain_hash(entry["prev_hash"], seq, event_id, entry["received_at"]) != entry["hash"]:
            problems.append(f"seq {seq}: the chain hash does not follow from the entry")
        proof = proofs.get(seq)
        if proof is None or int(proof["size"]) != size:
            problems.append(f"seq {seq}: no inclusion proof at the checkpoint's size {size}")
            continue
        path = [bytes.fromhex(h) for h in proof["path"]]
        if root_from_path(seq - 1, size, leaf(seq, event_id, entry["received_at"]), path) != root:
            problems.append(f"seq {seq}: not included in the checkpoint's tree (the event or its place changed)")
    report = json.loads(read("report.json"))
    cited = {e["seq"] for fact in report.get("evidence", []) for e in fact.get("events", [])}
    missing = sorted(cited - {int(e["seq"]) for e in entries})
    if missing:
        problems.append(f"the report cites entries not in the bundle: {missing}")
    return problems


def main(argv: list[str]) -> int:
    where = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent
    problems = verify(where)
    for p in problems:
        print("FAIL", p)
    if not problems:
        print("OK: every event, chain hash and inclusion proof holds, and the checkpoint's signature verifies")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
