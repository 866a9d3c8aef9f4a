"""The JSON Schema of an audit report (`format=json`), served at `/schemas/audit.json`."""

from __future__ import annotations

from typing import Any

_STR = {"type": "string"}
_OPT_STR = {"type": ["string", "null"]}
_HASH = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_TIME = {"type": ["string", "null"], "description": "UTC, ISO 8601 with microseconds, e.g. 2026-03-02T09:00:00.000000Z"}
_OBJ = {"type": "object"}
_STEPS = ["commit", "dataset_version", "feature_view_version", "run", "training_run", "model_version", "deployment", "endpoint"]


def _object(description: str, properties: dict[str, Any], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """An object with exactly these properties, all required but `optional`."""
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": [k for k in properties if k not in optional],
        "additionalProperties": False,
    }


def _list(item: dict[str, Any], description: str) -> dict[str, Any]:
    return {"type": "array", "description": description, "items": item}


FIRST_BAD = {
    "oneOf": [
        {"type": "null"},
        _object(
            "The first tampered entry of the log",
            {
                "seq": {"type": "integer"},
                "id": _OPT_STR,
                "problem": {"enum": ["modified", "deleted", "inserted", "reordered"]},
                "detail": _STR,
            },
        ),
    ]
}

EVENT = _object(
    "One entry of the event log",
    {
        "seq": {"type": "integer", "description": "Position in the log"},
        "id": {**_HASH, "description": "The event id: sha256 of its canonical JSON, as stored"},
        "sha256": {**_HASH, "description": "sha256 of the stored payload, recomputed for the report (equals id)"},
        "received_at": _TIME,
        "event_time": _TIME,
        "producer": _STR,
        "type": {**_STR, "description": "eventType of a run event, else the kind"},
        "kind": {"enum": ["run", "dataset", "job", "annotation"]},
        "run_id": _OPT_STR,
        "job": _OPT_STR,
    },
)

