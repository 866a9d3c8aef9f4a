"""JSON -> typed events: refuse only what cannot be identified, note every other problem (issue 29)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone
from typing import Any

import orjson

from lineage.errors import InvalidEvent
from lineage.events import (
    DATASET_DROPPED,
    FACET_SCHEMA,
    MISSING_FIELD,
    RUN_STATES,
    VERSION_CONFLICT,
    VERSION_FIELDS,
    WRONG_TYPE,
    DatasetRef,
    Event,
    EventKind,
    Facets,
    Problem,
)
from lineage.facets import check_facet, readable_part
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


class _Notes:
    """The problems of the event being parsed, in the order they were found."""

    def __init__(self) -> None:
        self.found: list[Problem] = []

    def add(self, field: str, problem: str, detail: str) -> None:
        self.found.append(Problem(field, problem, detail))

    def text(self, obj: dict[str, Any], key: str, field: str) -> str:
        """A string the spec asks for but that does not identify the event: "" when missing
        or not a string, with the problem noted."""
        value = obj.get(key)
        where = f"{field}.{key}" if field else key
        if value is None:
            self.add(where, MISSING_FIELD, "the spec requires it")
            return ""
        if not isinstance(value, str):
            self.add(where, WRONG_TYPE, f"must be a string, not {type(value).__name__}")
            return ""
        return value

    def container(self, value: Any, field: str, kind: type, name: str) -> Any:
        """`value` when it is a JSON object (or array), else an empty one, with the problem noted."""
        if value is None:
            return kind()
        if not isinstance(value, kind):
            self.add(field, WRONG_TYPE, f"must be a JSON {name}; ignored")
            return kind()
        return value


def _facets(value: Any, field: str, notes: _Notes) -> Facets:
    """The facets to read: facets that break their schema are flagged and, where the service
    interprets them, read only as far as they validate (lineage/facets.py)."""
    facets = notes.container(value, field, dict, "object")
    out: Facets = {}
    for key, facet in facets.items():
        if len(key) > MAX_FACET_KEY:
            raise InvalidEvent(field, f"facet name longer than {MAX_FACET_KEY} characters")
        if facet is None:
            continue
        if not isinstance(facet, dict):
            notes.add(f"{field}.{key}", FACET_SCHEMA, "a facet must be a JSON object; not read")
            continue
        broken = check_facet(key, facet, field)
        if broken is None:
            out[key] = facet
            continue
        readable = readable_part(key, facet)
        where, message = broken
        if readable is None:
            notes.add(where, FACET_SCHEMA, f"{message}; the facet is kept in the event but not read")
        elif readable is facet:
            notes.add(where, FACET_SCHEMA, f"{message}; the facet is kept as it came")
            out[key] = facet
        else:
            dropped = ", ".join(sorted(set(facet) - set(readable)))
            notes.add(where, FACET_SCHEMA, f"{message}; read without {dropped}")
            out[key] = readable
    return out


def _versions_agree(ref: DatasetRef, field: str, notes: _Notes) -> None:
    """Facets naming different versions of one dataset: the first of VERSION_FIELDS (the
    standard `version` facet) wins, the others are kept and flagged (issue 29)."""
    named = {(k, n): ref.facets[k][n] for k, n in VERSION_FIELDS if isinstance(ref.facets.get(k, {}).get(n), str)}
    if len(set(named.values())) < 2:
        return
    (k1, n1), winner = next(iter(named.items()))
    for (k2, n2), other in list(named.items())[1:]:
        if other != winner:
            notes.add(
                f"{field}.facets.{k2}.{n2}", VERSION_CONFLICT,
                f"version {other!r} disagrees with {k1}.{n1} {winner!r}; {winner!r} is the version, {other!r} resolves to it too",
            )


def _dataset(obj: dict[str, Any], field: str, io_key: str | None, notes: _Notes, position: int = -1) -> DatasetRef:
    ref = DatasetRef(
        namespace=_string(obj, "namespace", field),
        name=_string(obj, "name", field),
        facets=_facets(obj.get("facets"), f"{field}.facets", notes),
        io_facets=_facets(obj.get(io_key), f"{field}.{io_key}", notes) if io_key else {},
        position=position,
    )
    _versions_agree(ref, field, notes)
    return ref


def _datasets(value: Any, field: str, io_key: str, notes: _Notes) -> tuple[DatasetRef, ...]:
    """The inputs or outputs that can be identified; any other is dropped with a problem."""
    out = []
    for i, item in enumerate(notes.container(value, field, list, "array")):
        where = f"{field}[{i}]"
        if not isinstance(item, dict):
            notes.add(where, DATASET_DROPPED, "a dataset must be a JSON object; dropped from the event")
            continue
        try:
            out.append(_dataset(item, where, io_key, notes, i))
        except InvalidEvent as exc:
            notes.add(exc.field, DATASET_DROPPED, f"{exc.problem}; dropped from the event")
    return tuple(out)


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
    """Validate one decoded JSON value and return the typed event with its problems, or raise
    InvalidEvent when it cannot be identified (issue 29: the only refusals)."""
    if not isinstance(body, dict):
        raise InvalidEvent("", "an event must be a JSON object")
    if _depth(body, max_depth) > max_depth:
        raise InvalidEvent("", f"JSON nested deeper than {max_depth} levels")
    kind = detect_kind(body)
    event_time = parse_time(body.get("eventTime"), "eventTime")
    notes = _Notes()
    producer = notes.text(body, "producer", "")
    schema_url = body.get("schemaURL", "")
    if not isinstance(schema_url, str):
        notes.add("schemaURL", WRONG_TYPE, f"must be a string, not {type(schema_url).__name__}")
        schema_url = ""
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
        dataset = _object(body.get("dataset"), "dataset")
        if not dataset:
            raise InvalidEvent("dataset", "a dataset needs namespace and name")
        ref = _dataset(dataset, "dataset", None, notes)
        return Event(**common, dataset=ref, warnings=tuple(notes.found))
    if kind == "annotation":
        return Event(**common, annotation=_annotation(body.get("annotation")))

    job = _object(body.get("job"), "job")
    if not job:
        raise InvalidEvent("job", "required object with namespace and name")
    common |= {
        "job_namespace": _string(job, "namespace", "job"),
        "job_name": _string(job, "name", "job"),
    }
    if kind == "run":
        run = _object(body.get("run"), "run")
        run_uuid = parse_uuid(run.get("runId"), "run.runId")
    # Past this point only a size limit refuses the event: anything else wrong is noted and left unread.
    common |= {
        "job_facets": _facets(job.get("facets"), "job.facets", notes),
        "inputs": _datasets(body.get("inputs"), "inputs", "inputFacets", notes),
        "outputs": _datasets(body.get("outputs"), "outputs", "outputFacets", notes),
    }
    if kind == "job":
        return Event(**common, warnings=tuple(notes.found))

    event_type = body.get("eventType")
    if event_type is None:
        event_type = "OTHER"
    if not isinstance(event_type, str) or event_type.upper() not in RUN_STATES:
        notes.add("eventType", WRONG_TYPE, f"{str(event_type)[:64]!r} is none of {', '.join(sorted(RUN_STATES))}; read as OTHER")
        event_type = "OTHER"
    run_facets = _facets(run.get("facets"), "run.facets", notes)
    return Event(
        **common,
        event_type=event_type.upper(),
        run_uuid=run_uuid,
        run_facets=run_facets,
        warnings=tuple(notes.found),
    )


def decode_json(raw: bytes) -> Any:
    """Bytes -> JSON value, or InvalidEvent saying where the JSON is malformed."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidEvent("", f"malformed JSON: {exc}") from None
