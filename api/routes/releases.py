"""Release questions: diff, endpoints as of a time, model versions, annotations; release
actions: checklist, rollback, artifact check."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.deps import IngestDep, SettingsDep, StoreDep, authorize, require
from api.responses import json_response
from lineage import actions, queries, releases
from lineage.ids import annotation_id
from lineage.ingest.parse import parse_event
from lineage.service import now

router = APIRouter(prefix="/api/v1", tags=["releases"])


@router.get("/diff", dependencies=[require("read")], summary="What differs upstream of two nodes (e.g. two model versions)")
def diff(
    store: StoreDep,
    settings: SettingsDep,
    from_: Annotated[str, Query(alias="from")],
    to: str,
    depth: Annotated[int, Query(ge=1, le=queries.MAX_DEPTH)] = queries.DEFAULT_DEPTH,
) -> dict[str, Any]:
    return releases.diff(store, from_, to, depth, stale_run_hours=settings.stale_run_hours)


@router.get("/endpoints/{name}", dependencies=[require("read")], summary="Current deployment and history; `at` answers what it served then")
def endpoint(store: StoreDep, settings: SettingsDep, name: str, at: str | None = None) -> dict[str, Any]:
    return releases.endpoint(store, name, at, stale_run_hours=settings.stale_run_hours)


@router.get("/models/{name}/versions", dependencies=[require("read")], summary="Versions with training data, aliases, annotations; last known good")
def model_versions(store: StoreDep, settings: SettingsDep, name: str, before: str | None = None) -> dict[str, Any]:
    return releases.model_versions(store, name, before, stale_run_hours=settings.stale_run_hours)


class AnnotationIn(BaseModel):
    ref: str = Field(min_length=1, max_length=1024)
    tag: str = Field(min_length=1, max_length=64, description="deprecated, quarantined, investigation, known-good, or any tag")
    reason: str = Field(default="", max_length=4096)
    author: str = Field(min_length=1, max_length=256)


@router.post("/annotations", status_code=201, dependencies=[require("ingest")], summary="Tag a node; stored as an event, so it is evidence")
async def annotate(body: AnnotationIn, ingest: IngestDep) -> Response:
    event = await asyncio.to_thread(ingest.annotation, body.ref, body.tag, body.reason, body.author)
    (outcome,) = await asyncio.wrap_future(ingest.committer.submit([event]))
    assert event.annotation is not None
    return json_response(
        {"id": annotation_id(event.id), "event": outcome.id, "seq": outcome.seq, **event.annotation, "created_at": event.event_time},
        status_code=201,
    )


@router.get("/models/{name}/versions/{version}/checklist", dependencies=[require("read")], summary="Which release metadata items a model version has, each with its source event")
def checklist(store: StoreDep, name: str, version: str) -> dict[str, Any]:
    return actions.checklist(store, name, version)


class RollbackIn(BaseModel):
    dry_run: bool = Field(default=True, description="true (default): only say what would move; false: record the move and notify")
    reason: str = Field(default="", max_length=4096)
    by: str = Field(default="", max_length=256)


@router.post("/models/{name}/aliases/{alias}/rollback", dependencies=[require("read")], summary="Move an alias back to its last known good version: plan, or record and notify (never deploys)")
async def rollback(request: Request, name: str, alias: str, body: RollbackIn, store: StoreDep, settings: SettingsDep, ingest: IngestDep) -> dict[str, Any]:
    # A dry run only reads, so a read token may plan; recording the move writes evidence.
    if not body.dry_run:
        await authorize(request, "ingest")
    plan = await asyncio.to_thread(actions.rollback_plan, store, name, alias)
    if body.dry_run:
        return plan | {"dry_run": True}
    actions.check_rollback(plan, body.reason, body.by)
    event = parse_event(actions.rollback_body(plan, body.reason, body.by, now()))
    (outcome,) = await asyncio.wrap_future(ingest.committer.submit([event]))
    notified = await asyncio.to_thread(actions.notify_owners, settings.owner_webhook_url, plan, outcome.id, body.reason, body.by)
    return plan | {"dry_run": False, "event": outcome.id, "seq": outcome.seq, "moved_to": plan["last_known_good"]["version"], "notified": notified}


class VerifyIn(BaseModel):
    ref: str = Field(min_length=1, max_length=1024)
    sha256: str = Field(min_length=64, max_length=64)


@router.post("/artifacts/verify", dependencies=[require("read")], summary="match, mismatch or unknown: a sha256 against the one recorded for a ref")
def verify_artifact(store: StoreDep, body: VerifyIn) -> dict[str, Any]:
    return actions.verify_artifact(store, body.ref, body.sha256)
