"""The structural requirements of an OpenLineage 2-0-2 RunEvent and of the standard facets the
SDK emits, as a JSON Schema (draft 2020-12) with real format checks.

openlineage-python does not ship the spec's JSON files, so this is written from the spec's
rules: required fields, types, enums, and the formats it names (uuid, date-time, uri). Every
facet must carry `_producer` and `_schemaURL`; standard facets must carry their required fields.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker

RUN_EVENT_SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"

FORMATS = FormatChecker(formats=())


@FORMATS.checks("uuid", raises=ValueError)
def _uuid(value: object) -> bool:
    return not isinstance(value, str) or str(uuid.UUID(value)) == value.lower()


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    # RFC 3339: a date, a time and an offset (Z or +hh:mm); a bare date or local time is not one.
    if not isinstance(value, str):
        return True
    if "T" not in value.upper():
        return False
    return datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None


@FORMATS.checks("uri")
def _uri(value: object) -> bool:
    return not isinstance(value, str) or bool(urlsplit(value).scheme)


_STRING = {"type": "string", "minLength": 1}
_BASE_FACET = {
    "type": "object",
    "required": ["_producer", "_schemaURL"],
    "properties": {"_producer": {"type": "string", "format": "uri"}, "_schemaURL": {"type": "string", "format": "uri"}},
}


def _facet(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"allOf": [_BASE_FACET, {"type": "object", "required": required, "properties": properties}]}


_PARENT_REF = {
    "type": "object",
    "required": ["run", "job"],
    "properties": {
        "run": {"type": "object", "required": ["runId"], "properties": {"runId": {"type": "string", "format": "uuid"}}},
        "job": {"type": "object", "required": ["namespace", "name"], "properties": {"namespace": _STRING, "name": _STRING}},
    },
}
_TAGS = {"type": "array", "items": {"type": "object", "required": ["key", "value"], "properties": {"key": {"type": "string"}, "value": {"type": "string"}}}}

STANDARD_FACETS: dict[str, dict[str, Any]] = {
    # run facets
    "parent": _facet(["run", "job"], run=_PARENT_REF["properties"]["run"], job=_PARENT_REF["properties"]["job"], root=_PARENT_REF),
    "errorMessage": _facet(["message", "programmingLanguage"], message={"type": "string"}, programmingLanguage={"type": "string"}, stackTrace={"type": "string"}),
    "processingEngine": _facet(["version"], version={"type": "string"}, name={"type": "string"}, openlineageAdapterVersion={"type": "string"}),
    "tags": _facet([], tags=_TAGS),
    # job facets
    "sourceCodeLocation": _facet(
        ["type", "url"],
        type={"type": "string"},
        url={"type": "string", "format": "uri"},
        repoUrl={"type": "string"},
        version={"type": "string"},
        branch={"type": "string"},
        tag={"type": "string"},
    ),
    "jobType": _facet(["processingType", "integration"], processingType={"type": "string"}, integration={"type": "string"}, jobType={"type": "string"}),
    "documentation": _facet(["description"], description={"type": "string"}),
    # dataset facets
    "version": _facet(["datasetVersion"], datasetVersion={"type": "string"}),
    "schema": _facet(
        [], fields={"type": "array", "items": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}, "type": {"type": "string"}}}}
    ),
    "outputStatistics": _facet([], rowCount={"type": "integer"}, size={"type": "integer"}, fileCount={"type": "integer"}),
    "inputStatistics": _facet([], rowCount={"type": "integer"}, size={"type": "integer"}, fileCount={"type": "integer"}),
}


def _facets_of(standard: set[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": _BASE_FACET,
        "properties": {k: v for k, v in STANDARD_FACETS.items() if k in standard},
    }


_RUN_FACETS = _facets_of({"parent", "errorMessage", "processingEngine", "tags"})
_JOB_FACETS = _facets_of({"sourceCodeLocation", "jobType", "documentation"})
_DATASET_FACETS = _facets_of({"version", "schema"})


def _dataset(io_key: str, io_facets: set[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["namespace", "name"],
        "properties": {"namespace": _STRING, "name": _STRING, "facets": _DATASET_FACETS, io_key: _facets_of(io_facets)},
    }


RUN_EVENT: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["eventTime", "producer", "schemaURL", "run", "job"],
    "properties": {
        "eventType": {"enum": ["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"]},
        "eventTime": {"type": "string", "format": "date-time"},
        "producer": {"type": "string", "format": "uri"},
        "schemaURL": {"const": RUN_EVENT_SCHEMA_URL},
        "run": {"type": "object", "required": ["runId"], "properties": {"runId": {"type": "string", "format": "uuid"}, "facets": _RUN_FACETS}},
        "job": {"type": "object", "required": ["namespace", "name"], "properties": {"namespace": _STRING, "name": _STRING, "facets": _JOB_FACETS}},
        "inputs": {"type": "array", "items": _dataset("inputFacets", {"inputStatistics"})},
        "outputs": {"type": "array", "items": _dataset("outputFacets", {"outputStatistics"})},
    },
}

VALIDATOR = Draft202012Validator(RUN_EVENT, format_checker=FORMATS)


def problems(event: dict[str, Any]) -> list[str]:
    """Every way `event` breaks the rules above, as `path: message`; empty when valid."""
    return [f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(event)]
