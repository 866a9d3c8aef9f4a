"""The evidence bundle (format=bundle): a zip an auditor verifies without the service (issue 33).

It holds the report in every format, the raw events it cites exactly as stored (one canonical
JSON per line), their log entries, the hash rules written out, a checkpoint signed at the log
size the report was made at, an inclusion proof for each event, the public key, and verify.py.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from lineage.checkpoints import ORIGIN, Signer
from lineage.merkle import TreeReader
from lineage.store.base import Store, StoredEvent

VERIFY_SCRIPT = Path(__file__).with_name("bundle_verify.py")

HASH_RULE = f"""# How every hash in this bundle is made

All hashes are SHA-256; hex is lowercase.

1. **Event id.** Each line of `events.jsonl` is one event exactly as the log stores it: canonical
   JSON (keys sorted, no insignificant white space, UTF-8). Its id is SHA-256 of the line's bytes
   (without the newline that ends the line).
2. **Hash chain.** Entry `seq` of the log (1, 2, 3, ...) has
   `hash = SHA-256(ascii(prev_hash + "\\n" + seq + "\\n" + id + "\\n" + received_at))`, where
   `prev_hash` is the hash of entry seq-1 (64 zeros before the first). `entries.jsonl` lists
   these fields for every event here, in the order of `events.jsonl`.
3. **Merkle tree (RFC 9162 section 2.1).** Leaf seq-1 of the log's tree is entry `seq`, with
   `leaf = SHA-256(0x00 || ascii(seq + "\\n" + id + "\\n" + received_at))`, and each inner node
   is `SHA-256(0x01 || left || right)`, the tree split at the largest power of two below its size.
   `proofs.json` holds each event's inclusion proof (RFC 9162 section 2.1.3) in the tree of the
   checkpoint's size.
4. **Checkpoint.** `checkpoint.json` vouches that the first `size` log entries have Merkle root
   `root`. Its `signature` is Ed25519 (base64) over these bytes, each line ending in a newline:
   `{ORIGIN}`, the size, the root (hex), the time.
   With OpenSSL 3 as a second opinion: write those four lines to `body`, base64-decode the
   signature into `sig`, then `openssl pkeyutl -verify -pubin -inkey public-key.pem -rawin -in body -sigfile sig`.

`python3 verify.py` (in this directory, or `python3 verify.py bundle.zip`) checks all four and
that every event the report cites is here; it needs nothing but Python's standard library.
"""


def _entries_cited(store: Store, report: dict[str, Any]) -> list[StoredEvent]:
    seqs = sorted({int(e["seq"]) for fact in report.get("evidence", []) for e in fact.get("events", [])})
    return store.entries_at(seqs)


def render_bundle(store: Store, signer: Signer, report: dict[str, Any]) -> bytes:
    """The bundle of `report`, with the report rendered in every other format."""
    from lineage.reports.render import RENDERERS

    documents = {f"report.{r.extension}": r.render(report) for r in RENDERERS.values() if r.name != "bundle"}
    return build_bundle(store, signer, report, documents)


def build_bundle(store: Store, signer: Signer, report: dict[str, Any], documents: dict[str, bytes]) -> bytes:
    """The zip; `documents` maps file names (report.json, report.md, ...) to the rendered report."""
    entries = _entries_cited(store, report)
    size = int(report["log"]["entries"])

    def prove(tree: TreeReader) -> tuple[int, bytes, list[dict[str, Any]]]:
        # Proofs at the size the report was made at, even when the log has grown since.
        at = min(size, tree.size)
        return at, tree.root(at), [
            {"seq": e.seq, "size": at, "path": [h.hex() for h in tree.inclusion(e.seq - 1, at)]} for e in entries if e.seq <= at
        ]

    at, root, proofs = store.log_tree(prove)
    checkpoint = signer.sign(at, root)
    events = b"".join(e.payload + b"\n" for e in entries)
    lines = b"".join(
        orjson.dumps({"seq": e.seq, "id": e.id, "received_at": e.received_at, "prev_hash": e.prev_hash, "hash": e.hash}) + b"\n"
        for e in entries
    )
    out = io.BytesIO()
    stamp = datetime.now(UTC).timetuple()[:6]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        def put(name: str, data: bytes | str) -> None:
            z.writestr(zipfile.ZipInfo(name, date_time=stamp), data, zipfile.ZIP_DEFLATED)

        for name, data in documents.items():
            put(name, data)
        put("events.jsonl", events)
        put("entries.jsonl", lines)
        put("HASH_RULE.md", HASH_RULE)
        put("checkpoint.json", orjson.dumps(checkpoint.as_dict(), option=orjson.OPT_INDENT_2))
        put("proofs.json", orjson.dumps({"inclusion": proofs}, option=orjson.OPT_INDENT_2))
        put("public-key.pem", signer.public_pem())
        put("verify.py", VERIFY_SCRIPT.read_bytes())
    return out.getvalue()
