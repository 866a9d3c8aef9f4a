"""Marquez's constants, error shape and time formats, and what several answers share."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

import orjson

from lineage.graph import Node
from lineage.store.base import Store


# Marquez's defaults and bounds for paged listings and lineage.
DEFAULT_LIMIT = 100
DEFAULT_LINEAGE_DEPTH = 20
MAX_LINEAGE_DEPTH = 100
# A namespace every Marquez has: jobs and datasets that name none belong to it.
DEFAULT_NAMESPACE = "default"
DEFAULT_NAMESPACE_DESCRIPTION = (
    "The default global namespace for dataset, job, and run metadata not belonging to a user-specified namespace."
)
# Tags a Marquez server knows from its configuration before anyone creates one.
SEED_TAGS = {"PII": "Personally identifiable information", "SENSITIVE": "Contains sensitive information"}
# How tag writes are kept: annotations whose reason says what they do (lineage/service.py
# annotation_body), so they are evidence in the log like every other annotation.
TAG_ADD, TAG_REMOVE, TAG_FIELD = "marquez:tag", "marquez:untag", "marquez:tag-field:"
TAG_TARGET_PREFIX = "marquez-tag:"  # annotation target of a tag definition (no node of ours)
# Our run states, as Marquez names them.
RUN_STATES = {"START": "RUNNING", "RUNNING": "RUNNING", "COMPLETE": "COMPLETED", "FAIL": "FAILED", "ABORT": "ABORTED", "OTHER": "NEW"}
# Namespace for the name-based UUIDs we give job and dataset versions that name none.
_VERSION_NS = uuid.UUID("6f1c5a52-3c1e-4e0e-9d6e-2b8f3c0d9a11")


class MarquezError(Exception):
    """An answer in Marquez's error shape: `{"code": status, "message": ...}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"code": self.status, "message": self.message}


def not_found(what: str, name: str) -> MarquezError:
    return MarquezError(404, f"{what} '{name}' not found.")


def instant(value: str | None) -> str | None:
    """Our fixed-width UTC time as Java's Instant.toString() writes it (0, 3 or 6 fraction digits)."""
    if not value:
        return None
    moment = _parse_time(value)
    if moment is None:
        return value
    micros = moment.microsecond
    base = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if micros == 0:
        return base + "Z"
    if micros % 1000 == 0:
        return f"{base}.{micros // 1000:03d}Z"
    return f"{base}.{micros:06d}Z"


def _parse_time(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _java_zoned(value: str) -> str | None:
    """ZonedDateTime.toString() in UTC: seconds and fraction only when not zero."""
    moment = _parse_time(value)
    if moment is None:
        return None
    text = moment.strftime("%Y-%m-%dT%H:%M")
    if moment.second or moment.microsecond:
        text += moment.strftime(":%S")
        if moment.microsecond:
            text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "Z[UTC]"


def parse_bound(value: str | None, name: str) -> str | None:
    """A time bound of a query, as our stored time strings (which sort in time order)."""
    if value is None:
        return None
    moment = _parse_time(value)
    if moment is None:
        raise MarquezError(400, f"{name} must be an ISO-8601 date-time, not {value!r}")
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _versioned_uuid(*parts: str) -> str:
    return str(uuid.uuid5(_VERSION_NS, "\x00".join(parts)))


def node_id(kind: str, namespace: str, name: str) -> str:
    return f"{kind}:{namespace}:{name}"


def _first_seen(store: Store, ids: Sequence[str]) -> str | None:
    """The earliest eventTime among the first log entries about these nodes."""
    found = store.events_about(list(ids), 1)
    times = [entries[0].event_time for entries in found.values() if entries]
    return min(times) if times else None


def _seen(store: Store, node_id: str) -> tuple[str | None, str | None]:
    """The first and the last eventTime of the log entries about a node (Marquez's createdAt
    and updatedAt of a dataset or job)."""
    entries = store.events_about([node_id], 10_000).get(node_id) or []
    # Annotations (tags) are ours: Marquez's times come from OpenLineage events alone.
    times = [e.event_time for e in entries if e.kind != "annotation"]
    return (min(times), max(times)) if times else (None, None)


def _tag_state(node: Node) -> tuple[list[str], dict[str, list[str]]]:
    """A node's Marquez tags and field tags, folded from its annotations in time order."""
    tags: dict[str, None] = {}
    fields: dict[str, dict[str, None]] = {}
    for a in node.props.get("annotations") or []:
        reason, tag = a.get("reason") or "", a.get("tag") or ""
        if reason == TAG_ADD:
            tags[tag] = None
        elif reason == TAG_REMOVE:
            tags.pop(tag, None)
        elif reason.startswith(TAG_FIELD):
            fields.setdefault(reason[len(TAG_FIELD) :], {})[tag] = None
    return sorted(tags), {f: sorted(t) for f, t in fields.items()}


def _first_sight_facets(store: Store, dataset: Node) -> dict[str, Any]:
    """The dataset's facets in the first event that named it: the version Marquez creates for
    a dataset it has only seen read keeps them."""
    entries = [e for e in store.events_about([dataset.id], 16).get(dataset.id) or [] if e.kind != "annotation"]
    if not entries:
        return {}
    payload = orjson.loads(min(entries, key=lambda e: (e.event_time, e.seq)).payload)
    ns, name = dataset.props.get("namespace"), dataset.props.get("name")
    for entry in (payload.get("inputs") or []) + (payload.get("outputs") or []) + [payload.get("dataset") or {}]:
        if isinstance(entry, dict) and entry.get("namespace") == ns and entry.get("name") == name:
            return dict(entry.get("facets") or {}) | dict(entry.get("inputFacets") or {})
    return {}


def _lifecycle(facets: dict[str, Any]) -> str:
    change = facets.get("lifecycleStateChange")
    return str(change.get("lifecycleStateChange") or "") if isinstance(change, dict) else ""


def _fields(facets: dict[str, Any], field_tags: dict[str, list[str]]) -> list[dict[str, Any]]:
    schema = facets.get("schema") or {}
    return [
        {"name": f.get("name"), "type": f.get("type"), "tags": field_tags.get(f.get("name"), []), "description": f.get("description")}
        for f in schema.get("fields") or []
        if isinstance(f, dict)
    ]


def _named(pairs: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"namespace": ns, "name": name} for ns, name in sorted(set(pairs))]
