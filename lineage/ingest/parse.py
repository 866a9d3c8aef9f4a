"""JSON -> typed events: validation, leniency where the meaning is unambiguous (DESIGN.md 4)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone
from typing import Any

import orjson

from lineage.errors import InvalidEvent
from lineage.events import RUN_STATES, VERSION_FIELDS, DatasetRef, Event, EventKind, Facets
from lineage.facets import check_facet
from lineage.ids import format_time
from lineage.ingest.canonical import canonical_json, event_hash

# Deeper nesting than this is never a real event and could exhaust the stack when walked.
MAX_DEPTH = 64
# Names, namespaces and other identifying strings longer than this are refused (issue 6).
MAX_NAME = 4096
MAX_FACET_KEY = 256

_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_time(value: Any, field: str) -> str:
    """ISO 8601 -> normalised UTC; no time zone means UTC, nanoseconds are truncated."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidEvent(field, "must be an ISO 8601 date-time string")
    text = _FRACTION.sub(r"\1", value.strip())
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidEvent(field, f"not an ISO 8601 date-time: {value[:64]!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return format_time(moment)


def parse_uuid(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidEvent(field, "must be a UUID string")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidEvent(field, f"not a UUID: {value[:64]!r}") from None


def _string(obj: dict[str, Any], key: str, field: str, *, required: bool = True) -> str:
    value = obj.get(key)
    if value is None and not required:
        return ""
    where = f"{field}.{key}" if field else key
    if not isinstance(value, str) or (required and not value):
        raise InvalidEvent(where, "required non-empty string")
    if len(value) > MAX_NAME:
        raise InvalidEvent(where, f"longer than {MAX_NAME} characters")
    return value


def _object(value: Any, field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidEvent(field, "must be a JSON object")
    return value


def _facets(value: Any, field: str) -> Facets:
    facets = _object(value, field)
    out: Facets = {}
    for key, facet in facets.items():
        if len(key) > MAX_FACET_KEY:
            raise InvalidEvent(field, f"facet name longer than {MAX_FACET_KEY} characters")
        if facet is None:
            continue
        if not isinstance(facet, dict):
            raise InvalidEvent(f"{field}.{key}", "a facet must be a JSON object")
        check_facet(key, facet, field)
        out[key] = facet
    return out


def _dataset(value: Any, field: str, io_key: str | None) -> DatasetRef:
    obj = _object(value, field)
    if not obj:
        raise InvalidEvent(field, "a dataset needs namespace and name")
    ref = DatasetRef(
        namespace=_string(obj, "namespace", field),
        name=_string(obj, "name", field),
        facets=_facets(obj.get("facets"), f"{field}.facets"),
        io_facets=_facets(obj.get(io_key), f"{field}.{io_key}") if io_key else {},
    )
    named = {(k, n): ref.facets[k][n] for k, n in VERSION_FIELDS if isinstance(ref.facets.get(k, {}).get(n), str)}
    if len(set(named.values())) > 1:
        (k1, n1), (k2, n2) = list(named)[:2]
        raise InvalidEvent(
            f"{field}.facets.{k2}.{n2}", f"version {named[(k2, n2)]!r} disagrees with {k1}.{n1} {named[(k1, n1)]!r}"
        )
    return ref


def _datasets(value: Any, field: str, io_key: str) -> tuple[DatasetRef, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidEvent(field, "must be a JSON array")
    return tuple(_dataset(item, f"{field}[{i}]", io_key) for i, item in enumerate(value))


def _depth(value: Any, limit: int) -> int:
    """How deeply `value` nests (a scalar is 1, each array or object around it one more), or
    any number over `limit` as soon as it is known to be over. Iterative, so a hostile body
    cannot blow the stack; only containers are stacked, since scalars end where they stand."""
    if not isinstance(value, (dict, list)):
        return 1
    deepest, stack = 1, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        inner = depth + 1
        for child in item.values() if isinstance(item, dict) else item:
            if inner > deepest:
                deepest = inner
                if inner > limit:
                    return inner
            if isinstance(child, (dict, list)):
                stack.append((child, inner))
    return deepest


TAG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


def _annotation(value: Any) -> dict[str, Any]:
    obj = _object(value, "annotation")
    out = {
        "target": _string(obj, "target", "annotation"),
        "tag": _string(obj, "tag", "annotation"),
        "author": _string(obj, "author", "annotation"),
        "reason": _string(obj, "reason", "annotation", required=False),
        "ref": _string(obj, "ref", "annotation", required=False),
    }
    if not TAG.match(out["tag"]):
        raise InvalidEvent("annotation.tag", "1-64 letters, digits, '_', '.', ':' or '-', starting with a letter or digit")
    for key, limit in (("target", 256), ("author", 256), ("reason", 4096), ("ref", 1024)):
        if len(out[key]) > limit:
            raise InvalidEvent(f"annotation.{key}", f"longer than {limit} characters")
    return out


def detect_kind(body: dict[str, Any]) -> EventKind:
    """RunEvent, DatasetEvent or JobEvent, told apart by their keys (DESIGN.md 4); our own
    annotation events carry `annotation`."""
    if "annotation" in body and "run" not in body and "job" not in body:
        return "annotation"
    if "run" in body:
        return "run"
    if "dataset" in body and "job" not in body:
        return "dataset"
    if "job" in body:
        return "job"
    raise InvalidEvent("run", "an event needs `run` (RunEvent), `job` (JobEvent) or `dataset` (DatasetEvent)")


def parse_event(body: Any, *, max_depth: int = MAX_DEPTH) -> Event:
    """Validate one decoded JSON value and return the typed event, or raise InvalidEvent."""
    if not isinstance(body, dict):
        raise InvalidEvent("", "an event must be a JSON object")
    if _depth(body, max_depth) > max_depth:
        raise InvalidEvent("", f"JSON nested deeper than {max_depth} levels")
    kind = detect_kind(body)
    event_time = parse_time(body.get("eventTime"), "eventTime")
    producer = _string(body, "producer", "")
    schema_url = body.get("schemaURL", "")
    if not isinstance(schema_url, str):
        raise InvalidEvent("schemaURL", "must be a string")
    try:
        canonical = canonical_json(body)
    except TypeError as exc:  # orjson refuses integers beyond 64 bits, as JSON decoders do
        raise InvalidEvent("", f"cannot be stored as canonical JSON: {exc}") from None
    common: dict[str, Any] = {
        "id": event_hash(canonical),
        "kind": kind,
        "event_time": event_time,
        "producer": producer,
        "schema_url": schema_url,
        "canonical": canonical,
    }
    if kind == "dataset":
        return Event(**common, dataset=_dataset(body.get("dataset"), "dataset", None))
    if kind == "annotation":
        return Event(**common, annotation=_annotation(body.get("annotation")))

    job = _object(body.get("job"), "job")
    if not job:
        raise InvalidEvent("job", "required object with namespace and name")
    common |= {
        "job_namespace": _string(job, "namespace", "job"),
        "job_name": _string(job, "name", "job"),
        "job_facets": _facets(job.get("facets"), "job.facets"),
        "inputs": _datasets(body.get("inputs"), "inputs", "inputFacets"),
        "outputs": _datasets(body.get("outputs"), "outputs", "outputFacets"),
    }
    if kind == "job":
        return Event(**common)

    run = _object(body.get("run"), "run")
    event_type = body.get("eventType")
    if event_type is None:
        event_type = "OTHER"
    if not isinstance(event_type, str) or event_type.upper() not in RUN_STATES:
        raise InvalidEvent("eventType", f"must be one of {', '.join(sorted(RUN_STATES))}")
    run_facets = _facets(run.get("facets"), "run.facets")
    if "parent" in run_facets:
        parse_uuid(run_facets["parent"]["run"]["runId"], "run.facets.parent.run.runId")
    return Event(
        **common,
        event_type=event_type.upper(),
        run_uuid=parse_uuid(run.get("runId"), "run.runId"),
        run_facets=run_facets,
    )


def decode_json(raw: bytes) -> Any:
    """Bytes -> JSON value, or InvalidEvent saying where the JSON is malformed."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidEvent("", f"malformed JSON: {exc}") from None
