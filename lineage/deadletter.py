"""Refused events are kept too (issue 29): what a refusal stores, and replaying it later.

OpenLineage clients treat a 4xx as final and never send the event again, so a refusal that
kept nothing would lose lineage for good. Every body or batch item the ingest refuses goes to a
bounded dead-letter store in the same backend (`Store.put_rejection`), where operators list it
(`GET /api/v1/rejections`, `lineage rejections list`) and replay it once the producer or a rule
was fixed. Answers that touch a job or dataset a kept entry names say so.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from lineage import ids
from lineage.errors import InvalidEvent, LineageError, PayloadTooLarge
from lineage.events import Event
from lineage.ingest.parse import parse_event
from lineage.service import read_events_file
from lineage.settings import Settings
from lineage.store.base import IngestOutcome, Rejection, Store

ERROR_CODES = {InvalidEvent: "invalid_input", PayloadTooLarge: "payload_too_large"}


def _named(value: Any) -> tuple[str, str] | None:
    if isinstance(value, dict) and isinstance(value.get("namespace"), str) and isinstance(value.get("name"), str):
        if value["namespace"] and value["name"]:
            return value["namespace"], value["name"]
    return None


def subjects_named(body: Any) -> tuple[str, ...]:
    """The job and datasets a refused body names, as far as they can be read from it."""
    if not isinstance(body, dict):
        return ()
    out = []
    job = _named(body.get("job"))
    if job:
        out.append(ids.job_id(*job))
    datasets = [body.get("dataset")]
    for key in ("inputs", "outputs"):
        if isinstance(body.get(key), list):
            datasets += body[key]
    out += [ids.dataset_id(*named) for d in datasets if (named := _named(d))]
    return tuple(dict.fromkeys(out))


def rejection_of(raw: bytes, exc: LineageError, received_at: str, value: Any = None, keep: int = 64 * 1024) -> Rejection:
    """The dead-letter entry for a refused body (`value` is its JSON, where it was decoded); of a
    body refused for its size only the first `keep` bytes, with its size and sha256."""
    field = exc.field if isinstance(exc, InvalidEvent) else ""
    detail = exc.problem if isinstance(exc, InvalidEvent) else str(exc)
    code = next((c for cls, c in ERROR_CODES.items() if isinstance(exc, cls)), "invalid_input")
    if isinstance(exc, PayloadTooLarge) and exc.size is not None:
        sample, size, sha256 = exc.sample, exc.size, exc.sha256
    elif isinstance(exc, PayloadTooLarge):  # read whole, then refused (a batch of too many events)
        sample, size, sha256 = raw[:keep], len(raw), hashlib.sha256(raw).hexdigest()
    else:
        sample, size, sha256 = raw, len(raw), hashlib.sha256(raw).hexdigest()
    truncated = len(sample) < size
    if value is None and not truncated:
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            value = None
    producer = value.get("producer") if isinstance(value, dict) and isinstance(value.get("producer"), str) else None
    return Rejection(
        0, received_at, code, field, detail, producer, sample, size, sha256, truncated, subjects_named(value)
    )


class DeadLetters:
    """Keeping refusals within the configured bounds."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.max_entries = settings.rejections_max_entries
        self.max_bytes = settings.rejections_max_bytes

    def keep(self, rejections: Sequence[Rejection]) -> list[Rejection]:
        return [self.store.put_rejection(r, self.max_entries, self.max_bytes) for r in rejections]


@dataclass(frozen=True, slots=True)
class Replayed:
    """What replaying one entry did: its events' outcomes, and why any is still refused."""

    id: int
    outcomes: list[IngestOutcome]
    errors: list[dict[str, str]]

    @property
    def done(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": "replayed" if self.done else "still_refused",
            "created": sum(o.created for o in self.outcomes),
            "duplicate": sum(not o.created for o in self.outcomes),
            "errors": self.errors,
        }


def replay(store: Store, entry: Rejection, ingest: Callable[[list[Event]], list[IngestOutcome]]) -> Replayed:
    """Submit an entry's body again, through today's rules; an entry whose every event is now
    accepted leaves the store, any other stays as it was."""
    if entry.truncated:
        problem = f"only the first {len(entry.body)} of {entry.size} bytes were kept: send the event again"
        return Replayed(entry.id, [], [{"field": "", "detail": problem}])
    events, errors = [], []
    try:
        items = read_events_file(entry.body, "body")
    except (InvalidEvent, orjson.JSONDecodeError) as exc:
        items = [exc if isinstance(exc, InvalidEvent) else InvalidEvent("", f"malformed JSON: {exc}")]
    for item in items:
        try:
            if isinstance(item, InvalidEvent):
                raise item
            events.append(parse_event(item))
        except InvalidEvent as exc:
            errors.append({"field": exc.field, "detail": exc.problem})
    outcomes = ingest(events) if events and not errors else []
    if not errors:
        store.delete_rejection(entry.id)
    return Replayed(entry.id, outcomes, errors)


def summary(entry: Rejection, with_body: bool = False) -> dict[str, Any]:
    """An entry as the API and the CLI show it; the body as text when it is UTF-8."""
    out: dict[str, Any] = {
        "id": entry.id, "received_at": entry.received_at, "error": entry.error, "field": entry.field,
        "detail": entry.detail, "producer": entry.producer, "size": entry.size, "sha256": entry.sha256,
        "truncated": entry.truncated, "subjects": list(entry.subjects),
    }
    if with_body:
        try:
            out["body"], out["body_encoding"] = entry.body.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            out["body"], out["body_encoding"] = base64.b64encode(entry.body).decode(), "base64"
    return out