AUDIT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "/schemas/audit.json",
    "title": "Lineage audit report",
    "description": (
        "How a model version, endpoint or dataset version was produced, who approved it, where it ran, and the "
        "raw events that prove it. `log` names the hash-chain head the report was made from: check it later "
        "with GET /api/v1/verify?entries=<log.entries>&head=<log.head>."
    ),
    "type": "object",
    "properties": {
        "$schema": _STR,
        "report": _object(
            "When, by what and for whom the report was made",
            {
                "generated_at": _TIME,
                "generator": _STR,
                "ref": _STR,
                "requested_by": {**_STR, "description": "The name of the token that asked, or 'anonymous (auth off)'"},
            },
        ),
        "scope": _object(
            "What the report covers",
            {
                "direction": {"enum": ["upstream", "upstream and downstream"], "description": "Which way the chain was followed from the subject"},
                "depth": {"type": "integer", "minimum": 1, "description": "How many hops the chain was followed"},
                "log_entries": {"type": "integer", "minimum": 0, "description": "The period: log entries 1 to this one; newer ones are left out"},
                "until": {**_TIME, "description": "When the newest entry of that period was received"},
            },
        ),
        "chain_groups": _list(
            _object(
                "The rows of an endpoint's chain behind one model version it served",
                {"model_version": _STR, "id": _STR, "rows": _list(_STR, "Ids of chain rows, in chain order")},
            ),
            "An endpoint's chain by model version; empty for other subjects",
        ),
        "subject": _object(
            "The node the report is about",
            {
                "id": _STR,
                "type": {"enum": ["model_version", "feature_view_version", "dataset_version", "deployment", "endpoint"]},
                "kind": _STR,
                "labels": _list(_STR, "Extra labels"),
                "label": _STR,
                "ref": _STR,
            },
        ),
        "log": _object(
            "The event log when the report was made",
            {
                "entries": {"type": "integer", "minimum": 0},
                "head": _HASH,
                "verified": {"type": "boolean", "description": "The hash chain verified, as far as `checked` says"},
                "checked": {
                    "enum": ["evidence", "chain"],
                    "description": "evidence: the entries listed as evidence and the head, each where it stands in the chain; chain: the whole log walked",
                },
                "first_bad": FIRST_BAD,
                "checked_entries": {"type": "integer", "minimum": 0, "description": "How many entries were re-hashed and linked (all with `chain`)"},
                "verify_url": {**_OPT_STR, "description": "The absolute URL that checks the log still holds this head (null from the command line)"},
            },
        ),
        "chain": _list(
            _object(
                "One fact of the release chain (the CSV format has these rows)",
                {
                    "step": {"enum": _STEPS},
                    "id": _STR,
                    "label": _STR,
                    "subject": {"type": "boolean"},
                    "name": {**_OPT_STR, "description": "Dataset, model, feature view or endpoint name; job of a run; repo of a commit"},
                    "version": {**_OPT_STR, "description": "Version label; run UUID of a run; sha of a commit"},
                    "time": _TIME,
                    "status": {**_OPT_STR, "description": "Run state, deployment status or model stage"},
                    "detail": {**_OPT_STR, "description": "Content sha256 of a version, branch of a commit, namespace of a run, traffic"},
                    "evidence": _list(_HASH, "Ids of the log entries supporting this fact"),
                },
            ),
            "Commits, dataset versions, feature view versions, runs, model versions, deployments",
        ),
        "training": _list(
            _object(
                "A training run's setup (ml_training facet)",
                {
                    "run": _STR,
                    "run_id": _OPT_STR,
                    "job": _OPT_STR,
                    "state": _OPT_STR,
                    "started_at": _TIME,
                    "ended_at": _TIME,
                    "model_versions": _list(_STR, "Model versions it wrote"),
                    "params": _OBJ,
                    "metrics": _OBJ,
                    "seed": {},
                    "hardware": {},
                    "duration_seconds": {"type": ["number", "null"]},
                    "extra": {**_OBJ, "description": "Other fields of the facet (environment, image...)"},
                },
            ),
            "Training setup",
        ),
        "approvals": _list(
            _object(
                "A promotion run of a model version of the chain (ml_approval, ml_alias)",
                {
                    "run": _STR,
                    "run_id": _OPT_STR,
                    "job": _OPT_STR,
                    "state": _OPT_STR,
                    "time": _TIME,
                    "model_version": _STR,
                    "alias": _OPT_STR,
                    "reviewer": {},
                    "decision": {},
                    "checks": _OBJ,
                    "notes": {},
                },
            ),
            "Approvals and checks, rejected ones too",
        ),
        "aliases": _list(
            _object(
                "An alias of a model of the chain",
                {
                    "alias": _OPT_STR,
                    "ref": _OPT_STR,
                    "id": _STR,
                    "current_version": _OPT_STR,
                    "history": _list(
                        _object("Where the alias pointed", {"version": {}, "since": _TIME, "until": _TIME, "run": _OPT_STR}),
                        "Oldest first",
                    ),
                },
            ),
            "Alias history",
        ),
        "deployments": _list(
            _object(
                "An endpoint of the chain and its whole deployment timeline",
                {
                    "endpoint": _STR,
                    "id": _STR,
                    "environment": {},
                    "serving": _list(_STR, "Model versions live now"),
                    "timeline": _list(
                        _object(
                            "One deployment, oldest first",
                            {
                                "id": _STR,
                                "since": _TIME,
                                "until": _TIME,
                                "status": _OPT_STR,
                                "traffic_percent": {"type": ["number", "null"]},
                                "canary": {"type": ["boolean", "null"]},
                                "rollback": {"type": ["boolean", "null"]},
                                "run_id": _OPT_STR,
                                "model_versions": _list(_STR, "What it served"),
                                "in_chain": {"type": "boolean", "description": "Part of the subject's chain"},
                            },
                        ),
                        "Deployments with rollbacks",
                    ),
                },
            ),
            "Deployment timelines",
        ),
        "warnings": _list(
            _object(
                "Something the chain could not show (issue 29): a stale or failed run, an input read without a known version, a model version no run wrote",
                {"kind": _STR, "node": _STR, "label": _STR, "detail": _STR},
            ),
            "Where the chain is incomplete; empty when nothing is known to be missing",
        ),
        "annotations": _list(
            _object(
                "A tag on a node of the chain",
                {"node": _STR, "label": _STR, "tag": {}, "reason": {}, "author": {}, "created_at": _TIME, "id": _OPT_STR},
            ),
            "Annotations",
        ),
        "immutability_violations": _list(
            _object(
                "A version seen with another content hash than its first",
                {"node": _STR, "label": _STR, "expected": _OPT_STR, "sha256": _OPT_STR, "first_seen": _TIME, "event": _OPT_STR},
            ),
            "Immutability violations",
        ),
        "evidence": _list(
            _object(
                "The log entries about one fact",
                {
                    "node": _STR,
                    "label": _STR,
                    "step": {"enum": [*_STEPS, "approval_run", "alias"]},
                    "total": {"type": "integer", "minimum": 0},
                    "events": _list(EVENT, "Oldest first"),
                },
            ),
            "Evidence for every fact",
        ),
        "checklist": _list(
            _object(
                "The metadata checklist of a model version of the chain (issue 37)",
                {
                    "model_version": _STR,
                    "present": {"type": "integer", "minimum": 0},
                    "total": {"type": "integer", "minimum": 0},
                    "items": _list(
                        _object(
                            "One checklist item",
                            {"item": _STR, "status": {"enum": ["present", "missing"]}, "event": _OPT_STR, "note": _STR},
                        ),
                        "In checklist order",
                    ),
                },
            ),
            "Which release metadata each model version has; optional: older reports lack it",
        ),
    },
    "required": [
        "report", "scope", "subject", "log", "warnings", "chain_groups", "chain", "training", "approvals", "aliases", "deployments", "annotations",
        "immutability_violations", "evidence",
    ],
    "additionalProperties": False,
}


def audit_schema(base_url: str = "") -> dict[str, Any]:
    """The schema with an absolute `$id` when the service's address is known."""
    return AUDIT_SCHEMA | {"$id": base_url.rstrip("/") + "/schemas/audit.json"}
